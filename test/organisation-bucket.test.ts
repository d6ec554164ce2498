/**
 * The organisation bucket (`tenants[].buckets: organisation`, the lean layout's default,
 * docs/storage.md#buckets): one primary bucket `<slug>-apps` per dedicated organisation, each app
 * under its own prefix, instead of one bucket per app. What is checked, and against what:
 * - config: the key, its defaults per data layout, its refusals (key path, allowed values);
 * - what MinIO receives: one bucket whose hard quota is the whole pool (so the pool is enforced
 *   across the apps: MinIO's bucket quota counts every object of the bucket), its versioning and
 *   lifecycle, one Helsinki twin and a replication Job naming it;
 * - what each app is told (and, rendered by Helm with the pinned charts, what its pods get):
 *   Nextcloud's `objectPrefix` (the image's s3.config.php reads OBJECTSTORE_S3_OBJECT_PREFIX, keys
 *   `<objectPrefix><file id>`), synapse-s3-storage-provider's `prefix`, HedgeDoc's bucket (its
 *   keys stay `uploads/…`: it has no prefix setting);
 * - what MinIO would decide: every app's calls allowed by its user's policy, another
 *   organisation's user refused, browsers allowed `uploads/*` and refused every other app's
 *   prefix (an IAM evaluator, scripts/twin/checks/s3.ts); and the twin's new check that two apps of
 *   one bucket never write each other's keys fires when a prefix goes missing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { configProblems, parseEstate } from "../components/estate";
import { APPS, BUCKET_SUFFIXES, ORGANISATION_BUCKET_SUFFIX, organisationBucketPrefix } from "../components/config/apps";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { BYTES_PER_GB } from "../components/units";
import { bucketPolicyProblems } from "../policies/no-public-buckets";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { buildPlan, type Plan, type PlanResource } from "../scripts/plan-model";
import { renderPlan } from "../scripts/render/render";
import { runTwin } from "../scripts/twin";
import { AnonymousDecider, S3Decider, s3Uses } from "../scripts/twin/checks/s3";
import { twinInput } from "../scripts/twin/from-evaluation";
import { normalise } from "../scripts/twin/normalise";
import type { Estate } from "../components/config";
import { withBundledObjects } from "./helpers/objects";
import { devConfig } from "./helpers/estates";
import { HELM, itWithOwnHelm } from "./helpers/render";

const org = (slug: string, extra: Record<string, unknown> = {}) => ({ slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: 15, ...extra });

describe("the buckets key", () => {
  it("defaults to organisation in the lean layout, per-app in the others; per-app may be kept on a lean organisation", () => {
    const raw = devConfig();
    raw.tenants.push(org("alpha"), org("bravo", { dataLayout: "per-app" }), org("charlie", { dataLayout: "migrating" }), org("delta", { buckets: "per-app" }), org("echo", { dataLayout: "per-app", buckets: "organisation" }));
    const layouts = Object.fromEntries(parseEstate(raw).tenants.map((t) => [t.slug, t.buckets]));
    expect(layouts).toMatchObject({ alpha: "organisation", bravo: "per-app", charlie: "per-app", delta: "per-app", echo: "organisation" });
  });
  it("refuses another value with its key path and the allowed values, and any value on a shared organisation", () => {
    const raw = devConfig();
    const i = raw.tenants.length;
    raw.tenants.push(org("alpha", { buckets: "one" }));
    expect(configProblems(raw)).toEqual([`liiibre:tenants[${i}].buckets: expected one of per-app | organisation, got "one"`]);
    const shared = devConfig();
    const s = shared.tenants.findIndex((t: any) => t.plan === "shared");
    shared.tenants[s].buckets = "organisation";
    expect(configProblems(shared)).toEqual([expect.stringMatching(new RegExp(`^liiibre:tenants\\[${s}\\]\\.buckets: expected no buckets for plan "shared"`))]);
  });
  it("gives each app a prefix of its own; HedgeDoc, which cannot be given one, keeps its uploads/ at the root", () => {
    expect(organisationBucketPrefix("nextcloud")).toBe("nextcloud/");
    expect(organisationBucketPrefix("matrix-media")).toBe("matrix-media/");
    expect(organisationBucketPrefix("hedgedoc")).toBe("");
  });
  it("no app's bucket suffix is, or ends like, the organisation bucket's: `<slug>-apps` is never an app's bucket", () => {
    // The pool alert, the replication target's policy (`*-apps`) and no-public-buckets read `-apps` as the organisation bucket.
    for (const [app, spec] of Object.entries(APPS)) for (const b of spec.buckets) expect(b === ORGANISATION_BUCKET_SUFFIX || b.endsWith(`-${ORGANISATION_BUCKET_SUFFIX}`), `${app}: ${b}`).toBe(false);
    expect(BUCKET_SUFFIXES).toContain(ORGANISATION_BUCKET_SUFFIX);
  });
});

/**
 * dev evaluated with `demo` in a bucket layout: `organisation` (lean's default, as a new
 * organisation gets it) unless told; dev's config keeps its live `demo` on per-app buckets.
 */
