/**
 * Data layouts of a dedicated organisation (docs/storage.md#data-layouts): the config key, the
 * lean cluster's objects against CloudNativePG 1.27's own CRDs (chart 0.26.0), an estate with one
 * organisation per layout through the real `npm run plan` (policies and twin, whose S3 checks
 * evaluate MinIO's IAM with @cloud-copilot/iam-simulate), and what `--diff` shows when an
 * organisation's layout is switched.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify, parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { configProblems, parseEstate } from "../components/estate";
import { CHARTS } from "../components/versions";
import { dataLayoutCost, leanSecretsCost, tenantCost } from "../components/layers/cost";
import { databaseSpec, organisationClusterSpec, rolePassword, ORGANISATION_PG_HBA } from "../components/storage/organisationDatabase";
import { DEFAULT_STORAGE_SETTINGS } from "../components/storage/settings";
import { diffPlans, type PlanDiff } from "../scripts/diff/diff";
import { stackConfigFile } from "../scripts/harness";
import { runPlan } from "../scripts/plan";
import { objectsOfType } from "./helpers/objects";
import type { Plan, PlanResource } from "../scripts/plan-model";
import { decide } from "../scripts/twin/checks/s3";
import { cachedCrds, itWithCharts } from "./helpers/charts";
import { chartRepoDir, findInRepo, readChart } from "../scripts/render/charts";
import { parseManifests } from "../scripts/render/render";
import { CrdRegistry } from "../scripts/render/validate";
import { devConfig, devPlan } from "./helpers/estates";

const CNPG = [{ chart: CHARTS.cloudnativePg.chart, version: CHARTS.cloudnativePg.version }];
/**
 * CloudNativePG's chart ships its CRDs as templates (`templates/crds/crds.yaml`, behind
 * `crds.create`), not in `crds/`: read them from the cached package (cachedCrds reads `crds/` only).
 */
function cnpgCrds(): CrdRegistry {
  const file = findInRepo(chartRepoDir()!, CNPG[0])!;
  const registry = cachedCrds(CNPG)!;
  for (const text of readChart(file).parts[0].templates.filter((t) => t.includes("kind: CustomResourceDefinition")))
    for (const o of parseManifests(text.replace(/^\{\{.*\}\}$/gm, ""))) if (o?.kind === "CustomResourceDefinition") registry.add(o, file);
  return registry;
}
const org = (slug: string, extra: Record<string, unknown> = {}) => ({ slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: 15, ...extra });

describe("the dataLayout key", () => {
  it("defaults to lean; per-app and migrating are accepted", () => {
    const raw = devConfig();
    raw.tenants.push(org("alpha"), org("bravo", { dataLayout: "per-app" }), org("charlie", { dataLayout: "migrating" }));
    const layouts = Object.fromEntries(parseEstate(raw).tenants.map((t) => [t.slug, t.dataLayout]));
    expect(layouts).toMatchObject({ alpha: "lean", bravo: "per-app", charlie: "migrating" });
  });
  it("refuses another value with its key path and the allowed values, and any value on a shared organisation", () => {
    const raw = devConfig();
    const i = raw.tenants.length;
    raw.tenants.push(org("alpha", { dataLayout: "one-per-app" }));
    expect(configProblems(raw)).toEqual([`liiibre:tenants[${i}].dataLayout: expected one of lean | migrating | per-app, got "one-per-app"`]);
    const shared = devConfig();
    const s = shared.tenants.findIndex((t: any) => t.plan === "shared");
    shared.tenants[s].dataLayout = "lean";
    expect(configProblems(shared)).toEqual([expect.stringMatching(new RegExp(`^liiibre:tenants\\[${s}\\]\\.dataLayout: expected no dataLayout for plan "shared"`))]);
  });
  it("npm run plan refuses it before evaluating anything: exit 2, one line naming the key path and the allowed values", async () => {
    const doc = parse(fs.readFileSync(stackConfigFile("dev"), "utf8"));
    doc.config["liiibre:tenants"][0].dataLayout = "shared-cluster";
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-layout-bad-")), "Pulumi.bad.yaml");
    fs.writeFileSync(file, stringify(doc));
    let err = "";
    const code = await runPlan({ stack: "dev", configFile: file, format: "json" }, { write: () => {}, error: (s) => (err += s) });
    expect(code).toBe(2);
    expect(err).toContain('liiibre:tenants[0].dataLayout: expected one of lean | migrating | per-app, got "shared-cluster"');
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });
  it("prod's organisations, which hold data in per-app clusters, all say per-app", () => {
    const prod = parse(fs.readFileSync(stackConfigFile("prod"), "utf8")).config["liiibre:tenants"] as any[];
    const dedicated = prod.filter((t) => t.plan === "dedicated");
    expect(dedicated.length).toBeGreaterThan(20);
    expect(dedicated.filter((t) => t.dataLayout !== "per-app").map((t) => t.slug)).toEqual([]);
  });
});

