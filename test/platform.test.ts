/**
 * Platform add-ons under the harness (prod estate): every Kubernetes object validates with
 * kubernetes-models (the ClusterIssuers against the cert-manager CRD fields they use), Helm
 * releases are pinned, values wire k0s and Hetzner specifics, secrets stay secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { parseEstate, sshPrivateKey, type Estate } from "../components/estate";
import { LABELS, PLATFORM } from "../components/conventions";
import { HetznerCompute } from "../components/hetzner";
import { VOLUME_MOUNT_DIR } from "../components/hetzner/cloud-init";
import { K0sCluster } from "../components/k0s";
import {
  grafanaValues,
  ALLOY_CONFIG, EDGE_MIDDLEWARES, ERROR_CODES, K0S_KUBELET_DIR, LOCAL_DISKS_DIR, LOCAL_STORAGE_CLASS, LOKI_URL, Platform, monitoringPlacement, traefikValues,
} from "../components/platform";
import { CHARTS } from "../components/versions";
import { MOCK_SECRET_MARKER, evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type Evaluation, type RecordedResource } from "../scripts/harness";

function program(estate: Estate) {
  const compute = new HetznerCompute("estate", { estate });
  const cluster = new K0sCluster(estate.cluster.name, { estate, hosts: compute.hosts, sshPrivateKey: sshPrivateKey() });
  new Platform("platform", { estate, provider: cluster.provider, networkId: compute.network.networkId });
  return {};
}

/**
 * The fields of cert-manager's ClusterIssuer CRD (cert-manager.io/v1, deploy/crds/
 * cert-manager.io_clusterissuers.yaml) on the path our manifests use; `required` as in the CRD.
 */
