/**
 * Shared bits of the platform add-ons: namespaces, Helm release helper, node placement.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS, NAMESPACES, PLATFORM } from "../conventions";
import { chartArgs, type ChartPin } from "../versions";

/** Namespaces of the platform layer (names: conventions.ts NAMESPACES). */
export const PLATFORM_NAMESPACES = {
  /** The edge controller (Traefik) and its error pages. */
  ingress: PLATFORM.ingressNamespace,
  certManager: NAMESPACES.certManager,
  monitoring: NAMESPACES.monitoring,
  /** Cluster-wide helpers without their own namespace (local volume provisioner). */
  platform: NAMESPACES.platform,
  /** hcloud CCM and CSI live with the other cluster components. */
  system: NAMESPACES.system,
} as const;

/** Toleration for a pool taint `<label>=true:NoSchedule` (the convention of Pulumi.prod.yaml). */
export const tolerate = (labelKey: string) => ({ key: labelKey, operator: "Equal", value: "true", effect: "NoSchedule" });
/** Tolerate every taint: node agents (log shipper, CSI node plugin, provisioners) run everywhere. */
export const TOLERATE_ALL = [{ operator: "Exists" }];

export function platformNamespace(
  name: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  opts: pulumi.CustomResourceOptions = {},
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    name,
    { metadata: { name, labels: { [LABELS.layer]: "platform" } } },
    { parent, provider, ...opts },
  );
}

export interface ReleaseSpec {
  pin: ChartPin;
  namespace: pulumi.Input<string>;
  values: pulumi.Input<Record<string, unknown>>;
}

/** A Helm release with the pinned chart, version and repository (values visible to tests and policies). */
export function release(name: string, spec: ReleaseSpec, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      ...chartArgs(spec.pin),
      namespace: spec.namespace,
      values: spec.values,
      // Fail the apply if the release does not become ready, and roll back.
      atomic: true,
      timeout: 600,
      maxHistory: 5,
    },
    opts,
  );
}