describe("the organisation cluster against CloudNativePG's CRDs", () => {
  const spec = organisationClusterSpec({
    cluster: "acme-pg",
    databases: ["nextcloud", "synapse"],
    instances: 2,
    storageGB: 12,
    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "400m", memory: "1Gi" } },
    settings: DEFAULT_STORAGE_SETTINGS,
  });
  const cluster = { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "acme-pg", namespace: "acme" }, spec };
  const database = { apiVersion: "postgresql.cnpg.io/v1", kind: "Database", metadata: { name: "acme-pg-nextcloud", namespace: "acme" }, spec: databaseSpec("acme-pg", "nextcloud") };

  itWithCharts(CNPG)("Cluster (managed roles, pg_hba) and Database validate; a misspelt field does not", () => {
    const crds = cnpgCrds();
    expect(crds.validate(cluster)?.errors).toEqual([]);
    expect(crds.validate(database)?.errors).toEqual([]);
    // The validator bites: `password` is not a field of a managed role (the Secret is `passwordSecret`),
    // and a Database needs its owner.
    const bad = structuredClone(cluster) as any;
    bad.spec.managed.roles[0].password = "x";
    expect(crds.validate(bad)?.errors.map((e) => e.field)).toEqual(["spec.managed.roles[0].password"]);
    const ownerless = structuredClone(database) as any;
    delete ownerless.spec.owner;
    expect(crds.validate(ownerless)?.errors.length).toBeGreaterThan(0);
  });

  it("each app has its role (its own Secret), owns its database, and logs in to that one only", () => {
    expect(spec.managed).toEqual({
      roles: [
        { name: "nextcloud", ensure: "present", login: true, inherit: true, passwordSecret: { name: "acme-pg-nextcloud" } },
        { name: "synapse", ensure: "present", login: true, inherit: true, passwordSecret: { name: "acme-pg-synapse" } },
      ],
    });
    expect(database.spec).toMatchObject({ name: "nextcloud", owner: "nextcloud", cluster: { name: "acme-pg" }, databaseReclaimPolicy: "retain" });
    // PostgreSQL's first matching line wins; CloudNativePG puts these before its default `host all all all`:
    // `sameuser` admits a role to the database of its own name, the next line rejects every other network login.
    expect(spec.postgresql).toEqual({ pg_hba: ["host sameuser all all scram-sha-256", "host all all all reject"] });
    expect(ORGANISATION_PG_HBA[1]).toMatch(/ reject$/);
    // Role passwords: distinct per role, stable for a key, another key gives others.
    expect(rolePassword("k", "nextcloud")).not.toBe(rolePassword("k", "synapse"));
    expect(rolePassword("k", "nextcloud")).toBe(rolePassword("k", "nextcloud"));
    expect(rolePassword("k2", "nextcloud")).not.toBe(rolePassword("k", "nextcloud"));
  });

  it("a disaster recovery restores the whole cluster from the previous archive generation", () => {
    const s = organisationClusterSpec({ cluster: "acme-pg", databases: ["nextcloud"], instances: 1, storageGB: 3, settings: { databaseRecovery: { generation: 2, restoring: true } } }) as any;
    expect(s.bootstrap).toEqual({ recovery: { source: "helsinki" } });
    expect(s.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: "acme-pg-helsinki", serverName: "acme-pg-g1" });
    expect(s.plugins[0].parameters.serverName).toBe("acme-pg-g2");
  });
});

