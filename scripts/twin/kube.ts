/**
 * Small pieces of Kubernetes semantics the checks share: label selectors (matchLabels +
 * matchExpressions), node selector terms, quantities, IPv4 CIDRs.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Whether `labels` match a LabelSelector (an empty selector matches everything; apimachinery semantics). */
/** The label the StatefulSet controller puts on each of its pods (`<set>-<ordinal>`). */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

/**
 * Whether a Service-style selector (equality only) selects pods of a workload: its template
 * labels, plus, for a StatefulSet, the pod-name label the controller adds to each pod
 * (`<name>-0` … `<name>-<replicas-1>`), which no template carries.
 */
export function selectsPodsOf(sel: Record<string, string>, w: { kind: string; name: string; replicas: number; labels: Record<string, string> }): boolean {
  const { [POD_NAME_LABEL]: pod, ...rest } = sel;
  if (pod !== undefined) {
    if (w.kind !== "StatefulSet") return false;
    const m = /^(.*)-(\d+)$/.exec(pod);
    if (!m || m[1] !== w.name || Number(m[2]) >= w.replicas) return false;
  }
  return matchesSelector({ matchLabels: rest }, w.labels);
}

export function matchesSelector(sel: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A node selector requirement (core/v1 NodeSelectorRequirement: adds Gt/Lt). */
export function matchesNodeRequirement(e: { key: string; operator: string; values?: string[] }, labels: Record<string, string>): boolean {
  if (e.operator === "Gt" || e.operator === "Lt") {
    const v = Number(labels[e.key]);
    const bound = Number(e.values?.[0]);
    if (!Number.isFinite(v) || !Number.isFinite(bound)) return false;
    return e.operator === "Gt" ? v > bound : v < bound;
  }
  return matchesSelector({ matchExpressions: [e] }, labels);
}

/** requiredDuringScheduling node affinity: terms are ORed, requirements inside a term ANDed. */
export function matchesNodeAffinity(affinity: any, labels: Record<string, string>): boolean {
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as
    | Array<{ matchExpressions?: any[] }>
    | undefined;
  if (!terms || terms.length === 0) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((e) => matchesNodeRequirement(e, labels)));
}

/** Whether a pod's tolerations tolerate a taint (core/v1 Toleration semantics). */
export function tolerates(tolerations: any[] | undefined, taint: { key: string; value?: string; effect: string }): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === "Exists";
    if (t.key !== taint.key) return false;
    if (t.operator === "Exists") return true;
    return (t.value ?? "") === (taint.value ?? "");
  });
}

const SUFFIX: Record<string, number> = {
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, m: 1e-3, "": 1,
};

/** A resource.Quantity as a number (bytes, or cores). Unparseable: NaN. */
export function quantity(q: unknown): number {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return NaN;
  const m = /^([0-9.]+(?:e[0-9]+)?)([A-Za-z]*)$/.exec(q.trim());
  if (!m || !(m[2] in SUFFIX)) return NaN;
  return Number(m[1]) * SUFFIX[m[2]];
}

export const GiB = 1024 ** 3;

// --- IPv4 --------------------------------------------------------------------------------

export function ipv4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

const cidrCache = new Map<string, { base: number; mask: number } | null>();
function parseCidr(cidr: string): { base: number; mask: number } | null {
  let c = cidrCache.get(cidr);
  if (c === undefined) {
    const [base, bitsText] = cidr.split("/");
    const b = ipv4ToInt(base);
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    const mask = bits === 0 ? 0 : bits >= 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0;
    c = b === null ? null : { base: (b & mask) >>> 0, mask };
    cidrCache.set(cidr, c);
  }
  return c;
}

const ipCache = new Map<string, number | null>();
/** Whether `ip` is inside `cidr` (IPv4; an IPv6 CIDR never contains an IPv4 address). */
export function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  let a = ipCache.get(ip);
  if (a === undefined) {
    a = ipv4ToInt(ip);
    ipCache.set(ip, a);
  }
  if (a === null || c === null) return false;
  return ((a & c.mask) >>> 0) === c.base;
}

export const intToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/**
 * Why a pod spec cannot run on a node ("" when it can): kubelet, the topology of its volumes
 * (the scheduler's VolumeBinding filter), nodeSelector, required node affinity, taints.
 */
export function unfitReason(
  spec: any,
  node: { name: string; labels: Record<string, string>; taints: Array<{ key: string; value?: string; effect: string }>; kubelet: boolean },
  volumeTopology?: Record<string, string>,
): string {
  if (!node.kubelet) return "not a Kubernetes node (pure controller)";
  for (const [k, v] of Object.entries(volumeTopology ?? {})) if (node.labels[k] !== v) return `its volumes attach only to nodes with ${k}=${v}`;
  for (const [k, v] of Object.entries((spec?.nodeSelector ?? {}) as Record<string, string>)) if (node.labels[k] !== v) return `nodeSelector ${k}=${v}`;
  if (!matchesNodeAffinity(spec?.affinity, node.labels)) return "required node affinity";
  for (const t of node.taints) if ((t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(spec?.tolerations, t)) return `taint ${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
  return "";
}

/** Whether the pod spec requires one pod per node (required podAntiAffinity on kubernetes.io/hostname). */
export function onePerNode(spec: any): boolean {
  return ((spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) as any[]).some((t) => t.topologyKey === "kubernetes.io/hostname");
}
