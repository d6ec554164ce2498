/**
 * The twin sees a bundle the same whether its Kubernetes objects are resources of their own or
 * entries of the bundle's objects release (components/kit/objects.ts, BUNDLE_SPEC.md): dev's
 * `demo` evaluated by the harness, then the same objects moved into one objects release
 * (test/helpers/bundle-objects.ts `bundleTenant`), and every twin check run on both — as
 * evaluated, and after mutations each of which makes some check fire (so equality is not
 * that of two empty lists).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bundledObjectUrn } from "../components/kit/objects";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";
import { buildPlan, type Plan, type PlanResource } from "../scripts/plan-model";
import { renderPlan } from "../scripts/render/render";
import { TWIN_CHECKS, runTwin } from "../scripts/twin";
import { twinInput } from "../scripts/twin/from-evaluation";
import type { TwinFinding } from "../scripts/twin/model";
import { normalise } from "../scripts/twin/normalise";
import { bundleTenant } from "./helpers/bundle-objects";
import { HELM, itWithOwnHelm } from "./helpers/render";

let evaluation: Evaluation;
let plan: Plan;
beforeAll(async () => {
  evaluation = await evaluate({ config: readStackConfig(stackConfigFile("dev")), stack: "dev" });
  plan = buildPlan(evaluation, []);
}, 120_000);

const sorted = (fs: TwinFinding[]) => fs.map((f) => JSON.stringify(f)).sort();
const twinOf = (resources: PlanResource[]) => runTwin(twinInput(evaluation.estate, { ...plan, resources }));
/** A plan resource by name, its inputs as the manifest they are. */
const byName = (rs: PlanResource[], name: string): PlanResource & { inputs: Record<string, any> } => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r as PlanResource & { inputs: Record<string, any> };
};

/** Mutations of demo's objects (applied before bundling), each making some twin check fire. */
const MUTATIONS: Array<{ what: string; fires: string; edit: (rs: PlanResource[]) => void }> = [
  {
    what: "the bundle's NetworkPolicy no longer allows pods to the database",
    fires: "network-required",
    edit: (rs) => (byName(rs, "demo-netpol-allow-bundle").inputs.spec.egress[0].to = [{ podSelector: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "DoesNotExist" }] } }]),
  },
  {
    what: "a Deployment reads a key its Secret does not have",
    fires: "references-resolve",
    edit: (rs) => byName(rs, "demo-hedgedoc-deployment").inputs.spec.template.spec.containers[0].env.push({ name: "X", valueFrom: { secretKeyRef: { name: byName(rs, "demo-bundle-secret").inputs.metadata.name, key: "no-such-key" } } }),
  },
  { what: "the ResourceQuota allows one pod", fires: "quota-fits", edit: (rs) => (byName(rs, "demo-quota").inputs.spec.hard.pods = "1") },
  { what: "a Deployment asks for 64 cores", fires: "pool-capacity", edit: (rs) => (byName(rs, "demo-collabora-deployment").inputs.spec.template.spec.containers[0].resources = { requests: { cpu: "64", memory: "1Gi" }, limits: { cpu: "64", memory: "1Gi" } }) },
  { what: "a Deployment selects nodes no pool has", fires: "pod-fits-pool", edit: (rs) => (byName(rs, "demo-onlyoffice-deployment").inputs.spec.template.spec.nodeSelector = { "liiibre.org/pool": "gpu" }) },
  { what: "a Deployment runs 3 replicas without a PodDisruptionBudget", fires: "budget-covers-replicas", edit: (rs) => (byName(rs, "demo-hedgedoc-deployment").inputs.spec.replicas = 3) },
  { what: "the k8up Schedule backs up into a bucket its user may not write", fires: "s3-permissions", edit: (rs) => (byName(rs, "demo-k8up-schedule").inputs.spec.backend.s3.bucket = "someone-elses-bucket") },
  { what: "a Database of an API group no CRD serves", fires: "crd-before-cr", edit: (rs) => (byName(rs, "demo-db-hedgedoc").inputs.apiVersion = "postgresql.example.org/v1") },
];

