/**
 * Availability: what a drain (k0sctl upgrades, kured reboots: the eviction API) and the
 * attach/detach controller do to workloads that run several replicas.
 *
 * - `rwo-claim-shared`: a ReadWriteOnce volume attaches to one node at a time (the
 *   attach/detach controller refuses a second attachment: "Multi-Attach error … Volume is already
 *   used by pod(s)"), a ReadWriteOncePod one to one pod. Several pods mounting one such claim
 *   that the scheduler may place on different nodes leave all but the first ContainerCreating
 *   (Kubernetes docs, "Persistent Volumes → Access Modes"). Hetzner volumes are ReadWriteOnce
 *   only.
 * - `budget-covers-replicas`: every Deployment or StatefulSet of ≥ 2 replicas (the replicas
 *   exist so that one may go) has a PodDisruptionBudget selecting its pods — without one, a
 *   drain evicts every replica on the node at once, and two replicas may share one during a
 *   rollout. Pods the operators make (CloudNativePG instances, MinIO pools) get the operators'
 *   own budgets; DaemonSets are skipped by drains; k0s's own CoreDNS is not the estate's.
 * - `budget-blocks-drain`: a budget that allows no disruption with every pod healthy (e.g.
 *   `minAvailable: 1` over a single replica, `maxUnavailable: 0`) makes every drain of its node
 *   wait forever; k0sctl gives up after its drain timeout, kured retries and never reboots.
 *   Allowed disruptions = healthy pods − desired healthy, where desired = minAvailable, or
 *   expected − maxUnavailable, percentages of the expected count rounded up (the disruption
 *   controller, `GetScaledValueFromIntOrPercent(…, true)`).
 */
import { matchesSelector, unfitReason } from "../kube";
import type { KObject, TwinCheck, TwinEstate, TwinFinding, Workload } from "../model";
import { ref } from "../model";

const BUDGETED_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);

/** The scaled value of an int-or-percent (`"50%"`), rounded up as the disruption controller does. */
export function scaled(v: number | string, expected: number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v.trim());
  if (m) return Math.ceil((Number(m[1]) * expected) / 100);
  const n = Number(v);
  return Number.isFinite(n) ? n : expected;
}

/** Disruptions a budget allows over `expected` healthy pods (policy/v1 semantics). */
export function allowedDisruptions(spec: { minAvailable?: number | string; maxUnavailable?: number | string }, expected: number): number {
  let desired: number;
  if (spec.maxUnavailable !== undefined) desired = expected - scaled(spec.maxUnavailable, expected);
  else if (spec.minAvailable !== undefined) desired = scaled(spec.minAvailable, expected);
  else desired = expected; // neither set: counted as allowing none (the conservative reading)
  return Math.max(0, expected - desired);
}

/** Nodes a workload's pods may run on. */
function eligibleNodes(e: TwinEstate, w: Workload): string[] {
  return e.nodes.filter((n) => !n.reset && !unfitReason(w.spec, n, w.volumeTopology)).map((n) => n.name);
}

/** Pods of a workload (a DaemonSet: one per eligible node). */
function podCount(e: TwinEstate, w: Workload): number {
  return w.replicas < 0 ? eligibleNodes(e, w).length : w.replicas;
}

/** Whether every pod of `w` is required on one node with the others (pod affinity to itself on the hostname). */
function packedOnOneNode(w: Workload): boolean {
  const terms = (w.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) as any[];
  return terms.some((t) => t.topologyKey === "kubernetes.io/hostname" && matchesSelector(t.labelSelector, w.labels));
}

