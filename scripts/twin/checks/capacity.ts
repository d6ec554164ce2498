/**
 * Capacity per node pool: the sum of pod requests (CPU, memory) against the pool's allocatable
 * resources once the system's reservations are taken, and with its largest node lost (N+1: a
 * node down for an upgrade or a failure must not leave pods Pending).
 *
 * Allocatable = capacity − reservation, with the reservation formula GKE publishes for its
 * nodes (kubelet, container runtime and system daemons; "Standard cluster architecture →
 * Node allocatable"): CPU 6 % of the first core, 1 % of the second, 0.5 % of the 3rd–4th,
 * 0.25 % above; memory 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of
 * the next 112, 2 % above, plus the 100 MiB hard eviction threshold. k0s reserves nothing by
 * default, so without this the kubelet would overcommit the node; the formula stands for what
 * the OS, k0s's own processes (containerd, kube-router, konnectivity, envoy) use.
 *
 * Pods: every pod template of the estate (rendered chart objects included); containers without
 * requests take their namespace's LimitRange default request. Releases that were not rendered
 * are approximated from their values (`resources.requests` × `replicaCount`) — the table says so.
 * Each workload's pods go to the pools they fit, the pool whose scarcer resource has the largest
 * free share first (the scheduler's LeastAllocated scoring, at pool level).
 */
import { onePerNode, quantity, unfitReason } from "../kube";
import type { KObject, TwinCheck, TwinEstate, TwinFinding, TwinNode, Workload } from "../model";

export interface CapacityRow {
  pool: string;
  nodes: number;
  /** Allocatable of the whole pool, millicores / MiB. */
  allocatableCpuM: number;
  allocatableMemMiB: number;
  requestedCpuM: number;
  requestedMemMiB: number;
  /** Allocatable minus the largest node, minus requests (negative: over capacity at N+1). */
  headroomN1CpuM: number;
  headroomN1MemMiB: number;
  /** requests / allocatable, percent. */
  cpuUtilisation: number;
  memUtilisation: number;
  /** Pods counted (replicas) and whether some come from values (releases not rendered). */
  pods: number;
  approximated: boolean;
}

export function reservedCpuM(cores: number): number {
  const steps: Array<[number, number]> = [[1, 0.06], [1, 0.01], [2, 0.005], [Infinity, 0.0025]];
  let left = cores;
  let r = 0;
  for (const [n, f] of steps) {
    const take = Math.min(left, n);
    r += take * 1000 * f;
    left -= take;
    if (left <= 0) break;
  }
  return Math.round(r);
}

export function reservedMemMiB(ramGB: number): number {
  const mib = ramGB * 1024;
  const steps: Array<[number, number]> = [[4096, 0.25], [4096, 0.2], [8192, 0.1], [112 * 1024, 0.06], [Infinity, 0.02]];
  let left = mib;
  let r = 0;
  for (const [n, f] of steps) {
    const take = Math.min(left, n);
    r += take * f;
    left -= take;
    if (left <= 0) break;
  }
  return Math.round(r + 100);
}

export const allocatable = (n: TwinNode) => ({ cpu: n.cores * 1000 - reservedCpuM(n.cores), mem: n.ramGB * 1024 - reservedMemMiB(n.ramGB) });

/** The first LimitRange of each namespace (indexed once per estate). */
const limitRanges = new WeakMap<TwinEstate, Map<string | null | undefined, KObject>>();
function limitRangeOf(e: TwinEstate, ns: string | null | undefined): KObject | undefined {
  let m = limitRanges.get(e);
  if (!m) {
    m = new Map();
    for (const l of e.byKind.get("LimitRange") ?? []) if (!m.has(l.namespace)) m.set(l.namespace, l);
    limitRanges.set(e, m);
  }
  return m.get(ns);
}

/** Requests of one pod (millicores, MiB), LimitRange defaults filling what containers omit. */
export function podRequests(e: TwinEstate, w: Pick<Workload, "namespace" | "spec">): { cpu: number; mem: number } {
  const lr = limitRangeOf(e, w.namespace);
  const def = ((lr?.object.spec?.limits ?? []) as any[]).find((x) => x.type === "Container")?.defaultRequest ?? {};
  let cpu = 0;
  let mem = 0;
  for (const c of (w.spec.containers ?? []) as any[]) {
    const r = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    // Kubernetes defaults a missing request to the limit, then to the LimitRange default.
    const cq = r.cpu ?? lim.cpu ?? def.cpu;
    const mq = r.memory ?? lim.memory ?? def.memory;
    cpu += cq !== undefined ? quantity(cq) * 1000 : 0;
    mem += mq !== undefined ? quantity(mq) / 1024 ** 2 : 0;
  }
  return { cpu: Math.round(cpu), mem: Math.round(mem) };
}

