/**
 * Per-tenant storage (components/storage/tenantStorage.ts, postgres.ts): quotas in the
 * estate's unit, IAM isolation, versioning, off-site twins and replication, k8up schedules,
 * CloudNativePG backups, protection when a tenant leaves the config.
 *
 * The program under test builds each tenant's storage the way the tenant bundle does
 * (components/tenant/bundle.ts): bucket suffixes from the app catalogue, quota = the pool.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { CronJob } from "kubernetes-models/batch/v1";
import { Secret } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { APPS } from "../components/config/apps";
import type { Estate } from "../components/config";
import type { StorageContext } from "../components/storage/contracts";
import { REPLICATE_FLAGS, REPLICATION_SCRIPT } from "../components/storage/offsiteCopy";
import { REPLICATION_SCHEDULE, replicationCronJobName } from "../components/storage/offsiteReplication";
import { MINIO_INTERNAL_URL } from "../components/storage/primaryObjectStore";
import { PostgresCluster } from "../components/storage/postgres";
import { REPLICATION_SECRET, STORAGE_NAMESPACE } from "../components/storage/settings";
import { TenantStorage } from "../components/storage/tenantStorage";
import { K8UP_SECRET_NAME } from "../components/storage/volumeBackup";
import { gbToBytes, storagePoolGB } from "../components/units";
import { IMAGES } from "../components/versions";
import { MOCK_SECRET_MARKER, evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type RecordedResource } from "../scripts/harness";
import { UPSTREAM_FIELDS, ancestors, fieldPaths, ofType, providerOf, testContext } from "./storage-fixtures";
import { ConfigError } from "../components/config";
import { k8upSchedules } from "../components/ops/schedules";

const BUCKET = "minio:index/s3Bucket:S3Bucket";
const VERSIONING = "minio:index/s3BucketVersioning:S3BucketVersioning";
const ILM = "minio:index/ilmPolicy:IlmPolicy";
const POLICY = "minio:index/iamPolicy:IamPolicy";
const IAM_USER = "minio:index/iamUser:IamUser";
const JOB = "kubernetes:batch/v1:Job";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const SECRET = "kubernetes:core/v1:Secret";
const SCHEDULE = "kubernetes:k8up.io/v1:Schedule";
const PG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";
const OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore";
const SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup";

/** 1 GB in the estate's unit, written out (docs/storage.md): 1024³, not 10⁹. */
const ONE_GB = 1_073_741_824;

const devConfig = () => readStackConfig(stackConfigFile("dev"));

/** Every tenant's storage and one database per tenant, as the tenant bundle builds them. */
function storageProgram(estate: Estate) {
  const context = testContext(estate);
  for (const t of estate.tenants) {
    const suffixes = [...new Set(t.apps.flatMap((a) => APPS[a].buckets))];
    new TenantStorage(`${t.slug}-storage`, { slug: t.slug, namespace: t.slug, bucketSuffixes: suffixes, quotaBytes: gbToBytes(storagePoolGB(t)), context });
    if (t.apps.includes("nextcloud")) {
      new PostgresCluster(`${t.slug}-nextcloud-pg`, { namespace: t.slug, database: "nextcloud", owner: "nextcloud", storageGB: 10, backupPath: `${t.slug}/nextcloud`, context });
    }
  }
  // As each program does after its organisations: the stack's one replication CronJob.
  context.replication.register("test", context);
  return {};
}

const isOffsite = (rs: RecordedResource[], r: RecordedResource) => ancestors(rs, r).some((a) => a.type === "liiibre:storage:OffsiteCopy" || a.type === "liiibre:storage:VolumeBackup");
const providerName = (rs: RecordedResource[], r: RecordedResource) => providerOf(rs, r)?.name;
const primaryBuckets = (rs: RecordedResource[]) => ofType(rs, BUCKET).filter((r) => providerName(rs, r) === "test-primary-minio");
const backupBuckets = (rs: RecordedResource[]) => ofType(rs, BUCKET).filter((r) => providerName(rs, r) === "test-backup-minio");
const podOf = (job: RecordedResource) => ((job.inputs as any).spec.jobTemplate ?? { spec: (job.inputs as any).spec }).spec.template.spec;
const envOf = (job: RecordedResource) => {
  const c = podOf(job).containers[0];
  return Object.fromEntries((c.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));
};

// ---------------------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------------------

