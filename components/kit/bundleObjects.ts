/**
 * A bundle's plain Kubernetes objects, declared in its `kubernetesObjects` mode
 * (components/config/schema.ts KUBERNETES_OBJECTS, docs/scaling.md#bundled-kubernetes-objects).
 * Modules declare each object through `add` with the typed class they would use anyway
 * (`objects.add(k8s.apps.v1.Deployment, name, args, opts)`, or `k8s.apiextensions.CustomResource`
 * for a CRD's kind):
 * - `resources`: exactly `new Class(name, args, opts)` (same class, name, args and options: the URNs
 *   and inputs of organisations created before the objects release do not change);
 * - `adopting`: the same resource with Helm's ownership metadata (the label and annotations
 *   Helm checks before adopting an object: `helmOwnership`) and
 *   `retainOnDelete`, so that the next step (`bundled`) makes Pulumi forget it while Helm adopts
 *   it in place;
 * - `bundled`: the manifest (apiVersion and kind from the class's type token) becomes an entry of
 *   the bundle's ONE objects release (components/kit/objects.ts: a Helm release of the objects
 *   chart, resource `<slug>-objects`), and `add` returns that release for dependents' `dependsOn`.
 *
 * The release exists from the start (dependents reference it while the apps still add objects);
 * its `values` and `dependsOn` are promises resolved by `register`, called once at the end of the
 * bundle (after the Gateways and the shared Secret, like them). Its dependencies are the union
 * of its objects' `dependsOn`, the release itself left out (objects of one release are applied
 * together). A bundled object may not wait for a Helm release (the apps' releases wait for the
 * objects release: that would be a cycle); `add` refuses it.
 *
 * What is never bundled (`add` refuses it in every mode; create it as its own resource): the
 * Namespace and PersistentVolumeClaims/PersistentVolumes and a StatefulSet with
 * volumeClaimTemplates (they hold data: protected), Secrets (a secret value in `values` makes the
 * whole values secret and hides the diff), the CloudNativePG Cluster (holds the data; protected),
 * Jobs (immutable pod template: Helm's upgrade fails where Pulumi replaces) and Helm releases.
 * No secret ever reaches `values`: an object carrying a secret Output makes the release fail,
 * naming it (`objectsValues`); so does one carrying an Output of a Helm release (a cycle).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { KubernetesObjects } from "../config/schema";
import { HELM_DEFAULTS } from "./helm";
import { OBJECTS_CHART, OBJECTS_RELEASE, PROJECT_DIR, apiVersionKindOf, writeObjectsChart } from "./objects";

/** The label and annotations Helm requires on an existing object before it adopts it (Helm's pkg/action/validate.go `checkOwnership`). */
export function helmOwnership(namespace: string): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { "app.kubernetes.io/managed-by": "Helm" },
    annotations: { "meta.helm.sh/release-name": OBJECTS_RELEASE, "meta.helm.sh/release-namespace": namespace },
  };
}

/** Type tokens never bundled, with the reason (`add` refuses them). */
export const NEVER_BUNDLED: Readonly<Record<string, string>> = {
  "kubernetes:core/v1:Namespace": "it holds every object of the bundle (protected)",
  "kubernetes:core/v1:Secret": "a secret value in the release's values makes the whole values secret",
  "kubernetes:core/v1:PersistentVolumeClaim": "it holds data (protected)",
  "kubernetes:core/v1:PersistentVolume": "it holds data (protected)",
  "kubernetes:postgresql.cnpg.io/v1:Cluster": "it holds the databases (protected)",
  "kubernetes:batch/v1:Job": "its pod template is immutable: Helm's upgrade would fail where Pulumi replaces",
  "kubernetes:helm.sh/v3:Release": "an app's own release is its own resource",
};

/** A typed Kubernetes class (`k8s.apps.v1.Deployment`…) or `k8s.apiextensions.CustomResource`. */
export type ObjectClass<A> = new (name: string, args: A, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Options a bundled object may carry (the release holds its parent, provider and dependencies). */
const BUNDLED_OPTIONS = new Set(["parent", "provider", "dependsOn"]);

export interface BundleObjectsArgs {
  mode: KubernetesObjects;
  /** The bundle's namespace: every object's `metadata.namespace` outside `resources` mode, and the release's. */
  namespace: string;
  /** Resource name of the objects release (`<slug>-objects`). */
  resourceName: string;
  /** Parent and provider of the release; its dependencies besides its objects' (the namespace). */
  opts: pulumi.CustomResourceOptions;
}

/** One bundled object: its type token, Kubernetes name and manifest. */
export interface ObjectEntry {
  type: string;
  name: string;
  manifest: pulumi.Input<Record<string, unknown>>;
}

const isPlainObject = (v: unknown): v is Record<string, any> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !pulumi.Output.isInstance(v) && !(v instanceof Promise);

const toArray = (d: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] => (!d ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>]);