/** Pods of releases that were not rendered, from their values. */
function valuesWorkloads(e: TwinEstate): Workload[] {
  const rendered = new Set((e.input.rendered ?? []).filter((r) => r.objects.length).map((r) => r.urn));
  const out: Workload[] = [];
  for (const r of e.releases) {
    if (rendered.has(r.urn) || r.bundle) continue; // a bundle's objects are known as they are (workloads)
    const top = r.values;
    const walk = (v: any, path: string, depth: number) => {
      if (!v || typeof v !== "object" || Array.isArray(v) || depth > 3) return;
      if (v.resources?.requests && (v.resources.requests.cpu || v.resources.requests.memory) && v.enabled !== false) {
        const replicas = Number(v.replicaCount ?? v.replicas ?? (depth === 0 ? 1 : 1));
        out.push({
          id: `Release/${r.namespace}/${r.name}${path ? `:${path}` : ""}`, kind: "ValuesPod", namespace: r.namespace, name: `${r.name}${path ? `-${path}` : ""}`, replicas: Number.isFinite(replicas) ? replicas : 1,
          labels: {}, spec: { nodeSelector: v.nodeSelector ?? top.nodeSelector, tolerations: v.tolerations ?? top.tolerations, affinity: v.affinity ?? top.affinity, containers: [{ name: "main", resources: v.resources }] },
          claims: [], owner: { apiVersion: "helm.sh/v3", kind: "Release", name: r.name, namespace: r.namespace, object: {}, source: r.urn, dependsOn: [], origin: "values" },
        });
      }
      for (const [k, x] of Object.entries(v)) if (k !== "resources") walk(x, path ? `${path}.${k}` : k, depth + 1);
    };
    walk(top, "", 0);
  }
  return out;
}

interface Placement {
  /** Per node: requested CPU / memory and pods. */
  used: Map<string, { cpu: number; mem: number; pods: number; approx: boolean }>;
  unplaced: Array<{ id: string; cpu: number; mem: number }>;
}

/**
 * The scheduler, simplified: pods (largest memory first) go to the node they fit (selectors,
 * affinity, taints, one-per-node anti-affinity, free CPU and memory) that scores best with
 * kube-scheduler's default scoring (LeastAllocated + BalancedAllocation, equal weights); a
 * DaemonSet puts one pod on every node it fits. Jobs, CronJobs and bare Pods (Helm hooks and
 * tests) are transient and not counted.
 */
function place(e: TwinEstate, pods: Array<{ w: Workload; req: { cpu: number; mem: number } }>, nodes: TwinNode[]): Placement {
  const used = new Map(nodes.map((n) => [n.name, { cpu: 0, mem: 0, pods: 0, approx: false }]));
  const alloc = new Map(nodes.map((n) => [n.name, allocatable(n)]));
  const unplaced: Placement["unplaced"] = [];
  for (const { w, req } of pods) {
    const fit = nodes.filter((n) => !unfitReason(w.spec, n, w.volumeTopology));
    const put = (n: TwinNode) => {
      const u = used.get(n.name)!;
      u.cpu += req.cpu;
      u.mem += req.mem;
      u.pods++;
      if (w.kind === "ValuesPod") u.approx = true;
    };
    if (w.replicas < 0) {
      for (const n of fit) put(n);
      continue;
    }
    const spread = onePerNode(w.spec);
    const usedHere = new Set<string>();
    for (let i = 0; i < w.replicas; i++) {
      let best: TwinNode | undefined;
      let bestScore = -Infinity;
      for (const n of fit) {
        if (spread && usedHere.has(n.name)) continue;
        const u = used.get(n.name)!;
        const a = alloc.get(n.name)!;
        if (u.cpu + req.cpu > a.cpu || u.mem + req.mem > a.mem) continue;
        // kube-scheduler's default scoring: NodeResourcesFit (LeastAllocated) + NodeResourcesBalancedAllocation.
        const fc = (u.cpu + req.cpu) / a.cpu;
        const fm = (u.mem + req.mem) / a.mem;
        const score = (1 - fc + (1 - fm)) / 2 + (1 - Math.abs(fc - fm));
        if (score > bestScore) {
          bestScore = score;
          best = n;
        }
      }
      if (!best) {
        unplaced.push({ id: w.id, ...req });
        continue;
      }
      put(best);
      usedHere.add(best.name);
    }
  }
  return { used, unplaced };
}

function podsOf(e: TwinEstate) {
  return [...e.workloads, ...valuesWorkloads(e)]
    .filter((w) => w.replicas !== 0 && !["Job", "CronJob", "Pod"].includes(w.kind))
    .map((w) => ({ w, req: podRequests(e, w) }))
    .sort((x, y) => y.req.mem - x.req.mem || y.req.cpu - x.req.cpu || x.w.id.localeCompare(y.w.id));
}

