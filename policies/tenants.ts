/**
 * Stack-wide views shared by the stack policies: tenant namespaces, which tenant a resource
 * belongs to, and where a bucket lives (primary site or off-site).
 */
import type { PolicyResource, ReportViolation } from "@pulumi/policy";
import { bundleByAncestry } from "../components/attribution";
import { DEFAULT_LOCATION_HINTS, TYPES, eachResource, endpointLocation, namespaceOf, tenantNamespace, type TenantNamespace } from "./lib";

export interface SiteConfig {
  /** Location of the primary site. Default fsn1. */
  primaryLocation: string;
  /** S3 endpoint host → Hetzner location, for hosts whose name does not tell. Default {}. */
  endpointLocations: Record<string, string>;
  /** Host-name words that identify a location (a host label `hel` → hel1). */
  locationHints: Record<string, string[]>;
  /** Component types whose children live off-site (used when a bucket's provider is not visible). */
  offsiteComponentTypes: string[];
}
export const SITE_DEFAULTS: SiteConfig = {
  primaryLocation: "fsn1",
  endpointLocations: {},
  locationHints: DEFAULT_LOCATION_HINTS,
  offsiteComponentTypes: ["liiibre:storage:OffsiteCopy", "liiibre:storage:VolumeBackup"],
};
export const SITE_SCHEMA = {
  primaryLocation: { type: "string", default: SITE_DEFAULTS.primaryLocation },
  endpointLocations: { type: "object", additionalProperties: { type: "string" }, default: {} },
  locationHints: { type: "object", additionalProperties: { type: "array", items: { type: "string" } }, default: SITE_DEFAULTS.locationHints },
  offsiteComponentTypes: { type: "array", items: { type: "string" }, default: SITE_DEFAULTS.offsiteComponentTypes },
} as const;

/** Tenant namespaces by namespace name (a namespace with unknown labels is reported advisory and skipped). */
export function tenantNamespaces(resources: PolicyResource[], report: ReportViolation): Map<string, TenantNamespace> {
  const out = new Map<string, TenantNamespace>();
  eachResource(report, resources.filter((r) => r.type === TYPES.namespace), (r) => {
    const ns = tenantNamespace(r.urn, r.props);
    if (ns) out.set(ns.name, ns);
  });
  return out;
}

/** The tenant namespace a Kubernetes object or Helm release is in. */
export function tenantOfObject(r: PolicyResource, namespaces: Map<string, TenantNamespace>): TenantNamespace | undefined {
  return namespaces.get(namespaceOf(r.type, r.props));
}

/**
 * The tenant namespace of the bundle a bucket belongs to (components/attribution.ts: the
 * bundle's `Tenant` or the shared instance among the bucket's ancestors), never guessed from the
 * bucket's name. A bucket outside every bundle (the platform's) has none.
 */
export function tenantOfBucket(r: PolicyResource, namespaces: Map<string, TenantNamespace>): TenantNamespace | undefined {
  const bundle = bundleByAncestry(r, (x) => x.parent);
  return bundle ? [...namespaces.values()].find((ns) => ns.tenant === bundle) : undefined;
}

/**
 * Location of a bucket: that of its MinIO provider's endpoint (`minioServer`) when visible,
 * else off-site when one of its ancestors is an off-site component, else unknown.
 */
export function bucketLocation(r: PolicyResource, c: SiteConfig): { location: string | undefined; offsite: boolean } {
  const server = r.provider?.props?.minioServer;
  if (typeof server === "string" && server) {
    const location = endpointLocation(server, c.endpointLocations, c.locationHints);
    if (location) return { location, offsite: location !== c.primaryLocation };
  }
  const chain = r.urn.split("::")[2] ?? "";
  if (c.offsiteComponentTypes.some((t) => chain.split("$").includes(t))) return { location: undefined, offsite: true };
  return { location: undefined, offsite: false };
}
