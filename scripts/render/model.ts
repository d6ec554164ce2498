/**
 * What the render step produces (scripts/render/*): the objects real Helm makes of each
 * Helm release of the plan, and the problems found on them. Plain data: the plan JSON
 * carries it (docs/plan.md) and the estate twin reads it.
 */

/** One Kubernetes object rendered by `helm template` (CRDs included). */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  /** metadata.name */
  name: string;
  /** metadata.namespace, or the release namespace for namespaced kinds that omit it; null for cluster-scoped kinds. */
  namespace: string | null;
  /** The whole object (Secret `data`/`stringData` values masked). */
  object: Record<string, unknown>;
}

/** One Helm release of the plan, rendered. */
export interface RenderedRelease {
  /** URN of the `kubernetes:helm.sh/v3:Release` resource in the plan. */
  urn: string;
  /** Release name (`name` input) and namespace. */
  release: string;
  namespace: string;
  chart: string;
  version: string;
  objects: RenderedObject[];
}

/** A problem found by the render checks; every problem fails `npm run render` (exit 1). */
export interface RenderProblem {
  /** Check name, e.g. `render-fails`, `value-ignored`, `object-invalid`, `cr-invalid`. */
  check: string;
  /** The release as `namespace/name` (or the program's resource URN for custom resources it declares itself). */
  release: string;
  /** `Kind/namespace/name` of the object, when the problem is about one. */
  object?: string;
  /** Values key path or object field path, e.g. `synapse.extraEnv[0].valueFrom`. */
  field?: string;
  message: string;
}

/** One line per problem: `[check] release object field: message`. */
export function problemLine(p: RenderProblem): string {
  return `[${p.check}] ${p.release}${p.object ? ` ${p.object}` : ""}${p.field ? ` ${p.field}` : ""}: ${p.message}`;
}
