/**
 * A bundle's plain Kubernetes objects (components/kit/bundleObjects.ts, docs/scaling.md#bundled-kubernetes-objects),
 * on dev's demo (dedicated, lean, five apps) in each `kubernetesObjects` mode:
 * - `resources`: the objects are the resources they always were (the collector creates the same
 *   class, name, args and options: a program declaring them with `new` records the same);
 * - `bundled`: each of those objects is an entry of ONE objects release, manifest for manifest the
 *   resource's inputs (the real Helm renders the entries as they are), nothing stateful or secret
 *   among them, the apps' releases after it and the release after what its objects waited for;
 * - `adopting`: the same resources with Helm's ownership metadata and `retainOnDelete`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { BundleObjects, HELM_DEFAULTS, HELM_KEEP, NEVER_BUNDLED, helmOwnership } from "../components/kit";
import { objectsValues } from "../components/kit/bundleObjects";
import { OBJECTS_CHART, OBJECTS_RELEASE, bundledObjects, isObjectsRelease } from "../components/kit/objects";
import { networkPolicies } from "../components/tenant/networkPolicies";
import { parse as parseYaml, stringify } from "yaml";
import { configProblems, parseEstate } from "../components/estate";
import { runPlan } from "../scripts/plan";
import { REPO_ROOT, evaluate, isSecretMarker, stackConfigFile, secretAwareInputs, type Evaluation, type RecordedResource } from "../scripts/harness";
import { tenantResolver } from "../scripts/plan-model";
import { devConfig } from "./helpers/estates";
import { HELM } from "./helpers/render";
import { itNeeding } from "./helpers/tools";
import { withoutKeep } from "./helpers/objects";

const demoIn = (mode?: string) => {
  const c = devConfig();
  const demo = c.tenants.find((t: any) => t.slug === "demo");
  // As a new organisation: lean's default buckets (dev's config pins its live demo to per-app).
  delete demo.buckets;
  if (mode) demo.kubernetesObjects = mode;
  return c;
};
const custom = (ev: Evaluation, slug: string) => {
  const of = tenantResolver(ev.estate, ev.resources);
  return ev.resources.filter((r) => r.custom && of(r) === slug);
};
const key = (type: string, name: string) => `${type} ${name}`;
const objectsRelease = (rs: RecordedResource[]) => rs.filter((r) => isObjectsRelease(r.type, r.inputs));

/** Types the collector may bundle that the demo has as resources in `resources` mode. */
const BUNDLEABLE = (type: string) => type.startsWith("kubernetes:") && !(type in NEVER_BUNDLED);


/** The isolation objects Helm keeps when the objects release goes (components/tenant/bundle.ts). */
const KEPT = new Set(["ResourceQuota/bundle", "LimitRange/bundle", "NetworkPolicy/default-deny"]);

