/**
 * What the bundles create is valid Kubernetes (kubernetes-models, upstream OpenAPI schemas)
 * and tenants are isolated: no NetworkPolicy lets one tenant's namespace reach another's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { LimitRange } from "kubernetes-models/v1/LimitRange";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ConfigError, parseEstate } from "../components/estate";
import { LABELS, PLATFORM } from "../components/conventions";
import type { Evaluation, RecordedResource } from "../scripts/harness";
import { T, config, evalBundles, ofType } from "./bundle-fixtures";

let ev: Evaluation;
beforeAll(async () => {
  ev = await evalBundles([T.acme, T.exempt, T.realm, T.small1, T.small2]);
}, 120_000);

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  "kubernetes:apps/v1:Deployment": Deployment,
  "kubernetes:apps/v1:StatefulSet": StatefulSet,
  "kubernetes:core/v1:Service": Service,
  "kubernetes:networking.k8s.io/v1:Ingress": Ingress,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": NetworkPolicy,
  "kubernetes:core/v1:ResourceQuota": ResourceQuota,
  "kubernetes:core/v1:LimitRange": LimitRange,
  "kubernetes:core/v1:Namespace": Namespace,
};
/** Records created by the bundles and shared services (not by the storage layer's components). */
const ours = (rs: RecordedResource[]) => rs.filter((r) => /liiibre:(tenant|shared|apps):/.test(r.urn.split("::")[2]) && !r.urn.split("::")[2].includes("liiibre:storage:"));

describe("manifests", () => {
  it("every Deployment/StatefulSet/Service/Ingress/NetworkPolicy/ResourceQuota/LimitRange validates", () => {
    const checked: Record<string, number> = {};
    for (const r of ours(ev.resources)) {
      const Model = MODELS[r.type];
      if (!Model) continue;
      expect(() => new Model(r.inputs).validate(), `${r.type} ${r.name}`).not.toThrow();
      checked[r.type] = (checked[r.type] ?? 0) + 1;
    }
    // Non-vacuous: each kind the bundles create was seen (their own routes are Gateway API
    // objects, validated against the CRDs in test/edge.test.ts: no Ingress of their own).
    for (const t of Object.keys(MODELS).filter((t) => !t.includes("StatefulSet") && !t.endsWith(":Ingress"))) expect(checked[t] ?? 0, t).toBeGreaterThan(0);
  });

  it("Secrets are well-formed (stringData, no clear data)", () => {
    for (const r of ofType(ours(ev.resources), "kubernetes:core/v1:Secret")) {
      const sd = (r.inputs as any).stringData;
      const obj = { ...r.inputs, stringData: typeof sd === "string" ? { redacted: sd } : sd };
      expect(() => new Secret(obj as any).validate(), r.name).not.toThrow();
    }
  });

  it("the validator is not vacuous", () => {
    expect(() => new NetworkPolicy({ metadata: { name: "x" }, spec: { podSelector: {}, policyTypes: ["Sideways"] } } as any).validate()).toThrow();
  });
});

// ---------------------------------------------------------------------------------------
// A small NetworkPolicy evaluator: may a pod of namespace A open a connection to one of B?
// Worst case for labels (any pod may be selected), pod IPs anywhere in the pod CIDR.
// ---------------------------------------------------------------------------------------
type Labels = Record<string, string>;
interface Policy { namespace: string; spec: any }

const ip4 = (s: string) => s.split(".").reduce((n, o) => n * 256 + Number(o), 0);
function cidr4(c: string): [number, number] | null {
  const [a, bits] = c.split("/");
  if (!a.includes(".")) return null;
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ip4(a) / size) * size;
  return [start, start + size - 1];
}
const covers = (outer: [number, number], inner: [number, number]) => outer[0] <= inner[0] && outer[1] >= inner[1];
const overlaps = (x: [number, number], y: [number, number]) => x[0] <= y[1] && y[0] <= x[1];

function selectorMatches(sel: any, labels: Labels): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** Does `peer` (in a policy of namespace `own`) match pods of namespace `other`? */
function peerMatches(peer: any, own: string, other: string, nsLabels: Map<string, Labels>, podCIDR: string): boolean {
  if (peer.ipBlock) {
    const block = cidr4(peer.ipBlock.cidr);
    const pods = cidr4(podCIDR)!;
    if (!block || !overlaps(block, pods)) return false;
    const excepted = (peer.ipBlock.except ?? []).map(cidr4).filter(Boolean) as Array<[number, number]>;
    return !excepted.some((e) => covers(e, pods));
  }
  if (peer.namespaceSelector) return selectorMatches(peer.namespaceSelector, nsLabels.get(other) ?? {});
  return own === other; // podSelector alone: the policy's own namespace
}

function allows(policies: Policy[], from: string, to: string, nsLabels: Map<string, Labels>, podCIDR: string): string | null {
  for (const p of policies) {
    const types: string[] = p.spec.policyTypes ?? ["Ingress"];
    if (p.namespace === from && types.includes("Egress")) {
      for (const rule of p.spec.egress ?? []) {
        if (!rule.to || rule.to.length === 0) return `egress rule without 'to' in ${p.namespace}`;
        if (rule.to.some((peer: any) => peerMatches(peer, from, to, nsLabels, podCIDR))) return `egress of ${from} to ${to}`;
      }
    }
    if (p.namespace === to && types.includes("Ingress")) {
      for (const rule of p.spec.ingress ?? []) {
        if (!rule.from || rule.from.length === 0) return `ingress rule without 'from' in ${p.namespace}`;
        if (rule.from.some((peer: any) => peerMatches(peer, to, from, nsLabels, podCIDR))) return `ingress of ${to} from ${from}`;
      }
    }
  }
  return null;
}

