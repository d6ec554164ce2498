/**
 * Config rules of the cluster (components/k0s): its pod and service ranges are disjoint from
 * each other and from the nodes' network. Tenant NetworkPolicies admit the nodes' range
 * (hostNetwork ingress), so that range must hold no pod or service. Assembled by
 * components/estate.ts.
 */
import { cidrBlock as block, overlaps } from "../cidr";
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import type { Rule } from "../config/rules";

export const clusterNetworkRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const nodes = block(e.hetzner.network.ipRange);
  for (const k of ["podCIDR", "serviceCIDR"] as const) {
    if (overlaps(block(e.cluster.network[k]), nodes)) {
      out.push({ path: keyPath(["cluster", "network", k]), message: `expected a range disjoint from the nodes' network ${e.hetzner.network.ipRange} (liiibre:hetzner.network.ipRange), got ${describe(e.cluster.network[k])}` });
    }
  }
  if (overlaps(block(e.cluster.network.podCIDR), block(e.cluster.network.serviceCIDR))) {
    out.push({ path: keyPath(["cluster", "network", "serviceCIDR"]), message: `expected a range disjoint from the pod CIDR ${e.cluster.network.podCIDR} (liiibre:cluster.network.podCIDR), got ${describe(e.cluster.network.serviceCIDR)}` });
  }
  return out;
};
