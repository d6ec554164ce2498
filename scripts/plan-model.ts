/**
 * The offline plan: the desired state of a stack as one JSON document (a contract,
 * documented in docs/plan.md), built from an evaluation and the policy verdicts.
 */
import type { Estate, Tenant } from "../components/config";
import { attribution } from "../components/attribution";
import { bundledObjectUrn } from "../components/kit/objects";
import { storagePoolGB } from "../components/units";
import { estimateStacks } from "../components/layers/cost";
import type { StackLayer } from "../components/layers/placement";
import type { Evaluation, RecordedResource } from "./harness";
import type { Violation } from "./check-policies";
import type { RenderProblem, RenderedObject } from "./render/model";
import type { TwinFinding } from "./twin/model";
import { secretKeysOf } from "./twin/from-evaluation";
import type { CapacityRow } from "./twin/checks/capacity";
import type { Footprint } from "./twin/footprint";

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
  /** Kubernetes objects its objects releases hold (components/kit/objects.ts; not resources). */
  bundledObjects: number;
}

/** A recorded resource (scripts/harness.ts) and the tenant it belongs to. */
export type PlanResource = RecordedResource & {
  /** Slug of the tenant this resource belongs to, or null for the platform. */
  tenant: string | null;
  /** The stack holding it (the estate's stack, or a tenant shard `<estate>-<shard>`). */
  stack: string;
  /** `--render` only, on Helm releases: what `helm template` made of it (docs/render.md). */
  rendered?: { chart: string; version: string; objects: RenderedObject[] };
  /** Secrets only: the key names of `data`/`stringData` (never the values), for the estate twin's references. */
  secretKeys?: string[];
  /**
   * A bundle's objects release only (components/kit/objects.ts): the Kubernetes objects it
   * holds (not resources of the stack: Helm applies them), each with its stable identity.
   */
  bundledObjects?: PlanBundledObject[];
};

/** One object of a bundle's objects release, as the plan lists it. */
export interface PlanBundledObject {
  /** Pulumi type token it would have as a resource of its own (`kubernetes:apps/v1:Deployment`). */
  type: string;
  name: string;
  namespace?: string;
  /** `bundledObjectUrn`: the release's URN with the object's type and `<namespace>/<name>`. */
  urn: string;
}

/** One stack of the estate in the plan (docs/scaling.md). */
export interface PlanStack {
  name: string;
  /** "platform" | "shard" | "single" (one stack holding everything). */
  layer: StackLayer;
  resourceCount: number;
  /** What components/layers/cost.ts estimated before evaluation (the limit is checked on it). */
  estimatedResources: number;
  /** Slugs of the organisations it holds. */
  tenants: string[];
  /** Kubernetes objects its bundles' objects releases hold (not counted in resourceCount). */
  bundledObjects: number;
}

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
    /** Kubernetes objects held by objects releases (not counted in resourceCount). */
    bundledObjects: number;
    /** `--render` only: Helm releases, distinct `helm template` runs, rendered objects, render problems and warnings. */
    render?: { releases: number; distinctRenders: number; objects: number; problems: number; warnings: number; problemsByCheck: Record<string, number> };
    /** The twin's verdict: errors fail the plan like a mandatory violation; `rendered`: whether it saw rendered chart objects. */
    twin?: { errors: number; warnings: number; rendered: boolean };
  };
  violations: Violation[];
  /** Every stack planned, platform first (one entry when the estate is one stack). */
  stacks: PlanStack[];
  /** `--render` only: the render checks' findings (docs/render.md). */
  render?: { problems: RenderProblem[]; warnings: RenderProblem[] };
  /** The estate twin's findings (docs/twin.md); set by `npm run plan` (scripts/twin/plan-twin.ts). */
  twin?: TwinFinding[];
  /** Capacity per node pool (docs/twin.md#capacity). */
  capacity?: CapacityRow[];
  /** Machines, cost and greenhouse-gas estimate (docs/footprint.md). */
  footprint?: Footprint;
}

/**
 * The tenant a resource belongs to (components/attribution.ts: its bundle by component ancestry,
 * else its tenant label or its namespace's), when that bundle is one of the estate's
 * organisations; null for the platform and the shared instance's own resources.
 */
export function tenantResolver(estate: Estate, resources: RecordedResource[]): (r: RecordedResource) => string | null {
  return resolvers(estate, resources).tenantOf;
}

