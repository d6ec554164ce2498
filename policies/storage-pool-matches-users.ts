/**
 * `storage-pool-matches-users` (mandatory): an organisation's storage is one pool of
 * users × per-user quota (namespace annotations `liiibre.org/users` and
 * `liiibre.org/quota-per-user-gb`, 1 GB = 1024³ bytes). Every primary bucket of the tenant
 * carries exactly that hard quota (MinIO `S3Bucket.quota`, bytes) and every Nextcloud group quota
 * set for it (`occ groupquota:set`) equals it. Off-site copies carry no quota and are skipped.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { TYPES, WORKLOAD_TYPES, config, eachResource, formatGB, parseSize, strings } from "./lib";
import { SITE_DEFAULTS, SITE_SCHEMA, bucketLocation, tenantNamespaces, tenantOfBucket, tenantOfObject, type SiteConfig } from "./tenants";

export interface StoragePoolConfig extends SiteConfig {
  /** Bytes in one GB of the estate's unit. Default 1073741824 (1024³, as Nextcloud counts). */
  bytesPerGB: number;
}
export const STORAGE_POOL_DEFAULTS: StoragePoolConfig = { ...SITE_DEFAULTS, bytesPerGB: 1024 ** 3 };

const GROUP_QUOTA = /groupquota:set\s+\S+\s+['"]?(\d+(?:\.\d+)?\s*(?:[KMGTP]i?B|[KMGTP]|B)?)\b/gi;

export function groupQuotas(value: unknown): Array<{ text: string; bytes: number }> {
  const out: Array<{ text: string; bytes: number }> = [];
  for (const s of strings(value)) {
    for (const m of s.matchAll(GROUP_QUOTA)) {
      const bytes = parseSize(m[1]);
      if (bytes !== undefined) out.push({ text: m[1], bytes });
    }
  }
  return out;
}

const CARRIERS: string[] = [TYPES.helmRelease, TYPES.configMap, ...WORKLOAD_TYPES, "command:local:Command", "command:remote:Command"];

export const storagePoolMatchesUsers: StackValidationPolicy = {
  name: "storage-pool-matches-users",
  description: "Each organisation's bucket hard quota and Nextcloud group quota equal users × per-user quota.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...SITE_SCHEMA, bytesPerGB: { type: "integer", minimum: 1, default: STORAGE_POOL_DEFAULTS.bytesPerGB } } },
  validateStack: (args, report) => {
    const c = config(args, STORAGE_POOL_DEFAULTS);
    const namespaces = tenantNamespaces(args.resources, report);
    const expected = (ns: { users?: number; quotaPerUserGB?: number }) =>
      ns.users !== undefined && ns.quotaPerUserGB !== undefined ? ns.users * ns.quotaPerUserGB * c.bytesPerGB : undefined;
    const describe = (ns: { tenant: string; users?: number; quotaPerUserGB?: number }, bytes: number) =>
      `${ns.users} users × ${ns.quotaPerUserGB} GB = ${formatGB(bytes)} (${bytes} bytes)`;

    eachResource(report, args.resources.filter((r) => r.type === TYPES.bucket), (r) => {
      const name = r.props.bucket;
      if (typeof name !== "string") return;
      const ns = tenantOfBucket(name, namespaces);
      if (!ns || bucketLocation(r, c).offsite) return;
      const want = expected(ns);
      if (want === undefined) {
        report(`bucket ${name}: the namespace of ${ns.tenant} does not declare liiibre.org/users and liiibre.org/quota-per-user-gb, so its pool cannot be checked`, r.urn);
        return;
      }
      const quota = r.props.quota;
      if (quota === undefined || quota === null) report(`bucket ${name} of ${ns.tenant} has no hard quota; expected ${describe(ns, want)}`, r.urn);
      else if (Number(quota) !== want) report(`bucket ${name} of ${ns.tenant} has a hard quota of ${formatGB(Number(quota))} (${quota} bytes); expected ${describe(ns, want)}`, r.urn);
    });

    eachResource(report, args.resources.filter((r) => CARRIERS.includes(r.type)), (r) => {
      const ns = tenantOfObject(r, namespaces);
      if (!ns) return;
      const want = expected(ns);
      for (const g of groupQuotas(r.props)) {
        if (want !== undefined && g.bytes !== want) report(`${ns.tenant}: Nextcloud group quota "${g.text}" (${formatGB(g.bytes)}) differs from the pool, expected ${describe(ns, want)}`, r.urn);
      }
    });
  },
};
