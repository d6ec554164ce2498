/**
 * The twin's availability checks (scripts/twin/checks/availability.ts) on small estates, and on
 * what real Helm renders of the charts whose replicas changed (Nextcloud, Grafana, Traefik,
 * Synapse workers). Expected outcomes follow from Kubernetes' own rules: a ReadWriteOnce volume
 * attaches to one node; a budget's allowed disruptions are healthy − desired, percentages rounded
 * up (the disruption controller); drains evict through budgets.
 */
import { describe, expect, it } from "vitest";
import { allowedDisruptions } from "../scripts/twin/checks/availability";
import { collaboraHaproxyConfig } from "../components/apps/collabora-proxy";
import { renderPlan } from "../scripts/render/render";
import { CHARTS, chartPin } from "../components/versions";
import { nextcloudValues } from "../components/apps/nextcloud";
import { MATRIX_RELEASE, SYNAPSE_HA_WORKERS, matrixValues, synapseWorkerSelector } from "../components/apps/matrix";
import { GRAFANA_RELEASE, GRAFANA_SELECTOR, grafanaValues, kubePrometheusStackValues } from "../components/platform/monitoring";
import { TRAEFIK_RELEASE, TRAEFIK_SELECTOR, traefikValues } from "../components/platform/edge";
import { budgetSpec } from "../components/ops/availability";
import { deployment, devEstate, findings, input, k8s, res } from "./helpers/twin";
import { HELM, itWithHelm, releaseResource } from "./helpers/render";

const estate = devEstate(); // 1 controller, 2 workers (apps, ingress, media, storage)
const W = "dev-workers-01";
const pvc = (name: string, modes: string[] = ["ReadWriteOnce"]) => k8s("v1", "PersistentVolumeClaim", "a", name, { spec: { accessModes: modes, resources: { requests: { storage: "8Gi" } } } });
const mounting = (claim: string, extra: Record<string, unknown> = {}) => ({ containers: [{ name: "c", image: "x" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }], ...extra });
const pdb = (name: string, matchLabels: Record<string, string>, spec: Record<string, unknown>, ns = "a") => k8s("policy/v1", "PodDisruptionBudget", ns, name, { spec: { selector: { matchLabels }, ...spec } });

describe("rwo-claim-shared", () => {
  it("two replicas of one ReadWriteOnce claim that may land on the two workers: an error; one replica, or ReadWriteMany, is fine", async () => {
    expect(await findings(input(estate, [pvc("html"), deployment("a", "nc", mounting("html"), 2)]), "rwo-claim-shared")).toMatchObject([{ level: "error", objects: ["PersistentVolumeClaim/a/html", "Deployment/a/nc"] }]);
    expect(await findings(input(estate, [pvc("html"), deployment("a", "nc", mounting("html"), 1)]), "rwo-claim-shared")).toEqual([]);
    expect(await findings(input(estate, [pvc("html", ["ReadWriteMany"]), deployment("a", "nc", mounting("html"), 2)]), "rwo-claim-shared")).toEqual([]);
    // No accessModes given: the claim is ReadWriteOnce for the check (the common default of classes).
    expect(await findings(input(estate, [k8s("v1", "PersistentVolumeClaim", "a", "html", { spec: {} }), deployment("a", "nc", mounting("html"), 2)]), "rwo-claim-shared")).toHaveLength(1);
  });
  it("pods that can only run on one node share the attachment (ReadWriteOnce is per node); ReadWriteOncePod is per pod", async () => {
    const pinned = mounting("html", { nodeSelector: { "kubernetes.io/hostname": W } });
    expect(await findings(input(estate, [pvc("html"), deployment("a", "nc", pinned, 2)]), "rwo-claim-shared")).toEqual([]);
    const packed = mounting("html", { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "nc" } } }] } } });
    expect(await findings(input(estate, [pvc("html"), deployment("a", "nc", packed, 2)]), "rwo-claim-shared")).toEqual([]);
    expect(await findings(input(estate, [pvc("html", ["ReadWriteOncePod"]), deployment("a", "nc", pinned, 2)]), "rwo-claim-shared")).toMatchObject([{ level: "error" }]);
  });
  it("two workloads of one replica each mounting the same claim count together", async () => {
    const r = await findings(input(estate, [pvc("html"), deployment("a", "web", mounting("html"), 1), deployment("a", "cron", mounting("html"), 1, { app: "cron" })]), "rwo-claim-shared");
    expect(r).toHaveLength(1);
    expect(r[0].objects).toEqual(["PersistentVolumeClaim/a/html", "Deployment/a/web", "Deployment/a/cron"]);
  });
});

