/**
 * The one way this program installs a chart: a Helm release of a pin of components/versions.ts,
 * with one set of defaults.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { chartArgs, type ChartPin } from "../versions";

/** Defaults of every release: a failed install or upgrade is rolled back, never left half-applied. */
export const HELM_DEFAULTS = {
  atomic: true,
  /** Seconds Helm waits for the release's objects (the largest charts: Nextcloud, Synapse). */
  timeout: 900,
  /** Release revisions kept (rollback targets) in the release's namespace. */
  maxHistory: 5,
} as const;

export interface HelmReleaseArgs {
  /** Helm release name (stable, never auto-suffixed). */
  releaseName: string;
  namespace: pulumi.Input<string>;
  values: pulumi.Input<Record<string, unknown>>;
  /** Seconds to wait. Defaults to `HELM_DEFAULTS.timeout` (900). */
  timeout?: number;
}

/** A Helm release of a pinned chart (chart, version and repository from the pin; values visible to tests and policies). */
export function helmRelease(resourceName: string, pin: ChartPin, a: HelmReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    resourceName,
    {
      name: a.releaseName,
      namespace: a.namespace,
      ...chartArgs(pin),
      values: a.values,
      atomic: HELM_DEFAULTS.atomic,
      timeout: a.timeout ?? HELM_DEFAULTS.timeout,
      maxHistory: HELM_DEFAULTS.maxHistory,
    },
    opts,
  );
}