async function dev(buckets: "per-app" | "organisation" | undefined = "organisation", extraTenants: Array<Record<string, unknown>> = []): Promise<{ plan: Plan; estate: Estate }> {
  const config = readStackConfig(stackConfigFile("dev")) as { tenants: Array<Record<string, unknown>> };
  const demo = config.tenants.find((t) => t.slug === "demo")!;
  if (buckets) demo.buckets = buckets;
  else delete demo.buckets;
  config.tenants.push(...extraTenants);
  const evaluation = await evaluate({ config, stack: "dev" });
  return { plan: buildPlan(evaluation, []), estate: evaluation.estate };
}

let organisation: { plan: Plan; estate: Estate };
let perApp: { plan: Plan; estate: Estate };
beforeAll(async () => {
  organisation = await dev();
  perApp = await dev("per-app");
}, 120_000);

const ofType = (plan: Plan, type: string, tenant = "demo") => plan.resources.filter((r) => r.type === type && r.tenant === tenant);
const inputs = (r: PlanResource) => r.inputs as any;
const offsite = (r: PlanResource) => r.urn.includes("liiibre:storage:OffsiteCopy");
const objectOf = (plan: Plan, kind: string, name: string) => withBundledObjects(plan.resources).find((r) => inputs(r).kind === kind && inputs(r).metadata?.name === name && inputs(r).metadata?.namespace === "demo");
const release = (plan: Plan, name: string) => plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === name)!;