describe("budgets", () => {
  it("allowedDisruptions: healthy − desired, percentages of the expected count rounded up", () => {
    expect(allowedDisruptions({ minAvailable: 1 }, 2)).toBe(1);
    expect(allowedDisruptions({ minAvailable: 1 }, 1)).toBe(0);
    expect(allowedDisruptions({ minAvailable: "50%" }, 3)).toBe(1); // ceil(1.5) = 2 desired
    expect(allowedDisruptions({ maxUnavailable: "50%" }, 3)).toBe(2); // ceil(1.5) = 2 may go
    expect(allowedDisruptions({ maxUnavailable: 0 }, 4)).toBe(0);
    expect(allowedDisruptions({ minAvailable: "100%" }, 2)).toBe(0);
  });
  it("budget-covers-replicas: two replicas without a budget selecting them is an error; a matching budget holds, a mismatched one does not", async () => {
    const d = deployment("a", "web", { containers: [{ name: "c" }] }, 2, { app: "web" });
    expect(await findings(input(estate, [d]), "budget-covers-replicas")).toMatchObject([{ level: "error", objects: ["Deployment/a/web"] }]);
    expect(await findings(input(estate, [d, pdb("web", { app: "web" }, { minAvailable: 1 })]), "budget-covers-replicas")).toEqual([]);
    expect(await findings(input(estate, [d, pdb("web", { app: "other" }, { minAvailable: 1 })]), "budget-covers-replicas")).toHaveLength(1);
    expect(await findings(input(estate, [d, pdb("web", { app: "web" }, { minAvailable: 1 }, "b")]), "budget-covers-replicas")).toHaveLength(1); // another namespace
    expect(await findings(input(estate, [deployment("a", "one", { containers: [{ name: "c" }] }, 1)]), "budget-covers-replicas")).toEqual([]);
  });
  it("budget-blocks-drain: minAvailable 1 over one replica, or maxUnavailable 0, refuse every eviction", async () => {
    const one = deployment("a", "one", { containers: [{ name: "c" }] }, 1, { app: "one" });
    const two = deployment("a", "two", { containers: [{ name: "c" }] }, 2, { app: "two" });
    expect(await findings(input(estate, [one, pdb("one", { app: "one" }, { minAvailable: 1 })]), "budget-blocks-drain")).toMatchObject([{ level: "error" }]);
    expect(await findings(input(estate, [two, pdb("two", { app: "two" }, { maxUnavailable: 0 })]), "budget-blocks-drain")).toHaveLength(1);
    expect(await findings(input(estate, [two, pdb("two", { app: "two" }, { minAvailable: 1 })]), "budget-blocks-drain")).toEqual([]);
    // The program's own helper makes no budget below two replicas, and one that allows a disruption from two.
    expect(budgetSpec(1, { app: "one" })).toBeUndefined();
    expect(allowedDisruptions(budgetSpec(2, { app: "two" }) as { minAvailable: number }, 2)).toBe(1);
  });
});

