/**
 * The one way this program makes a Namespace.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export interface NamespaceArgs {
  /** The namespace's name (`metadata.name`). */
  name: string;
  /** Labels. Defaults to none. */
  labels?: Record<string, string>;
  /** Annotations. Defaults to none. */
  annotations?: Record<string, string>;
}

/**
 * A Namespace named `a.name`, registered as `resourceName` (callers keep their resource names, so
 * their URNs). Whether it is protected is the caller's choice (`opts`): a namespace holding data
 * (PVCs, databases) must be `protect` + `retainOnDelete`.
 */
export function namespace(resourceName: string, a: NamespaceArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    resourceName,
    { metadata: { name: a.name, ...(a.labels ? { labels: a.labels } : {}), ...(a.annotations ? { annotations: a.annotations } : {}) } },
    opts,
  );
}