function resolvers(estate: Estate, resources: RecordedResource[]) {
  const slugs = new Set(estate.tenants.map((t) => t.slug));
  type View = { urn: string; type: string; props: Record<string, unknown>; parent: string | null };
  const views = new Map<string, View>(resources.map((r) => [r.urn, { urn: r.urn, type: r.type, props: r.inputs, parent: r.parent }]));
  const attr = attribution([...views.values()], (v) => (v.parent ? views.get(v.parent) : undefined));
  const view = (r: RecordedResource) => views.get(r.urn) ?? { urn: r.urn, type: r.type, props: r.inputs, parent: r.parent };
  return {
    tenantOf: (r: RecordedResource): string | null => {
      const slug = attr.bundleOf(view(r));
      return slug && slugs.has(slug) ? slug : null;
    },
    /** The objects of an objects release (attribution: the release's bundle), as the plan lists them. */
    bundledOf: (r: RecordedResource): PlanBundledObject[] =>
      attr.objectsOf(view(r)).map((o) => ({ type: o.type, name: o.name, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), urn: bundledObjectUrn(r.urn, o) })),
  };
}

interface TenantOutputs {
  urls?: Record<string, string>;
  dnsRecords?: DnsRecord[];
}

export interface StackInfo {
  /** The estate's name (the platform stack's name). Default: the evaluated stack's name. */
  estateName?: string;
  /** Default "single". */
  layer?: StackLayer;
}

export function buildPlan(evaluation: Evaluation, violations: Violation[], info: StackInfo = {}): Plan {
  const { estate, resources } = evaluation;
  const { tenantOf, bundledOf } = resolvers(estate, resources);
  const outTenants = (evaluation.outputs.tenants ?? {}) as Record<string, TenantOutputs>;
  const layer = info.layer ?? "single";
  const estateName = info.estateName ?? evaluation.stack;
  const estimate = estimateStacks(estateName, layer === "single" ? { ...estate, sharding: { ...estate.sharding, enabled: false } } : estate).find((s) => s.name === evaluation.stack);
  const keys = secretKeysOf(evaluation);
  const planResources = resources.map((r) => {
    const bundled = bundledOf(r);
    return { ...r, tenant: tenantOf(r), stack: evaluation.stack, ...(keys[r.urn] ? { secretKeys: keys[r.urn] } : {}), ...(bundled.length ? { bundledObjects: bundled } : {}) };
  });
  const held = new Set(Object.keys(outTenants));
  const stack: PlanStack = {
    name: evaluation.stack,
    layer,
    resourceCount: resources.length,
    estimatedResources: estimate?.resources ?? 0,
    tenants: estate.tenants.filter((t) => held.has(t.slug)).map((t) => t.slug),
    bundledObjects: bundledCount(planResources),
  };
  return assemblePlan(estateName, estate, planResources, [outTenants], violations, [stack]);
}

/** One plan of a sharded estate from the plans of its stacks (platform first). */
export function mergePlans(estateName: string, estate: Estate, plans: Plan[]): Plan {
  const outputs = plans.map((p) => Object.fromEntries(p.tenants.filter((t) => Object.keys(t.urls).length || t.dnsRecords.length).map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }])));
  return assemblePlan(
    estateName,
    estate,
    plans.flatMap((p) => p.resources),
    outputs,
    plans.flatMap((p) => p.violations),
    plans.flatMap((p) => p.stacks),
  );
}

/** Objects held by the objects releases among `resources`. */
export const bundledCount = (resources: Array<Pick<PlanResource, "bundledObjects">>): number => resources.reduce((n, r) => n + (r.bundledObjects?.length ?? 0), 0);

function assemblePlan(estateName: string, estate: Estate, resources: PlanResource[], outputs: Array<Record<string, TenantOutputs>>, violations: Violation[], stacks: PlanStack[]): Plan {
  const out = (slug: string): TenantOutputs => outputs.find((o) => o[slug])?.[slug] ?? {};
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
    urls: { ...(out(t.slug).urls ?? {}) },
    dnsRecords: [...(out(t.slug).dnsRecords ?? [])],
    bundledObjects: bundledCount(resources.filter((r) => r.tenant === t.slug)),
  }));
  return {
    version: PLAN_FORMAT_VERSION,
    project: "liiibre",
    stack: estateName,
    resources,
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
      bundledObjects: bundledCount(resources),
    },
    violations,
    stacks,
  };
}

/** 0 fine, 1 at least one mandatory violation or twin error (2, invalid config, is decided before). */
export const planExitCode = (plan: Plan): number => (plan.summary.mandatoryViolations > 0 || (plan.summary.twin?.errors ?? 0) > 0 ? 1 : 0);