describe("the kubernetesObjects key", () => {
  const org = (slug: string, extra: Record<string, unknown> = {}) => ({ slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: 15, ...extra });
  it("defaults to bundled in the lean layout and to resources in the others; each mode is accepted with any layout", () => {
    const raw = devConfig();
    raw.tenants.push(org("alpha"), org("bravo", { dataLayout: "per-app" }), org("charlie", { dataLayout: "migrating" }), org("delta", { kubernetesObjects: "adopting" }), org("echo", { dataLayout: "per-app", kubernetesObjects: "bundled" }));
    const modes = Object.fromEntries(parseEstate(raw).tenants.map((t) => [t.slug, t.kubernetesObjects]));
    expect(modes).toMatchObject({ demo: "bundled", alpha: "bundled", bravo: "resources", charlie: "resources", delta: "adopting", echo: "bundled" });
  });
  it("refuses another value with its key path and the allowed values, and any value on a shared organisation", () => {
    const bad = devConfig();
    bad.tenants[0].kubernetesObjects = "helm";
    expect(configProblems(bad)).toEqual(['liiibre:tenants[0].kubernetesObjects: expected one of resources | adopting | bundled, got "helm"']);
    const shared = devConfig();
    const i = shared.tenants.findIndex((t: any) => t.plan === "shared");
    shared.tenants[i].kubernetesObjects = "bundled";
    expect(configProblems(shared)).toEqual([expect.stringMatching(new RegExp(`^liiibre:tenants\\[${i}\\]\\.kubernetesObjects: expected no kubernetesObjects for plan "shared"`))]);
  });
  it("npm run plan refuses a bad value before evaluating anything: exit 2, one line, no stack trace", async () => {
    const doc = parseYaml(fs.readFileSync(stackConfigFile("dev"), "utf8"));
    doc.config["liiibre:tenants"][0].kubernetesObjects = "helm";
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-objects-bad-")), "Pulumi.bad.yaml");
    fs.writeFileSync(file, stringify(doc));
    let err = "";
    const code = await runPlan({ stack: "dev", configFile: file, format: "json" } as any, { write: () => {}, error: (x) => (err += x) });
    expect(code).toBe(2);
    expect(err).toContain('liiibre:tenants[0].kubernetesObjects: expected one of resources | adopting | bundled, got "helm"');
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe("dev's demo in each kubernetesObjects mode", () => {
  let resources: Evaluation;
  let bundled: Evaluation;
  let adopting: Evaluation;
  beforeAll(async () => {
    resources = await evaluate({ config: demoIn("resources"), stack: "dev" });
    bundled = await evaluate({ config: demoIn(), stack: "dev" });
    adopting = await evaluate({ config: demoIn("adopting"), stack: "dev" });
  }, 120_000);

  it("the lean default is bundled: 72 custom resources become at most 60 (issue 14 item 4), components included", () => {
    // The spec's count of the demo before bundling: MinIO 26, Keycloak 20, a derivation key, 39 Kubernetes
    // objects = 86; less 12 MinIO objects for its organisation bucket (test/organisation-bucket.test.ts)
    // the members-only deny step's ExecutionConfig (test/twin-login.test.ts) and its replication Job (the
    // stack's one CronJob, test/storage.test.ts).
    expect(custom(resources, "demo").length).toBe(86 - 12 - 1 - 1);
    const lean = custom(bundled, "demo");
    expect(lean.length).toBeLessThanOrEqual(60);
    // Counted as Pulumi's state counts them (components too): also at most 60.
    const of = tenantResolver(bundled.estate, bundled.resources);
    expect(bundled.resources.filter((r) => of(r) === "demo").length).toBeLessThanOrEqual(60);
    expect(objectsRelease(lean).map((r) => r.name)).toEqual(["demo-objects"]);
    // What stays a resource of its own: nothing the collector could have bundled.
    const left = lean.filter((r) => r.type.startsWith("kubernetes:") && !isObjectsRelease(r.type, r.inputs)).map((r) => r.type);
    for (const t of left) expect(t in NEVER_BUNDLED || t === "kubernetes:barmancloud.cnpg.io/v1:ObjectStore", t).toBe(true);
  });

  it("bundled: each object is the entry its own resource was, input for input (the isolation objects kept by Helm besides)", () => {
    const before = new Map(custom(resources, "demo").filter((r) => BUNDLEABLE(r.type) && r.type !== "kubernetes:barmancloud.cnpg.io/v1:ObjectStore").map((r) => [key(r.type, (r.inputs as any).metadata.name), r.inputs]));
    const [release] = objectsRelease(custom(bundled, "demo"));
    const entries = bundledObjects(release.type, release.inputs);
    expect(new Map(entries.map((o) => [key(o.type, o.name), withoutKeep(o.props)]))).toEqual(before);
    // Helm keeps exactly the namespace's isolation when the release goes (uninstalled, failed first install).
    expect(entries.filter((o) => o.props.metadata.annotations?.["helm.sh/resource-policy"] === "keep").map((o) => `${o.kind}/${o.name}`).sort()).toEqual([...KEPT].sort());
    // Every entry is of the bundle's namespace.
    expect(entries.every((o) => o.namespace === "demo")).toBe(true);
  });

  it("bundled: the NetworkPolicies, the quota and the limit range are in the release (isolation kept)", () => {
    const [release] = objectsRelease(custom(bundled, "demo"));
    const entries = bundledObjects(release.type, release.inputs);
    const names = (kind: string) => entries.filter((o) => o.kind === kind).map((o) => o.name).sort();
    // The policies the pure builder says a five-app bundle has (no dedicated Jitsi, no stateless Nextcloud).
    const e = bundled.estate;
    const expected = networkPolicies({ podCIDR: e.cluster.network.podCIDR, serviceCIDR: e.cluster.network.serviceCIDR, nodeCIDR: e.hetzner.network.ipRange, jitsi: false, nextcloudUpgrade: false })
      .map((p) => p.name)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(names("NetworkPolicy")).toEqual(expected);
    expect(names("ResourceQuota")).toEqual(["bundle"]);
    expect(names("LimitRange")).toEqual(["bundle"]);
    const deny = entries.find((o) => o.kind === "NetworkPolicy" && o.name === "default-deny")!.props;
    expect(deny.spec.podSelector).toEqual({});
    // The same check fails on a release without them.
    const stripped = { ...release.inputs, values: { objects: (release.inputs as any).values.objects.filter((o: any) => o.kind !== "NetworkPolicy") } };
    expect(bundledObjects(release.type, stripped).filter((o) => o.kind === "NetworkPolicy")).toEqual([]);
  });

  it("bundled: the release is the objects chart's, waits like a resource (no skipAwait), is not atomic, and comes after what its objects waited for", () => {
    const rs = custom(bundled, "demo");
    const [release] = objectsRelease(rs);
    const i = release.inputs as any;
    expect({ name: i.name, namespace: i.namespace, chart: i.chart, version: i.version }).toEqual({ name: OBJECTS_RELEASE, namespace: "demo", chart: OBJECTS_CHART.path, version: OBJECTS_CHART.version });
    expect(i.repositoryOpts).toBeUndefined();
    // Not atomic: a failed first install would uninstall the adopted objects and the NetworkPolicies with them.
    expect({ atomic: i.atomic, timeout: i.timeout, maxHistory: i.maxHistory }).toEqual({ ...HELM_DEFAULTS, atomic: false });
    expect(i.skipAwait).toBeUndefined();
    const byUrn = new Map(rs.map((r) => [r.urn, r]));
    const deps = release.dependsOn.map((u) => byUrn.get(u)?.type ?? u);
    // The namespace and the Secrets the Deployments read; not the Cluster: the isolation objects come beside it, not after it.
    expect(deps).toEqual(expect.arrayContaining(["kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret"]));
    expect(deps).not.toContain("kubernetes:postgresql.cnpg.io/v1:Cluster");
    // Never itself.
    expect(release.dependsOn).not.toContain(release.urn);
    // The apps' releases come after it (their quota, limit range and NetworkPolicies), as in no other mode.
    for (const app of ["demo-nextcloud-release", "demo-matrix-release"]) {
      expect(rs.find((r) => r.name === app)!.dependsOn, app).toContain(release.urn);
      expect(custom(resources, "demo").find((r) => r.name === app)!.dependsOn.some((u) => u.includes("-objects")), app).toBe(false);
    }
  });

  it("bundled: no secret reaches the release's values (the harness's secret markers, every path)", () => {
    const [release] = objectsRelease(custom(bundled, "demo"));
    const secretPaths: string[] = [];
    const walk = (v: unknown, p: string) => {
      if (isSecretMarker(v)) return void secretPaths.push(p);
      if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${p}.${k}`);
    };
    walk(secretAwareInputs(release), "inputs");
    expect(secretPaths).toEqual([]);
    // The check sees a secret where there is one: the bundle's shared Secret.
    const shared = custom(bundled, "demo").find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata.name === "bundle-liiibre")!;
    walk(secretAwareInputs(shared), "shared");
    expect(secretPaths.length).toBeGreaterThan(0);
  });

  it("adopting: the same resources, each with Helm's ownership metadata and retainOnDelete", () => {
    const before = custom(resources, "demo");
    const after = custom(adopting, "demo");
    expect(after.map((r) => r.urn).sort()).toEqual(before.map((r) => r.urn).sort());
    const own = helmOwnership("demo");
    const adopted = after.filter((r) => BUNDLEABLE(r.type) && r.type !== "kubernetes:barmancloud.cnpg.io/v1:ObjectStore" && !isObjectsRelease(r.type, r.inputs));
    // The spec's 39 Kubernetes objects less the Namespace, 6 Secrets, the Job, the Cluster, its ObjectStore and the 2 app releases.
    expect(adopted.length).toBe(39 - 1 - 6 - 1 - 1 - 1 - 2);
    for (const r of adopted) {
      const was = before.find((b) => b.urn === r.urn)!;
      const md = (r.inputs as any).metadata;
      const wasMd = (was.inputs as any).metadata;
      expect(md.labels, r.name).toEqual({ ...(wasMd.labels ?? {}), ...own.labels });
      expect(md.annotations, r.name).toEqual({ ...(wasMd.annotations ?? {}), ...own.annotations, ...(KEPT.has(`${r.type.split(":").pop()}/${md.name}`) ? HELM_KEEP : {}) });
      expect({ ...r.inputs, metadata: wasMd }, r.name).toEqual(was.inputs);
      expect(r.retainOnDelete, r.name).toBe(true);
    }
    // What is never bundled keeps its options and metadata.
    const ns = after.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
    expect((ns.inputs as any).metadata.labels["app.kubernetes.io/managed-by"]).toBeUndefined();
  });

  itNeeding("Helm", HELM !== undefined, "make the npm registry reachable (docs/render.md)")("bundled: the real Helm renders the release's entries as they are, one document each", () => {
    const [release] = objectsRelease(custom(bundled, "demo"));
    const values = (release.inputs as any).values;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "objects-"));
    const file = path.join(dir, "values.json");
    fs.writeFileSync(file, JSON.stringify(values));
    const r = spawnSync(HELM!, ["template", OBJECTS_RELEASE, path.join(REPO_ROOT, OBJECTS_CHART.path), "--namespace", "demo", "-f", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter((d) => d);
    // Helm prints them in its install order (NetworkPolicies and quotas first, Services before Deployments…).
    const byKindName = (xs: any[]) => [...xs].sort((x, y) => `${x.kind}/${x.metadata.name}`.localeCompare(`${y.kind}/${y.metadata.name}`));
    expect(byKindName(docs)).toEqual(byKindName(values.objects));
    const order = docs.map((d: any) => d.kind);
    expect(order.indexOf("NetworkPolicy")).toBeLessThan(order.indexOf("Deployment"));
    expect(order.lastIndexOf("Service")).toBeLessThan(order.indexOf("Deployment"));
  });
});

/** Runs `program` under the harness (the dev estate) and returns what it registered. */
const run = (program: () => void) => evaluate({ config: devConfig(), stack: "dev", program: () => program() });

describe("the collector", () => {
  const deployment = (ns: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name: "web", namespace: ns, labels: { app: "web" } },
    spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27", ...extra }] } } },
  });

  it("resources mode registers exactly what `new` does (class, name, inputs, options)", async () => {
    const direct = await run(() => {
      const c = new pulumi.ComponentResource("test:index:Owner", "owner");
      const d = new k8s.apps.v1.Deployment("web", deployment("acme"), { parent: c, protect: true });
      new k8s.apiextensions.CustomResource("route", { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "r", namespace: "acme" }, spec: {} }, { parent: c, dependsOn: [d] });
    });
    const collected = await run(() => {
      const c = new pulumi.ComponentResource("test:index:Owner", "owner");
      const o = new BundleObjects({ mode: "resources", namespace: "acme", resourceName: "acme-objects", opts: { parent: c } });
      const d = o.add(k8s.apps.v1.Deployment, "web", deployment("acme"), { parent: c, protect: true });
      o.add(k8s.apiextensions.CustomResource, "route", { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "r", namespace: "acme" }, spec: {} }, { parent: c, dependsOn: [d] });
      expect(o.after()).toEqual([]);
      expect(o.register()).toBeUndefined();
    });
    expect(collected.resources).toEqual(direct.resources);
    expect(collected.resources.filter((r) => r.custom).map((r) => r.type)).toEqual(["kubernetes:apps/v1:Deployment", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"]);
  });

  it("bundled: one release whose values hold the manifests (apiVersion and kind from the class), sorted; dependents get the release", async () => {
    let handle: unknown;
    let release: unknown;
    const ev = await run(() => {
      const ns = new k8s.core.v1.Namespace("ns", { metadata: { name: "acme" } });
      const o = new BundleObjects({ mode: "bundled", namespace: "acme", resourceName: "acme-objects", opts: { dependsOn: [ns] } });
      handle = o.add(k8s.core.v1.Service, "svc", { metadata: { name: "web", namespace: "acme" }, spec: { selector: { app: "web" } } }, {});
      o.add(k8s.apps.v1.Deployment, "web", deployment("acme"), { dependsOn: [handle as pulumi.Resource] });
      new k8s.core.v1.ConfigMap("after", { metadata: { name: "after", namespace: "acme" } }, { dependsOn: o.after() });
      release = o.register();
    });
    expect(handle).toBe(release);
    const rel = ev.resources.find((r) => r.name === "acme-objects")!;
    expect((rel.inputs as any).values.objects.map((x: any) => [x.apiVersion, x.kind, x.metadata.name])).toEqual([
      ["apps/v1", "Deployment", "web"],
      ["v1", "Service", "web"],
    ]);
    // The Deployment waited for the Service: in one release, nothing (no self-dependency).
    expect(rel.dependsOn).toEqual([ev.resources.find((r) => r.name === "ns")!.urn]);
    expect(ev.resources.find((r) => r.name === "after")!.dependsOn).toEqual([rel.urn]);
    expect(ev.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")).toEqual([]);
  });

  it("bundled: an object carrying a secret Output makes the release's values fail, naming it (secrets never go in values)", async () => {
    const plain = { type: "kubernetes:apps/v1:Deployment", name: "web", manifest: { apiVersion: "apps/v1", kind: "Deployment", ...deployment("acme") } };
    const secret = { ...plain, name: "api", manifest: { apiVersion: "apps/v1", kind: "Deployment", ...deployment("acme", { env: [{ name: "TOKEN", value: pulumi.secret("s3cr3t") }] }) } };
    const ok = await objectsValues("acme", [plain]);
    // Plain values whose leaves are the manifests' own Inputs (one unknown leaf stays a leaf in preview).
    expect(pulumi.Output.isInstance(ok)).toBe(false);
    expect(ok.objects[0]).toBe(plain.manifest);
    // A hash of a secret in a pod annotation is a secret too.
    const hashed = { ...plain, name: "hashed", manifest: { ...plain.manifest, metadata: { name: "hashed", namespace: "acme", annotations: { checksum: pulumi.secret("x").apply((v) => `sha-${v.length}`) } } } };
    for (const bad of [secret, hashed]) await expect(objectsValues("acme", [plain, bad]), bad.name).rejects.toThrow(new RegExp(`Deployment ${bad.name} carries a secret value; secrets never go in values`));
  });

  it("bundled: an object carrying an Output of a Helm release makes the values fail (a cycle), an Output of another resource does not", async () => {
    let fine: Promise<unknown> = Promise.resolve();
    let loop: Promise<unknown> = Promise.resolve();
    await run(() => {
      const app = new k8s.helm.v3.Release("app", { chart: "x", namespace: "acme" });
      const cm = new k8s.core.v1.ConfigMap("cm", { metadata: { name: "cm", namespace: "acme" } });
      const entry = (name: string, value: pulumi.Input<string>) => ({ type: "kubernetes:core/v1:ConfigMap", name, manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "acme" }, data: { v: value } } });
      fine = objectsValues("acme", [entry("fine", cm.metadata.name)]).then(() => "ok");
      loop = objectsValues("acme", [entry("loop", app.status.name)]).then(() => "ok");
      loop.catch(() => undefined);
    });
    expect(await fine).toBe("ok");
    await expect(loop).rejects.toThrow(/ConfigMap loop carries an Output of a Helm release.*cycle/);
  });

  it("refuses what is never bundled, in every mode: the Namespace, Secrets, volumes, the CNPG Cluster, Jobs, Helm releases, a StatefulSet with volume claims", () => {
    for (const mode of ["resources", "adopting", "bundled"] as const) {
      const o = new BundleObjects({ mode: mode as any, namespace: "acme", resourceName: "acme-objects", opts: {} });
      const md = { metadata: { name: "x", namespace: "acme" } };
      expect(() => o.add(k8s.core.v1.Namespace, "ns", { metadata: { name: "acme" } }, {}), mode).toThrow(/never one of a bundle's objects/);
      expect(() => o.add(k8s.core.v1.Secret, "s", { ...md, stringData: { a: "b" } }, {}), mode).toThrow(/never one of a bundle's objects.*secret/);
      expect(() => o.add(k8s.core.v1.PersistentVolumeClaim, "pvc", { ...md, spec: {} }, {}), mode).toThrow(/holds data/);
      expect(() => o.add(k8s.batch.v1.Job, "job", { ...md, spec: { template: {} } } as any, {}), mode).toThrow(/immutable/);
      expect(() => o.add(k8s.apiextensions.CustomResource, "pg", { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", ...md, spec: {} }, {}), mode).toThrow(/holds the databases/);
      expect(() => o.add(k8s.helm.v3.Release as any, "rel", { chart: "x" }, {}), mode).toThrow(/own release/);
      expect(() => o.add(k8s.apps.v1.StatefulSet, "sts", { ...md, spec: { selector: {}, serviceName: "x", template: {}, volumeClaimTemplates: [{}] } } as any, {}), mode).toThrow(/volumeClaimTemplates holds data/);
    }
  });

  it("bundled: refuses an object of another namespace, options it would lose, and a wait on a Helm release (a cycle)", async () => {
    await run(() => {
      const o = new BundleObjects({ mode: "bundled", namespace: "acme", resourceName: "acme-objects", opts: {} });
      expect(() => o.add(k8s.core.v1.ConfigMap, "cm", { metadata: { name: "cm", namespace: "other" } }, {})).toThrow(/namespace acme/);
      expect(() => o.add(k8s.core.v1.ConfigMap, "cm", { metadata: { name: "cm", namespace: "acme" } }, { protect: true })).toThrow(/option protect/);
      const app = new k8s.helm.v3.Release("app", { chart: "x", namespace: "acme" }, { dependsOn: o.after() });
      expect(() => o.add(k8s.core.v1.ConfigMap, "cm", { metadata: { name: "cm", namespace: "acme" } }, { dependsOn: [app] })).toThrow(/cannot wait for a Helm release.*cycle/);
      o.add(k8s.core.v1.ConfigMap, "cm", { metadata: { name: "cm", namespace: "acme" } }, {});
      expect(() => o.add(k8s.core.v1.ConfigMap, "cm2", { metadata: { name: "cm", namespace: "acme" } }, {})).toThrow(/added twice/);
      o.register();
      expect(() => o.add(k8s.core.v1.ConfigMap, "late", { metadata: { name: "late", namespace: "acme" } }, {})).toThrow(/after they were registered/);
    });
  });
});