const slugArb = fc.stringMatching(/^[a-z][a-z0-9]{2,12}$/);
const tenantArb = fc.record({
  users: fc.integer({ min: 1, max: 20_000 }),
  exempt: fc.boolean(),
  extra: fc.integer({ min: 1, max: 90 }),
  apps: fc.constantFrom(["nextcloud"], ["nextcloud", "onlyoffice", "matrix"], ["matrix", "hedgedoc"], ["nextcloud", "collabora", "matrix", "hedgedoc"]),
});

describe("bucket hard quotas", () => {
  it("equal users × per-user quota × 1024³ bytes on every primary bucket, exemptions included (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        // At most 9 organisations: dev is one unsharded stack, and 10 of the heaviest (4 apps, `ha`
        // above 500 accounts: 139 resources each, components/layers/cost.ts) beside the platform's
        // 616 would exceed the 2,000-resource limit, which the config refuses (exit 2).
        fc.uniqueArray(slugArb, { minLength: 1, maxLength: 9 }),
        fc.array(tenantArb, { minLength: 12, maxLength: 12 }),
        async (offerQuota, slugs, specs) => {
          const tenants = slugs.map((slug, i) => {
            const s = specs[i];
            const base = { slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: s.users, apps: s.apps };
            return s.exempt ? { ...base, quotaPerUserGB: offerQuota + s.extra, exemption: { reason: "audiovisual post-production" } } : base;
          });
          const ev = await evaluate({ config: { ...devConfig(), offer: { quotaPerUserGB: offerQuota }, tenants }, stack: "dev", program: storageProgram });
          const buckets = primaryBuckets(ev.resources);
          for (const t of tenants) {
            const perUser = "quotaPerUserGB" in t ? (t.quotaPerUserGB as number) : offerQuota;
            const expected = t.users * perUser * ONE_GB;
            const own = buckets.filter((b) => String(b.inputs.bucket).startsWith(`${t.slug}-`));
            const suffixes = [...new Set(t.apps.flatMap((a) => APPS[a as keyof typeof APPS].buckets))];
            expect(own.map((b) => b.inputs.bucket).sort()).toEqual(suffixes.map((s) => `${t.slug}-${s}`).sort());
            for (const b of own) expect(b.inputs.quota).toBe(expected);
          }
          // Twins and k8up repositories in Helsinki carry no quota (they hold versions beyond the pool).
          for (const b of backupBuckets(ev.resources)) expect(b.inputs.quota).toBeUndefined();
        },
      ),
      { numRuns: 8 },
    );
  });

  it("uses the binary GB: 12 users × 10 GB is 128,849,018,880 bytes, not 120,000,000,000", async () => {
    const ev = await evaluate({ config: devConfig(), stack: "dev", program: storageProgram });
    const demo = primaryBuckets(ev.resources).find((b) => b.inputs.bucket === "demo-nextcloud")!;
    expect(demo.inputs.quota).toBe(128_849_018_880);
  });

  it("rejects a quota that is not a positive whole number of bytes, before registering anything", () => {
    // The check runs before super(): no resource exists yet, so no Pulumi runtime is needed.
    const context = {} as StorageContext;
    for (const quotaBytes of [1.5, 0, -gbToBytes(10), Number.NaN]) {
      expect(() => new TenantStorage("x-storage", { slug: "x", namespace: "x", bucketSuffixes: ["nextcloud"], quotaBytes, context })).toThrow(/quotaBytes must be a positive integer/);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Isolation, credentials, versioning, off-site copies
// ---------------------------------------------------------------------------------------

describe("per-tenant storage (dev stack)", async () => {
  const ev = await evaluate({ config: devConfig(), stack: "dev", program: storageProgram });
  const rs = ev.resources;
  const slugs = ev.estate.tenants.map((t) => t.slug);
  const bucketsOf = (slug: string) => primaryBuckets(rs).filter((b) => String(b.inputs.bucket).startsWith(`${slug}-`)).map((b) => String(b.inputs.bucket));

  it("grants each tenant's user only the ARNs of its own buckets (policy document parsed)", () => {
    for (const slug of slugs) {
      const policy = ofType(rs, POLICY).find((p) => p.inputs.name === `${slug}-s3`)!;
      expect(providerName(rs, policy)).toBe("test-primary-minio");
      const doc = JSON.parse(String(policy.inputs.policy));
      expect(doc.Version).toBe("2012-10-17");
      const own = bucketsOf(slug);
      expect(own.length).toBeGreaterThan(0);
      const allowed = new Set(own.flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`]));
      const granted = new Set<string>();
      for (const st of doc.Statement) {
        expect(st.Effect).toBe("Allow");
        for (const a of st.Action) {
          expect(a).toMatch(/^s3:[A-Za-z]+$/); // no "s3:*", no admin actions
          expect(a).not.toBe("s3:ListAllMyBuckets");
        }
        for (const arn of st.Resource) {
          expect(allowed.has(arn), `${slug} granted ${arn}`).toBe(true);
          granted.add(arn);
        }
      }
      // …and all of them: every own bucket and its objects.
      expect([...granted].sort()).toEqual([...allowed].sort());
      // No other tenant's bucket name appears anywhere in the document.
      for (const other of slugs.filter((s) => s !== slug)) for (const b of bucketsOf(other)) expect(String(policy.inputs.policy)).not.toContain(b);
    }
  });

  it("puts the credentials in the tenant namespace as a Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and as a shared credentials file), secret values", () => {
    for (const slug of slugs) {
      const secret = ofType(rs, SECRET).find((s) => (s.inputs as any).metadata.name === "s3-credentials" && (s.inputs as any).metadata.namespace === slug)!;
      expect(secret).toBeDefined();
      expect(JSON.stringify(secret.inputs)).not.toContain(MOCK_SECRET_MARKER);
      const raw = secretAwareInputs(secret).stringData;
      expect(isSecretMarker(raw)).toBe(true);
      const values = (raw as { value: Record<string, unknown> }).value;
      expect(Object.keys(values).sort()).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "credentials"]);
      expect(values.AWS_ACCESS_KEY_ID).toBe(`${slug}-s3`);
      expect(String(values.AWS_SECRET_ACCESS_KEY)).toContain(MOCK_SECRET_MARKER); // from random.RandomPassword
      // The same pair as an AWS shared credentials file (read by boto3 through AWS_SHARED_CREDENTIALS_FILE).
      expect(values.credentials).toBe(`[default]\naws_access_key_id = ${slug}-s3\naws_secret_access_key = ${values.AWS_SECRET_ACCESS_KEY}\n`);
      expect(() => new Secret({ metadata: (secret.inputs as any).metadata, type: "Opaque", stringData: values as Record<string, string> }).validate()).not.toThrow();
      // The MinIO user's secret key is the same random password, marked secret.
      const user = ofType(rs, IAM_USER).find((u) => u.inputs.name === `${slug}-s3`)!;
      expect(user.inputs.secret).toBe("[secret]");
    }
  });

  it("keeps every primary bucket private, versioned, with a lifecycle on noncurrent versions", () => {
    for (const b of primaryBuckets(rs)) {
      const name = b.inputs.bucket;
      expect(b.inputs.acl).toBe("private");
      const v = ofType(rs, VERSIONING).find((x) => x.inputs.bucket === name && providerName(rs, x) === "test-primary-minio");
      expect((v?.inputs as any)?.versioningConfiguration?.status).toBe("Enabled");
      const ilm = ofType(rs, ILM).find((x) => x.inputs.bucket === name && providerName(rs, x) === "test-primary-minio");
      expect((ilm?.inputs as any)?.rules?.[0]?.noncurrentVersionExpirationDays).toBe(ev.estate.storage.noncurrentVersionDays);
    }
  });

  it("gives exactly the HedgeDoc buckets a bucket policy (anonymous GetObject on uploads/*), on the primary only", () => {
    const policies = ofType(rs, "minio:index/s3BucketPolicy:S3BucketPolicy");
    const hedgedoc = primaryBuckets(rs).map((b) => String(b.inputs.bucket)).filter((n) => n.endsWith("-hedgedoc"));
    expect(hedgedoc.length).toBeGreaterThan(0);
    expect(policies.map((p) => String(p.inputs.bucket)).sort()).toEqual(hedgedoc.sort());
    for (const p of policies) {
      expect(providerName(rs, p)).toBe("test-primary-minio");
      // Read back as MinIO would: one Allow for the anonymous principal, one action, one prefix of its own bucket.
      expect(JSON.parse(String(p.inputs.policy)).Statement).toEqual([
        { Sid: "AnonymousReadOfPadImages", Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${p.inputs.bucket}/uploads/*`] },
      ]);
    }
  });

  it("gives every primary bucket a versioned twin in Helsinki keeping noncurrent versions >= 30 days", () => {
    const primaries = primaryBuckets(rs);
    expect(primaries.length).toBe(slugs.length * 3); // nextcloud, matrix-media, hedgedoc each
    for (const b of primaries) {
      const name = b.inputs.bucket;
      const twin = backupBuckets(rs).find((x) => x.inputs.bucket === name)!;
      expect(twin, `twin of ${name}`).toBeDefined();
      expect(isOffsite(rs, twin)).toBe(true);
      expect(isOffsite(rs, b)).toBe(false);
      expect(twin.inputs.acl).toBe("private");
      const v = ofType(rs, VERSIONING).find((x) => x.inputs.bucket === name && providerName(rs, x) === "test-backup-minio");
      expect((v?.inputs as any)?.versioningConfiguration?.status).toBe("Enabled");
      const ilm = ofType(rs, ILM).find((x) => x.inputs.bucket === name && providerName(rs, x) === "test-backup-minio")!;
      const rule = (ilm.inputs as any).rules[0];
      expect(rule.status).toBe("Enabled");
      expect(rule.noncurrentVersionExpirationDays).toBeGreaterThanOrEqual(30);
      expect(rule.noncurrentVersionExpirationDays).toBe(ev.estate.backup.noncurrentVersionDays);
      expect(rule.expiration).toBeUndefined(); // current versions are never expired in Helsinki
    }
  });

  it("replicates every primary bucket to Helsinki with the stack's one pinned, valid CronJob", () => {
    // One per stack, whatever the number of organisations: the buckets of all of them, sorted.
    const jobs = ofType(rs, CRONJOB);
    expect(jobs.map((j) => (j.inputs as any).metadata.name)).toEqual([replicationCronJobName("test")]);
    expect(ofType(rs, JOB)).toEqual([]);
    const [job] = jobs;
    expect((job.inputs as any).metadata.namespace).toBe(STORAGE_NAMESPACE);
    expect(() => new CronJob(job.inputs as any).validate()).not.toThrow();
    const spec = (job.inputs as any).spec;
    expect(spec.schedule).toBe(REPLICATION_SCHEDULE);
    expect(spec.concurrencyPolicy).toBe("Forbid");
    const env = envOf(job);
    const all = slugs.flatMap(bucketsOf);
    expect(String(env.BUCKETS).split(" ")).toEqual([...all].sort());
    expect(env.TARGET_HOST).toBe(ev.estate.backup.s3Domain);
    // In-cluster: the public host serves the admin API to the admin CIDRs only.
    expect(`${env.PRIMARY_SCHEME}://${env.PRIMARY_HOST}`).toBe(MINIO_INTERNAL_URL);
    expect(env.REPLICATE).toBe(REPLICATE_FLAGS);
    expect(env.REPLICATE).not.toMatch(/(^|,)delete(,|$)/); // versioned deletes stay in Falkenstein
    for (const k of ["PRIMARY_ACCESS_KEY", "PRIMARY_SECRET_KEY", "TARGET_ACCESS_KEY", "TARGET_SECRET_KEY"]) {
      expect(env[k]).toEqual({ secretKeyRef: { name: REPLICATION_SECRET, key: k } });
    }
    const c = podOf(job).containers[0];
    expect(c.image).toBe(`${IMAGES.mc.repository}:${IMAGES.mc.tag}`);
    expect(IMAGES.mc.tag).toMatch(/^RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    // It waits for every bucket and twin (and their versioning and lifecycle) it configures.
    const deps = job.dependsOn.map((u) => rs.find((r) => r.urn === u)!);
    for (const b of all) {
      expect(deps.some((d) => d.type === BUCKET && d.inputs.bucket === b && providerName(rs, d) === "test-primary-minio"), b).toBe(true);
      expect(deps.filter((d) => d.type === VERSIONING && d.inputs.bucket === b).length, b).toBe(2);
      expect(deps.some((d) => d.type === ILM && d.inputs.bucket === b && providerName(rs, d) === "test-backup-minio"), b).toBe(true);
    }
  });

  it("the CronJob's spec depends on which buckets the stack holds, not on the order of its organisations", async () => {
    const reversed = await evaluate({ config: { ...devConfig(), tenants: [...(devConfig().tenants as unknown[])].reverse() }, stack: "dev", program: storageProgram });
    const spec = (r: RecordedResource[]) => ofType(r, CRONJOB)[0].inputs;
    expect(spec(reversed.resources)).toEqual(spec(rs));
  });

  it("gives every tenant namespace a k8up Schedule backing up to Helsinki with the offer's retention", () => {
    const k = ev.estate.backup.k8up;
    for (const slug of slugs) {
      const s = ofType(rs, SCHEDULE).find((x) => (x.inputs as any).metadata.namespace === slug)!;
      expect(s, `schedule of ${slug}`).toBeDefined();
      const spec = (s.inputs as any).spec;
      expect(spec.backend.s3.endpoint).toBe(`https://${ev.estate.backup.s3Domain}`);
      expect(spec.backend.s3.bucket).toBe(`${slug}-k8up`);
      // No fixed cron in the dev config: each namespace's times are derived from its slug
      // inside the backup windows (components/ops/schedules.ts, tested in test/ops.test.ts).
      expect(k.backup).toBeUndefined();
      expect(spec.backup.schedule).toBe(k8upSchedules(slug, ev.estate.backup.windows).backup);
      expect(spec.check.schedule).toBe(k8upSchedules(slug, ev.estate.backup.windows).check);
      expect(spec.prune.schedule).toBe(k8upSchedules(slug, ev.estate.backup.windows).prune);
      expect(spec.prune.retention).toEqual({ keepDaily: 7, keepWeekly: 4, keepMonthly: 6 });
      // Every secret reference points at the Secret created beside it, holding that key.
      const secret = ofType(rs, SECRET).find((x) => (x.inputs as any).metadata.namespace === slug && (x.inputs as any).metadata.name === K8UP_SECRET_NAME)!;
      const keys = Object.keys((secretAwareInputs(secret).stringData as { value: object }).value);
      for (const ref of [spec.backend.repoPasswordSecretRef, spec.backend.s3.accessKeyIDSecretRef, spec.backend.s3.secretAccessKeySecretRef]) {
        expect(ref.name).toBe(K8UP_SECRET_NAME);
        expect(keys).toContain(ref.key);
      }
      // The restic user may only use that bucket, in Helsinki.
      const policy = ofType(rs, POLICY).find((p) => p.inputs.name === `${slug}-k8up`)!;
      expect(providerName(rs, policy)).toBe("test-backup-minio");
      const arns = JSON.parse(String(policy.inputs.policy)).Statement.flatMap((st: { Resource: string[] }) => st.Resource);
      expect(new Set(arns)).toEqual(new Set([`arn:aws:s3:::${slug}-k8up`, `arn:aws:s3:::${slug}-k8up/*`]));
    }
  });

  it("backs every CloudNativePG cluster up to Helsinki through the Barman Cloud plugin", () => {
    const clusters = ofType(rs, PG_CLUSTER);
    expect(clusters.length).toBe(ev.estate.tenants.filter((t) => t.apps.includes("nextcloud")).length);
    for (const c of clusters) {
      const meta = (c.inputs as any).metadata;
      const spec = (c.inputs as any).spec;
      const plugin = spec.plugins.find((p: { name: string }) => p.name === "barman-cloud.cloudnative-pg.io");
      expect(plugin.isWALArchiver).toBe(true);
      const store = ofType(rs, OBJECT_STORE).find((s) => (s.inputs as any).metadata.namespace === meta.namespace && (s.inputs as any).metadata.name === plugin.parameters.barmanObjectName)!;
      expect(store, `ObjectStore of ${meta.name}`).toBeDefined();
      const cfg = (store.inputs as any).spec.configuration;
      expect(cfg.endpointURL).toBe(`https://${ev.estate.backup.s3Domain}`);
      expect(cfg.destinationPath).toBe(`s3://liiibre-postgres/${meta.namespace}/nextcloud`);
      expect((store.inputs as any).spec.retentionPolicy).toBe(`${ev.estate.backup.databaseRetentionDays}d`);
      expect(spec.inheritedMetadata.annotations["k8up.io/backup"]).toBe("false");
      expect(spec.storage.size).toBe("10Gi");
      const sb = ofType(rs, SCHEDULED_BACKUP).find((s) => (s.inputs as any).spec.cluster.name === meta.name)!;
      expect((sb.inputs as any).spec.method).toBe("plugin");
      expect((sb.inputs as any).spec.pluginConfiguration.name).toBe("barman-cloud.cloudnative-pg.io");
      expect((sb.inputs as any).spec.schedule.split(" ")).toHaveLength(6); // CloudNativePG cron has seconds
      expect(c.protect && c.retainOnDelete).toBe(true);
      // Its Helsinki user is limited to its own prefix.
      const policy = ofType(rs, POLICY).find((p) => providerName(rs, p) === "test-backup-minio" && String(p.inputs.policy).includes(`${meta.namespace}/nextcloud`))!;
      const doc = JSON.parse(String(policy.inputs.policy));
      const objects = doc.Statement.filter((s: { Action: string[] }) => s.Action.includes("s3:PutObject")).flatMap((s: { Resource: string[] }) => s.Resource);
      expect(objects).toEqual([`arn:aws:s3:::liiibre-postgres/${meta.namespace}/nextcloud/*`]);
      const list = doc.Statement.find((s: { Action: string[] }) => s.Action.includes("s3:ListBucket"));
      expect(list.Condition.StringLike["s3:prefix"].every((p: string) => p.startsWith(`${meta.namespace}/nextcloud`))).toBe(true);
    }
  });

  it("sets only fields of the upstream CRDs (k8up Schedule, CloudNativePG Cluster/ScheduledBackup, Barman ObjectStore)", () => {
    const kinds: Array<[string, string]> = [[SCHEDULE, "Schedule"], [PG_CLUSTER, "Cluster"], [SCHEDULED_BACKUP, "ScheduledBackup"], [OBJECT_STORE, "ObjectStore"]];
    for (const [type, kind] of kinds) {
      const found = ofType(rs, type);
      expect(found.length, kind).toBeGreaterThan(0);
      for (const r of found) expect(fieldPaths((r.inputs as any).spec).filter((p) => !UPSTREAM_FIELDS[kind].includes(p)), kind).toEqual([]);
    }
  });

  it("validates PostgresCluster names and backup paths before registering anything", () => {
    const context = {} as StorageContext;
    const make = (name: string, backupPath: string) => () => new PostgresCluster(name, { namespace: "x", database: "d", owner: "o", storageGB: 1, backupPath, context });
    expect(make("Bad_Name", "x/d")).toThrow(/the name must match/);
    expect(make("a".repeat(51), "x/d")).toThrow(/the name must match/);
    expect(make("ok", "../escape")).toThrow(/backupPath/);
    expect(make("ok", "acme/")).toThrow(/backupPath/);
  });
});

describe("a tenant whose apps store no files", () => {
  it("gets no bucket, no S3 user, nothing to replicate, but still its k8up Schedule", async () => {
    const ev = await evaluate({
      config: devConfig(),
      stack: "dev",
      program: (estate) => {
        const context = testContext(estate);
        const ts = new TenantStorage("video-storage", { slug: "video", namespace: "video", bucketSuffixes: [], quotaBytes: gbToBytes(100), context });
        // A stack with no bucket to replicate has no CronJob.
        context.replication.register("test", context);
        return { secretName: ts.credentialsSecretName };
      },
    });
    expect(ev.outputs.secretName).toBe("");
    const rs = ev.resources;
    expect(primaryBuckets(rs)).toEqual([]);
    expect(ofType(rs, JOB)).toEqual([]);
    expect(ofType(rs, CRONJOB)).toEqual([]);
    expect(ofType(rs, IAM_USER).map((u) => u.inputs.name)).toEqual(["video-k8up"]);
    expect(ofType(rs, SCHEDULE).map((x) => (x.inputs as any).metadata.namespace)).toEqual(["video"]);
  });
});

// ---------------------------------------------------------------------------------------
// Disaster recovery of the databases (liiibre:backup.databaseRecovery)
// ---------------------------------------------------------------------------------------

describe("database recovery generations", () => {
  const withRecovery = (databaseRecovery: object) => {
    const cfg = devConfig();
    return { ...cfg, backup: { ...(cfg.backup as object), databaseRecovery } };
  };
  const clusterOf = async (databaseRecovery: object) => {
    const ev = await evaluate({ config: withRecovery(databaseRecovery), stack: "dev", program: storageProgram });
    return ofType(ev.resources, PG_CLUSTER).find((c) => (c.inputs as any).metadata.name === "demo-nextcloud-pg")!;
  };

  it("archives under the cluster name by default and bootstraps an empty database", async () => {
    const spec = ((await clusterOf({})).inputs as any).spec;
    expect(spec.bootstrap).toEqual({ initdb: { database: "nextcloud", owner: "nextcloud" } });
    expect(spec.plugins[0].parameters.serverName).toBe("demo-nextcloud-pg");
    expect(spec.externalClusters).toBeUndefined();
  });

  it("while restoring generation 1, recovers from generation 0's archive and writes a new one", async () => {
    const c = await clusterOf({ generation: 1, restoring: true, targetTime: "2026-11-24T21:00:00Z" });
    const spec = (c.inputs as any).spec;
    expect(spec.bootstrap).toEqual({ recovery: { source: "helsinki", database: "nextcloud", owner: "nextcloud", recoveryTarget: { targetTime: "2026-11-24T21:00:00Z" } } });
    const source = spec.externalClusters.find((x: { name: string }) => x.name === spec.bootstrap.recovery.source);
    expect(source.plugin).toEqual({ name: "barman-cloud.cloudnative-pg.io", parameters: { barmanObjectName: "demo-nextcloud-pg-helsinki", serverName: "demo-nextcloud-pg" } });
    // Never into the archive it reads from.
    expect(spec.plugins[0].parameters.serverName).toBe("demo-nextcloud-pg-g1");
    expect(fieldPaths(spec).filter((p) => !UPSTREAM_FIELDS.Cluster.includes(p))).toEqual([]);
  });

  it("after the recovery (restoring off), keeps the new archive and bootstraps new databases empty", async () => {
    const spec = ((await clusterOf({ generation: 2 })).inputs as any).spec;
    expect(spec.bootstrap.initdb).toBeDefined();
    expect(spec.plugins[0].parameters.serverName).toBe("demo-nextcloud-pg-g2");
  });

  it("refuses to restore into generation 0", async () => {
    const err = await evaluate({ config: withRecovery({ restoring: true }), stack: "dev", program: () => ({}) }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err.message)).toContain("liiibre:backup.databaseRecovery.generation: expected a generation >= 1 while restoring");
  });
});