describe("document-affinity", () => {
  const COL = { "app.kubernetes.io/name": "collabora" };
  const col = (replicas: number) => deployment("a", "collabora", { containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: 9980 }] }] }, replicas, COL);
  const svc = (name: string, selector: Record<string, string>, extra: Record<string, unknown> = {}) => k8s("v1", "Service", "a", name, { spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }], ...extra } });
  const route = (service: string) => k8s("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "collabora", { spec: { hostnames: ["collabora.a.org"], rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ group: "", kind: "Service", name: service, port: 80 }] }] } });
  const PROXY = { "app.kubernetes.io/name": "collabora-haproxy" };
  const proxy = (cfg: string) => [
    // A StatefulSet, as the program's (its pods share the stick table).
    k8s("apps/v1", "StatefulSet", "a", "collabora-haproxy", { spec: { replicas: 2, serviceName: "collabora-haproxy", selector: { matchLabels: PROXY }, template: { metadata: { labels: PROXY }, spec: { containers: [{ name: "haproxy", image: "haproxy", ports: [{ name: "http", containerPort: 8080 }] }], volumes: [{ name: "config", configMap: { name: "collabora-haproxy" } }] } } } }),
    svc("collabora-haproxy", PROXY),
    svc("collabora-pods", COL, { clusterIP: "None" }),
    k8s("v1", "ConfigMap", "a", "collabora-haproxy", { data: { "haproxy.cfg": cfg } }),
  ];
  const generated = collaboraHaproxyConfig({ namespace: "a", replicas: 2 });

  it("two Collabora pods straight behind the edge are an error; one pod is not", async () => {
    const r = await findings(input(estate, [col(2), svc("collabora", COL), route("collabora")]), "document-affinity");
    expect(r).toMatchObject([{ level: "error", objects: ["HTTPRoute/a/collabora", "Deployment/a/collabora"] }]);
    expect(r[0].message).toMatch(/WOPISrc/);
    expect(await findings(input(estate, [col(1), svc("collabora", COL), route("collabora")]), "document-affinity")).toEqual([]);
  });
  it("behind the program's proxy (url_param WOPISrc, consistent) there is none; a proxy balancing otherwise, or hashing map-based, is an error", async () => {
    expect(await findings(input(estate, [col(2), route("collabora-haproxy"), ...proxy(generated)]), "document-affinity")).toEqual([]);
    const rr = await findings(input(estate, [col(2), route("collabora-haproxy"), ...proxy(generated.replace(/balance url_param .*/, "balance roundrobin"))]), "document-affinity");
    expect(rr).toMatchObject([{ level: "error", objects: ["ConfigMap/a/collabora-haproxy", "Deployment/a/collabora"] }]);
    expect(rr[0].message).toMatch(/roundrobin.*url_param WOPISrc/);
    const mapBased = await findings(input(estate, [col(2), route("collabora-haproxy"), ...proxy(generated.replace("  hash-type consistent\n", ""))]), "document-affinity");
    expect(mapBased[0].message).toMatch(/map-based/);
    // Hashing another parameter is no better than round robin.
    expect(await findings(input(estate, [col(2), route("collabora-haproxy"), ...proxy(generated.replace(/balance url_param WOPISrc/, "balance url_param access_token"))]), "document-affinity")).toHaveLength(1);
    // A `defaults` section's settings apply to the backend.
    const inDefaults = generated.replace(/  balance url_param .*\n/, "").replace("  hash-type consistent\n", "").replace("defaults\n", "defaults\n  balance url_param WOPISrc\n  hash-type consistent\n");
    expect(await findings(input(estate, [col(2), route("collabora-haproxy"), ...proxy(inDefaults)]), "document-affinity")).toEqual([]);
  });
});

/** The twin's input for one rendered release and the program objects beside it. */
async function renderedInput(chart: string, version: string, values: Record<string, unknown>, release: string, namespace: string, beside: ReturnType<typeof k8s>[] = []) {
  const r = releaseResource(chart, version, values, release, namespace);
  const result = await renderPlan([r], { helm: HELM, programResources: false });
  expect(result.problems).toEqual([]);
  return input(estate, [res(r.type, r.name, r.inputs as Record<string, unknown>, { urn: r.urn }), ...beside], { rendered: result.releases });
}
const objectsOf = async (i: ReturnType<typeof input>, kind: string): Promise<any[]> => (i.rendered ?? []).flatMap((rr) => rr.objects).filter((o) => o.kind === kind);

