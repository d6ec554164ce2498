/**
 * The twin's NetworkPolicy evaluator against the published truth tables of the upstream
 * Kubernetes e2e suite: kubernetes/kubernetes test/e2e/network/netpol/network_policy.go
 * ("Netpol NetworkPolicy between server and client"). Each case below names the upstream test
 * it encodes. The model is upstream's: namespaces x, y, z; pods a, b, c in each, labelled
 * `pod=<name>`, serving TCP and UDP on ports 80 and 81 under the named ports
 * `serve-<port>-<proto>`; every pair of pods is probed, loopback is ignored (as upstream).
 * A reachability table starts all-true and the case's expectations are applied in order,
 * exactly as upstream's `ExpectPeer` / `ExpectAllIngress` / `ExpectAllEgress` / `Expect`.
 * endPort cases (not in that file) follow the API reference of NetworkPolicyPort.endPort.
 */
import { describe, expect, it } from "vitest";
import { NetworkModel, type NetPod, type NetPolicy, type NetPeerSpec, type NetPortSpec, type Protocol } from "../scripts/twin/netpol";

const NS = ["x", "y", "z"];
const PODS = ["a", "b", "c"];
const pod = (ns: string, p: string): NetPod => ({
  namespace: ns,
  name: p,
  labels: { pod: p },
  ip: `10.244.${NS.indexOf(ns) + 1}.${PODS.indexOf(p) + 10}`,
  ports: [80, 81].flatMap((port) => (["TCP", "UDP"] as const).map((proto) => ({ name: `serve-${port}-${proto.toLowerCase()}`, containerPort: port, protocol: proto }))),
});
const ALL = NS.flatMap((ns) => PODS.map((p) => pod(ns, p)));
const key = (p: NetPod) => `${p.namespace}/${p.name}`;

type Sel = { namespace?: string; pod?: string };
const m = (s: Sel, p: NetPod) => (!s.namespace || s.namespace === p.namespace) && (!s.pod || s.pod === p.name);

class Reachability {
  readonly t = new Map<string, boolean>();
  constructor() {
    for (const f of ALL) for (const to of ALL) this.t.set(`${key(f)}>${key(to)}`, true);
  }
  expectPeer(from: Sel, to: Sel, v: boolean) {
    for (const f of ALL) for (const t of ALL) if (m(from, f) && m(to, t)) this.t.set(`${key(f)}>${key(t)}`, v);
    return this;
  }
  allIngress(to: string, v: boolean) {
    const [namespace, p] = to.split("/");
    return this.expectPeer({}, { namespace, pod: p }, v);
  }
  allEgress(from: string, v: boolean) {
    const [namespace, p] = from.split("/");
    return this.expectPeer({ namespace, pod: p }, {}, v);
  }
  expect(from: string, to: string, v: boolean) {
    this.t.set(`${from}>${to}`, v);
    return this;
  }
}

const ingress = (rules: Array<{ from?: NetPeerSpec[]; ports?: NetPortSpec[] }>) => ({ ingress: rules, policyTypes: ["Ingress"] });
const egress = (rules: Array<{ to?: NetPeerSpec[]; ports?: NetPortSpec[] }>) => ({ egress: rules, policyTypes: ["Egress"] });
const pol = (name: string, namespace: string, podLabels: Record<string, string>, ...parts: Array<Partial<NetPolicy["spec"]>>): NetPolicy => {
  const spec: NetPolicy["spec"] = { podSelector: { matchLabels: podLabels } };
  for (const p of parts) {
    if (p.ingress) spec.ingress = p.ingress;
    if (p.egress) spec.egress = p.egress;
    spec.policyTypes = [...new Set([...(spec.policyTypes ?? []), ...(p.policyTypes ?? [])])];
  }
  return { name, namespace, spec };
};
const nsName = (n: string) => ({ matchLabels: { "kubernetes.io/metadata.name": n } });

function check(policies: NetPolicy[], port: number, protocol: Protocol, want: Reachability) {
  const model = new NetworkModel(NS.map((name) => ({ name, labels: {} })), policies);
  const wrong: string[] = [];
  for (const f of ALL)
    for (const t of ALL) {
      if (f === t) continue; // upstream ignores loopback
      const got = model.evaluate({ from: { pod: f }, to: { pod: t }, port, protocol }).allowed;
      const exp = want.t.get(`${key(f)}>${key(t)}`);
      if (got !== exp) wrong.push(`${key(f)} -> ${key(t)} ${protocol}/${port}: expected ${exp}, got ${got}`);
    }
  expect(wrong).toEqual([]);
}