describe("prod with one more organisation per layout, planned with policies and the twin", () => {
  let plan: any;
  const rs = (): PlanResource[] => plan.resources;
  // Bundled objects included (lean organisations' kubernetesObjects default: helpers/objects.ts).
  const of = (slug: string, type: string) => objectsOfType(rs(), type, slug);
  beforeAll(async () => {
    // Prod's estate (its policy configuration and capacity) with four small organisations more.
    const doc = parse(fs.readFileSync(stackConfigFile("prod"), "utf8"));
    doc.config["liiibre:tenants"].push(org("alpha", { ha: true }), org("bravo"), org("legacy", { dataLayout: "per-app" }), org("moving", { dataLayout: "migrating" }), org("kept", { dataLayout: "lean", boundSecrets: "own" }));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-layout-")), "Pulumi.layouts.yaml");
    fs.writeFileSync(file, stringify(doc));
    let out = "";
    const code = await runPlan({ stack: "prod", configFile: file, format: "json" }, { write: (s) => (out += s), error: () => {} });
    plan = JSON.parse(out);
    expect(code).toBe(0);
  }, 240_000);

  it("passes the policies and the twin (S3 permissions, cross-organisation S3, database connections)", () => {
    expect(plan.summary.mandatoryViolations).toBe(0);
    expect(plan.twin.filter((f: any) => f.level === "error")).toEqual([]);
  });

  it("lean: one cluster (2 instances with ha), one Database and one role Secret per app, one ObjectStore and ScheduledBackup, the apps on their own roles", () => {
    const clusters = of("alpha", "kubernetes:postgresql.cnpg.io/v1:Cluster");
    expect(clusters.map((c) => (c.inputs as any).metadata.name)).toEqual(["alpha-pg"]);
    expect(clusters[0]).toMatchObject({ protect: true, retainOnDelete: true });
    expect((clusters[0].inputs as any).spec.instances).toBe(2);
    const dbs = of("alpha", "kubernetes:postgresql.cnpg.io/v1:Database").map((d) => (d.inputs as any).spec);
    expect(dbs.map((d) => `${d.name}:${d.owner}`).sort()).toEqual(["hedgedoc:hedgedoc", "nextcloud:nextcloud", "synapse:synapse"]);
    expect(of("alpha", "kubernetes:barmancloud.cnpg.io/v1:ObjectStore")).toHaveLength(1);
    expect(of("alpha", "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")).toHaveLength(1);
    // Every managed role's Secret exists, of the type CloudNativePG reads.
    const secrets = new Map(of("alpha", "kubernetes:core/v1:Secret").map((s) => [(s.inputs as any).metadata.name, s.inputs as any]));
    for (const r of (clusters[0].inputs as any).spec.managed.roles) expect(secrets.get(r.passwordSecret.name)?.type, r.name).toBe("kubernetes.io/basic-auth");
    // Nextcloud reads the nextcloud role's Secret on the organisation cluster.
    const nc = of("alpha", "kubernetes:helm.sh/v3:Release").find((r) => (r.inputs as any).chart === "nextcloud")!.inputs as any;
    expect(nc.values.externalDatabase).toMatchObject({ host: "alpha-pg-rw.alpha.svc:5432", existingSecret: { secretName: "alpha-pg-nextcloud" } });
    // One Helsinki user for volumes and databases: the k8up one.
    expect(of("alpha", "minio:index/iamUser:IamUser").map((u) => (u.inputs as any).name).sort()).toEqual(["alpha-k8up", "alpha-s3"]);
  });

  it("per-app keeps today's resources and names; migrating adds the lean cluster while the apps stay on the per-app ones", () => {
    expect(of("legacy", "kubernetes:postgresql.cnpg.io/v1:Cluster").map((c) => c.name).sort()).toEqual(["legacy-hedgedoc-pg-cluster", "legacy-nextcloud-pg-cluster", "legacy-synapse-pg-cluster"]);
    expect(of("legacy", "kubernetes:postgresql.cnpg.io/v1:Database")).toEqual([]);
    expect(of("legacy", "minio:index/iamUser:IamUser")).toHaveLength(5);
    expect(of("moving", "kubernetes:postgresql.cnpg.io/v1:Cluster").map((c) => (c.inputs as any).metadata.name).sort()).toEqual(["moving-hedgedoc-pg", "moving-nextcloud-pg", "moving-pg", "moving-synapse-pg"]);
    const nc = of("moving", "kubernetes:helm.sh/v3:Release").find((r) => (r.inputs as any).chart === "nextcloud")!.inputs as any;
    expect(nc.values.externalDatabase).toMatchObject({ host: "moving-nextcloud-pg-rw.moving.svc:5432", existingSecret: { secretName: "moving-nextcloud-pg-app" } });
  });

  it("an organisation's Helsinki user reaches its own database prefix and k8up bucket, never another organisation's (MinIO's IAM, iam-simulate)", async () => {
    const policyOf = (name: string) => JSON.parse((rs().find((r) => r.type === "minio:index/iamPolicy:IamPolicy" && (r.inputs as any).name === name)!.inputs as any).policy);
    const user = (name: string, document = policyOf(name)) => ({ server: "backup" as const, name, urn: name, tenant: null, policies: [{ name, document }] });
    const alpha = user("alpha-k8up");
    expect(await decide(alpha, "PutObject", "liiibre-postgres", "alpha/pg/alpha-pg/wals/1")).toBe("Allowed");
    expect(await decide(alpha, "HeadBucket", "liiibre-postgres")).toBe("Allowed");
    expect(await decide(alpha, "PutObject", "alpha-k8up", "data/00/1")).toBe("Allowed");
    for (const [bucket, key] of [["liiibre-postgres", "bravo/pg/bravo-pg/base/x"], ["liiibre-postgres", "legacy/nextcloud/legacy-nextcloud-pg/x"], ["bravo-k8up", "config"]])
      for (const call of ["GetObject", "PutObject", "DeleteObject"] as const) expect(await decide(alpha, call, bucket, key), `${call} ${bucket}/${key}`).not.toBe("Allowed");
    expect(await decide(alpha, "ListObjectsV2", "liiibre-postgres", "bravo/pg/")).not.toBe("Allowed");
    // The same evaluation allows what a widened policy would grant: the denials above are the policy's doing.
    const wide = JSON.parse(JSON.stringify(alpha.policies[0].document).split("alpha/pg/").join("*"));
    expect(await decide(user("alpha-k8up", wide), "GetObject", "liiibre-postgres", "bravo/pg/bravo-pg/base/x")).toBe("Allowed");
  });

  it("the cost model holds for each layout (never under, within 10 %)", () => {
    const estate = parseEstate({ ...devConfig(), tenants: [org("alpha", { ha: true }), org("bravo"), org("legacy", { dataLayout: "per-app" }), org("moving", { dataLayout: "migrating" }), org("kept", { dataLayout: "lean", boundSecrets: "own" })] });
    const counts = new Map<string, number>();
    // The plan's resources are custom resources; the estimate also counts the components around them.
    for (const r of rs()) if (r.tenant) counts.set(r.tenant, (counts.get(r.tenant) ?? 0) + 1);
    for (const slug of ["alpha", "bravo", "legacy", "moving", "kept"]) {
      const t = estate.tenants.find((x) => x.slug === slug)!;
      expect(tenantCost(t), slug).toBeGreaterThanOrEqual(counts.get(slug)!);
      expect(tenantCost(t), slug).toBeLessThanOrEqual(Math.ceil(counts.get(slug)! * 1.1));
    }
    expect(dataLayoutCost(["nextcloud", "matrix", "hedgedoc"], "lean")).toBe(5 + 3 * 2 - 3 * 10);
    expect(dataLayoutCost(["jitsi-dedicated"], "lean")).toBe(0);
    expect(counts.get("legacy")! - counts.get("bravo")!).toBeGreaterThan(0);
    // The lean secrets (five apps): Secrets and ConfigMaps merged or inlined (−6), and with derived
    // bound secrets 5 passwords/bytes of the apps, 2 S3 keys and the roles key (−8 more).
    expect(leanSecretsCost(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"], "lean", "own")).toBe(-6);
    expect(leanSecretsCost(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"], "lean")).toBe(-14);
    expect(leanSecretsCost(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"], "migrating")).toBe(0);
    // A dedicated Jitsi, derived: its 3 passwords and 2 of its 4 Secrets (the JWT and the adapter's
    // OIDC ones; Jicofo's and the videobridge's are read whole by the chart) go (−5); own: nothing.
    expect(leanSecretsCost(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc", "jitsi-dedicated"], "lean")).toBe(-14 - 5);
    expect(leanSecretsCost(["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc", "jitsi-dedicated"], "lean", "own")).toBe(-6);
    expect(counts.get("kept")! - counts.get("bravo")!).toBe(8);
  });
});

describe("what --diff shows when an organisation's layout is switched", () => {
  const demo = (c: any) => c.tenants.find((t: any) => t.slug === "demo");
  let toMigrating: PlanDiff;
  let toLean: PlanDiff;
  let toLeanBuckets: PlanDiff;
  let base: Plan;
  beforeAll(async () => {
    base = await devPlan((c) => (demo(c).dataLayout = "per-app"));
    const migrating = await devPlan((c) => (demo(c).dataLayout = "migrating"));
    toMigrating = diffPlans(base, migrating);
    // The routine keeps its per-app buckets (docs/storage.md#migrating-to-the-lean-layout): lean's
    // default, the organisation bucket, is a move of its files of its own.
    const lean = await devPlan((c) => Object.assign(demo(c), { dataLayout: "lean", buckets: "per-app" }));
    toLean = diffPlans(migrating, lean);
    toLeanBuckets = diffPlans(lean, await devPlan((c) => Object.assign(demo(c), { dataLayout: "lean", buckets: "organisation" })));
  }, 240_000);

  it("per-app → migrating only creates (the lean cluster beside the per-app ones) and updates the Helsinki user's policy: nothing dangerous", () => {
    expect(toMigrating.changeSummary).toMatchObject({ replace: 0, delete: 0, dangerous: 0 });
    const created = toMigrating.changes.filter((c) => c.action === "create").map((c) => c.type);
    expect(created.filter((t) => t === "kubernetes:postgresql.cnpg.io/v1:Cluster")).toHaveLength(1);
    expect(created.filter((t) => t === "kubernetes:postgresql.cnpg.io/v1:Database")).toHaveLength(3);
    expect(toMigrating.changes.filter((c) => c.action === "update").map((c) => `${c.type} ${c.name}`)).toEqual(
      expect.arrayContaining(["minio:index/iamPolicy:IamPolicy demo-k8up"]),
    );
  });

  it("migrating → lean deletes the per-app clusters: each a danger line (protected, holds data), never silent", () => {
    const gone = toLean.dangerous.filter((d) => /kubernetes:postgresql\.cnpg\.io\/v1:Cluster/.test(d.what));
    expect(gone.map((d) => d.what).sort()).toEqual(["delete kubernetes:postgresql.cnpg.io/v1:Cluster demo-hedgedoc-pg-cluster", "delete kubernetes:postgresql.cnpg.io/v1:Cluster demo-nextcloud-pg-cluster", "delete kubernetes:postgresql.cnpg.io/v1:Cluster demo-synapse-pg-cluster"]);
    for (const d of gone) expect(d.why).toMatch(/protected.*holds data/);
    expect(toLean.changes.filter((c) => c.action === "delete" && c.type === "minio:index/s3Bucket:S3Bucket")).toEqual([]);
  });

  it("then `buckets: organisation` (lean's default) deletes the per-app buckets: each a danger line, never silent", () => {
    const gone = toLeanBuckets.dangerous.filter((d) => /minio:index\/s3Bucket:S3Bucket/.test(d.what)).map((d) => d.what).sort();
    // In Falkenstein and their Helsinki twins; the k8up repository stays.
    expect(gone).toEqual(["demo-hedgedoc", "demo-hedgedoc-offsite", "demo-matrix-media", "demo-matrix-media-offsite", "demo-nextcloud", "demo-nextcloud-offsite"].map((n) => `delete minio:index/s3Bucket:S3Bucket ${n}`));
    const created = toLeanBuckets.changes.filter((c) => c.action === "create" && c.type === "minio:index/s3Bucket:S3Bucket").map((c) => c.name).sort();
    expect(created).toEqual(["demo-apps", "demo-apps-offsite"]);
  });
});
