/**
 * The diff of a bundle's objects release (components/kit/objects.ts): object by object, not one
 * opaque `values` change. An object is matched by its identity (type, namespace, name), so
 * reordering `values.objects` changes nothing. What Helm does with each:
 *
 * - added: created by the upgrade; removed: **deleted by Helm** on the upgrade (it is no longer
 *   in the release's manifest) — a danger when it holds data (scripts/diff/data-holders.ts);
 * - changed: patched in place by the upgrade (a merge patch from the release's last manifest to
 *   the new one). A change of a field the API server keeps immutable (the `immutable` rules of
 *   replace-rules.ts: a Deployment's selector, a Service's clusterIP…) is refused: the upgrade
 *   fails part-way (the objects release is not atomic: what was applied before stays, the
 *   release is left `failed`) — where Pulumi would have replaced the object. A danger.
 *
 * And between the two shapes (`kubernetesObjects: resources|adopting` → `bundled`): a resource
 * deleted from the stack whose object is now in an objects release is handed over to Helm in
 * place only when it carried Helm's ownership metadata and `retainOnDelete` (`adopting`);
 * otherwise Helm refuses the object it does not own and Pulumi deletes it. The reverse (an
 * object leaving a release for a resource of its own) has Helm delete what Pulumi creates.
 */
import { OBJECTS_RELEASE, bundledObjectUrn, bundledObjects, isObjectsRelease, type BundledObject } from "../../components/kit/objects";
import type { PlanResource } from "../plan-model";
import { holdsData } from "./data-holders";
import { formatPath, parsePath, rulesFor, touches, type PathSegment } from "./replace-rules";

export interface PropertyChangeLike {
  path: string;
  kind: "add" | "delete" | "update";
  old?: unknown;
  new?: unknown;
}

/** One object of an objects release that the upgrade creates, changes or deletes. */
export interface ObjectChange {
  action: "create" | "update" | "delete";
  /** The type token it would have as a resource of its own. */
  type: string;
  kind: string;
  name: string;
  namespace?: string;
  /** Its identity (`bundledObjectUrn` of the release in HEAD, or in BASE when removed). */
  urn: string;
  /** Changed paths of the object (its manifest's fields: `spec.template.spec.containers[0].image`). */
  properties: PropertyChangeLike[];
  danger: string[];
  notes: string[];
}

type RawDiff = (a: unknown, b: unknown, path: PathSegment[], out: Array<{ segs: PathSegment[]; kind: PropertyChangeLike["kind"]; old?: unknown; new?: unknown }>) => void;

export const objectKey = (o: Pick<BundledObject, "type" | "namespace" | "name">) => `${o.type}|${o.namespace ?? ""}|${o.name}`;
export const objectLabel = (o: Pick<BundledObject, "kind" | "namespace" | "name">) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;

/** The immutable-field rules of a kind (not Pulumi's own replace choices, nor name/namespace: those are the identity). */
const immutableRules = (type: string) => rulesFor(type).filter((r) => /immutable/.test(r.reason) && !r.unlessProviderFlag && r.type !== "kubernetes:*");

/** A bundled object as a plan resource, for the data-holder rules. */
const asResource = (o: BundledObject): PlanResource => ({ type: o.type, name: o.name, inputs: o.props } as unknown as PlanResource);

/** Object by object, what the upgrade of an objects release does (old/new: the release's inputs in BASE/HEAD). */
export function objectChanges(oldUrn: string, newUrn: string, oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>, diff: RawDiff): ObjectChange[] {
  const type = "kubernetes:helm.sh/v3:Release";
  const before = new Map(bundledObjects(type, oldInputs).map((o) => [objectKey(o), o]));
  const after = new Map(bundledObjects(type, newInputs).map((o) => [objectKey(o), o]));
  const out: ObjectChange[] = [];
  const base = (o: BundledObject, urn: string) => ({ type: o.type, kind: o.kind, name: o.name, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), urn: bundledObjectUrn(urn, o) });
  for (const [k, o] of before) {
    if (after.has(k)) continue;
    const data = holdsData(asResource(o), () => []);
    const keep = (o.props.metadata?.annotations ?? {})["helm.sh/resource-policy"] === "keep";
    out.push({
      action: "delete",
      ...base(o, oldUrn),
      properties: [],
      danger: data && !keep ? [`holds data — ${data}: removed from the objects release, Helm deletes it`] : [],
      notes: [keep ? "removed from the objects release: Helm keeps it (helm.sh/resource-policy: keep), orphaned" : "removed from the objects release: Helm deletes it on the upgrade"],
    });
  }
  for (const [k, o] of after) {
    const was = before.get(k);
    if (!was) {
      out.push({ action: "create", ...base(o, newUrn), properties: [], danger: [], notes: [] });
      continue;
    }
    const raw: Parameters<RawDiff>[3] = [];
    diff(was.props, o.props, [], raw);
    if (!raw.length) continue;
    const rules = immutableRules(o.type);
    const change: ObjectChange = { action: "update", ...base(o, newUrn), properties: [], danger: [], notes: [] };
    for (const c of raw) {
      const path = formatPath(c.segs);
      change.properties.push({ path, kind: c.kind, ...(c.kind !== "add" ? { old: c.old } : {}), ...(c.kind !== "delete" ? { new: c.new } : {}) });
      const rule = rules.find((r) => r.paths.some((p) => touches(parsePath(p), c.segs)));
      if (rule && !change.danger.length)
        change.danger.push(`${path}: ${rule.reason}: Helm's upgrade patches it in place, the API server refuses it, and the release upgrade fails part-way (the objects applied before it keep their new state, the release is left failed) — as a resource Pulumi would replace it`);
    }
    out.push(change);
  }
  const order = { delete: 0, update: 1, create: 2 } as const;
  return out.sort((a, b) => order[a.action] - order[b.action] || a.urn.localeCompare(b.urn));
}

const meta = (inputs: Record<string, unknown>) => (inputs.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

/** The identity key a Kubernetes resource of the plan would have as a bundled object. */
export function resourceObjectKey(r: Pick<PlanResource, "type" | "inputs">): string | undefined {
  if (!r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes:helm.sh/") || r.type.startsWith("kubernetes:yaml/")) return undefined;
  const m = meta(r.inputs);
  return m.name ? objectKey({ type: r.type, namespace: m.namespace, name: m.name }) : undefined;
}

/** Whether a resource carries Helm's ownership of the objects release of its namespace (`kubernetesObjects: adopting`). */
export function ownedByObjectsRelease(r: Pick<PlanResource, "inputs">): boolean {
  const m = meta(r.inputs);
  return m.labels?.["app.kubernetes.io/managed-by"] === "Helm" && m.annotations?.["meta.helm.sh/release-name"] === OBJECTS_RELEASE && m.annotations?.["meta.helm.sh/release-namespace"] === m.namespace;
}

/** Head objects releases' objects by identity (for the hand-over between shapes). */
export function bundledIndex(resources: PlanResource[]): Map<string, { release: PlanResource; object: BundledObject }> {
  const out = new Map<string, { release: PlanResource; object: BundledObject }>();
  for (const r of resources) if (isObjectsRelease(r.type, r.inputs)) for (const o of bundledObjects(r.type, r.inputs)) out.set(objectKey(o), { release: r, object: o });
  return out;
}