describe("what real Helm renders", () => {
  const s3 = { host: "s3.x.org", url: "https://s3.x.org", region: "eu" };
  const nc = (replicas: number) => ({
    ...nextcloudValues({
      ctx: { apps: ["nextcloud"], domain: "a.org", namespace: "a", quotaPerUserGB: 10, oidc: undefined, groups: undefined, scim: false, users: 100, state: "active", s3 },
      database: { host: "h", port: 5432, appSecretName: "a-nextcloud-pg-app" },
      bucket: "a-nextcloud",
      credentialsSecretName: "s3-credentials",
    }),
    replicaCount: replicas,
  });
  itWithHelm("nextcloud 8.6.0: two replicas on the chart's ReadWriteOnce html volume are caught; the estate's single replica is not", async () => {
    const pin = chartPin("nextcloud");
    const two = await renderedInput(pin.chart, pin.version, nc(2), "nextcloud", "a");
    const pvcs = await objectsOf(two, "PersistentVolumeClaim");
    expect(pvcs.map((p) => [p.name, p.object.spec.accessModes])).toEqual([["nextcloud-nextcloud", ["ReadWriteOnce"]]]);
    expect(await findings(two, "rwo-claim-shared")).toMatchObject([{ level: "error", objects: ["PersistentVolumeClaim/a/nextcloud-nextcloud", "Deployment/a/nextcloud"] }]);
    expect(await findings(await renderedInput(pin.chart, pin.version, nc(1), "nextcloud", "a"), "rwo-claim-shared")).toEqual([]);
  }, 120_000);

  itWithHelm("grafana: two replicas, no volume, a budget selecting them that allows one disruption; the stack's release keeps datasources and dashboards only", async () => {
    const v = grafanaValues(estate, { host: "grafana-pg-rw.monitoring.svc", port: 5432, database: "grafana", user: "grafana", appSecretName: "grafana-pg-app" });
    const i = await renderedInput(CHARTS.kubePrometheusStack.chart, CHARTS.kubePrometheusStack.version, v, GRAFANA_RELEASE, "monitoring");
    const [dep] = await objectsOf(i, "Deployment");
    expect([dep.name, dep.object.spec.replicas]).toEqual(["grafana", 2]);
    expect(dep.object.spec.template.metadata.labels).toMatchObject(GRAFANA_SELECTOR);
    expect(await objectsOf(i, "PersistentVolumeClaim")).toEqual([]);
    const env = dep.object.spec.template.spec.containers.find((c: any) => c.name === "grafana").env;
    expect(env.find((e: any) => e.name === "GF_DATABASE_PASSWORD").valueFrom).toEqual({ secretKeyRef: { name: "grafana-pg-app", key: "password" } });
    expect(await objectsOf(i, "PodDisruptionBudget")).toHaveLength(1);
    expect(await findings(i, "budget-covers-replicas")).toEqual([]);
    expect(await findings(i, "budget-blocks-drain")).toEqual([]);
    const stack = await renderedInput(CHARTS.kubePrometheusStack.chart, CHARTS.kubePrometheusStack.version, kubePrometheusStackValues(estate), "kube-prometheus-stack", "monitoring");
    expect((await objectsOf(stack, "Deployment")).map((d) => d.name)).not.toContain("kube-prometheus-stack-grafana");
    const ds = (await objectsOf(stack, "ConfigMap")).find((c) => c.name === "kube-prometheus-stack-grafana-datasource");
    expect(ds?.object.data["datasource.yaml"]).toMatch(/Loki/);
  }, 180_000);

  itWithHelm("traefik behind the load balancer: a Deployment of two spread replicas with a budget; on the host network a DaemonSet and none", async () => {
    const lb = devEstate((raw) => {
      raw.cluster = { ...raw.cluster, ingressMode: "loadBalancer" };
    });
    const i = await renderedInput(CHARTS.traefik.chart, CHARTS.traefik.version, traefikValues(lb), TRAEFIK_RELEASE, "traefik");
    const [dep] = await objectsOf(i, "Deployment");
    expect(dep.object.spec.replicas).toBe(2);
    expect(dep.object.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: TRAEFIK_SELECTOR } });
    expect(await findings(i, "budget-covers-replicas")).toEqual([]);
    expect(await findings(i, "budget-blocks-drain")).toEqual([]);
    const host = await renderedInput(CHARTS.traefik.chart, CHARTS.traefik.version, traefikValues(estate), TRAEFIK_RELEASE, "traefik");
    expect((await objectsOf(host, "DaemonSet")).length).toBe(1);
    expect(await objectsOf(host, "PodDisruptionBudget")).toEqual([]);
  }, 120_000);

  itWithHelm("matrix-stack 26.8.1 on the shared instance: each scalable worker twice; the program's budgets select exactly their pods", async () => {
    const v = matrixValues({
      ctx: { domain: "a.org", users: 300, state: "active", s3, oidc: undefined, instances: 2, groups: [] },
      database: { host: "h", port: 5432, appSecretName: "p" },
      bucket: "b",
      credentialsSecretName: "s3-credentials",
    });
    const pin = chartPin("matrixStack");
    const budgets = SYNAPSE_HA_WORKERS.map((w) => pdb(`synapse-${w}`, synapseWorkerSelector(w), { minAvailable: 1 }));
    const haproxy = pdb("matrix-haproxy", { "app.kubernetes.io/instance": `${MATRIX_RELEASE}-haproxy` }, { minAvailable: 1 });
    const element = pdb("element-web", { "app.kubernetes.io/instance": `${MATRIX_RELEASE}-element-web` }, { minAvailable: 1 });
    const i = await renderedInput(pin.chart, pin.version, v, MATRIX_RELEASE, "a", [...budgets, haproxy, element]);
    const sts = await objectsOf(i, "StatefulSet");
    const workers = sts.filter((s) => s.object.spec.replicas === 2).map((s) => s.object.spec.selector.matchLabels["app.kubernetes.io/instance"]).sort();
    expect(workers).toEqual(SYNAPSE_HA_WORKERS.map((w) => synapseWorkerSelector(w)["app.kubernetes.io/instance"]).sort());
    expect(sts.find((s) => s.name === "matrix-synapse-main")?.object.spec.replicas).toBe(1);
    expect(await findings(i, "budget-covers-replicas")).toEqual([]);
    expect(await findings(i, "rwo-claim-shared")).toEqual([]); // workers mount no claim (their media is an emptyDir)
    // Without the program's budgets, the check finds every worker type, HAProxy and Element Web.
    const bare = await renderedInput(pin.chart, pin.version, v, MATRIX_RELEASE, "a");
    expect((await findings(bare, "budget-covers-replicas")).length).toBe(SYNAPSE_HA_WORKERS.length + 2);
  }, 180_000);

  it("a dedicated organisation (no groups) runs no Synapse worker, even with ha", () => {
    const v = matrixValues({ ctx: { domain: "a.org", users: 300, state: "active", s3, oidc: undefined, instances: 2 }, database: { host: "h", port: 5432, appSecretName: "p" }, bucket: "b", credentialsSecretName: "s" }) as any;
    expect(v.synapse).not.toHaveProperty("workers");
    expect(v.haproxy.replicas).toBe(2);
  });
});