const tableCache = new WeakMap<TwinEstate, { rows: CapacityRow[]; placement: Placement }>();
export function capacity(e: TwinEstate): { rows: CapacityRow[]; placement: Placement } {
  const known = tableCache.get(e);
  if (known) return known;
  const nodes = e.nodes.filter((n) => n.kubelet && !n.reset);
  const placement = place(e, podsOf(e), nodes);
  const rows: CapacityRow[] = [];
  for (const p of [...new Set(nodes.map((n) => n.pool))].sort()) {
    const ns = nodes.filter((n) => n.pool === p);
    const a = ns.map(allocatable);
    const u = ns.map((n) => placement.used.get(n.name)!);
    const row: CapacityRow = {
      pool: p, nodes: ns.length,
      allocatableCpuM: a.reduce((s, x) => s + x.cpu, 0), allocatableMemMiB: a.reduce((s, x) => s + x.mem, 0),
      requestedCpuM: u.reduce((s, x) => s + x.cpu, 0), requestedMemMiB: u.reduce((s, x) => s + x.mem, 0),
      headroomN1CpuM: 0, headroomN1MemMiB: 0, cpuUtilisation: 0, memUtilisation: 0,
      pods: u.reduce((s, x) => s + x.pods, 0), approximated: u.some((x) => x.approx),
    };
    row.headroomN1CpuM = row.allocatableCpuM - Math.max(0, ...a.map((x) => x.cpu)) - row.requestedCpuM;
    row.headroomN1MemMiB = row.allocatableMemMiB - Math.max(0, ...a.map((x) => x.mem)) - row.requestedMemMiB;
    row.cpuUtilisation = row.allocatableCpuM ? Math.round((row.requestedCpuM / row.allocatableCpuM) * 1000) / 10 : 0;
    row.memUtilisation = row.allocatableMemMiB ? Math.round((row.requestedMemMiB / row.allocatableMemMiB) * 1000) / 10 : 0;
    rows.push(row);
  }
  const out = { rows, placement };
  tableCache.set(e, out);
  return out;
}

export const capacityTable = (e: TwinEstate): CapacityRow[] => capacity(e).rows;

const poolCapacity: TwinCheck = {
  name: "pool-capacity",
  family: "capacity",
  models: "the scheduler's resource fit (requests vs allocatable after system reservations, node by node), with all nodes and with each pool's largest node lost (N+1)",
  run(e) {
    const out: TwinFinding[] = [];
    const { placement } = capacity(e);
    const summary = (u: Placement["unplaced"]) => {
      const by = new Map<string, number>();
      for (const p of u) by.set(p.id, (by.get(p.id) ?? 0) + 1);
      return [...by.entries()].map(([id, n]) => `${n}× ${id}`).join(", ");
    };
    if (placement.unplaced.length)
      out.push({ check: this.name, level: "error", objects: [...new Set(placement.unplaced.map((p) => p.id))], message: `${placement.unplaced.length} pod(s) fit on no node with every node up (${summary(placement.unplaced)}): they stay Pending` });
    const nodes = e.nodes.filter((n) => n.kubelet && !n.reset);
    const pods = podsOf(e);
    const local = new Set((e.byKind.get("StorageClass") ?? []).filter((c) => c.object.provisioner === "kubernetes.io/no-provisioner").map((c) => c.name));
    const pinned = new Set(e.workloads.filter((w) => w.claims.some((c) => c.storageClassName && local.has(c.storageClassName))).map((w) => w.id));
    for (const pool of [...new Set(nodes.map((n) => n.pool))].sort()) {
      const ns = nodes.filter((n) => n.pool === pool);
      const largest = [...ns].sort((a, b) => allocatable(b).mem - allocatable(a).mem || allocatable(b).cpu - allocatable(a).cpu)[0];
      const p = place(e, pods, nodes.filter((n) => n !== largest));
      // Pods bound to local disks cannot move to another node whatever the capacity: their
      // resilience is their application's (MinIO erasure coding, PostgreSQL replicas), not N+1.
      const movable = (u: Placement["unplaced"]) => u.filter((x) => !pinned.has(x.id));
      const extra = movable(p.unplaced).length - movable(placement.unplaced).length;
      if (extra > 0)
        out.push({ check: this.name, level: "error", objects: [`pool ${pool}`, largest.name], message: `with ${largest.name} down (N+1 for pool ${pool}), ${extra} more pod(s) find no node (${summary(movable(p.unplaced))}): add capacity to the pool or lower its requests` });
    }
    return out;
  },
};

export const CAPACITY_CHECKS: TwinCheck[] = [poolCapacity];