describe("dev's demo with its organisation bucket", () => {
  it("is what lean's default gives an organisation that does not say (dev's config pins its live demo to per-app)", async () => {
    const byDefault = await dev(undefined);
    expect(byDefault.plan.resources.map((r) => r.urn)).toEqual(organisation.plan.resources.map((r) => r.urn));
    expect((readStackConfig(stackConfigFile("dev")) as { tenants: Array<Record<string, unknown>> }).tenants.find((t) => t.slug === "demo")!.buckets).toBe("per-app");
  }, 60_000);

  it("MinIO gets one primary bucket holding the whole pool as its hard quota, versioned and with its lifecycle, and one Helsinki twin", () => {
    const demo = organisation.estate.tenants.find((t) => t.slug === "demo")!;
    const buckets = ofType(organisation.plan, "minio:index/s3Bucket:S3Bucket");
    const primary = buckets.filter((b) => !offsite(b) && inputs(b).bucket !== "demo-k8up");
    expect(primary.map((b) => inputs(b).bucket)).toEqual([`demo-${ORGANISATION_BUCKET_SUFFIX}`]);
    // The pool: users × per-user quota, in bytes (1 GB = 1024³), on the one bucket every app writes to.
    expect(inputs(primary[0]).quota).toBe(demo.users * demo.quotaPerUserGB * BYTES_PER_GB);
    expect(primary[0].protect).toBe(true);
    expect(buckets.filter(offsite).map((b) => inputs(b).bucket)).toEqual(["demo-apps"]);
    expect(ofType(organisation.plan, "minio:index/s3BucketVersioning:S3BucketVersioning").map((v) => inputs(v).bucket).sort()).toEqual(["demo-apps", "demo-apps"]);
    expect(ofType(organisation.plan, "minio:index/ilmPolicy:IlmPolicy").map((v) => inputs(v).bucket).sort()).toEqual(["demo-apps", "demo-apps"]);
    // The stack's replication CronJob names it (and the shared instance's buckets), not the per-app ones.
    const job = organisation.plan.resources.find((j) => j.type === "kubernetes:batch/v1:CronJob" && inputs(j).metadata.name === "replicate-platform")!;
    const replicated = String(inputs(job).spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === "BUCKETS").value).split(" ");
    expect(replicated.filter((b) => b.startsWith("demo-"))).toEqual(["demo-apps"]);
  });

  it("is 12 resources fewer than per-app buckets: for 3 apps storing files, 2 buckets, 2 versionings and 2 lifecycles fewer, in Falkenstein and in Helsinki", () => {
    const count = (p: Plan) => p.resources.filter((r) => r.tenant === "demo").length;
    expect(count(perApp.plan) - count(organisation.plan)).toBe(2 * 3 * 2);
    // The per-app shape is today's (an organisation created before the organisation bucket).
    expect(ofType(perApp.plan, "minio:index/s3Bucket:S3Bucket").filter((b) => !offsite(b)).map((b) => inputs(b).bucket).sort()).toEqual(["demo-hedgedoc", "demo-k8up", "demo-matrix-media", "demo-nextcloud"]);
  });

  it("each app is told the bucket and its prefix: Nextcloud's objectPrefix, Synapse's storage provider prefix, HedgeDoc's bucket", () => {
    const nc = inputs(release(organisation.plan, "demo-nextcloud-release")).values.nextcloud.objectStore.s3;
    expect(nc).toMatchObject({ bucket: "demo-apps", prefix: "nextcloud/urn:oid:" });
    const synapse = parseYaml(inputs(release(organisation.plan, "demo-matrix-release")).values.synapse.additional["10-liiibre.yaml"].config as string);
    // The provider's keys are `prefix + path`: `matrix-media/local_content/…`.
    expect(synapse.media_storage_providers).toMatchObject([{ module: "s3_storage_provider.S3StorageProviderBackend", config: { bucket: "demo-apps", prefix: "matrix-media/" } }]);
    const hedgedoc = inputs(objectOf(organisation.plan, "Deployment", "hedgedoc")!).spec.template.spec.containers[0].env;
    expect(hedgedoc.find((e: any) => e.name === "CMD_S3_BUCKET").value).toBe("demo-apps");
    // Per-app: no prefix anywhere (Nextcloud's keys `urn:oid:<id>` at the root, as before).
    expect(inputs(release(perApp.plan, "demo-nextcloud-release")).values.nextcloud.objectStore.s3.prefix).toBeUndefined();
  });

  itWithOwnHelm("rendered with the pinned charts: Nextcloud's pods get OBJECTSTORE_S3_OBJECT_PREFIX, Synapse merges the config holding its prefix", async () => {
    const r = await renderPlan([release(organisation.plan, "demo-nextcloud-release"), release(organisation.plan, "demo-matrix-release")], { helm: HELM, programResources: false });
    expect(r.problems).toEqual([]);
    const nc = r.releases.find((x) => x.chart === "nextcloud")!;
    const pod = nc.objects.find((o) => o.kind === "Deployment")!.object as any;
    const env = pod.spec.template.spec.containers.find((c: any) => c.name === "nextcloud").env;
    expect(env.find((e: any) => e.name === "OBJECTSTORE_S3_BUCKET").value).toBe("demo-apps");
    expect(env.find((e: any) => e.name === "OBJECTSTORE_S3_OBJECT_PREFIX").value).toBe("nextcloud/urn:oid:");
    const matrix = r.releases.find((x) => x !== nc)!;
    // The chart writes `synapse.additional["10-liiibre.yaml"].config` (the prefix above) into its Secret as
    // `user-10-liiibre.yaml` and merges that file into Synapse's config at start (its render-config init container);
    // the render masks Secret contents, so what is checked here is that the file reaches Synapse.
    const secret = matrix.objects.find((o) => o.kind === "Secret" && o.name === "matrix-synapse")!.object as any;
    expect(Object.keys(secret.data)).toContain("user-10-liiibre.yaml");
    const sts = matrix.objects.find((o) => o.kind === "StatefulSet")!.object as any;
    const args = JSON.stringify([...(sts.spec.template.spec.initContainers ?? []), ...sts.spec.template.spec.containers].map((c: any) => [c.command, c.args]));
    expect(args).toContain("/secrets/matrix-synapse/user-10-liiibre.yaml");
  }, 60_000);

  it("browsers may GET HedgeDoc's uploads/ only: the bucket policy refuses every other app's prefix (IAM evaluator), and the policy pack agrees", async () => {
    const [policy] = ofType(organisation.plan, "minio:index/s3BucketPolicy:S3BucketPolicy");
    expect(inputs(policy).bucket).toBe("demo-apps");
    const doc = JSON.parse(inputs(policy).policy);
    const decider = new AnonymousDecider();
    expect(await decider.decide(doc, "GetObject", "demo-apps", "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png")).toBe("Allowed");
    for (const key of ["nextcloud/urn:oid:1", "matrix-media/local_content/ab/cd/efgh", "urn:oid:1"]) expect(await decider.decide(doc, "GetObject", "demo-apps", key), key).not.toBe("Allowed");
    expect(await decider.decide(doc, "ListObjectsV2", "demo-apps", "")).not.toBe("Allowed");
    expect(bucketPolicyProblems("demo-apps", doc)).toEqual([]);
    // The same grant widened to the bucket is refused by both.
    const wide = { ...doc, Statement: [{ ...doc.Statement[0], Resource: ["arn:aws:s3:::demo-apps/*"] }] };
    expect(await decider.decide(wide, "GetObject", "demo-apps", "nextcloud/urn:oid:1")).toBe("Allowed");
    expect(bucketPolicyProblems("demo-apps", wide)).toEqual([expect.stringMatching(/only s3:GetObject on uploads\/\* of a bucket HedgeDoc writes to/)]);
  });

  it("the twin finds each app's use of the bucket at its prefix, every call allowed; another organisation's user is refused", async () => {
    // alpha: a new lean organisation, its buckets by default.
    const other = await dev("organisation", [org("alpha")]);
    const e = normalise(twinInput(other.estate, other.plan));
    const uses = s3Uses(e).uses.filter((u) => u.tenant === "demo" && u.user.server === "primary" && u.consumer !== "replication");
    expect(uses.map((u) => `${u.consumer} ${u.bucket}/${u.prefix}`).sort()).toEqual(["hedgedoc demo-apps/", "nextcloud demo-apps/nextcloud/", "synapse demo-apps/matrix-media/"]);
    // Nothing configured for a bucket goes untraced.
    expect(s3Uses(e).unresolved).toEqual([]);
    const report = await runTwin(twinInput(other.estate, other.plan));
    expect(report.findings.filter((f) => f.check.startsWith("s3-"))).toEqual([]);
    const alpha = s3Uses(e).uses.find((u) => u.tenant === "alpha" && u.consumer === "nextcloud")!;
    expect(alpha.bucket).toBe("alpha-apps");
    const decider = new S3Decider();
    for (const call of ["GetObject", "PutObject", "DeleteObject"] as const) expect(await decider.decide(alpha.user, call, "demo-apps", "nextcloud/urn:oid:1", ["alpha", "demo"])).not.toBe("Allowed");
    expect(await decider.decide(alpha.user, "PutObject", "alpha-apps", "nextcloud/urn:oid:1", ["alpha"])).toBe("Allowed");
  }, 120_000);

  it("s3-prefixes-disjoint: Synapse without its prefix would write at the root, over HedgeDoc's uploads/ — the twin says so", async () => {
    const e = () => twinInput(organisation.estate, organisation.plan);
    expect((await runTwin(e())).findings.filter((f) => f.check === "s3-prefixes-disjoint")).toEqual([]);
    const mutated = structuredClone(organisation.plan);
    const values = inputs(release(mutated, "demo-matrix-release")).values.synapse.additional["10-liiibre.yaml"];
    const cfg = parseYaml(String(values.config));
    delete cfg.media_storage_providers[0].config.prefix;
    values.config = stringifyYaml(cfg);
    const found = (await runTwin(twinInput(organisation.estate, mutated))).findings.filter((f) => f.check === "s3-prefixes-disjoint");
    // At the root, Synapse's keys hold both other apps' (Nextcloud's `nextcloud/urn:oid:…`, HedgeDoc's `uploads/…`).
    expect(found.map((f) => f.message.replace(/ \(.*/, "")).sort()).toEqual(["synapse and hedgedoc write the same keys of primary/demo-apps", "synapse and nextcloud write the same keys of primary/demo-apps"]);
    // Synapse whose credentials file the twin cannot follow is reported, not skipped.
    const untraced = structuredClone(organisation.plan);
    const syn = inputs(release(untraced, "demo-matrix-release")).values.synapse;
    syn.extraVolumes = syn.extraVolumes.filter((v: any) => v.name !== "s3-credentials");
    const lost = (await runTwin(twinInput(organisation.estate, untraced))).findings.filter((f) => f.check === "s3-permissions");
    expect(lost.map((f) => f.message)).toEqual([expect.stringMatching(/^synapse is configured for bucket demo-apps but names no credentials Secret/)]);
    // Nextcloud without its prefix: `urn:oid:<id>` at the root, beside `uploads/` and `matrix-media/`: no key in common.
    const ncOnly = structuredClone(organisation.plan);
    delete inputs(release(ncOnly, "demo-nextcloud-release")).values.nextcloud.objectStore.s3.prefix;
    expect((await runTwin(twinInput(organisation.estate, ncOnly))).findings.filter((f) => f.check === "s3-prefixes-disjoint")).toEqual([]);
  }, 60_000);
});
