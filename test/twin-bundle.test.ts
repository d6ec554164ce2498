/**
 * The twin sees a bundle the same whether its Kubernetes objects are resources of their own or
 * entries of the bundle's objects release (components/kit/objects.ts): dev evaluated twice by the
 * harness, `demo` in `kubernetesObjects: resources` and in its default `bundled` (the program's
 * own two shapes), and every twin check run on both — as evaluated, and after eight mutations,
 * applied to the same object in both shapes (test/helpers/bundle-objects.ts `manifestIn`), each
 * making some check fire (so equality is not that of two empty lists).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bundledObjectUrn } from "../components/kit/objects";
import type { Plan } from "../scripts/plan-model";
import type { Estate } from "../components/config";
import { renderPlan } from "../scripts/render/render";
import { TWIN_CHECKS, runTwin } from "../scripts/twin";
import { twinInput } from "../scripts/twin/from-evaluation";
import type { TwinFinding } from "../scripts/twin/model";
import { normalise } from "../scripts/twin/normalise";
import { devIn, manifestIn } from "./helpers/bundle-objects";
import { withoutKeep } from "./helpers/objects";
import { HELM, itWithOwnHelm } from "./helpers/render";

let estate: Estate;
let asResources: Plan;
let bundled: Plan;
beforeAll(async () => {
  const r = await devIn("resources");
  const b = await devIn();
  estate = b.evaluation.estate;
  asResources = r.plan;
  bundled = b.plan;
}, 120_000);

const sorted = (fs: TwinFinding[]) => fs.map((f) => JSON.stringify(f)).sort();
const twinOf = (plan: Plan) => runTwin(twinInput(estate, plan));
const releaseOf = (plan: Plan) => plan.resources.find((r) => r.name === "demo-objects")!;
const objectsOf = (plan: Plan) => (releaseOf(plan).inputs as any).values.objects as any[];

/** Mutations of demo's objects (by kind and name, the same in both shapes), each making some twin check fire. */
const MUTATIONS: Array<{ what: string; fires: string; edit: (p: Plan) => void }> = [
  {
    what: "the bundle's NetworkPolicy no longer allows pods to the database",
    fires: "network-required",
    edit: (p) => (manifestIn(p, "NetworkPolicy", "allow-bundle").spec.egress[0].to = [{ podSelector: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "DoesNotExist" }] } }]),
  },
  {
    what: "a Deployment reads a key its Secret does not have",
    fires: "references-resolve",
    edit: (p) => manifestIn(p, "Deployment", "hedgedoc").spec.template.spec.containers[0].env.push({ name: "X", valueFrom: { secretKeyRef: { name: manifestIn(p, "Secret", /^bundle/).metadata.name, key: "no-such-key" } } }),
  },
  { what: "the ResourceQuota allows one pod", fires: "quota-fits", edit: (p) => (manifestIn(p, "ResourceQuota", "bundle").spec.hard.pods = "1") },
  { what: "a Deployment asks for 64 cores", fires: "pool-capacity", edit: (p) => (manifestIn(p, "Deployment", "collabora").spec.template.spec.containers[0].resources = { requests: { cpu: "64", memory: "1Gi" }, limits: { cpu: "64", memory: "1Gi" } }) },
  { what: "a Deployment selects nodes no pool has", fires: "pod-fits-pool", edit: (p) => (manifestIn(p, "Deployment", "onlyoffice").spec.template.spec.nodeSelector = { "liiibre.org/pool": "gpu" }) },
  { what: "a Deployment runs 3 replicas without a PodDisruptionBudget", fires: "budget-covers-replicas", edit: (p) => (manifestIn(p, "Deployment", "hedgedoc").spec.replicas = 3) },
  { what: "the k8up Schedule backs up into a bucket its user may not write", fires: "s3-permissions", edit: (p) => (manifestIn(p, "Schedule", /.*/).spec.backend.s3.bucket = "someone-elses-bucket") },
  { what: "a Database of an API group no CRD serves", fires: "crd-before-cr", edit: (p) => (manifestIn(p, "Database", "demo-pg-hedgedoc").apiVersion = "postgresql.example.org/v1") },
];

