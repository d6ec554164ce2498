/**
 * Kubernetes objects declared the two ways a bundle can declare them (docs/scaling.md,
 * `kubernetesObjects`): each as a resource of its own, or all as entries of one objects release
 * of the bundle (components/kit/objects.ts: the release `${slug}-objects` of our own chart,
 * `values.objects`). Hand-built, as the spec writes them: the same manifests either way, so that
 * a test can ask whether the policy pack judges them alike.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { OBJECTS_RELEASE, isObjectsRelease, pulumiTypeOf } from "../../components/kit/objects";
import { objectsReleaseInputs } from "./bundle-objects";
import { ANNOTATIONS, LABELS } from "../../components/conventions";
import type { Violation } from "../../scripts/check-policies";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export type How = "resources" | "bundled";

/** A Kubernetes object as a resource of its own: its type token, its manifest as inputs (what the typed classes record). */
export class ObjectResource extends pulumi.CustomResource {
  constructor(type: string, name: string, manifest: Record<string, unknown>, opts: pulumi.CustomResourceOptions = {}) {
    super(type, name, manifest, opts);
  }
}

/** The owner component of a dedicated organisation's bundle (components/attribution.ts attributes by it). */
export const bundleOwner = (slug: string): pulumi.ComponentResource => new pulumi.ComponentResource("liiibre:tenant:Tenant", slug, {}, {});

/** Resource name of a manifest declared as a resource of its own. */
export const resourceName = (slug: string, m: Pick<Manifest, "kind" | "metadata">) => `${slug}-${m.kind.toLowerCase()}-${m.metadata.name}`;

/** Resource name of a bundle's objects release. */
export const objectsReleaseName = (slug: string) => `${slug}-objects`;

/**
 * Declares `manifests` under the bundle owner `parent`: as resources of their own (the type token
 * each would have, its manifest as inputs, like the typed classes record), or as one objects
 * release in `namespace` (what `kubernetesObjects: bundled` makes). `opts` go to each resource,
 * or to the release.
 */
export function declareObjects(
  how: How,
  slug: string,
  namespace: string,
  manifests: Manifest[],
  parent: pulumi.Resource,
  opts: pulumi.CustomResourceOptions = {},
): void {
  if (how === "resources") {
    for (const m of manifests) new ObjectResource(pulumiTypeOf(m.apiVersion, m.kind), resourceName(slug, m), { ...m }, { parent, ...opts });
    return;
  }
  const inputs = objectsReleaseInputs(namespace, manifests);
  if (!isObjectsRelease("kubernetes:helm.sh/v3:Release", inputs)) throw new Error("fixture: not an objects release");
  new k8s.helm.v3.Release(objectsReleaseName(slug), inputs as k8s.helm.v3.ReleaseArgs, { parent, ...opts });
}

/** A tenant namespace as the bundles label it (its own resource, protected, as the program declares it). */
export function tenantNamespace(slug: string, parent: pulumi.Resource, extra: { users?: number; quota?: number; plan?: string; labels?: Record<string, string> } = {}): Manifest {
  const m: Manifest = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: slug,
      labels: { [LABELS.tenant]: slug, [LABELS.layer]: "tenant", ...(extra.labels ?? {}) },
      annotations: { [ANNOTATIONS.plan]: extra.plan ?? "dedicated", [ANNOTATIONS.users]: String(extra.users ?? 20), [ANNOTATIONS.quotaPerUserGB]: String(extra.quota ?? 10) },
    },
  };
  new k8s.core.v1.Namespace(`${slug}-namespace`, { metadata: m.metadata }, { parent, protect: true });
  return m;
}

/** The label violations of a bundled object carry: `liiibre-objects/<Kind>/<name>`, with its namespace when it is not the release's. */
export const objectLabel = (m: Pick<Manifest, "kind" | "metadata">, releaseNamespace?: string) =>
  `${OBJECTS_RELEASE}/${m.kind}/${m.metadata.namespace !== undefined && m.metadata.namespace !== releaseNamespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name}`;

/**
 * The violations of `policy` in a run where `subjects` were declared as resources of their own,
 * rewritten as they must read when the same subjects are bundled in `slug`'s objects release:
 * a violation on a subject's resource moves to the release, its message prefixed with the
 * object's label; every other violation stays as it is. Sorted, comparable with `toEqual`.
 * The release is in `namespace` (default: the slug, as `declareObjects` is called by the tests).
 */
export function asBundled(violations: Violation[], policy: string, slug: string, subjects: Manifest[], namespace = slug): Array<Pick<Violation, "level" | "message" | "tenant"> & { on: string }> {
  const byName = new Map(subjects.map((m) => [resourceName(slug, m), m]));
  return violations
    .filter((v) => v.policy === policy)
    .map((v) => {
      const name = v.urn ? v.urn.slice(v.urn.lastIndexOf("::") + 2) : "<stack>";
      const m = byName.get(name);
      return m ? { on: objectsReleaseName(slug), level: v.level, message: `${objectLabel(m, namespace)}: ${v.message}`, tenant: v.tenant } : { on: name, level: v.level, message: v.message, tenant: v.tenant };
    })
    .sort((a, b) => `${a.on} ${a.message}`.localeCompare(`${b.on} ${b.message}`));
}

/** The violations of `policy`, in the shape `asBundled` gives. */
export function verdicts(violations: Violation[], policy: string): Array<Pick<Violation, "level" | "message" | "tenant"> & { on: string }> {
  return asBundled(violations, policy, "\0", []);
}