// ---------------------------------------------------------------------------------------
// Data safety
// ---------------------------------------------------------------------------------------

describe("removing a tenant from the config", () => {
  it("leaves its data behind: every data holder it would drop is protected and retained", async () => {
    const before = await evaluate({ config: devConfig(), stack: "dev", program: storageProgram });
    const cfg = devConfig();
    const after = await evaluate({ config: { ...cfg, tenants: (cfg.tenants as Array<{ slug: string }>).filter((t) => t.slug !== "demo") }, stack: "dev", program: storageProgram });
    const kept = new Set(after.resources.map((r) => r.urn));
    const dropped = before.resources.filter((r) => !kept.has(r.urn));
    // The plan would remove demo's resources, and only demo's (URNs derive from slugs, not order).
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((r) => r.urn.includes("::demo-"))).toBe(true);
    const dataHolders = dropped.filter((r) => r.type === BUCKET || r.type === PG_CLUSTER);
    // Primary buckets, twins, the k8up repository, the database.
    expect(dataHolders.map((r) => r.name).sort()).toEqual(
      ["demo-hedgedoc", "demo-hedgedoc-offsite", "demo-k8up", "demo-matrix-media", "demo-matrix-media-offsite", "demo-nextcloud", "demo-nextcloud-offsite", "demo-nextcloud-pg-cluster"].sort(),
    );
    for (const r of dataHolders) {
      expect(r.protect, `${r.name} protect`).toBe(true); // `pulumi up` stops instead of deleting
      expect(r.retainOnDelete, `${r.name} retainOnDelete`).toBe(true); // even once unprotected, never deleted in MinIO/Kubernetes
      if (r.type === BUCKET) expect(r.inputs.forceDestroy).toBe(false);
    }
    // Versioning and lifecycle settings go with the bucket: retained too, so a removal changes nothing in MinIO.
    for (const r of dropped.filter((x) => x.type === VERSIONING || x.type === ILM)) expect(r.retainOnDelete).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// The replication Job's script, run for real against a fake `mc`
// ---------------------------------------------------------------------------------------

describe("the replication script", () => {
  const GREP = execFileSync("/bin/sh", ["-c", "command -v grep"], { encoding: "utf8" }).trim();
  const run = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mc-"));
    const state = path.join(dir, "replicated");
    const log = path.join(dir, "calls");
    fs.writeFileSync(state, "existing\n");
    // A fake mc: `replicate export` prints the bucket's rules (MinIO's JSON shape: the
    // destination ARN ends with the remote bucket), `replicate add` records the call.
    fs.writeFileSync(
      path.join(dir, "mc"),
      `#!/bin/sh
echo "$*" >> ${log}
echo "env $MC_HOST_primary $MC_HOST_helsinki" >> ${log}
case "$1 $2" in
  "replicate export") b=\${3#primary/}; if ${GREP} -qx "$b" ${state}; then echo '{"Rules":[{"ID":"x","Status":"Enabled","Destination":{"Bucket":"arn:minio:replication::1f2e:'"$b"'"}}]}'; else echo "mc: <ERROR> replication configuration not set" >&2; exit 1; fi ;;
  "replicate add") b=\${3#primary/}; echo "$b" >> ${state} ;;
esac
`,
      { mode: 0o755 },
    );
    const env = {
      // Only mc on PATH: the mc image has a shell but hardly any other tool.
      PATH: dir,
      PRIMARY_SCHEME: "https",
      PRIMARY_HOST: "minio.minio.svc.cluster.local",
      PRIMARY_ACCESS_KEY: "root",
      PRIMARY_SECRET_KEY: "rootpw",
      TARGET_SCHEME: "https",
      TARGET_HOST: "s3.hel.example",
      TARGET_ACCESS_KEY: "replication",
      TARGET_SECRET_KEY: "targetpw",
      BUCKETS: "acme-nextcloud existing acme-matrix-media",
      REPLICATE: REPLICATE_FLAGS,
    };
    const out = () => execFileSync("/bin/sh", ["-c", REPLICATION_SCRIPT], { env, encoding: "utf8" });
    return { out, calls: () => fs.readFileSync(log, "utf8").trim().split("\n") };
  };

  it("adds a rule for each bucket without one, skips the others, and is idempotent", () => {
    const r = run();
    const first = r.out();
    expect(first).toContain("existing: already replicated");
    const adds = r.calls().filter((c) => c.startsWith("replicate add"));
    expect(adds).toEqual([
      "replicate add primary/acme-nextcloud --remote-bucket helsinki/acme-nextcloud --replicate delete-marker,existing-objects --priority 1",
      "replicate add primary/acme-matrix-media --remote-bucket helsinki/acme-matrix-media --replicate delete-marker,existing-objects --priority 1",
    ]);
    // No credential in any mc command line; mc gets both aliases from its environment.
    const argv = r.calls().filter((c) => !c.startsWith("env "));
    for (const secret of ["rootpw", "targetpw"]) expect(argv.join("\n")).not.toContain(secret);
    expect(r.calls().find((c) => c.startsWith("env "))).toBe("env https://root:rootpw@minio.minio.svc.cluster.local https://replication:targetpw@s3.hel.example");
    // A second run (the Job recreated) adds nothing.
    r.out();
    expect(r.calls().filter((c) => c.startsWith("replicate add"))).toHaveLength(2);
  });

  it("a bucket mc fails on does not stop the others; the run fails naming it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mc-"));
    const log = path.join(dir, "calls");
    // `replicate add` fails for b1 only (e.g. its twin is missing); no bucket has a rule yet.
    fs.writeFileSync(path.join(dir, "mc"), `#!/bin/sh\ncase "$1 $2" in "replicate add") echo "$3" >> ${log}; [ "$3" != primary/b1 ];; "replicate export") exit 1;; esac\n`, { mode: 0o755 });
    const env = { PATH: `${dir}:/usr/bin:/bin`, PRIMARY_SCHEME: "https", PRIMARY_HOST: "u", PRIMARY_ACCESS_KEY: "a", PRIMARY_SECRET_KEY: "b", TARGET_SCHEME: "https", TARGET_HOST: "h", TARGET_ACCESS_KEY: "c", TARGET_SECRET_KEY: "d", BUCKETS: "b1 b2", REPLICATE: REPLICATE_FLAGS };
    const r = spawnSync("/bin/sh", ["-c", REPLICATION_SCRIPT], { env, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual(["primary/b1", "primary/b2"]);
    expect(r.stderr).toMatch(/not replicated: b1$/m);
    expect(r.stdout).toMatch(/^b2: replication to h added$/m);
  });
});



