/**
 * A plan's Kubernetes objects whichever way they are declared: each its own resource, or an entry
 * of a bundle's objects release (components/kit/objects.ts `bundledObjects`, the contract every
 * reader uses). Tests that look for "the Deployment of X" read them here.
 */
import { bundledObjectUrn, bundledObjects, isObjectsRelease } from "../../components/kit/objects";

interface ResourceLike {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  tenant?: string | null;
}

export interface KubernetesObject {
  /** Pulumi type token (`kubernetes:apps/v1:Deployment`), as the object's own resource would have. */
  type: string;
  /** `metadata.name`. */
  name: string;
  /** The resource's URN, or the bundled object's identity (`bundledObjectUrn`). */
  urn: string;
  /** The resource name of the object's own resource, or of the objects release holding it. */
  resource: string;
  /** The manifest: a resource's inputs, or the entry of the release's `values.objects` (the same object: changing it changes the plan). */
  inputs: Record<string, any>;
  bundled: boolean;
  tenant?: string | null;
}

/** Every Kubernetes object of `resources` (of `tenant` when given), objects releases expanded into their entries. */
export function kubernetesObjects(resources: readonly ResourceLike[], tenant?: string): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const r of resources) {
    if (tenant !== undefined && r.tenant !== tenant) continue;
    if (isObjectsRelease(r.type, r.inputs)) {
      for (const o of bundledObjects(r.type, r.inputs)) out.push({ type: o.type, name: o.name, urn: bundledObjectUrn(r.urn, o), resource: r.name, inputs: o.props, bundled: true, tenant: r.tenant });
      continue;
    }
    if (!r.type.startsWith("kubernetes:")) continue;
    const md = (r.inputs as any).metadata;
    out.push({ type: r.type, name: typeof md?.name === "string" ? md.name : r.name, urn: r.urn, resource: r.name, inputs: r.inputs as Record<string, any>, bundled: false, tenant: r.tenant });
  }
  return out;
}

/** The objects of one type. */
export const objectsOfType = (resources: readonly ResourceLike[], type: string, tenant?: string): KubernetesObject[] => kubernetesObjects(resources, tenant).filter((o) => o.type === type);
