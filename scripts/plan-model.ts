/**
 * The offline plan: the desired state of a stack as one JSON document (a contract,
 * documented in docs/plan.md), built from an evaluation and the policy verdicts.
 */
import type { Estate, Tenant } from "../components/config";
import { storagePoolGB } from "../components/units";
import type { Evaluation, RecordedResource } from "./harness";
import type { Violation } from "./check-policies";
import type { RenderProblem, RenderedObject } from "./render/model";

export const PLAN_FORMAT_VERSION = 1;

export interface DnsRecord {
  /** Fully qualified name, e.g. `cloud.example.org`. */
  name: string;
  type: "A" | "AAAA" | "CNAME" | "SRV" | "TXT";
  value: string;
  /** Why the record is needed. */
  purpose?: string;
}

export interface PlanTenant {
  slug: string;
  name: string;
  domain: string;
  plan: Tenant["plan"];
  state: Tenant["state"];
  users: number;
  quotaPerUserGB: number;
  /** users × quotaPerUserGB, in GB (1 GB = 1024³ bytes, see components/units.ts). */
  storagePoolGB: number;
  exemption: string | null;
  apps: string[];
  /** App name → URL, once the tenant bundles exist. */
  urls: Record<string, string>;
  /** Records the organisation must create in its DNS zone. */
  dnsRecords: DnsRecord[];
}

/** A recorded resource (scripts/harness.ts) and the tenant it belongs to. */
export type PlanResource = RecordedResource & {
  /** Slug of the tenant this resource belongs to, or null for the platform. */
  tenant: string | null;
  /** `--render` only, on Helm releases: what `helm template` made of it (docs/render.md). */
  rendered?: { chart: string; version: string; objects: RenderedObject[] };
};

export interface Plan {
  version: number;
  project: string;
  stack: string;
  resources: PlanResource[];
  tenants: PlanTenant[];
  summary: {
    resourceCount: number;
    byType: Record<string, number>;
    protectedCount: number;
    tenantCount: number;
    userCount: number;
    storagePoolGB: number;
    mandatoryViolations: number;
    advisoryViolations: number;
    /** `--render` only: Helm releases, distinct `helm template` runs, rendered objects, render problems and warnings. */
    render?: { releases: number; distinctRenders: number; objects: number; problems: number; warnings: number; problemsByCheck: Record<string, number> };
  };
  violations: Violation[];
  /** `--render` only: the render checks' findings (docs/render.md). */
  render?: { problems: RenderProblem[]; warnings: RenderProblem[] };
}

/**
 * The tenant a resource belongs to: the longest tenant slug that its name, or the name of
 * an ancestor, equals or starts with followed by "-" (names derive from the slug).
 */
export function tenantResolver(estate: Estate, resources: RecordedResource[]): (r: RecordedResource) => string | null {
  const slugs = estate.tenants.map((t) => t.slug).sort((a, b) => b.length - a.length);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const cache = new Map<string, string | null>();
  const match = (name: string) => slugs.find((s) => name === s || name.startsWith(`${s}-`)) ?? null;
  const of = (r: RecordedResource): string | null => {
    if (cache.has(r.urn)) return cache.get(r.urn)!;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    const found = (parent ? of(parent) : null) ?? match(r.name);
    cache.set(r.urn, found);
    return found;
  };
  return of;
}

interface TenantOutputs {
  urls?: Record<string, string>;
  dnsRecords?: DnsRecord[];
}

export function buildPlan(evaluation: Evaluation, violations: Violation[]): Plan {
  const { estate, resources } = evaluation;
  const tenantOf = tenantResolver(estate, resources);
  const outTenants = (evaluation.outputs.tenants ?? {}) as Record<string, TenantOutputs>;
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const tenants: PlanTenant[] = estate.tenants.map((t) => ({
    slug: t.slug,
    name: t.name,
    domain: t.domain,
    plan: t.plan,
    state: t.state,
    users: t.users,
    quotaPerUserGB: t.quotaPerUserGB,
    storagePoolGB: storagePoolGB(t),
    exemption: t.exemption?.reason ?? null,
    apps: [...t.apps],
    urls: { ...(outTenants[t.slug]?.urls ?? {}) },
    dnsRecords: [...(outTenants[t.slug]?.dnsRecords ?? [])],
  }));
  return {
    version: PLAN_FORMAT_VERSION,
    project: "liiibre",
    stack: evaluation.stack,
    resources: resources.map((r) => ({ ...r, tenant: tenantOf(r) })),
    tenants,
    summary: {
      resourceCount: resources.length,
      byType: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
      protectedCount: resources.filter((r) => r.protect || r.retainOnDelete).length,
      tenantCount: tenants.length,
      userCount: tenants.reduce((n, t) => n + t.users, 0),
      storagePoolGB: tenants.reduce((n, t) => n + t.storagePoolGB, 0),
      mandatoryViolations: violations.filter((v) => v.level === "mandatory").length,
      advisoryViolations: violations.filter((v) => v.level === "advisory").length,
    },
    violations,
  };
}

/** 0 fine, 1 at least one mandatory violation (2, invalid config, is decided before). */
export const planExitCode = (plan: Plan): number => (plan.summary.mandatoryViolations > 0 ? 1 : 0);