const rwoClaimShared: TwinCheck = {
  name: "rwo-claim-shared",
  family: "availability",
  models: "the attach/detach controller: a ReadWriteOnce volume attaches to one node (ReadWriteOncePod: one pod); pods on other nodes stay ContainerCreating (Multi-Attach error)",
  run(e) {
    const out: TwinFinding[] = [];
    for (const pvc of e.byKind.get("PersistentVolumeClaim") ?? []) {
      const modes = ((pvc.object.spec?.accessModes ?? ["ReadWriteOnce"]) as string[]);
      if (modes.some((m) => m === "ReadWriteMany" || m === "ReadOnlyMany")) continue;
      const ns = pvc.namespace ?? "default";
      const consumers = e.workloads.filter((w) => w.namespace === ns && w.replicas !== 0 && ((w.spec.volumes ?? []) as any[]).some((v) => v.persistentVolumeClaim?.claimName === pvc.name));
      const pods = consumers.reduce((n, w) => n + podCount(e, w), 0);
      if (pods < 2) continue;
      const onePod = modes.includes("ReadWriteOncePod");
      const nodes = new Set(consumers.flatMap((w) => eligibleNodes(e, w)));
      const oneNode = nodes.size < 2 || (consumers.length === 1 && packedOnOneNode(consumers[0]));
      if (!onePod && oneNode) continue;
      out.push({
        check: this.name,
        level: "error",
        objects: [ref(pvc), ...consumers.map((w) => w.id)],
        message: onePod
          ? `is ReadWriteOncePod and ${pods} pods mount it: only one can start`
          : `is ReadWriteOnce and ${pods} pods (${consumers.map((w) => `${w.id} ×${podCount(e, w)}`).join(", ")}) mount it, which the scheduler may place on ${nodes.size} different nodes: the volume attaches to one node, pods elsewhere stay ContainerCreating (Multi-Attach error)`,
      });
    }
    return out;
  },
};

/** Budgets of a namespace whose selector matches a workload's pods. */
function budgetsOf(e: TwinEstate, w: Workload): KObject[] {
  return (e.byKind.get("PodDisruptionBudget") ?? []).filter((b) => (b.namespace ?? "default") === w.namespace && matchesSelector(b.object.spec?.selector ?? null, w.labels));
}

const budgetCoversReplicas: TwinCheck = {
  name: "budget-covers-replicas",
  family: "availability",
  models: "the eviction API during drains: without a PodDisruptionBudget selecting its pods, every replica on the drained node is evicted at once",
  run(e) {
    const out: TwinFinding[] = [];
    for (const w of e.workloads) {
      if (!BUDGETED_KINDS.has(w.kind) || w.replicas < 2 || w.owner.source === "k0s") continue;
      if (budgetsOf(e, w).length === 0)
        out.push({ check: this.name, level: "error", objects: [w.id], message: `runs ${w.replicas} replicas and no PodDisruptionBudget selects its pods: a drain may evict them together` });
    }
    return out;
  },
};

const budgetBlocksDrain: TwinCheck = {
  name: "budget-blocks-drain",
  family: "availability",
  models: "the disruption controller: a budget allowing 0 disruptions with every pod healthy refuses every eviction, so a drain of the node never ends",
  run(e) {
    const out: TwinFinding[] = [];
    for (const b of e.byKind.get("PodDisruptionBudget") ?? []) {
      const ns = b.namespace ?? "default";
      const pods = e.workloads.filter((w) => w.namespace === ns && w.replicas !== 0 && matchesSelector(b.object.spec?.selector ?? null, w.labels));
      if (pods.length === 0) continue;
      const expected = pods.reduce((n, w) => n + podCount(e, w), 0);
      const allowed = allowedDisruptions(b.object.spec ?? {}, expected);
      if (allowed < 1)
        out.push({
          check: this.name,
          level: "error",
          objects: [ref(b), ...pods.map((w) => w.id)],
          message: `allows ${allowed} disruption(s) over ${expected} pod(s) (${JSON.stringify({ minAvailable: b.object.spec?.minAvailable, maxUnavailable: b.object.spec?.maxUnavailable })}): every eviction is refused, a drain of their node never completes`,
        });
    }
    return out;
  },
};

export const AVAILABILITY_CHECKS: TwinCheck[] = [rwoClaimShared, budgetCoversReplicas, budgetBlocksDrain];
