/**
 * The merged NetworkPolicies of a bundle (components/tenant/networkPolicies.ts: 4 objects, 5 with
 * a dedicated Jitsi) against the 13 they replace (test/helpers/legacy-netpol.ts), both evaluated
 * by the twin's NetworkPolicy evaluator (scripts/twin/netpol.ts, checked against the upstream e2e
 * truth tables in twin-netpol.test.ts): the same connections are allowed and denied, for every
 * pair of a bundle's pods, the platform's pods, nodes and Internet addresses, on every port the
 * policies name and one they do not. Then the paths that matter, reasoned one by one, including
 * that another organisation's bundle stays out of reach.
 */
import { describe, expect, it } from "vitest";
import { NetworkModel, type Endpoint, type NetPod, type NetPolicy, type Protocol } from "../scripts/twin/netpol";
import { NETPOL, networkPolicies, type NetworkPolicyArgs } from "../components/tenant/networkPolicies";
import { legacyNetworkPolicies } from "./helpers/legacy-netpol";

const NET = { podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12", nodeCIDR: "10.0.0.0/16" };
const A = "org-a-ns";
const B = "org-b-ns";

let ip = 10;
const pod = (namespace: string, name: string, labels: Record<string, string>, extra: Partial<NetPod> = {}): NetPod => ({ namespace, name, labels, ip: `10.244.${ip++ % 250}.${ip % 250}`, ...extra });
const bundlePods = (ns: string): NetPod[] => [
  pod(ns, "app", { "app.kubernetes.io/name": "nextcloud" }),
  pod(ns, "db", { "cnpg.io/cluster": "nextcloud-pg", "cnpg.io/instanceRole": "primary" }),
  pod(ns, "backup", { k8upjob: "true" }),
  pod(ns, "jvb", { "app.kubernetes.io/component": "jvb" }),
];
const PLATFORM_PODS: NetPod[] = [
  pod("traefik", "edge", { "app.kubernetes.io/name": "traefik" }, { hostNetwork: true, nodeIp: "10.0.1.5" }),
  pod("traefik", "edge-pod", { "app.kubernetes.io/name": "traefik" }),
  pod("minio", "minio", { "v1.min.io/tenant": "primary" }),
  pod("keycloak", "keycloak", { "app.kubernetes.io/name": "keycloak" }),
  pod("monitoring", "prometheus", { "app.kubernetes.io/name": "prometheus" }),
  pod("cnpg-system", "operator", { "app.kubernetes.io/name": "cloudnative-pg" }),
  pod("kube-system", "coredns", { "k8s-app": "kube-dns" }),
  pod("kube-system", "metrics", { "k8s-app": "metrics-server" }),
  pod("k8up", "operator", { "app.kubernetes.io/name": "k8up" }),
];
const ADDRESSES: Endpoint[] = [
  { ip: "10.0.0.2", label: "controller" },
  { ip: "203.0.113.7", label: "internet" },
  { ip: "192.168.1.1", label: "private" },
  { ip: "10.96.0.1", label: "service" },
  { ip: "10.244.200.9", label: "foreign pod address" },
  { ip: "100.64.0.1", label: "CGNAT" },
];
const PORTS: Array<[number, Protocol]> = [
  [53, "UDP"], [53, "TCP"], [80, "TCP"], [443, "TCP"], [5432, "TCP"], [6443, "TCP"], [8000, "TCP"], [8080, "TCP"], [8448, "TCP"], [9000, "TCP"], [10000, "UDP"], [22, "TCP"],
];
const PODS = [...bundlePods(A), ...bundlePods(B), ...PLATFORM_PODS];
const NAMESPACES = [A, B, ...new Set(PLATFORM_PODS.map((p) => p.namespace))].map((name) => ({ name, labels: {} }));
const name = (e: Endpoint) => ("pod" in e ? `${e.pod.namespace}/${e.pod.name}` : e.label!);

type Make = (a: NetworkPolicyArgs) => Array<{ name: string; spec: unknown }>;
/** Org A's bundle without, org B's with a dedicated Jitsi. */
function model(make: Make): NetworkModel {
  const policies: NetPolicy[] = [
    ...make({ ...NET, jitsi: false }).map((p) => ({ name: p.name, namespace: A, spec: p.spec as NetPolicy["spec"] })),
    ...make({ ...NET, jitsi: true }).map((p) => ({ name: p.name, namespace: B, spec: p.spec as NetPolicy["spec"] })),
  ];
  return new NetworkModel(NAMESPACES, policies);
}

/** Every connection touching a bundle pod → allowed or not. */
function matrix(m: NetworkModel): Map<string, boolean> {
  const ends: Endpoint[] = [...PODS.map((p) => ({ pod: p })), ...ADDRESSES];
  const out = new Map<string, boolean>();
  for (const from of ends)
    for (const to of ends) {
      if (from === to) continue;
      const touches = [from, to].some((e) => "pod" in e && (e.pod.namespace === A || e.pod.namespace === B));
      if (!touches) continue;
      for (const [port, protocol] of PORTS) out.set(`${name(from)} > ${name(to)} ${port}/${protocol}`, m.evaluate({ from, to, port, protocol }).allowed);
    }
  return out;
}

const merged = model(networkPolicies);
const legacy = model(legacyNetworkPolicies);
const find = (ns: string, n: string): Endpoint => ({ pod: PODS.find((p) => p.namespace === ns && p.name === n)! });
const at = (label: string): Endpoint => ADDRESSES.find((a) => "ip" in a && a.label === label)!;
const allowed = (m: NetworkModel, from: Endpoint, to: Endpoint, port: number, protocol: Protocol = "TCP") => m.evaluate({ from, to, port, protocol }).allowed;

describe("merged tenant NetworkPolicies", () => {
  it("use 4 objects (5 with a dedicated Jitsi) instead of 13 (14)", () => {
    expect(networkPolicies({ ...NET, jitsi: false }).map((p) => p.name)).toEqual([NETPOL.defaultDeny, NETPOL.bundle, NETPOL.cnpg, NETPOL.k8up]);
    expect(networkPolicies({ ...NET, jitsi: true })).toHaveLength(5);
    expect(legacyNetworkPolicies({ ...NET, jitsi: false })).toHaveLength(13);
  });

  it("allow and deny exactly the connections the 13 policies did", () => {
    const before = matrix(legacy);
    const after = matrix(merged);
    // 8 bundle pods, 9 platform pods, 6 addresses: 23·22 ordered pairs less the 15·14 without a bundle pod, × 12 ports.
    expect(before.size).toBe((23 * 22 - 15 * 14) * 12);
    const differ = [...before].filter(([k, v]) => after.get(k) !== v).map(([k, v]) => `${k}: ${v} → ${after.get(k)}`);
    expect(differ).toEqual([]);
    // Not vacuous: both allow some and deny some.
    const values = [...after.values()];
    expect(values.filter(Boolean).length).toBeGreaterThan(100);
    expect(values.filter((v) => !v).length).toBeGreaterThan(1000);
  });

  it("the comparison notices a merge that widens a path (the cnpg rules put on every pod)", () => {
    const widened: Make = (a) => networkPolicies(a).map((p) => (p.name === NETPOL.cnpg ? { ...p, spec: { ...p.spec, podSelector: {} } } : p));
    const before = matrix(legacy);
    const after = matrix(model(widened));
    expect([...before].filter(([k, v]) => after.get(k) !== v).length).toBeGreaterThan(0);
    expect(allowed(model(widened), find("cnpg-system", "operator"), find(A, "app"), 5432)).toBe(true);
  });

  it("keep another organisation's bundle out of reach, both ways, on every port", () => {
    for (const from of bundlePods(A).map((p) => find(A, p.name)))
      for (const to of bundlePods(B).map((p) => find(B, p.name)))
        for (const [port, protocol] of PORTS) {
          expect(allowed(merged, from, to, port, protocol), `${name(from)} → ${name(to)} ${port}`).toBe(false);
          expect(allowed(merged, to, from, port, protocol), `${name(to)} → ${name(from)} ${port}`).toBe(false);
        }
  });

  it("allow what the apps need and nothing around it", () => {
    const app = find(A, "app");
    const db = find(A, "db");
    const backup = find(A, "backup");
    // Inside the bundle: anything.
    expect(allowed(merged, app, db, 5432)).toBe(true);
    expect(allowed(merged, db, app, 22)).toBe(true);
    // The edge (hostNetwork: node address) and monitoring reach every pod; the edge's pods too.
    expect(allowed(merged, find("traefik", "edge"), app, 8080)).toBe(true);
    expect(allowed(merged, find("traefik", "edge-pod"), app, 80)).toBe(true);
    expect(allowed(merged, find("monitoring", "prometheus"), db, 9187)).toBe(true);
    // Other platform pods do not: MinIO and Keycloak are reached, they do not call in.
    expect(allowed(merged, find("minio", "minio"), app, 80)).toBe(false);
    expect(allowed(merged, find("kube-system", "metrics"), app, 80)).toBe(false);
    // The CloudNativePG operator: instances only, its two ports only.
    expect(allowed(merged, find("cnpg-system", "operator"), db, 8000)).toBe(true);
    expect(allowed(merged, find("cnpg-system", "operator"), db, 5432)).toBe(true);
    expect(allowed(merged, find("cnpg-system", "operator"), db, 22)).toBe(false);
    expect(allowed(merged, find("cnpg-system", "operator"), app, 8000)).toBe(false);
    // Out: DNS on kube-dns only, the platform services on their ports, the API for cnpg and k8up only.
    expect(allowed(merged, app, find("kube-system", "coredns"), 53, "UDP")).toBe(true);
    expect(allowed(merged, app, find("kube-system", "metrics"), 53, "UDP")).toBe(false);
    expect(allowed(merged, app, find("minio", "minio"), 9000)).toBe(true);
    expect(allowed(merged, app, find("minio", "minio"), 22)).toBe(false);
    expect(allowed(merged, app, find("keycloak", "keycloak"), 8080)).toBe(true);
    expect(allowed(merged, app, find("traefik", "edge-pod"), 443)).toBe(true);
    expect(allowed(merged, db, at("controller"), 6443)).toBe(true);
    expect(allowed(merged, backup, at("controller"), 6443)).toBe(true);
    expect(allowed(merged, app, at("controller"), 6443)).toBe(false);
    expect(allowed(merged, db, at("controller"), 22)).toBe(false);
    // The internet on 443 and 8448 only; never a private, service or pod address.
    expect(allowed(merged, app, at("internet"), 443)).toBe(true);
    expect(allowed(merged, app, at("internet"), 8448)).toBe(true);
    expect(allowed(merged, app, at("internet"), 22)).toBe(false);
    for (const l of ["private", "service", "foreign pod address", "CGNAT"]) expect(allowed(merged, app, at(l), 443), l).toBe(false);
    // The videobridge takes UDP 10000 from the internet in B (dedicated Jitsi), not in A.
    expect(allowed(merged, at("internet"), find(B, "jvb"), 10000, "UDP")).toBe(true);
    expect(allowed(merged, at("internet"), find(A, "jvb"), 10000, "UDP")).toBe(false);
    expect(allowed(merged, at("internet"), find(B, "app"), 10000, "UDP")).toBe(false);
  });
});
