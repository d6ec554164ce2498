/**
 * Config rules of the storage platform (components/storage): MinIO servers against the storage
 * nodes, database recovery generations (`storageRules`), and bucket names (`bucketRules`).
 * Assembled by components/estate.ts.
 */
import { APPS, type AppName } from "../config/apps";
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import type { Rule } from "../config/rules";
import { DEFAULT_DATA_LAYOUT, defaultBucketLayout, type BucketLayout } from "../config/schema";
import { LABELS } from "../conventions";
import { liveSlots } from "../hetzner/nodes";
import { K0S_BACKUP_BUCKET, POSTGRES_BACKUP_BUCKET, bucketPlacement, k8upBucketName } from "./settings";

/**
 * Storage: the primary MinIO puts one server per storage node (required anti-affinity), so
 * `storage.minio.servers` cannot exceed the nodes labelled `liiibre.org/storage: "true"`: a
 * pool's live slots (its retired slots have no server) and its dedicated servers.
 */
export const storageRules: Rule = (e) => {
  const storagePools = e.nodePools.filter((p) => p.labels[LABELS.nodeStorage] === "true");
  const names = storagePools.map((p) => p.name);
  const nodes = storagePools.reduce((n, p) => n + (p.cloud ? liveSlots(p.cloud).length : 0), 0) + e.dedicatedServers.filter((d) => names.includes(d.pool)).length;
  const servers = e.storage.minio.servers;
  const out: ConfigProblem[] = [];
  const recovery = e.backup.databaseRecovery;
  if (recovery.restoring && recovery.generation < 1) {
    out.push({
      path: keyPath(["backup", "databaseRecovery", "generation"]),
      message: "expected a generation >= 1 while restoring (the restored clusters archive under a new name, never into the backups they read), got 0",
    });
  }
  if (e.storage.minio.spreadAcrossNodes && servers > nodes) {
    out.push({
      path: keyPath(["storage", "minio", "servers"]),
      message: `expected at most the number of storage nodes (${nodes}: nodes of pools labelled ${LABELS.nodeStorage}: "true"${names.length ? `, ${names.join(", ")}` : ""}) while storage.minio.spreadAcrossNodes is true, got ${servers}`,
    });
  }
  // The layout of a bundle's data: a shared organisation has none of its own (docs/storage.md#data-layouts).
  e.tenants.forEach((t, i) => {
    if (t.plan === "shared" && t.dataLayout !== undefined) {
      out.push({ path: keyPath(["tenants", i, "dataLayout"]), message: `expected no dataLayout for plan "shared" (its data lives in the shared instance's databases and buckets), got ${describe(t.dataLayout)}` });
    }
    // Bound secrets derived from the bundle's key only where nothing holds the generated ones yet (docs/security.md).
    if (t.plan === "shared" && t.boundSecrets !== undefined) {
      out.push({ path: keyPath(["tenants", i, "boundSecrets"]), message: `expected no boundSecrets for plan "shared" (its apps' secrets are the shared instance's), got ${describe(t.boundSecrets)}` });
    } else if (t.boundSecrets === "derived" && (t.dataLayout ?? DEFAULT_DATA_LAYOUT) !== "lean") {
      out.push({
        path: keyPath(["tenants", i, "boundSecrets"]),
        message: `expected own (or no boundSecrets) with dataLayout ${describe(t.dataLayout)}: its bound secrets hold existing data and sessions; derived needs dataLayout lean, got "derived"`,
      });
    }
    // The objects release is a dedicated bundle's (docs/scaling.md#bundled-kubernetes-objects).
    if (t.plan === "shared" && t.kubernetesObjects !== undefined) {
      out.push({ path: keyPath(["tenants", i, "kubernetesObjects"]), message: `expected no kubernetesObjects for plan "shared" (its objects are the shared instance's), got ${describe(t.kubernetesObjects)}` });
    }
    if (t.plan === "shared" && t.buckets !== undefined) {
      out.push({ path: keyPath(["tenants", i, "buckets"]), message: `expected no buckets for plan "shared" (its files are in the shared instance's buckets), got ${describe(t.buckets)}` });
    }
  });
  return out;
};

/** Bucket names: each tenant's (`<slug>-<suffix>`, `<slug>-k8up`) and the platform's, all distinct. */
export const bucketRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const owner = new Map<string, string>([
    [POSTGRES_BACKUP_BUCKET, "the platform"],
    [K0S_BACKUP_BUCKET, "the platform"],
    [k8upBucketName("keycloak"), "the platform"],
  ]);
  const claim = (names: string[], who: string, path: PropertyKey[]) => {
    for (const n of names) {
      const prev = owner.get(n);
      if (prev && prev !== who) out.push({ path: keyPath(path), message: `expected a slug whose buckets are its own, got bucket ${describe(n)} already used by ${prev}` });
      else owner.set(n, who);
    }
  };
  const bucketsOf = (slug: string, apps: AppName[], layout: BucketLayout) =>
    [...new Set(bucketPlacement(slug, apps.flatMap((a) => APPS[a].buckets), layout).map((p) => p.bucket))].concat(k8upBucketName(slug));
  const si = e.sharedServices.sharedInstance;
  claim(bucketsOf(si.slug, si.apps, "per-app"), `the shared instance (${si.slug})`, ["sharedServices", "sharedInstance", "slug"]);
  e.tenants.forEach((t, i) => {
    if (t.plan === "dedicated") claim(bucketsOf(t.slug, t.apps, t.buckets ?? defaultBucketLayout(t.dataLayout ?? DEFAULT_DATA_LAYOUT)), `tenant ${t.slug}`, ["tenants", i, "slug"]);
  });
  return out;
};
