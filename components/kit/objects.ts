/**
 * A bundle's own Kubernetes objects as one Helm release (`kubernetesObjects: bundled`,
 * docs/scaling.md#bundled-kubernetes-objects): the facts every reader shares — the program that
 * writes the release, the policy pack, the twin, the renderer, the plan and its diff. No Pulumi
 * import: policies and scripts read it too.
 *
 * The release installs the chart in ./objects-chart, whose one template renders `values.objects`
 * as they are. So the objects a reader sees in the release's inputs are exactly the objects
 * Kubernetes receives (test/bundle-objects-chart.test.ts renders them with the real Helm).
 */

/** The objects chart: its name (Chart.yaml) and its path as the release's `chart` input (relative to the project directory, where `pulumi` runs). */
export const OBJECTS_CHART = { name: "liiibre-objects", path: "./components/kit/objects-chart", version: "1.0.1" } as const;

/**
 * Helm's resource policy that keeps an object when its release no longer renders it or is
 * uninstalled (helm.sh/resource-policy: keep): on a bundle's isolation objects (quota, limit range,
 * default deny), never on objects a bundle may drop.
 */
export const HELM_KEEP = { "helm.sh/resource-policy": "keep" } as const;

/** Helm release name of a bundle's objects release (one per namespace). */
export const OBJECTS_RELEASE = "liiibre-objects";

export interface BundledObject {
  /** Pulumi type token the object would have as its own resource (`kubernetes:apps/v1:Deployment`). */
  type: string;
  apiVersion: string;
  kind: string;
  name: string;
  /** `metadata.namespace` (absent for cluster-scoped objects). */
  namespace?: string;
  /** The whole manifest (apiVersion, kind, metadata, spec…), as a resource's inputs are. */
  props: Record<string, any>;
  /** Position in `values.objects`. */
  index: number;
}

/** Pulumi's type token of a Kubernetes kind: `v1` → `core/v1`, any other apiVersion as it is (typed classes and CustomResource agree). */
export function pulumiTypeOf(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** apiVersion and kind of a Kubernetes type token (inverse of pulumiTypeOf). */
export function apiVersionKindOf(type: string): { apiVersion: string; kind: string } {
  const m = /^kubernetes:(.+):([^:]+)$/.exec(type);
  if (!m) throw new Error(`not a Kubernetes type token: ${type}`);
  return { apiVersion: m[1].startsWith("core/") ? m[1].slice("core/".length) : m[1], kind: m[2] };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a resource is a bundle's objects release (a Helm release of the objects chart). */
export function isObjectsRelease(type: string, inputs: Record<string, any> | undefined): boolean {
  if (type !== "kubernetes:helm.sh/v3:Release" || !inputs) return false;
  const chart = typeof inputs.chart === "string" ? inputs.chart : "";
  return chart === OBJECTS_CHART.path;
}

/** The objects a bundle's objects release declares ([] for any other resource). */
export function bundledObjects(type: string, inputs: Record<string, any> | undefined): BundledObject[] {
  if (!isObjectsRelease(type, inputs)) return [];
  const list = inputs!.values?.objects;
  if (!Array.isArray(list)) return [];
  const out: BundledObject[] = [];
  list.forEach((o, index) => {
    if (!isObject(o) || typeof o.apiVersion !== "string" || typeof o.kind !== "string") return;
    const md = isObject(o.metadata) ? o.metadata : {};
    out.push({
      type: pulumiTypeOf(o.apiVersion, o.kind),
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: String(md.name ?? ""),
      ...(typeof md.namespace === "string" ? { namespace: md.namespace } : {}),
      props: o,
      index,
    });
  });
  return out;
}

/**
 * A stable name for a bundled object in reports, policies and the twin: the release's URN with
 * the object's type appended to the type chain and `<namespace>/<name>` as its name. Not a URN
 * Pulumi knows (the object is not a resource of the stack).
 */
export function bundledObjectUrn(releaseUrn: string, o: Pick<BundledObject, "type" | "namespace" | "name">): string {
  const i = releaseUrn.lastIndexOf("::");
  const prefix = i < 0 ? releaseUrn : releaseUrn.slice(0, i);
  return `${prefix}$${o.type}::${o.namespace ?? ""}/${o.name}`;
}