/** `extra` merged into a map input (plain: spread; an Output: through apply). */
function mergeMap(base: unknown, extra: Record<string, string>): pulumi.Input<Record<string, string>> {
  if (base === undefined || isPlainObject(base)) return { ...(base ?? {}), ...extra };
  return pulumi.output(base as pulumi.Input<Record<string, string>>).apply((b) => ({ ...(b ?? {}), ...extra }));
}

/** The type token of an object declared with `cls` and `args` (a CustomResource's from its apiVersion and kind). */
export function objectType(cls: ObjectClass<any>, args: Record<string, any>): string {
  const token = (cls as unknown as { __pulumiType?: string }).__pulumiType;
  if (token) return token;
  if (typeof args.apiVersion === "string" && typeof args.kind === "string") return `kubernetes:${args.apiVersion.includes("/") ? args.apiVersion : `core/${args.apiVersion}`}:${args.kind}`;
  throw new Error(`${cls.name}: not a Kubernetes class, or a CustomResource without a literal apiVersion and kind`);
}

export class BundleObjects {
  public readonly mode: KubernetesObjects;
  public readonly namespace: string;
  /** The objects release (`bundled` only). */
  public readonly release?: k8s.helm.v3.Release;
  private readonly entries: ObjectEntry[] = [];
  private readonly deps: pulumi.Input<pulumi.Resource>[] = [];
  private readonly baseDeps: pulumi.Input<pulumi.Resource>[];
  private seal!: (v: { entries: ObjectEntry[]; deps: pulumi.Input<pulumi.Resource>[] }) => void;
  private registered = false;

  constructor(a: BundleObjectsArgs) {
    this.mode = a.mode;
    this.namespace = a.namespace;
    this.baseDeps = toArray(a.opts.dependsOn);
    if (a.mode !== "bundled") return;
    // The chart the provider loads from its relative path: written before the release is registered.
    writeObjectsChart(PROJECT_DIR);
    const sealed = new Promise<{ entries: ObjectEntry[]; deps: pulumi.Input<pulumi.Resource>[] }>((r) => (this.seal = r));
    const values = sealed.then((s) => objectsValues(this.namespace, s.entries));
    const release: k8s.helm.v3.Release = new k8s.helm.v3.Release(
      a.resourceName,
      {
        name: OBJECTS_RELEASE,
        namespace: a.namespace,
        chart: OBJECTS_CHART.path,
        version: OBJECTS_CHART.version,
        // A promise of plain values whose leaves are Inputs: an Output unknown during preview
        // stays unknown at its leaf, not the whole `values` (the policies judge the rest).
        values,
        // Not atomic: a failed install or upgrade would uninstall or roll back every object,
        // the NetworkPolicies, quota and objects adopted from Pulumi included, and unrelated
        // changes with them. A failure leaves the release `failed` with its objects in place; the
        // next `up` upgrades it (Helm ≥ 3.17 upgrades a release whose only revision failed).
        atomic: false,
        timeout: HELM_DEFAULTS.timeout,
        maxHistory: HELM_DEFAULTS.maxHistory,
      },
      { ...a.opts, dependsOn: sealed.then((s): Promise<pulumi.Input<pulumi.Resource>[]> => withoutRelease(s.deps, () => release)) as Promise<pulumi.Input<pulumi.Resource>[]> as pulumi.Input<pulumi.Input<pulumi.Resource>[]> },
    );
    this.release = release;
  }

  /** Whether objects become entries of the objects release. */
  get bundled(): boolean {
    return this.mode === "bundled";
  }

  /** What a resource that must come after the bundle's objects adds to its `dependsOn`: the objects release when bundled, else nothing (today's resources keep today's dependencies). */
  after(): pulumi.Resource[] {
    return this.release ? [this.release] : [];
  }