describe("twin: a bundle's objects as resources or bundled (the program's two shapes)", () => {
  it("normalises to the same objects, each bundled one sourced from the release, waiting with it, of its tenant", () => {
    const release = releaseOf(bundled);
    const a = normalise(twinInput(estate, asResources));
    const b = normalise(twinInput(estate, bundled));
    // Bundled, the namespace's isolation objects also carry Helm's keep policy (components/tenant/bundle.ts): nothing the twin reads.
    const view = (os: typeof a.objects) => os.map((o) => JSON.stringify([o.apiVersion, o.kind, o.namespace, o.name, withoutKeep(o.object)])).sort();
    expect(view(b.objects)).toEqual(view(a.objects));
    const entries = b.objects.filter((o) => o.origin === "bundled");
    expect(entries).toHaveLength(objectsOf(bundled).length);
    expect(entries.length).toBeGreaterThanOrEqual(25);
    for (const o of entries) {
      expect(o).toMatchObject({ source: "release:demo/liiibre-objects", release: release.urn, tenant: "demo" });
      expect(o.dependsOn[0]).toBe(release.urn);
      const own = a.objects.find((x) => x.origin === "program" && x.kind === o.kind && x.name === o.name && x.namespace === o.namespace)!;
      expect(o.bundle).toBe(bundledObjectUrn(release.urn, { type: asResources.resources.find((r) => r.urn === own.source)!.type, namespace: o.namespace ?? undefined, name: o.name }));
    }
  });

  it("every twin check gives the same findings on dev as evaluated", async () => {
    const a = await twinOf(asResources);
    const b = await twinOf(bundled);
    expect(sorted(b.findings)).toEqual(sorted(a.findings));
    expect(Object.keys(b.timings)).toEqual(["normalise", ...TWIN_CHECKS.map((c) => c.name)]);
  });

  for (const m of MUTATIONS)
    it(`same findings when ${m.what} (${m.fires} fires)`, async () => {
      const a = structuredClone(asResources);
      const b = structuredClone(bundled);
      m.edit(a);
      m.edit(b);
      const fa = await twinOf(a);
      const fb = await twinOf(b);
      expect(fa.findings.some((f) => f.check === m.fires)).toBe(true);
      expect(sorted(fb.findings)).toEqual(sorted(fa.findings));
    });

  it("a bundled NetworkPolicy that cuts Nextcloud from its database is a network error naming the policies", async () => {
    const b = structuredClone(bundled);
    MUTATIONS[0].edit(b);
    const { findings } = await twinOf(b);
    const cluster = manifestIn(b, "Database", "demo-pg-nextcloud").spec.cluster.name;
    const cut = findings.filter((f) => f.check === "network-required" && f.message.startsWith("Nextcloud's database") && f.message.includes(`Service/demo/${cluster}-rw`));
    expect(cut).toHaveLength(1);
    expect(cut[0].level).toBe("error");
    expect(cut[0].message).toContain("isolated by NetworkPolicy/demo/allow-bundle, NetworkPolicy/demo/default-deny");
  });

  it("ordering is the release's: a release that does not wait for the CloudNativePG operator is refused, whatever its objects waited for", async () => {
    const b = structuredClone(bundled);
    const release = releaseOf(b);
    // the Tenant component waits for the platform and the release inherits that: take both away
    for (const r of b.resources) if (r.urn === release.parent || r.urn === release.urn) r.dependsOn = [];
    const { findings } = await twinOf(b);
    const refused = findings.filter((f) => f.check === "crd-before-cr" || f.check === "webhook-before-object");
    expect(refused.map((f) => f.objects[0])).toContain("Database/demo/demo-pg-hedgedoc");
    expect(refused.every((f) => f.message.includes("without waiting for"))).toBe(true);
    expect((await twinOf(bundled)).findings.filter((f) => f.check === "crd-before-cr")).toEqual([]);
  });

  it("a CRD inside a bundle is an error: Helm creates it and its resources in one pass without waiting", async () => {
    const b = structuredClone(bundled);
    const crd = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "widgets.example.org" }, spec: { group: "example.org", names: { kind: "Widget", plural: "widgets" }, scope: "Namespaced", versions: [{ name: "v1", served: true, storage: true }] } };
    objectsOf(b).push(crd, { apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "w", namespace: "demo" } });
    const { findings } = await twinOf(b);
    expect(findings.filter((f) => f.check === "crd-before-cr")).toEqual([
      expect.objectContaining({ level: "error", objects: ["Widget/demo/w", "CustomResourceDefinition/widgets.example.org"], message: expect.stringContaining("in one pass without waiting for the CRD to be established") }),
    ]);
  });

  it("an object both a resource and a bundle's entry is an error (unique-object), naming both declarations", async () => {
    const b = structuredClone(bundled);
    const own = asResources.resources.find((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && (r.inputs as any).metadata.name === "allow-bundle")!;
    b.resources.push(own);
    const { findings } = await twinOf(b);
    expect(findings.filter((f) => f.check === "unique-object")).toEqual([
      {
        check: "unique-object",
        level: "error",
        objects: ["NetworkPolicy/demo/allow-bundle", own.urn, bundledObjectUrn(releaseOf(b).urn, { type: own.type, namespace: "demo", name: "allow-bundle" })], // the program's resources come first
        message: "declared 2 times (a resource, an entry of demo-objects): Kubernetes keeps one object, so the second create is refused (AlreadyExists) or, with Helm, the release refuses an object it does not own",
      },
    ]);
    expect((await twinOf(bundled)).findings.filter((f) => f.check === "unique-object")).toEqual([]);
  });

  itWithOwnHelm("with --render: the rendered objects are the declared ones, and the twin's findings are the same", async () => {
    const b = structuredClone(bundled);
    MUTATIONS[0].edit(b);
    const r = await renderPlan([releaseOf(b)], { helm: HELM, programResources: false });
    expect(r.problems).toEqual([]);
    const input = twinInput(estate, b, r.releases);
    expect(normalise(input).objects.filter((o) => o.origin === "rendered").length).toBe(objectsOf(b).length);
    expect(sorted((await runTwin(input)).findings)).toEqual(sorted((await twinOf(b)).findings));
  });
});
