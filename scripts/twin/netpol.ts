/**
 * A NetworkPolicy evaluator (networking.k8s.io/v1 semantics, as the upstream e2e truth tables
 * define them; test/twin-netpol.test.ts runs those cases).
 *
 * - A pod is isolated for a direction when some policy of its namespace selects it and lists
 *   that direction in `policyTypes` (default: Ingress, plus Egress when `egress` is given).
 * - A connection is allowed when the source's egress allows it AND the destination's ingress
 *   allows it; policies are additive (a union of allows), there is no deny rule.
 * - Peers: `podSelector` alone selects pods of the policy's namespace, `namespaceSelector` alone
 *   every pod of the selected namespaces, both together the selected pods of the selected
 *   namespaces; `ipBlock` matches addresses (pod addresses included) minus `except`.
 * - Ports: no `ports` means every port; a port entry matches its protocol (default TCP) and its
 *   number, a range `port..endPort`, or a named port resolved against the destination pod's
 *   container ports; an entry without `port` matches every port of its protocol.
 * - Pods with `hostNetwork` are not selected by any policy: their traffic is the node's, seen
 *   by policies as the node's address (a `namespaceSelector` never matches it).
 * - Services: evaluate after DNAT (kube-router filters the translated packet): the destination
 *   is the backend pod and its target port, or the API server's address and port 6443.
 */
import { inCidr, matchesSelector, type LabelSelector } from "./kube";

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface NetPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  hostNetwork?: boolean;
  /** Address of the node the pod runs on (a hostNetwork pod's traffic comes from it). */
  nodeIp?: string;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

export interface NetNamespace {
  name: string;
  labels: Record<string, string>;
}

export interface NetPolicy {
  name: string;
  namespace: string;
  spec: {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: Array<{ from?: NetPeerSpec[]; ports?: NetPortSpec[] }>;
    egress?: Array<{ to?: NetPeerSpec[]; ports?: NetPortSpec[] }>;
  };
}

export interface NetPeerSpec {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetPortSpec {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

/** An end of a connection: a pod, or a bare address (node, controller, Internet host). */
export type Endpoint = { pod: NetPod } | { ip: string; label?: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: Protocol;
  /** Skip the destination's side once the source's egress refuses (the verdict is the same; fewer explanations). */
  stopAtFirstDenial?: boolean;
}

export interface Verdict {
  allowed: boolean;
  /** Which side refused: `egress` (the source's policies) or `ingress` (the destination's). */
  deniedBy?: "egress" | "ingress";
  /** Policies that allowed each direction (empty when the pod is not isolated). */
  egressAllowedBy: string[];
  ingressAllowedBy: string[];
  /** When refused: the policies (`namespace/name`) isolating the refusing side's pod in that direction. */
  isolatedBy?: string[];
}

const typesOf = (p: NetPolicy): string[] => p.spec.policyTypes ?? (p.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
const podOf = (e: Endpoint): NetPod | undefined => ("pod" in e && !e.pod.hostNetwork ? e.pod : undefined);
/** The address policies see for an endpoint. */
const addressOf = (e: Endpoint): string => ("pod" in e ? (e.pod.hostNetwork ? (e.pod.nodeIp ?? e.pod.ip) : e.pod.ip) : e.ip);

export class NetworkModel {
  private readonly nsLabels: Map<string, Record<string, string>>;
  private readonly byNamespace = new Map<string, NetPolicy[]>();

  constructor(namespaces: NetNamespace[], policies: NetPolicy[]) {
    // The API server labels every namespace with its name (immutable label, Kubernetes ≥ 1.21).
    this.nsLabels = new Map(namespaces.map((n) => [n.name, { ...n.labels, "kubernetes.io/metadata.name": n.name }]));
    for (const p of policies) this.byNamespace.set(p.namespace, [...(this.byNamespace.get(p.namespace) ?? []), p]);
  }

  private readonly selectingMemo = new WeakMap<NetPod, { Ingress?: NetPolicy[]; Egress?: NetPolicy[] }>();
  private selecting(pod: NetPod, direction: "Ingress" | "Egress"): NetPolicy[] {
    let m = this.selectingMemo.get(pod);
    if (!m) {
      m = {};
      this.selectingMemo.set(pod, m);
    }
    return (m[direction] ??= (this.byNamespace.get(pod.namespace) ?? []).filter((p) => typesOf(p).includes(direction) && matchesSelector(p.spec.podSelector ?? {}, pod.labels)));
  }

  /**
   * The policies isolating a pod in a direction, as a key: pods with the same key are treated
   * alike by their own namespace's policies (for egress: whatever their labels).
   */
  policyKey(pod: NetPod, direction: "Ingress" | "Egress"): string {
    return pod.hostNetwork ? "hostNetwork" : this.selecting(pod, direction).map((p) => `${p.namespace}/${p.name}`).join(",");
  }

  private peerMatches(peer: NetPeerSpec, policyNs: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      const ip = addressOf(other);
      return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c));
    }
    const pod = podOf(other);
    if (!pod) return false;
    if (peer.namespaceSelector) {
      if (!matchesSelector(peer.namespaceSelector, this.nsLabels.get(pod.namespace) ?? { "kubernetes.io/metadata.name": pod.namespace })) return false;
    } else if (pod.namespace !== policyNs) return false;
    return peer.podSelector ? matchesSelector(peer.podSelector, pod.labels) : true;
  }