describe("the shared instance's quota counts its Synapse workers", () => {
  it("8 worker pods (4 types × 2) add 1.5 × 8 × their requests and limits; a dedicated bundle adds nothing", async () => {
    const { resourceQuotaSpec } = await import("../components/tenant/quota");
    const { synapseWorkerPods, SYNAPSE_WORKER_RESOURCES } = await import("../components/apps/matrix");
    const pods = synapseWorkerPods({ groups: [], instances: 2 });
    expect(pods.reduce((n, p) => n + p.count, 0)).toBe(8);
    expect(synapseWorkerPods({ groups: undefined, instances: 2 })).toEqual([]);
    expect(synapseWorkerPods({ groups: [], instances: 1 })).toEqual([]);
    const m = (q: string) => parseInt(q, 10);
    const base = resourceQuotaSpec(["nextcloud", "matrix"], 300).hard;
    const withWorkers = resourceQuotaSpec(["nextcloud", "matrix"], 300, "per-app", pods).hard;
    // QUOTA_HEADROOM (1.5) over 8 pods of 200m/512Mi requests and 1000m/1536Mi limits (rounded up once).
    expect(m(withWorkers["requests.cpu"]) - m(base["requests.cpu"])).toBeCloseTo(1.5 * 8 * m(SYNAPSE_WORKER_RESOURCES.requests.cpu), -1);
    expect(m(withWorkers["limits.memory"]) - m(base["limits.memory"])).toBeCloseTo(1.5 * 8 * m(SYNAPSE_WORKER_RESOURCES.limits.memory), -1);
    expect(m(withWorkers.pods) - m(base.pods)).toBe(16);
  });
});