describe("twin: a bundle's objects as resources or bundled", () => {
  it("normalises to the same objects, each bundled one sourced from the release, waiting with it, of its tenant", () => {
    const { resources, release, moved } = bundleTenant(plan.resources, "demo");
    expect(moved.length).toBeGreaterThanOrEqual(25);
    const a = normalise(twinInput(evaluation.estate, plan));
    const b = normalise(twinInput(evaluation.estate, { ...plan, resources }));
    const view = (os: typeof a.objects) => os.map((o) => JSON.stringify([o.apiVersion, o.kind, o.namespace, o.name, o.object])).sort();
    expect(view(b.objects)).toEqual(view(a.objects));
    const bundled = b.objects.filter((o) => o.origin === "bundled");
    expect(bundled).toHaveLength(moved.length);
    for (const o of bundled) {
      expect(o).toMatchObject({ source: "release:demo/liiibre-objects", release: release.urn, tenant: "demo" });
      expect(o.dependsOn[0]).toBe(release.urn);
      expect(o.bundle).toBe(bundledObjectUrn(release.urn, { type: moved.find((m) => (m.inputs as any).kind === o.kind && (m.inputs as any).metadata.name === o.name)!.type, namespace: o.namespace ?? undefined, name: o.name }));
    }
  });

  it("every twin check gives the same findings on dev as evaluated", async () => {
    const a = await twinOf(plan.resources);
    const b = await twinOf(bundleTenant(plan.resources, "demo").resources);
    expect(sorted(b.findings)).toEqual(sorted(a.findings));
    expect(Object.keys(b.timings)).toEqual(["normalise", ...TWIN_CHECKS.map((c) => c.name)]);
  });

  for (const m of MUTATIONS)
    it(`same findings when ${m.what} (${m.fires} fires)`, async () => {
      const rs = structuredClone(plan.resources);
      m.edit(rs);
      const a = await twinOf(rs);
      const b = await twinOf(bundleTenant(rs, "demo").resources);
      expect(a.findings.some((f) => f.check === m.fires)).toBe(true);
      expect(sorted(b.findings)).toEqual(sorted(a.findings));
    });

  it("a bundled NetworkPolicy that cuts Nextcloud from its database is a network error naming the policies", async () => {
    const rs = structuredClone(plan.resources);
    MUTATIONS[0].edit(rs);
    const { findings } = await twinOf(bundleTenant(rs, "demo").resources);
    const policy = byName(rs, "demo-netpol-allow-bundle").inputs.metadata.name;
    const cluster = byName(rs, "demo-db-cluster").inputs.metadata.name;
    const cut = findings.filter((f) => f.check === "network-required" && f.message.startsWith("Nextcloud's database") && f.message.includes(`Service/demo/${cluster}-rw`));
    expect(cut).toHaveLength(1);
    expect(cut[0].level).toBe("error");
    expect(cut[0].message).toContain(`isolated by NetworkPolicy/demo/default-deny, NetworkPolicy/demo/${policy}`);
  });

  it("ordering is the release's: a bundle whose release does not wait for the CloudNativePG operator is refused, whatever its objects waited for", async () => {
    const { resources, release } = bundleTenant(plan.resources, "demo");
    // the Tenant component waits for the platform; the release inherits that: remove it from both
    const tenant = resources.find((r) => r.type === "liiibre:tenant:Tenant" && r.name === "demo")!;
    const loose = resources.map((r) => (r.urn === tenant.urn ? { ...r, dependsOn: [] } : r.urn === release.urn ? { ...r, dependsOn: r.dependsOn.filter((d) => !/cnpg|traefik|k8up|platform/.test(d)) } : r));
    const { findings } = await twinOf(loose);
    const refused = findings.filter((f) => f.check === "crd-before-cr" || f.check === "webhook-before-object");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => f.message.includes("without waiting for"))).toBe(true);
    expect(refused.map((f) => f.objects[0])).toContain(`Database/demo/${byName(plan.resources, "demo-db-hedgedoc").inputs.metadata.name}`);
  });

  it("a CRD inside a bundle is an error: Helm creates it and its resources in one pass without waiting", async () => {
    const { resources, release } = bundleTenant(plan.resources, "demo");
    const crd = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "widgets.example.org" }, spec: { group: "example.org", names: { kind: "Widget", plural: "widgets" }, scope: "Namespaced", versions: [{ name: "v1", served: true, storage: true }] } };
    const widget = { apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "w", namespace: "demo" } };
    (release.inputs as any).values.objects.push(crd, widget);
    const { findings } = await twinOf(resources);
    expect(findings.filter((f) => f.check === "crd-before-cr")).toEqual([
      expect.objectContaining({ level: "error", objects: ["Widget/demo/w", "CustomResourceDefinition/widgets.example.org"], message: expect.stringContaining("in one pass without waiting for the CRD to be established") }),
    ]);
  });

  it("an object both a resource and a bundle's entry is an error (unique-object), naming both declarations", async () => {
    const { resources, release, moved } = bundleTenant(plan.resources, "demo");
    const kept = moved.find((m) => m.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")!;
    const { findings } = await twinOf([...resources, kept]);
    const md = (kept.inputs as any).metadata;
    expect(findings.filter((f) => f.check === "unique-object")).toEqual([
      {
        check: "unique-object", level: "error",
        objects: [`NetworkPolicy/demo/${md.name}`, kept.urn, bundledObjectUrn(release.urn, { type: kept.type, namespace: "demo", name: md.name })], // the program's resources come first
        message: "declared 2 times (a resource, an entry of demo-objects): Kubernetes keeps one object, so the second create is refused (AlreadyExists) or, with Helm, the release refuses an object it does not own",
      },
    ]);
    // dev as evaluated declares every object once
    expect((await twinOf(plan.resources)).findings.filter((f) => f.check === "unique-object")).toEqual([]);
  });

  itWithOwnHelm("with --render: the rendered objects are the declared ones, and the twin's findings are the same", async () => {
    const rs = structuredClone(plan.resources);
    MUTATIONS[0].edit(rs);
    const { resources, release } = bundleTenant(rs, "demo");
    const r = await renderPlan([release], { helm: HELM, programResources: false });
    expect(r.problems).toEqual([]);
    const fromValues = await twinOf(resources);
    const input = twinInput(evaluation.estate, { ...plan, resources }, r.releases);
    const e = normalise(input);
    expect(e.objects.filter((o) => o.origin === "rendered").length).toBe((release.inputs as any).values.objects.length);
    const fromRender = await runTwin(input);
    expect(sorted(fromRender.findings)).toEqual(sorted(fromValues.findings));
  });
});