  private portMatches(ports: NetPortSpec[] | undefined, port: number, protocol: Protocol, dest: Endpoint): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? "TCP") !== protocol) return false;
      if (p.port === undefined || p.port === null) return true;
      if (typeof p.port === "string" && !/^\d+$/.test(p.port)) {
        const pod = podOf(dest);
        return !!pod?.ports?.some((c) => c.name === p.port && (c.protocol ?? "TCP") === protocol && c.containerPort === port);
      }
      const n = Number(p.port);
      return p.endPort !== undefined ? port >= n && port <= p.endPort : port === n;
    });
  }

  evaluate(c: Connection): Verdict {
    const protocol = c.protocol ?? "TCP";
    const src = podOf(c.from);
    const dst = podOf(c.to);
    const egressAllowedBy: string[] = [];
    const ingressAllowedBy: string[] = [];
    let egressOk = true;
    if (src) {
      const pols = this.selecting(src, "Egress");
      if (pols.length) {
        for (const p of pols)
          if ((p.spec.egress ?? []).some((r) => (!r.to || r.to.length === 0 || r.to.some((peer) => this.peerMatches(peer, p.namespace, c.to))) && this.portMatches(r.ports, c.port, protocol, c.to)))
            egressAllowedBy.push(`${p.namespace}/${p.name}`);
        egressOk = egressAllowedBy.length > 0;
      }
    }
    let ingressOk = true;
    const isolating = (pod: NetPod | undefined, d: "Ingress" | "Egress") => (pod ? this.selecting(pod, d).map((p) => `${p.namespace}/${p.name}`).sort() : []); // sorted: declaration order says nothing
    if (!egressOk && c.stopAtFirstDenial) return { allowed: false, deniedBy: "egress", egressAllowedBy, ingressAllowedBy, isolatedBy: isolating(src, "Egress") };
    if (dst) {
      const pols = this.selecting(dst, "Ingress");
      if (pols.length) {
        for (const p of pols)
          if ((p.spec.ingress ?? []).some((r) => (!r.from || r.from.length === 0 || r.from.some((peer) => this.peerMatches(peer, p.namespace, c.from))) && this.portMatches(r.ports, c.port, protocol, c.to)))
            ingressAllowedBy.push(`${p.namespace}/${p.name}`);
        ingressOk = ingressAllowedBy.length > 0;
      }
    }
    const deniedBy = !egressOk ? "egress" : !ingressOk ? "ingress" : undefined;
    return { allowed: egressOk && ingressOk, deniedBy, egressAllowedBy, ingressAllowedBy, ...(deniedBy ? { isolatedBy: deniedBy === "egress" ? isolating(src, "Egress") : isolating(dst, "Ingress") } : {}) };
  }
}
