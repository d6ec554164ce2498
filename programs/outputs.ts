/** The `tenants` stack output every program exports: plan, users, pool, URLs and DNS records per organisation. */
import type { Tenant } from "../components/config";
import { storagePoolGB } from "../components/units";

export function tenantsOutput(tenants: readonly Tenant[], bundles: Record<string, object>) {
  return Object.fromEntries(tenants.map((t) => [t.slug, { plan: t.plan, users: t.users, storagePoolGB: storagePoolGB(t), ...bundles[t.slug] }]));
}
