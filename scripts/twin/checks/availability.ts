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
import { routeBackends } from "../routes";
import { DOCUMENT_AFFINITY } from "../../../components/connections";

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

/** One section of an haproxy.cfg: its keyword line (`backend collabora`) and its lines. */
interface HaproxySection {
  kind: string;
  name: string;
  lines: string[];
}

/** The sections of an haproxy.cfg (a section starts at a line without indentation; comments dropped). */
export function haproxySections(cfg: string): HaproxySection[] {
  const out: HaproxySection[] = [];
  for (const raw of cfg.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      const [kind, name = ""] = line.trim().split(/\s+/);
      out.push({ kind, name, lines: [] });
    } else out.at(-1)?.lines.push(line.trim());
  }
  return out;
}

/** Host names a proxy section sends to (`server NAME ADDR`, `server-template PREFIX N ADDR`), SRV prefixes removed. */
function serverHosts(sec: HaproxySection): string[] {
  return sec.lines.flatMap((l) => {
    const t = l.split(/\s+/);
    const addr = t[0] === "server" ? t[2] : t[0] === "server-template" ? t[3] : undefined;
    return addr ? [addr.replace(/:\d+$/, "").replace(/^(_[^.]+\.)+/, "")] : [];
  });
}

/** Whether a host name is the Service `svc` of namespace `ns` (short, namespaced or cluster name). */
const namesService = (host: string, svc: string, ns: string): boolean => host === svc || host === `${svc}.${ns}` || host.startsWith(`${svc}.${ns}.svc`);

/** The setting of `keyword` in a proxy section, else in the last `defaults` before it. */
function setting(sections: HaproxySection[], sec: HaproxySection, keyword: string): string | undefined {
  const own = sec.lines.find((l) => l.split(/\s+/)[0] === keyword);
  if (own) return own;
  const before = sections.slice(0, sections.indexOf(sec)).filter((x) => x.kind === "defaults").at(-1);
  return before?.lines.find((l) => l.split(/\s+/)[0] === keyword);
}

const documentAffinity: TwinCheck = {
  name: "document-affinity",
  family: "availability",
  models: "the edge and HAProxy's balancing: the pods of an app needing document affinity (components/connections.ts DOCUMENT_AFFINITY) must get every request of a document on one pod, so with several pods only a proxy hashing the document key (`balance url_param <key>`, `hash-type consistent`) may reach them",
  run(e) {
    const out: TwinFinding[] = [];
    const backends = routeBackends(e);
    for (const [app, aff] of Object.entries(DOCUMENT_AFFINITY)) {
      if (!aff) continue;
      for (const w of e.workloads) {
        if (!BUDGETED_KINDS.has(w.kind) || podCount(e, w) < 2 || !matchesSelector({ matchLabels: aff.pods }, w.labels)) continue;
        const services = (e.byKind.get("Service") ?? []).filter((s) => s.namespace === w.namespace && Object.keys(s.object.spec?.selector ?? {}).length > 0 && matchesSelector({ matchLabels: s.object.spec.selector }, w.labels));
        // The edge straight to the pods: it balances each request on its own.
        for (const rb of backends)
          if (rb.namespace === w.namespace && services.some((s) => s.name === rb.service))
            out.push({ check: this.name, level: "error", objects: [ref(rb.route), w.id], message: `sends https://${rb.host}${rb.path} straight to ${w.id} (${w.replicas} replicas of ${app}): the edge balances every request on its own, so the requests of one document (its ${aff.param}) reach different pods — ${aff.why}; route it through a proxy hashing ${aff.param}` });
        // Proxies of the namespace whose configuration sends to one of those Services.
        for (const cm of (e.byKind.get("ConfigMap") ?? []).filter((c) => c.namespace === w.namespace && typeof c.object.data?.["haproxy.cfg"] === "string")) {
          const sections = haproxySections(cm.object.data["haproxy.cfg"]);
          for (const sec of sections.filter((x) => x.kind === "backend" || x.kind === "listen")) {
            if (!serverHosts(sec).some((h) => services.some((s) => namesService(h, s.name, w.namespace)))) continue;
            const balance = setting(sections, sec, "balance")?.split(/\s+/) ?? [];
            const hashType = setting(sections, sec, "hash-type")?.split(/\s+/) ?? [];
            const problems: string[] = [];
            if (!(balance[1] === "url_param" && balance[2] === aff.param)) problems.push(`balances \`${balance.slice(1).join(" ") || "random (the default)"}\` instead of \`url_param ${aff.param}\``);
            if (hashType[1] !== "consistent") problems.push(`hashes \`${hashType[1] ?? "map-based (the default)"}\` instead of \`consistent\` (a pod that goes would move every document)`);
            if (problems.length) out.push({ check: this.name, level: "error", objects: [ref(cm), w.id], message: `its ${sec.kind} ${sec.name} sends to ${w.id} (${w.replicas} replicas of ${app}) but ${problems.join(" and ")}: the requests of one document may reach different pods — ${aff.why}` });
          }
        }
      }
    }
    return out;
  },
};

export const AVAILABILITY_CHECKS: TwinCheck[] = [rwoClaimShared, budgetCoversReplicas, budgetBlocksDrain, documentAffinity];
