/**
 * Which organisation a resource belongs to — one rule for the plan, the policy pack and the
 * digital twin, never a guess from a name prefix (a valid slug `ada` or `storage` would claim
 * the cluster's or the storage platform's resources).
 *
 * A resource belongs to the bundle whose owner component is itself or an ancestor: a dedicated
 * organisation's `Tenant` (named by its slug, the constructor checks it) or the shared instance
 * (`SharedInstance`, named by the shared instance's slug). Failing an ancestor — a resource
 * registered outside the bundle's tree, e.g. by a chart — its tenant label
 * (`LABELS.tenant`, on every Kubernetes object of a bundle), or the label of the namespace it is
 * in. Otherwise it belongs to the platform (null).
 *
 * A bundle's objects release (components/kit/objects.ts) holds Kubernetes objects that are not
 * resources: each belongs to the release's bundle, whatever its own labels say (`objectsOf`).
 *
 * Pure, over a minimal shape that recorded resources (scripts/harness.ts) and policy resources
 * (@pulumi/policy) both fit.
 */
import { LABELS } from "./conventions";
import { bundledObjects, type BundledObject } from "./kit/objects";

/** Component types that own a bundle; their resource name is the bundle's slug. */
export const BUNDLE_OWNER_TYPES = ["liiibre:tenant:Tenant", "liiibre:shared:SharedInstance"] as const;

export interface Attributable {
  urn: string;
  type: string;
  /** Inputs (recorded resources) or properties (policy resources). */
  props?: Record<string, unknown>;
}

/** The resource name of a URN (its last `::` segment). */
export const urnName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The tenant label of a Kubernetes object's metadata, if any. */
export function tenantLabel(props: Obj | undefined): string | undefined {
  const meta = props?.metadata;
  const labels = isObj(meta) ? meta.labels : undefined;
  const v = isObj(labels) ? labels[LABELS.tenant] : undefined;
  return typeof v === "string" && v ? v : undefined;
}

/** The namespace a Kubernetes object or Helm release is in, if any. */
export function namespaceOfProps(type: string, props: Obj | undefined): string | undefined {
  const ns = type.startsWith("kubernetes:helm.sh/") ? props?.namespace : isObj(props?.metadata) ? (props!.metadata as Obj).namespace : undefined;
  return typeof ns === "string" && ns ? ns : undefined;
}

/**
 * The bundle whose owner component is `r` or one of its ancestors (null when none): the first
 * rule of the attribution, for callers that walk a parent chain themselves (policy resources).
 */
export function bundleByAncestry<R extends Attributable>(r: R, parentOf: (r: R) => R | undefined): string | null {
  for (let x: R | undefined = r; x; x = parentOf(x)) if ((BUNDLE_OWNER_TYPES as readonly string[]).includes(x.type)) return urnName(x.urn);
  return null;
}

export interface Attribution<R extends Attributable> {
  /** The slug of the bundle (a tenant's or the shared instance's) the resource belongs to, or null. */
  bundleOf(r: R): string | null;
  /** The objects of a bundle's objects release, each with the release's bundle ([] for any other resource). */
  objectsOf(r: R): Array<BundledObject & { bundle: string | null }>;
}

/**
 * Builds the attribution of a set of resources. `parentOf` gives a resource's parent (or
 * undefined at the top of the stack).
 */
export function attribution<R extends Attributable>(resources: readonly R[], parentOf: (r: R) => R | undefined): Attribution<R> {
  const owners = new Set<string>(BUNDLE_OWNER_TYPES);
  // Namespace name → bundle slug, from namespaces' own tenant label.
  const nsLabel = new Map<string, string>();
  for (const r of resources) {
    if (r.type !== "kubernetes:core/v1:Namespace") continue;
    const name = isObj(r.props?.metadata) ? (r.props!.metadata as Obj).name : undefined;
    const label = tenantLabel(r.props);
    if (typeof name === "string" && label) nsLabel.set(name, label);
  }
  const cache = new Map<string, string | null>();
  const byAncestry = (r: R): string | null => {
    const known = cache.get(r.urn);
    if (known !== undefined) return known;
    const parent = parentOf(r);
    const found = owners.has(r.type) ? urnName(r.urn) : parent ? byAncestry(parent) : null;
    cache.set(r.urn, found);
    return found;
  };
  const bundleOf = (r: R): string | null => {
    const own = byAncestry(r);
    if (own) return own;
    const label = tenantLabel(r.props);
    if (label) return label;
    const ns = namespaceOfProps(r.type, r.props);
    return (ns && nsLabel.get(ns)) || null;
  };
  return {
    bundleOf,
    objectsOf(r) {
      const objects = bundledObjects(r.type, r.props);
      if (!objects.length) return [];
      const bundle = bundleOf(r);
      return objects.map((o) => ({ ...o, bundle }));
    },
  };
}
