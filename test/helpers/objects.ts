/**
 * A plan's Kubernetes objects whichever way they are declared: each its own resource, or an entry
 * of a bundle's objects release (`kubernetesObjects: bundled`; components/kit/objects.ts
 * `bundledObjects`, the contract every reader uses). Tests that look for "the Deployment of X"
 * read them here.
 */
import { bundledObjectUrn, bundledObjects } from "../../components/kit/objects";

interface RecordLike {
  urn: string;
  type: string;
  name: string;
  parent?: string | null;
  inputs: Record<string, unknown>;
  dependsOn?: string[];
}

/**
 * The records with each objects release expanded: every entry of its `values.objects` becomes a
 * record of its own type, named by its Kubernetes name, with the release as parent, its manifest
 * as inputs (the same object: changing it changes the release's values) and `bundledObjectUrn` as
 * URN. The release stays. `bundled` tells the entries apart.
 */
export function withBundledObjects<R extends RecordLike>(rs: readonly R[]): Array<R & { bundled?: true }> {
  const out: Array<R & { bundled?: true }> = [];
  for (const r of rs) {
    out.push(r);
    for (const o of bundledObjects(r.type, r.inputs)) out.push({ ...r, urn: bundledObjectUrn(r.urn, o), type: o.type, name: o.name, parent: r.urn, inputs: o.props, dependsOn: [], bundled: true });
  }
  return out;
}

/** The Kubernetes objects of one type (of `tenant` when given), bundled ones included. */
export function objectsOfType<R extends RecordLike & { tenant?: string | null }>(rs: readonly R[], type: string, tenant?: string): Array<R & { bundled?: true }> {
  return withBundledObjects(rs.filter((r) => tenant === undefined || r.tenant === tenant)).filter((r) => r.type === type);
}

/**
 * A manifest without Helm's keep policy (`HELM_KEEP`), its annotations dropped when that was the
 * only one: what the isolation objects of a bundled organisation are beside their own resources.
 */
export function withoutKeep<T extends Record<string, any>>(manifest: T): T {
  const a = manifest?.metadata?.annotations;
  if (!a || a["helm.sh/resource-policy"] !== "keep") return manifest;
  const { "helm.sh/resource-policy": _keep, ...rest } = a;
  const { annotations: _a, ...md } = manifest.metadata;
  return { ...manifest, metadata: Object.keys(rest).length ? { ...md, annotations: rest } : md };
}