function view(e: Evaluation) {
  const nsLabels = new Map<string, Labels>();
  const tenants: string[] = [];
  for (const r of ofType(e.resources, "kubernetes:core/v1:Namespace")) {
    const md = (r.inputs as any).metadata;
    nsLabels.set(md.name, { ...(md.labels ?? {}), "kubernetes.io/metadata.name": md.name });
    if (md.labels?.[LABELS.tenant]) tenants.push(md.name);
  }
  for (const n of [PLATFORM.ingressNamespace, "kube-system", "minio", "keycloak", "cnpg-system", "monitoring"]) if (!nsLabels.has(n)) nsLabels.set(n, { "kubernetes.io/metadata.name": n });
  const policies: Policy[] = ofType(e.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => ({ namespace: (r.inputs as any).metadata.namespace, spec: (r.inputs as any).spec }));
  return { nsLabels, tenants, policies, podCIDR: e.estate.cluster.network.podCIDR };
}

describe("tenant isolation", () => {
  it("every tenant namespace (and the shared instance's) starts from default deny", () => {
    const { tenants, policies } = view(ev);
    expect(tenants.sort()).toEqual(["acme", "mutualise", "senat-petitions", "studio-son"]);
    for (const ns of tenants) {
      expect(policies.some((p) => p.namespace === ns && JSON.stringify(p.spec.podSelector) === "{}" && p.spec.policyTypes.includes("Ingress") && p.spec.policyTypes.includes("Egress") && !p.spec.ingress && !p.spec.egress), ns).toBe(true);
    }
  });

  it("no NetworkPolicy lets one tenant's namespace reach another's", () => {
    const { nsLabels, tenants, policies, podCIDR } = view(ev);
    for (const a of tenants) for (const b of tenants) if (a !== b) expect(allows(policies, a, b, nsLabels, podCIDR), `${a} → ${b}`).toBeNull();
  });

  it("the internet rule excludes the pod and service CIDRs", () => {
    const { policies } = view(ev);
    const net = ev.estate.cluster.network;
    const internet = policies.filter((p) => JSON.stringify(p.spec).includes("0.0.0.0/0"));
    expect(internet.length).toBeGreaterThan(0);
    for (const p of internet) {
      for (const peer of [...(p.spec.egress ?? []).flatMap((r: any) => r.to), ...(p.spec.ingress ?? []).flatMap((r: any) => r.from)]) {
        if (peer.ipBlock?.cidr === "0.0.0.0/0") expect(peer.ipBlock.except).toEqual(expect.arrayContaining([net.podCIDR, net.serviceCIDR]));
      }
    }
  });

  it("a tenant still reaches what it needs: DNS, its own namespace, the object store, Keycloak, the ingress controller", () => {
    const { nsLabels, policies, podCIDR } = view(ev);
    for (const target of ["kube-system", "minio", "keycloak", PLATFORM.ingressNamespace, "acme"]) expect(allows(policies.filter((p) => p.namespace === "acme"), "acme", target, nsLabels, podCIDR), target).not.toBeNull();
    // …and is reached by the ingress controller, the CloudNativePG operator (instance status) and Prometheus.
    for (const source of [PLATFORM.ingressNamespace, "cnpg-system", "monitoring"]) expect(allows(policies.filter((p) => p.namespace === "acme"), source, "acme", nsLabels, podCIDR), source).not.toBeNull();
  });

  it("node addresses (the edge on the host network) may reach in, and that range holds no pod", () => {
    const { policies, podCIDR } = view(ev);
    // Ingress from node addresses: one policy. (Egress to node addresses on 6443 — the API after
    // the kubernetes Service's DNAT — is the CloudNativePG and k8up policies'.)
    const fromNodes = policies.filter((p) => p.namespace === "acme" && JSON.stringify(p.spec.ingress ?? []).includes(ev.estate.hetzner.network.ipRange));
    expect(fromNodes).toHaveLength(1);
    const toNodes = policies.filter((p) => p.namespace === "acme" && JSON.stringify(p.spec.egress ?? []).includes(ev.estate.hetzner.network.ipRange));
    expect(toNodes.map((p) => (p.spec.egress as any[]).flatMap((r) => r.ports))).toEqual([[{ protocol: "TCP", port: 6443 }], [{ protocol: "TCP", port: 6443 }]]);
    expect(overlaps(cidr4(ev.estate.hetzner.network.ipRange)!, cidr4(podCIDR)!)).toBe(false);
    expect(overlaps(cidr4(ev.estate.hetzner.network.ipRange)!, cidr4(ev.estate.cluster.network.serviceCIDR)!)).toBe(false);
  });

  it("a pod or service range inside the nodes' network is refused by validation", () => {
    let err: unknown;
    try {
      parseEstate(config([], (raw) => (raw.cluster.network = { podCIDR: "10.0.128.0/17" })));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toContainEqual({
      path: "liiibre:cluster.network.podCIDR",
      message: `expected a range disjoint from the nodes' network 10.0.0.0/16 (liiibre:hetzner.network.ipRange), got "10.0.128.0/17"`,
    });
  });

  it("the evaluator catches a leak (negative control)", () => {
    const { nsLabels, policies, podCIDR } = view(ev);
    const leaky = [...policies, { namespace: "acme", spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }] }] } }];
    expect(allows(leaky, "acme", "studio-son", nsLabels, podCIDR)).not.toBeNull();
    const wide = [...policies, { namespace: "acme", spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] } }];
    expect(allows(wide, "acme", "studio-son", nsLabels, podCIDR)).not.toBeNull();
  });
});