const ISSUER_SCHEMA: Schema = {
  props: {
    acme: {
      required: ["privateKeySecretRef", "server"],
      props: {
        server: "string",
        email: "string",
        privateKeySecretRef: { required: ["name"], props: { name: "string", key: "string" } },
        skipTLSVerify: "boolean",
        disableAccountKeyGeneration: "boolean",
        enableDurationFeature: "boolean",
        preferredChain: "string",
        solvers: {
          items: {
            props: {
              selector: "object",
              dns01: "object",
              http01: {
                props: {
                  ingress: { props: { class: "string", ingressClassName: "string", name: "string", serviceType: "string", podTemplate: "object", ingressTemplate: "object" } },
                  gatewayHTTPRoute: {
                    props: {
                      labels: "object",
                      serviceType: "string",
                      podTemplate: "object",
                      parentRefs: { items: { required: ["name"], props: { group: "string", kind: "string", name: "string", namespace: "string", port: "number", sectionName: "string" } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
type Schema = "string" | "boolean" | "number" | "object" | { props?: Record<string, Schema>; required?: string[]; items?: Schema };

function checkSchema(value: unknown, schema: Schema, at: string): string[] {
  if (schema === "string" || schema === "boolean" || schema === "number") return typeof value === schema ? [] : [`${at}: expected ${schema}`];
  if (schema === "object") return typeof value === "object" && value !== null ? [] : [`${at}: expected object`];
  if (schema.items) return Array.isArray(value) ? value.flatMap((v, i) => checkSchema(v, schema.items!, `${at}[${i}]`)) : [`${at}: expected array`];
  if (typeof value !== "object" || value === null) return [`${at}: expected object`];
  const out: string[] = [];
  for (const r of schema.required ?? []) if (!(r in value)) out.push(`${at}.${r}: required`);
  for (const [k, v] of Object.entries(value)) {
    const sub = schema.props?.[k];
    if (!sub) out.push(`${at}.${k}: unknown field`);
    else out.push(...checkSchema(v, sub, `${at}.${k}`));
  }
  return out;
}

const kind = (r: RecordedResource) => r.type.split(":")[2];

/** Inputs with secret values in place (the validator must see the real shape, e.g. stringData). */
function unwrapSecrets(v: unknown): unknown {
  if (isSecretMarker(v)) return unwrapSecrets(v.value);
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

describe("Platform (prod)", () => {
  let ev: Evaluation;
  let platform: RecordedResource[];
  beforeAll(async () => {
    ev = await evaluate({ config: readStackConfig(stackConfigFile("prod")), program });
    platform = ev.resources.filter((r) => r.urn.includes("liiibre:platform:Platform"));
  });

  it("creates every in-cluster object through the cluster's provider", () => {
    const provider = ev.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
    const k8s = platform.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8s.length).toBeGreaterThan(15);
    for (const r of k8s) expect(r.provider, r.urn).toBe(provider.urn);
  });

  it("every core object validates against the Kubernetes schema", () => {
    const validators: Record<string, (o: any) => { validate(): void }> = {
      Namespace: (o) => new Namespace(o),
      Secret: (o) => new Secret(o),
      ConfigMap: (o) => new ConfigMap(o),
      Service: (o) => new Service(o),
      Deployment: (o) => new Deployment(o),
      Ingress: (o) => new Ingress(o),
      // kured's (components/ops/reboots.ts)
      ServiceAccount: (o) => new ServiceAccount(o),
      DaemonSet: (o) => new DaemonSet(o),
    };
    const core = platform.filter((r) => /^kubernetes:(core|apps|networking\.k8s\.io)\/v1:/.test(r.type));
    // Teapot (the error pages: Deployment, Service, catch-all Ingress) and kured (ServiceAccount, DaemonSet).
    expect(new Set(core.map(kind))).toEqual(new Set(["Namespace", "Secret", "ConfigMap", "Service", "Deployment", "Ingress", "ServiceAccount", "DaemonSet"]));
    for (const r of core) {
      const make = validators[kind(r)];
      expect(() => make(unwrapSecrets(secretAwareInputs(r))).validate(), r.urn).not.toThrow();
    }
    // and the validator does reject a broken object
    expect(() => new Secret({ metadata: { name: "x" }, stringData: { a: 1 as unknown as string } }).validate()).toThrow();
  });

  it("the Let's Encrypt ClusterIssuers use only cert-manager CRD fields, HTTP-01 through the platform Gateway's HTTP listener", () => {
    const issuers = platform.filter((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer");
    expect(issuers.map((i) => (i.inputs.metadata as any).name).sort()).toEqual(["letsencrypt", "letsencrypt-staging"]);
    for (const i of issuers) {
      expect(i.inputs.apiVersion).toBe("cert-manager.io/v1");
      expect(i.inputs.kind).toBe("ClusterIssuer");
      expect(checkSchema(i.inputs.spec, ISSUER_SCHEMA, "spec")).toEqual([]);
      const acme = (i.inputs.spec as any).acme;
      expect(acme.email).toBe("ops@liiibre.coop");
      // The solver's routes attach to the Gateway the platform declares, on its plain-HTTP listener.
      const gw = platform.find((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway" && (r.inputs.metadata as any).name === PLATFORM.gateway)!;
      const http = (gw.inputs.spec as any).listeners.find((l: any) => l.protocol === "HTTP");
      expect(http.port).toBe(80);
      expect(acme.solvers).toEqual([
        { http01: { gatewayHTTPRoute: { serviceType: "ClusterIP", parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: (gw.inputs.metadata as any).name, namespace: (gw.inputs.metadata as any).namespace, sectionName: http.name }] } } },
      ]);
      expect(i.dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/helm\.sh\/v3:Release::cert-manager$/), gw.urn]));
    }
    const prodIssuer = issuers.find((i) => (i.inputs.metadata as any).name === "letsencrypt")!;
    expect((prodIssuer.inputs.spec as any).acme.server).toBe("https://acme-v02.api.letsencrypt.org/directory");
    expect(checkSchema({ acme: { server: "x" } }, ISSUER_SCHEMA, "spec")).toEqual(["spec.acme.privateKeySecretRef: required"]);
  });

  it("installs every chart from its pin: exact version, repository", () => {
    const releases = platform.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    const pins = Object.values(CHARTS) as Array<{ chart: string; version: string; repo: string }>;
    expect(releases.map((r) => r.inputs.chart).sort()).toEqual(
      ["alloy", "cert-manager", "hcloud-cloud-controller-manager", "hcloud-csi", "traefik", "kube-prometheus-stack", "local-static-provisioner", "loki"].sort(),
    );
    for (const r of releases) {
      const pin = pins.find((p) => p.chart === r.inputs.chart)!;
      expect(r.inputs.version).toBe(pin.version);
      expect(r.inputs.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      expect((r.inputs.repositoryOpts as any).repo).toBe(pin.repo);
    }
  });

  it("keeps the hcloud token and the Grafana password secret", () => {
    for (const r of platform) expect(JSON.stringify(r.inputs), r.urn).not.toContain(MOCK_SECRET_MARKER);
    const token = platform.find((r) => kind(r) === "Secret" && (r.inputs.metadata as any).name === "hcloud")!;
    expect((token.inputs.metadata as any).namespace).toBe("kube-system");
    const raw = secretAwareInputs(token) as any;
    expect(isSecretMarker(raw.stringData) || isSecretMarker(raw.stringData.token)).toBe(true);
    const grafana = platform.find((r) => kind(r) === "Secret" && (r.inputs.metadata as any).name === "grafana-admin")!;
    const g = secretAwareInputs(grafana) as any;
    expect(isSecretMarker(g.stringData) || isSecretMarker(g.stringData["admin-password"])).toBe(true);
  });

  it("wires hcloud CSI to k0s's kubelet directory and keeps CCM/CSI off dedicated nodes", () => {
    const csi = platform.find((r) => r.inputs.chart === "hcloud-csi")!.inputs.values as any;
    expect(csi.node.kubeletDir).toBe(K0S_KUBELET_DIR);
    expect(K0S_KUBELET_DIR).toBe("/var/lib/k0s/kubelet");
    const term = csi.node.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0];
    expect(term).toEqual({ key: "liiibre.org/node-kind", operator: "In", values: ["cloud"] });
    expect(csi.storageClasses[0]).toMatchObject({ name: "hcloud-volumes", reclaimPolicy: "Retain" });
    const ccm = platform.find((r) => r.inputs.chart === "hcloud-cloud-controller-manager")!.inputs.values as any;
    expect(ccm.networking).toEqual({ enabled: true, clusterCIDR: "10.244.0.0/16" });
    expect(ccm.env.HCLOUD_NETWORK_ROUTES_ENABLED.value).toBe("false");
  });

  it("exposes dedicated disks and cloud data volumes as `local-storage` PVs, the class the storage layer asks for", () => {
    const values = platform.find((r) => r.inputs.chart === "local-static-provisioner")!.inputs.values as any;
    expect(values.classes[0]).toMatchObject({ name: LOCAL_STORAGE_CLASS, hostDir: LOCAL_DISKS_DIR, storageClass: { reclaimPolicy: "Retain" } });
    expect(ev.estate.storage.minio.storageClass).toBe(LOCAL_STORAGE_CLASS);
    expect(VOLUME_MOUNT_DIR.startsWith(`${LOCAL_DISKS_DIR}/`)).toBe(true);
    expect(values.tolerations).toEqual([{ operator: "Exists" }]); // storage nodes are tainted
  });

  it("runs Traefik on the host network of the ingress nodes (ports 80/443), tolerating their taint", () => {
    const values = platform.find((r) => r.inputs.chart === "traefik")!.inputs.values as any;
    expect(values.deployment).toMatchObject({ kind: "DaemonSet", dnsPolicy: "ClusterFirstWithHostNet" });
    expect(values.hostNetwork).toBe(true);
    expect(values.nodeSelector).toEqual({ [LABELS.nodeIngress]: "true" });
    const taint = ev.estate.nodePools.find((p) => p.name === "ingress")!.taints[0];
    expect(values.tolerations).toContainEqual({ key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect });
    // What DNS points at answers on 80 and 443 (the Hetzner firewall opens exactly those).
    expect([values.ports.web.port, values.ports.websecure.port]).toEqual([80, 443]);
    // No other entry point on a port the host network already uses (k0s kube-router metrics 8080, node-exporter 9100).
    expect([values.ports.traefik.port, values.ports.metrics.port]).not.toContain(8080);
    expect([values.ports.traefik.port, values.ports.metrics.port]).not.toContain(9100);
    // One pod per ingress node, replaced one node at a time.
    expect(values.updateStrategy.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 0 });
    expect(values.ingressClass).toEqual({ enabled: true, isDefaultClass: true, name: PLATFORM.ingressClass });
    expect(values.providers.kubernetesGateway.enabled).toBe(true);
    expect(values.gatewayClass).toEqual({ enabled: true, name: PLATFORM.gatewayClass });
  });

  it("every HTTPS request gets HSTS and Teapot's pages for upstream 5xx, never for an app's 4xx", () => {
    const values = platform.find((r) => r.inputs.chart === "traefik")!.inputs.values as any;
    const mw = values.providers.file.content.http.middlewares;
    expect(values.ports.websecure.http.middlewares).toEqual(expect.arrayContaining([`${EDGE_MIDDLEWARES.errors}@file`, `${EDGE_MIDDLEWARES.hsts}@file`]));
    expect(mw[EDGE_MIDDLEWARES.hsts].headers).toEqual({ stsSeconds: 365 * 24 * 3600, stsIncludeSubdomains: true });
    // 502, 503, 504 and nothing else: a Matrix client must still get Synapse's JSON 404.
    expect(mw[EDGE_MIDDLEWARES.errors].errors.status).toEqual(["502-504"]);
    const cm = platform.find((r) => kind(r) === "ConfigMap" && (r.inputs.metadata as any).name === "teapot-error-pages")!;
    const pages = Object.keys(cm.inputs.data as object).filter((k) => k.endsWith(".html")).sort();
    expect(pages).toEqual(ERROR_CODES.map((c) => `${c}.html`).sort());
    // The errors middleware asks the page server for `/<status>.html`: a page exists for each status it catches.
    expect(mw[EDGE_MIDDLEWARES.errors].errors.query).toBe("/{status}.html");
    for (const code of [502, 503, 504]) expect(pages).toContain(`${code}.html`);
    expect((cm.inputs.data as any)["503.html"]).toContain("Maintenance");
    // Unknown hosts: the catch-all Ingress (default backend only) goes to the page server's Service.
    const svc = platform.find((r) => kind(r) === "Service" && (r.inputs.metadata as any).name === "teapot")!;
    const catchAll = platform.find((r) => kind(r) === "Ingress")!;
    expect((catchAll.inputs.spec as any).rules).toBeUndefined();
    expect((catchAll.inputs.spec as any).defaultBackend.service.name).toBe((svc.inputs.metadata as any).name);
    expect((catchAll.inputs.spec as any).ingressClassName).toBe(PLATFORM.ingressClass);
    expect(values.providers.file.content.http.services.teapot.loadBalancer.servers[0].url).toBe(`http://teapot.${PLATFORM.ingressNamespace}.svc.cluster.local`);
  });

  it("places monitoring on the monitoring pool with hcloud volumes; Loki is where Grafana and Alloy look", () => {
    const stack = platform.find((r) => r.inputs.chart === "kube-prometheus-stack")!.inputs.values as any;
    expect(stack.prometheus.prometheusSpec.nodeSelector).toEqual({ "liiibre.org/monitoring": "true" });
    expect(stack.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName).toBe("hcloud-volumes");
    for (const c of ["kubeControllerManager", "kubeScheduler", "kubeEtcd"]) expect(stack[c].enabled).toBe(false);
    // Grafana is its own release (components/shared/grafana.ts, after the storage layer); the stack keeps its datasources.
    expect(stack.grafana).toMatchObject({ enabled: false, forceDeployDatasources: true, forceDeployDashboards: true });
    expect(stack.grafana.additionalDataSources[0].url).toBe(LOKI_URL);
    const grafana = grafanaValues(ev.estate, { host: "grafana-pg-rw.monitoring.svc", port: 5432, database: "grafana", user: "grafana", appSecretName: "grafana-pg-app" }) as any;
    expect(grafana.grafana.admin.existingSecret).toBe("grafana-admin");
    expect(grafana.grafana["grafana.ini"].database).toMatchObject({ type: "postgres", host: "grafana-pg-rw.monitoring.svc:5432", name: "grafana", user: "grafana" });
    const loki = platform.find((r) => r.inputs.chart === "loki")!;
    expect(LOKI_URL).toBe(`http://${loki.inputs.name}.${loki.inputs.namespace}.svc.cluster.local:3100`);
    expect(ALLOY_CONFIG).toContain(`url = "${LOKI_URL}/loki/api/v1/push"`);
  });
});

describe("pure values", () => {
  const estate = () => parseEstate(readStackConfig(stackConfigFile("prod")));

  it("loadBalancer ingress mode: a Deployment behind the Hetzner load balancer, PROXY protocol trusted from the private network only", () => {
    const e = estate();
    e.cluster.ingressMode = "loadBalancer";
    const v = traefikValues(e) as any;
    expect(v.deployment.kind).toBe("Deployment");
    expect(v.hostNetwork).toBe(false);
    expect(v.service.spec).toEqual({ type: "LoadBalancer", externalTrafficPolicy: "Local" });
    // The CCM adopts the load balancer HetznerCompute created, by name.
    expect(v.service.annotations).toMatchObject({
      "load-balancer.hetzner.cloud/name": "ada-lovelace-ingress",
      "load-balancer.hetzner.cloud/location": "fsn1",
      "load-balancer.hetzner.cloud/use-private-ip": "true",
      "load-balancer.hetzner.cloud/uses-proxyprotocol": "true",
    });
    for (const p of ["web", "websecure"]) expect(v.ports[p].proxyProtocol.trustedIPs).toEqual([e.hetzner.network.ipRange]);
    // hostNetwork mode trusts no PROXY header (anyone could forge a client address).
    expect((traefikValues(estate()) as any).ports.websecure.proxyProtocol).toBeUndefined();
  });

  it("during the move from ingress-nginx only, Traefik also serves the Ingresses still on class nginx", () => {
    expect((traefikValues(estate()) as any).providers.kubernetesIngressNGINX).toBeUndefined();
    const e = estate();
    e.cluster.edgeMigration = "serve-nginx";
    expect((traefikValues(e) as any).providers.kubernetesIngressNGINX).toEqual({ enabled: true, ingressClass: "nginx" });
  });

  it("monitoring without a monitoring pool nor cloud nodes falls back to local volumes anywhere", () => {
    const e = estate();
    e.nodePools = e.nodePools.filter((p) => !p.cloud).map((p) => ({ ...p, labels: {} }));
    expect(monitoringPlacement(e)).toEqual({ nodeSelector: {}, storageClass: "local-storage" });
  });
});