describe("NetworkPolicy evaluator: upstream e2e truth tables (network_policy.go)", () => {
  it("should support a 'default-deny-ingress' policy", () => {
    check([pol("deny-ingress", "x", {}, ingress([]))], 80, "TCP", new Reachability().expectPeer({}, { namespace: "x" }, false));
  });
  it("should support a 'default-deny-all' policy", () => {
    const r = new Reachability().expectPeer({}, { namespace: "x" }, false).expectPeer({ namespace: "x" }, {}, false);
    check([pol("deny-all", "x", {}, ingress([]), egress([]))], 80, "TCP", r);
  });
  it("should enforce policy to allow traffic from pods within server namespace based on PodSelector", () => {
    const r = new Reachability().allIngress("x/a", false).expect("x/b", "x/a", true);
    check([pol("x-a-allows-x-b", "x", { pod: "a" }, ingress([{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy to allow ingress traffic for a target", () => {
    const r = new Reachability().allIngress("x/a", true).allIngress("x/b", false).allIngress("x/c", false);
    check([pol("deny-all", "x", {}, ingress([])), pol("allow-all-to-a", "x", { pod: "a" }, ingress([{ from: [{ podSelector: {}, namespaceSelector: {} }] }]))], 80, "TCP", r);
  });
  it("should enforce policy to allow ingress traffic from pods in all namespaces", () => {
    check([pol("allow-from-another-ns", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: { matchLabels: {} } }] }]))], 80, "TCP", new Reachability());
  });
  it("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector", () => {
    const r = new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expectPeer({ namespace: "z" }, { namespace: "x", pod: "a" }, false);
    check([pol("allow-client-a-via-ns-selector", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y") }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on PodSelector with MatchExpressions", () => {
    const r = new Reachability().allIngress("x/a", false).expect("x/b", "x/a", true);
    check([pol("x-a-allows-x-b", "x", { pod: "a" }, ingress([{ from: [{ podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b"] }] } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on NamespaceSelector with MatchExpressions", () => {
    const r = new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expectPeer({ namespace: "z" }, { namespace: "x", pod: "a" }, false);
    const sel = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["y"] }] };
    check([pol("allow-ns-y-match-selector", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: sel }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on PodSelector or NamespaceSelector", () => {
    const r = new Reachability().expect("x/a", "x/a", false).expect("x/c", "x/a", false);
    const notX = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] }] };
    check([pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: notX }, { podSelector: { matchLabels: { pod: "b" } } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on PodSelector and NamespaceSelector", () => {
    const r = new Reachability().allIngress("x/a", false).expect("y/b", "x/a", true).expect("z/b", "x/a", true);
    const notX = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] }] };
    check([pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: notX, podSelector: { matchLabels: { pod: "b" } } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on Multiple PodSelectors and NamespaceSelectors", () => {
    const r = new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expect("y/a", "x/a", false).expect("z/a", "x/a", false);
    const notX = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] }] };
    const bc = { matchExpressions: [{ key: "pod", operator: "In", values: ["b", "c"] }] };
    check([pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: notX, podSelector: bc }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on any PodSelectors", () => {
    const r = new Reachability().allIngress("x/a", false).expect("x/b", "x/a", true).expect("x/c", "x/a", true);
    check([pol("p", "x", { pod: "a" }, ingress([{ from: [{ podSelector: { matchLabels: { pod: "b" } } }, { podSelector: { matchLabels: { pod: "c" } } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector", () => {
    const r = new Reachability().allIngress("x/a", false).expect("y/a", "x/a", true);
    check([pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y"), podSelector: { matchLabels: { pod: "a" } } }] }]))], 80, "TCP", r);
  });
  it("should enforce policy based on Ports (81 allowed from y; 80 then denied to x/a)", () => {
    const p = pol("allow-81", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y") }], ports: [{ port: 81, protocol: "TCP" }] }]));
    const allow = new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expectPeer({ namespace: "y" }, { namespace: "x", pod: "a" }, true).expectPeer({ namespace: "z" }, { namespace: "x", pod: "a" }, false);
    check([p], 81, "TCP", allow);
    // "should enforce multiple, stacked policies with overlapping podSelectors": port 80 denied, then unblocked by a second policy.
    check([p], 80, "TCP", new Reachability().allIngress("x/a", false));
    check([p, pol("allow-80", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y") }], ports: [{ port: 80, protocol: "TCP" }] }]))], 80, "TCP", allow);
  });
  it("should support allow-all policy", () => {
    const p = pol("allow-all", "x", {}, ingress([{}]));
    check([p], 80, "TCP", new Reachability());
    check([p], 81, "TCP", new Reachability());
  });
  it("should allow ingress access on one named port", () => {
    const p = pol("allow-all", "x", {}, ingress([{ ports: [{ port: "serve-81-tcp" }] }]));
    check([p], 81, "TCP", new Reachability());
    check([p], 80, "TCP", new Reachability().expectPeer({}, { namespace: "x" }, false));
  });
  it("should allow ingress access from namespace on one named port", () => {
    const p = pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y") }], ports: [{ port: "serve-80-tcp", protocol: "TCP" }] }]));
    check([p], 80, "TCP", new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expectPeer({ namespace: "z" }, { namespace: "x", pod: "a" }, false));
    check([p], 81, "TCP", new Reachability().allIngress("x/a", false));
  });
  it("should allow egress access on one named port", () => {
    const p = pol("allow-egress", "x", {}, egress([{ ports: [{ port: "serve-80-tcp" }] }]));
    check([p], 80, "TCP", new Reachability());
    check([p], 81, "TCP", new Reachability().expectPeer({ namespace: "x" }, {}, false));
  });
  it("should deny ingress from pods on other namespaces", () => {
    const r = new Reachability().expectPeer({ namespace: "y" }, { namespace: "x" }, false).expectPeer({ namespace: "z" }, { namespace: "x" }, false);
    check([pol("deny-empty-policy", "x", {}, ingress([{ from: [{ podSelector: { matchLabels: {} } }] }]))], 80, "TCP", r);
  });
  it("should deny egress from pods based on PodSelector", () => {
    check([pol("deny-egress-pod-a", "x", { pod: "a" }, egress([]))], 80, "TCP", new Reachability().allEgress("x/a", false));
  });
  it("should deny egress from all pods in a namespace", () => {
    check([pol("deny-egress-ns-x", "x", {}, egress([]))], 80, "TCP", new Reachability().expectPeer({ namespace: "x" }, {}, false));
  });
  it("should work with Ingress, Egress specified together", () => {
    const p = pol("p", "x", { pod: "a" }, ingress([{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }]), egress([{ ports: [{ port: 80 }] }]));
    check([p], 80, "TCP", new Reachability().allIngress("x/a", false).expect("x/b", "x/a", true));
    check([p], 81, "TCP", new Reachability().allIngress("x/a", false).allEgress("x/a", false).expect("x/b", "x/a", true));
  });
  it("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)", () => {
    const fromXa = ingress([{ from: [{ namespaceSelector: nsName("x"), podSelector: { matchLabels: { pod: "a" } } }] }]);
    const policies = [
      pol("allow-to-ns-y-pod-a", "x", { pod: "a" }, egress([{ to: [{ namespaceSelector: nsName("y"), podSelector: { matchLabels: { pod: "a" } } }] }])),
      pol("allow-from-xa-on-ya", "y", { pod: "a" }, fromXa),
      pol("allow-from-xa-on-yb", "y", { pod: "b" }, fromXa),
    ];
    const r = new Reachability()
      .expectPeer({ namespace: "x", pod: "a" }, {}, false)
      .expectPeer({}, { namespace: "y", pod: "a" }, false)
      .expectPeer({ namespace: "x", pod: "a" }, { namespace: "y", pod: "a" }, true)
      .expectPeer({}, { namespace: "y", pod: "b" }, false);
    check(policies, 80, "TCP", r);
  });
  it("should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector", () => {
    const p = pol("p", "x", { pod: "a" }, egress([{ to: [{ namespaceSelector: nsName("y"), podSelector: { matchLabels: { pod: "a" } } }] }]));
    check([p], 80, "TCP", new Reachability().allEgress("x/a", false).expect("x/a", "y/a", true));
  });
  it("should enforce ingress policy allowing any port traffic to a server on a specific protocol", () => {
    const p = pol("allow-ingress-by-proto", "x", { pod: "a" }, ingress([{ ports: [{ protocol: "TCP" }] }]));
    check([p], 80, "TCP", new Reachability());
    check([p], 80, "UDP", new Reachability().expectPeer({}, { namespace: "x", pod: "a" }, false));
  });
  it("should enforce multiple ingress policies with ingress allow-all policy taking precedence", () => {
    const only80 = pol("allow-ingress-port-80", "x", {}, ingress([{ ports: [{ port: 80 }] }]));
    check([only80], 81, "TCP", new Reachability().expectPeer({}, { namespace: "x" }, false));
    check([only80, pol("allow-ingress", "x", {}, ingress([{}]))], 81, "TCP", new Reachability());
  });
  it("should enforce multiple egress policies with egress allow-all policy taking precedence", () => {
    const only80 = pol("allow-egress-port-80", "x", {}, egress([{ ports: [{ port: 80 }] }]));
    check([only80], 81, "TCP", new Reachability().expectPeer({ namespace: "x" }, {}, false));
    check([only80, pol("allow-egress", "x", {}, egress([{}]))], 81, "TCP", new Reachability());
  });
  it("should allow egress access to server in CIDR block", () => {
    const p = pol("p", "x", { pod: "a" }, egress([{ to: [{ ipBlock: { cidr: `${pod("y", "b").ip}/32` } }] }]));
    check([p], 80, "TCP", new Reachability().allEgress("x/a", false).expect("x/a", "y/b", true));
  });
  it("should enforce except clause while egress access to server in CIDR block", () => {
    const p = pol("p", "x", { pod: "a" }, egress([{ to: [{ ipBlock: { cidr: "10.244.0.0/16", except: [`${pod("x", "b").ip}/32`] } }] }]));
    check([p], 80, "TCP", new Reachability().expect("x/a", "x/b", false));
  });
  it("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed (by a second policy)", () => {
    const big = pol("p", "x", { pod: "a" }, egress([{ to: [{ ipBlock: { cidr: "10.244.0.0/16", except: [`${pod("x", "b").ip}/32`] } }] }]));
    check([big], 80, "TCP", new Reachability().expect("x/a", "x/b", false));
    // Upstream replaces the policy (same name) by one allowing only x/b.
    const only = pol("p", "x", { pod: "a" }, egress([{ to: [{ ipBlock: { cidr: `${pod("x", "b").ip}/32` } }] }]));
    check([only], 80, "TCP", new Reachability().allEgress("x/a", false).expect("x/a", "x/b", true));
  });
  it("should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector", () => {
    const allowEgress = pol("allow-egress-for-target", "x", { pod: "a" }, egress([{}]));
    check([allowEgress], 80, "TCP", new Reachability());
    check([allowEgress, pol("deny-ingress", "x", { pod: "a" }, ingress([]))], 80, "TCP", new Reachability().allIngress("x/a", false));
  });
  it("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'", () => {
    const policies = [pol("deny-ingress", "x", {}, ingress([])), pol("sctp-81", "x", { pod: "a" }, ingress([{ ports: [{ port: 81, protocol: "SCTP" }] }]))];
    check(policies, 81, "TCP", new Reachability().expectPeer({}, { namespace: "x" }, false));
  });
  it("should not allow access by TCP when a policy specifies only UDP", () => {
    check([pol("udp-81", "x", { pod: "a" }, ingress([{ ports: [{ port: 81, protocol: "UDP" }] }]))], 81, "TCP", new Reachability().allIngress("x/a", false));
  });
  it("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label (egress NotIn y)", () => {
    const notY = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["y"] }] };
    check([pol("p", "x", { pod: "a" }, egress([{ to: [{ namespaceSelector: notY }] }]))], 80, "TCP", new Reachability().expectPeer({ namespace: "x", pod: "a" }, { namespace: "y" }, false));
  });
  it("UDP: should enforce policy based on Ports", () => {
    const p = pol("p", "x", { pod: "a" }, ingress([{ from: [{ namespaceSelector: nsName("y") }], ports: [{ port: 81, protocol: "UDP" }] }]));
    check([p], 81, "UDP", new Reachability().expectPeer({ namespace: "x" }, { namespace: "x", pod: "a" }, false).expectPeer({ namespace: "z" }, { namespace: "x", pod: "a" }, false));
  });
  it("endPort (API reference): a range port..endPort is inclusive, outside it is denied", () => {
    const p = pol("range", "x", {}, ingress([{ ports: [{ port: 80, endPort: 81, protocol: "TCP" }] }]));
    check([p], 81, "TCP", new Reachability());
    const q = pol("range", "x", {}, ingress([{ ports: [{ port: 79, endPort: 80, protocol: "TCP" }] }]));
    check([q], 81, "TCP", new Reachability().expectPeer({}, { namespace: "x" }, false));
  });
});

describe("NetworkPolicy evaluator: hostNetwork peers are node addresses", () => {
  const model = new NetworkModel(
    [{ name: "x", labels: {} }, { name: "ingress", labels: {} }],
    [pol("from-ingress-ns", "x", {}, ingress([{ from: [{ namespaceSelector: nsName("ingress") }] }]))],
  );
  const hostPod: NetPod = { namespace: "ingress", name: "ctrl", labels: {}, ip: "10.0.1.5", hostNetwork: true, nodeIp: "10.0.1.5" };
  it("a namespaceSelector does not match a hostNetwork pod", () => {
    expect(model.evaluate({ from: { pod: hostPod }, to: { pod: pod("x", "a") }, port: 80 }).allowed).toBe(false);
  });
  it("an ipBlock of the node range does", () => {
    const m2 = new NetworkModel([{ name: "x", labels: {} }], [pol("from-nodes", "x", {}, ingress([{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }] }]))]);
    expect(m2.evaluate({ from: { pod: hostPod }, to: { pod: pod("x", "a") }, port: 80 }).allowed).toBe(true);
  });
});
