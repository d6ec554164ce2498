/**
 * The estate's Hetzner Cloud firewall rules, as pure data (tested directly).
 *
 * Hetzner firewalls filter only public interfaces: traffic between nodes on the private
 * network (cloud subnet and the vSwitch subnet of the dedicated servers) is not filtered,
 * which is where k0s, etcd, kubelet and the pod network talk. Once a firewall applies to a
 * server, every inbound port not allowed by one of its firewalls is closed.
 */
import type * as pulumi from "@pulumi/pulumi";

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

export interface RuleSpec {
  description: string;
  direction: "in";
  protocol: "tcp" | "udp" | "icmp";
  port?: string;
  sourceIps: pulumi.Input<string>[];
}

/** Firewall names → rules; which servers each applies to is decided in compute.ts. */
export interface FirewallPlan {
  /** Every cloud node: SSH from the admins, ICMP. */
  base: RuleSpec[];
  /** Controllers: Kubernetes API from the admins, k0s control plane ports from node addresses. */
  controllers: RuleSpec[];
  /** Ingress nodes (label liiibre.org/ingress): HTTP/HTTPS from anywhere. */
  ingress: RuleSpec[];
  /** Media nodes (label liiibre.org/media): Jitsi videobridge UDP from anywhere. */
  media: RuleSpec[];
}

/** The k0s ports a node reaches on controllers when it uses their public address (join, konnectivity). */
export const K0S_CONTROLLER_PORTS = [
  { port: "6443", what: "Kubernetes API" },
  { port: "8132", what: "konnectivity" },
  { port: "9443", what: "k0s controller join API" },
] as const;

/** Jitsi videobridge media port (UDP). */
export const JVB_UDP_PORT = "10000";

/**
 * @param adminCidrs `hetzner.adminCidrs`
 * @param nodeAddresses public IPv4 addresses of every node, cloud and dedicated (a /32 each):
 *   workers joining through `cluster.apiDomain` reach the controllers over the public network.
 */
export function firewallPlan(adminCidrs: string[], nodeAddresses: pulumi.Input<string>[]): FirewallPlan {
  const nodes = nodeAddresses;
  return {
    base: [
      { description: "SSH from admins (k0sctl, operators)", direction: "in", protocol: "tcp", port: "22", sourceIps: [...adminCidrs] },
      { description: "ICMP (path MTU discovery, ping)", direction: "in", protocol: "icmp", sourceIps: [...ANYWHERE] },
    ],
    controllers: [
      { description: "Kubernetes API from admins", direction: "in", protocol: "tcp", port: "6443", sourceIps: [...adminCidrs] },
      ...K0S_CONTROLLER_PORTS.map(
        (p): RuleSpec => ({ description: `${p.what} from cluster nodes' public addresses`, direction: "in", protocol: "tcp", port: p.port, sourceIps: nodes }),
      ),
    ],
    ingress: [
      { description: "HTTP (ACME HTTP-01, redirect to HTTPS)", direction: "in", protocol: "tcp", port: "80", sourceIps: [...ANYWHERE] },
      { description: "HTTPS", direction: "in", protocol: "tcp", port: "443", sourceIps: [...ANYWHERE] },
    ],
    media: [{ description: "Jitsi videobridge media", direction: "in", protocol: "udp", port: JVB_UDP_PORT, sourceIps: [...ANYWHERE] }],
  };
}
