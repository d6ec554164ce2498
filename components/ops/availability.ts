/**
 * No single point of failure: replicas spread over nodes and PodDisruptionBudgets, so that a
 * k0sctl drain (upgrades) or a kured reboot never takes a shared service down.
 *
 * Rules used everywhere:
 * - a budget exists only where there are at least 2 replicas (`minAvailable: 1`); a budget on a
 *   single replica would block every drain (k0sctl gives up after its drain timeout);
 * - spread = `topologySpreadConstraints` over `kubernetes.io/hostname`, `maxSkew: 1`,
 *   `DoNotSchedule`: two replicas never share a node while two eligible nodes exist, and a
 *   one-node dev cluster still schedules (skew is computed over eligible nodes only).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Estate, Tenant } from "../config";
import { cloudNodes } from "../hetzner/nodes";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";

export const HOSTNAME_TOPOLOGY = "kubernetes.io/hostname";

/** Replicas of a shared (estate-wide) service. Default 2: the estate's floor for shared services. */
export const SHARED_REPLICAS = 2;

/** Instances of a tenant's apps and databases: 2 with `ha` (explicit, or above `operations.haAboveUsers` users). */
export const tenantInstances = (t: Pick<Tenant, "ha">): number => (t.ha ? 2 : 1);

/** The topology spread of a workload's pods over nodes. */
export function spreadOverNodes(matchLabels: Record<string, string>): k8s.types.input.core.v1.TopologySpreadConstraint[] {
  return [{ maxSkew: 1, topologyKey: HOSTNAME_TOPOLOGY, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels } }];
}

/** The spec of a budget for `replicas` pods, or undefined when a budget would block drains (fewer than 2). */
export function budgetSpec(replicas: number, matchLabels: Record<string, string>): k8s.types.input.policy.v1.PodDisruptionBudgetSpec | undefined {
  if (replicas < 2) return undefined;
  return { minAvailable: 1, selector: { matchLabels }, unhealthyPodEvictionPolicy: "AlwaysAllow" };
}

/** A PodDisruptionBudget for `replicas` pods (none below 2 replicas, see budgetSpec), one of a bundle's `objects` when given (components/kit/bundleObjects.ts). */
export function podDisruptionBudget(
  name: string,
  a: { name: string; namespace: pulumi.Input<string>; replicas: number; matchLabels: Record<string, string>; labels?: Record<string, string> },
  opts: pulumi.CustomResourceOptions,
  objects: BundleObjects = ownResources(),
): pulumi.CustomResource | undefined {
  const spec = budgetSpec(a.replicas, a.matchLabels);
  if (!spec) return undefined;
  return objects.add(k8s.policy.v1.PodDisruptionBudget, name, { metadata: { name: a.name, namespace: a.namespace, labels: a.labels }, spec }, opts);
}

/** Schedulable nodes (not being reset) in the given pools. */
export function nodesIn(estate: Estate, pools: string[]): number {
  const cloud = cloudNodes(estate).filter((n) => pools.includes(n.pool) && !n.reset && n.role !== "controller").length;
  const dedicated = estate.dedicatedServers.filter((d) => pools.includes(d.pool) && !d.reset).length;
  return cloud + dedicated;
}

/** CloudNativePG settings of a cluster with `instances`: its own budgets and required anti-affinity from 2 instances on. */
export function cnpgAvailability(instances: number): Record<string, unknown> {
  // With one instance, CloudNativePG's primary budget would block every drain: off.
  if (instances < 2) return { enablePDB: false };
  return { enablePDB: true, affinity: { enablePodAntiAffinity: true, podAntiAffinityType: "required", topologyKey: HOSTNAME_TOPOLOGY } };
}
