/**
 * `storage-pool-matches-users` (mandatory): an organisation's storage is one pool of
 * users × per-user quota (namespace annotations `liiibre.org/users` and
 * `liiibre.org/quota-per-user-gb`, 1 GB = 1024³ bytes). Every primary bucket of the tenant
 * carries exactly that hard quota (MinIO `S3Bucket.quota`, bytes) and every Nextcloud group quota
 * set for it (`occ groupquota:set`) equals it. Off-site copies carry no quota and are skipped.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ANNOTATIONS } from "../components/conventions";
import { TYPES, WORKLOAD_TYPES, config, eachResource, formatGB, parseSize, strings, type TenantNamespace } from "./lib";
import { SITE_DEFAULTS, SITE_SCHEMA, bucketLocation, tenantNamespaces, tenantOfBucket, tenantOfObject, type SiteConfig } from "./tenants";

export interface StoragePoolConfig extends SiteConfig {
  /** Bytes in one GB of the estate's unit. Default 1073741824 (1024³, as Nextcloud counts). */
  bytesPerGB: number;
}
export const STORAGE_POOL_DEFAULTS: StoragePoolConfig = { ...SITE_DEFAULTS, bytesPerGB: 1024 ** 3 };

const GROUP_QUOTA = /groupquota:set\s+['"]?([^\s'"]+)['"]?\s+['"]?(\d+(?:\.\d+)?\s*(?:[KMGTP]i?B|[KMGTP]|B)?)\b/gi;

/** `occ groupquota:set <group> <size>` settings in a value. */
export function groupQuotas(value: unknown): Array<{ group: string; text: string; bytes: number }> {
  const out: Array<{ group: string; text: string; bytes: number }> = [];
  for (const s of strings(value)) {
    for (const m of s.matchAll(GROUP_QUOTA)) {
      const bytes = parseSize(m[2]);
      if (bytes !== undefined) out.push({ group: m[1], text: m[2], bytes });
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
      const ns = tenantOfBucket(r, namespaces);
      if (!ns || bucketLocation(r, c).offsite) return;
      const want = expected(ns);
      if (want === undefined) {
        report(`bucket ${name}: the namespace of ${ns.tenant} does not declare ${ANNOTATIONS.users} and ${ANNOTATIONS.quotaPerUserGB}, so its pool cannot be checked`, r.urn);
        return;
      }
      const quota = r.props.quota;
      if (quota === undefined || quota === null) report(`bucket ${name} of ${ns.tenant} has no hard quota; expected ${describe(ns, want)}`, r.urn);
      else if (Number(quota) !== want) report(`bucket ${name} of ${ns.tenant} has a hard quota of ${formatGB(Number(quota))} (${quota} bytes); expected ${describe(ns, want)}`, r.urn);
    });

    // Group quotas: one group per organisation using the instance. Their sum is the namespace's
    // pool (a dedicated tenant: its one group; the shared instance: one group per member
    // organisation, its namespace declaring the members' total users).
    const groups = new Map<string, { ns: TenantNamespace; urn: string; quotas: Map<string, { text: string; bytes: number }> }>();
    eachResource(report, args.resources.filter((r) => CARRIERS.includes(r.type)), (r) => {
      const ns = tenantOfObject(r, namespaces);
      if (!ns) return;
      for (const g of groupQuotas(r.props)) {
        if (!groups.has(ns.name)) groups.set(ns.name, { ns, urn: r.urn, quotas: new Map() });
        groups.get(ns.name)!.quotas.set(g.group, g);
      }
    });
    for (const { ns, urn, quotas } of groups.values()) {
      const want = expected(ns);
      if (want === undefined) continue;
      const sum = [...quotas.values()].reduce((n, g) => n + g.bytes, 0);
      if (sum !== want) {
        const list = [...quotas.entries()].map(([g, q]) => `${g} ${q.text}`).join(", ");
        report(`${ns.tenant}: Nextcloud group quotas (${list}) add up to ${formatGB(sum)}, not the pool of ${describe(ns, want)}`, urn);
      }
    }
  },
};