  /**
   * Declares one object: its own resource (`resources`, `adopting`) or an entry of the objects
   * release (`bundled`). Returns what dependents put in `dependsOn`: the resource, or the release.
   */
  add<A extends Record<string, any>>(cls: ObjectClass<A>, name: string, args: A, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const type = objectType(cls, args);
    const refused = NEVER_BUNDLED[type];
    if (refused) throw new Error(`${type} ${name}: never one of a bundle's objects (${refused}); create it as its own resource`);
    if (type === "kubernetes:apps/v1:StatefulSet" && (!isPlainObject(args.spec) || args.spec.volumeClaimTemplates !== undefined)) {
      throw new Error(`${type} ${name}: a StatefulSet with volumeClaimTemplates holds data; create it as its own resource`);
    }
    if (this.mode === "resources") return new cls(name, args, opts);
    if (this.registered) throw new Error(`objects of ${this.namespace}: ${type} ${name} added after they were registered`);
    const md = args.metadata;
    if (!isPlainObject(md) || typeof md.name !== "string" || md.namespace !== this.namespace) {
      throw new Error(`${type} ${name}: metadata must be a plain object with a literal name and namespace ${this.namespace} (an object of the bundle's namespace)`);
    }
    if (this.mode === "adopting") {
      const own = helmOwnership(this.namespace);
      const adopted = { ...args, metadata: { ...md, labels: mergeMap(md.labels, own.labels), annotations: mergeMap(md.annotations, own.annotations) } };
      return new cls(name, adopted, { ...opts, retainOnDelete: true });
    }
    for (const [k, v] of Object.entries(opts)) {
      if (!BUNDLED_OPTIONS.has(k) && v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)) throw new Error(`${type} ${name}: option ${k} cannot be kept by a bundled object`);
    }
    const deps = toArray(opts.dependsOn);
    for (const d of deps) {
      if (k8s.helm.v3.Release.isInstance(d) && d !== this.release) {
        throw new Error(`${type} ${name}: a bundled object cannot wait for a Helm release (the apps' releases come after the objects release: a cycle)`);
      }
    }
    const { apiVersion, kind } = apiVersionKindOf(type);
    const { apiVersion: _a, kind: _k, ...rest } = args as Record<string, any>;
    if (this.entries.some((e) => e.type === type && e.name === md.name)) throw new Error(`objects of ${this.namespace}: ${type} ${md.name} added twice`);
    this.entries.push({ type, name: md.name, manifest: { apiVersion, kind, ...rest } });
    this.deps.push(...deps);
    return this.release!;
  }

  /** Seals the objects release (`bundled`): its values and dependencies are known from now on. Call once, after every module added its objects. */
  register(): k8s.helm.v3.Release | undefined {
    if (this.registered) throw new Error(`objects of ${this.namespace}: registered twice`);
    this.registered = true;
    if (!this.release) return undefined;
    this.seal({ entries: [...this.entries], deps: [...this.baseDeps, ...this.deps] });
    return this.release;
  }

  /** The bundled objects so far, by type and name. */
  get declared(): Array<{ type: string; name: string }> {
    return this.entries.map((e) => ({ type: e.type, name: e.name }));
  }
}

/** A collector in `resources` mode: each object its own resource (the shared instance, the platform, a module given no collector). */
export const ownResources = (namespace = ""): BundleObjects => new BundleObjects({ mode: "resources", namespace, resourceName: "", opts: {} });

/** The release's values: its objects in a stable order (type, then name); rejects, naming the object, when one holds a secret. */
export async function objectsValues(namespace: string, entries: ObjectEntry[]): Promise<{ objects: Record<string, unknown>[] }> {
  const sorted = [...entries].sort((x, y) => x.type.localeCompare(y.type) || x.name.localeCompare(y.name));
  const outputs = sorted.map((e) => pulumi.output(e.manifest));
  // The SDK's own reader of an Output's resources (marked internal in @pulumi/pulumi's output.ts; absent: the check is skipped).
  const resourcesOf = (pulumi as unknown as { getAllResources?: (o: pulumi.Output<unknown>) => Promise<Set<pulumi.Resource>> }).getAllResources;
  for (let i = 0; i < sorted.length; i++) {
    const out = outputs[i] as pulumi.Output<unknown>;
    if (await pulumi.isSecret(out)) {
      throw new Error(`objects release of ${namespace}: ${sorted[i].type} ${sorted[i].name} carries a secret value; secrets never go in values (reference a Secret instead)`);
    }
    // An Output of a Helm release would make the objects release wait for it, and the apps' releases wait for the objects release: a cycle.
    if (resourcesOf && [...(await resourcesOf(out))].some((r) => k8s.helm.v3.Release.isInstance(r))) {
      throw new Error(`objects release of ${namespace}: ${sorted[i].type} ${sorted[i].name} carries an Output of a Helm release (the apps' releases come after the objects release: a cycle)`);
    }
  }
  // The manifests as they are (their leaves Inputs): the SDK serialises each leaf, so one Output
  // unknown during preview leaves the rest of the objects known to the policies.
  return { objects: sorted.map((e) => e.manifest as Record<string, unknown>) };
}

/** The release's dependencies: its objects' own, without the release itself (directly or through a promise, e.g. a route's Gateway) and without duplicates. */
async function withoutRelease(deps: pulumi.Input<pulumi.Resource>[], release: () => pulumi.Resource): Promise<pulumi.Input<pulumi.Resource>[]> {
  const out: pulumi.Input<pulumi.Resource>[] = [];
  for (const d of deps) {
    const r = pulumi.Output.isInstance(d) ? d : await d;
    if (r === release() || out.includes(r)) continue;
    out.push(r);
  }
  return out;
}
