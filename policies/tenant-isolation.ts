/**
 * `tenant-isolation` (mandatory): every tenant namespace (labelled `liiibre.org/tenant`) has a
 * ResourceQuota, a LimitRange and a default-deny NetworkPolicy (empty pod selector, Ingress in
 * its policyTypes, no ingress rule; with `denyEgress`, the same for Egress).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { TYPES, config, eachResource, get, isObject, namespaceOf, tenantNamespace } from "./lib";

export interface TenantIsolationConfig {
  /** Also require egress to be denied by default. Default false. */
  denyEgress: boolean;
}
export const TENANT_ISOLATION_DEFAULTS: TenantIsolationConfig = { denyEgress: false };

/** Does this NetworkPolicy spec deny the given direction to every pod of its namespace? */
export function isDefaultDeny(spec: any, direction: "Ingress" | "Egress"): boolean {
  if (!isObject(spec)) return false;
  const selector = spec.podSelector;
  const selectsAll = isObject(selector) && !Object.keys(selector).some((k) => {
    const v = selector[k];
    return Array.isArray(v) ? v.length > 0 : isObject(v) ? Object.keys(v).length > 0 : v !== undefined && v !== null;
  });
  if (!selectsAll) return false;
  const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : direction === "Ingress" ? ["Ingress"] : [];
  if (!types.includes(direction)) return false;
  const rules = spec[direction === "Ingress" ? "ingress" : "egress"];
  return !Array.isArray(rules) || rules.length === 0;
}

export const tenantIsolation: StackValidationPolicy = {
  name: "tenant-isolation",
  description: "Every tenant namespace has a ResourceQuota, a LimitRange and a default-deny NetworkPolicy.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { denyEgress: { type: "boolean", default: TENANT_ISOLATION_DEFAULTS.denyEgress } } },
  validateStack: (args, report) => {
    const { denyEgress } = config(args, TENANT_ISOLATION_DEFAULTS);
    const have = new Map<string, { quota: boolean; limits: boolean; denyIn: boolean; denyOut: boolean }>();
    const slot = (ns: string) => {
      if (!have.has(ns)) have.set(ns, { quota: false, limits: false, denyIn: false, denyOut: false });
      return have.get(ns)!;
    };
    const tenants = eachResource(report, args.resources, (r) => {
      if (r.type === TYPES.namespace) return tenantNamespace(r.urn, r.props);
      if (r.type === TYPES.resourceQuota) slot(namespaceOf(r.type, r.props)).quota = true;
      if (r.type === TYPES.limitRange) slot(namespaceOf(r.type, r.props)).limits = true;
      if (r.type === TYPES.networkPolicy) {
        const s = slot(namespaceOf(r.type, r.props));
        const spec = get(r.props, "spec");
        if (isDefaultDeny(spec, "Ingress")) s.denyIn = true;
        if (isDefaultDeny(spec, "Egress")) s.denyOut = true;
      }
      return undefined;
    });
    for (const ns of tenants) {
      if (!ns) continue;
      const s = slot(ns.name);
      const missing: string[] = [];
      if (!s.quota) missing.push("a ResourceQuota");
      if (!s.limits) missing.push("a LimitRange");
      if (!s.denyIn) missing.push("a default-deny ingress NetworkPolicy (podSelector {}, policyTypes [Ingress], no ingress rule)");
      if (denyEgress && !s.denyOut) missing.push("a default-deny egress NetworkPolicy");
      if (missing.length) report(`namespace ${ns.name} of ${ns.tenant} lacks ${missing.join(", ")}`, ns.urn);
    }
  },
};
