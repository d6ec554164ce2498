/**
 * Stack outputs of the compute layer: nodes grouped by role and location, and the public
 * addresses DNS records of the apps must point to (ingress nodes).
 */
import type * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "../conventions";
import type { Host } from "./hosts";

export interface NodeOutput {
  name: string;
  kind: "cloud" | "dedicated";
  pool: string;
  publicIpv4: string;
  publicIpv6?: string;
  privateIpv4: string;
  reset?: true;
}

/** `{ [role]: { [location]: NodeOutput[] } }`, nodes sorted by name. */
export function nodesByRoleAndLocation(hosts: Host[]): pulumi.Output<Record<string, Record<string, NodeOutput[]>>> {
  const sorted = [...hosts].sort((a, b) => a.name.localeCompare(b.name));
  return pulumi
    .all(sorted.map((h) => pulumi.all([h.publicIpv4, h.publicIpv6 ?? pulumi.output(undefined), h.privateIpv4])))
    .apply((addrs) => {
      const out: Record<string, Record<string, NodeOutput[]>> = {};
      sorted.forEach((h, i) => {
        const [v4, v6, priv] = addrs[i];
        const node: NodeOutput = { name: h.name, kind: h.kind, pool: h.pool, publicIpv4: v4, privateIpv4: priv };
        if (v6) node.publicIpv6 = v6;
        if (h.reset) node.reset = true;
        ((out[h.role] ??= {})[h.location] ??= []).push(node);
      });
      return out;
    });
}

/**
 * Where the apps' A/AAAA records point. `hostNetwork` ingress (default): the public addresses
 * of the ingress nodes (label liiibre.org/ingress=true) still in the cluster. `loadBalancer`
 * ingress: the addresses of the Hetzner Load Balancer (HetznerCompute.ingressLoadBalancer).
 */
export function ingressAddresses(hosts: Host[], loadBalancer?: hcloud.LoadBalancer): pulumi.Output<{ ipv4: string[]; ipv6: string[] }> {
  if (loadBalancer) return pulumi.all([loadBalancer.ipv4, loadBalancer.ipv6]).apply(([v4, v6]) => ({ ipv4: [v4], ipv6: v6 ? [v6] : [] }));
  const ingress = hosts.filter((h) => h.labels[LABELS.nodeIngress] === "true" && !h.reset).sort((a, b) => a.name.localeCompare(b.name));
  return pulumi
    .all([pulumi.all(ingress.map((h) => h.publicIpv4)), pulumi.all(ingress.map((h) => h.publicIpv6 ?? pulumi.output("")))])
    .apply(([v4, v6]) => ({ ipv4: v4, ipv6: v6.filter((a) => a !== "") }));
}
