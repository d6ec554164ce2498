/**
 * Scheduling and admission: every pod template fits some node (kubelet, nodeSelector,
 * required node affinity, taints vs tolerations); passes its namespace's Pod Security level
 * (the Pod Security Admission `enforce` label: baseline and restricted rules of the Pod Security
 * Standards); and fits its namespace's LimitRange (max per container) and ResourceQuota (sum of
 * requests and limits, pods, claims).
 */
import { quantity, unfitReason } from "../kube";
import type { TwinCheck, TwinEstate, TwinFinding, Workload } from "../model";
import { claimsOf } from "./storage";

const fitsPool: TwinCheck = {
  name: "pod-fits-pool",
  family: "scheduling",
  models: "the scheduler's filters: NodeUnschedulable (pure controllers run no kubelet), NodeSelector, required NodeAffinity, TaintToleration",
  run(e) {
    const out: TwinFinding[] = [];
    for (const w of e.workloads) {
      if (w.replicas === 0) continue;
      const reasons = new Map<string, string[]>();
      let fits = false;
      for (const n of e.nodes.filter((x) => !x.reset)) {
        const why = unfitReason(w.spec, n, w.volumeTopology);
        if (!why) {
          fits = true;
          break;
        }
        reasons.set(n.pool, [...new Set([...(reasons.get(n.pool) ?? []), why])]);
      }
      if (!fits)
        out.push({ check: this.name, level: "error", objects: [w.id], message: `fits no node (${[...reasons.entries()].map(([p, r]) => `${p}: ${r.join(", ")}`).join("; ")}): its pods stay Pending` });
    }
    return out;
  },
};

/** Capabilities the baseline level allows to add (Pod Security Standards). */
const BASELINE_CAPS = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const RESTRICTED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "name"]);
const SAFE_SYSCTLS = new Set(["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]);

/** The rules of the Pod Security Standards a pod spec breaks at `level` (baseline, restricted). */
export function podSecurityViolations(spec: any, level: "baseline" | "restricted"): string[] {
  const v: string[] = [];
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])] as any[];
  // baseline
  if (spec.hostNetwork) v.push("hostNetwork");
  if (spec.hostPID) v.push("hostPID");
  if (spec.hostIPC) v.push("hostIPC");
  for (const vol of spec.volumes ?? []) if (vol.hostPath) v.push(`hostPath volume ${vol.name}`);
  for (const s of spec.securityContext?.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) v.push(`sysctl ${s.name}`);
  if (spec.securityContext?.windowsOptions?.hostProcess) v.push("hostProcess");
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) v.push(`container ${c.name} privileged`);
    for (const cap of sc.capabilities?.add ?? []) if (!BASELINE_CAPS.has(cap)) v.push(`container ${c.name} adds capability ${cap}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`container ${c.name} hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== "Default") v.push(`container ${c.name} procMount ${sc.procMount}`);
    if (["Unconfined"].includes(sc.seccompProfile?.type)) v.push(`container ${c.name} seccomp Unconfined`);
    if (sc.appArmorProfile?.type === "Unconfined") v.push(`container ${c.name} AppArmor Unconfined`);
  }
  if (spec.securityContext?.seccompProfile?.type === "Unconfined") v.push("seccomp Unconfined");
  if (level === "baseline") return v;
  // restricted
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== "name");
    if (type && !RESTRICTED_VOLUMES.has(type)) v.push(`volume ${vol.name} of type ${type}`);
  }
  const podNonRoot = spec.securityContext?.runAsNonRoot === true;
  const podSeccomp = ["RuntimeDefault", "Localhost"].includes(spec.securityContext?.seccompProfile?.type);
  if (spec.securityContext?.runAsUser === 0) v.push("runAsUser 0");
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) v.push(`container ${c.name} allowPrivilegeEscalation not false`);
    if (!(sc.runAsNonRoot === true || (podNonRoot && sc.runAsNonRoot !== false))) v.push(`container ${c.name} runAsNonRoot not true`);
    if (sc.runAsUser === 0) v.push(`container ${c.name} runAsUser 0`);
    if (!(["RuntimeDefault", "Localhost"].includes(sc.seccompProfile?.type) || (podSeccomp && !sc.seccompProfile))) v.push(`container ${c.name} seccompProfile not RuntimeDefault`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) v.push(`container ${c.name} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") v.push(`container ${c.name} adds capability ${cap}`);
  }
  return v;
}

/** Pods the operators create themselves (their own, audited templates: CloudNativePG instances, MinIO pools). */
const OPERATOR_MADE = new Set(["Cluster", "TenantPool"]);

const podSecurity: TwinCheck = {
  name: "pod-security",
  family: "scheduling",
  models: "Pod Security Admission: a namespace's `pod-security.kubernetes.io/enforce` level (baseline, restricted) refuses pods breaking its rules",
  run(e) {
    const out: TwinFinding[] = [];
    const levels = new Map((e.byKind.get("Namespace") ?? []).map((n) => [n.name, n.object.metadata?.labels?.["pod-security.kubernetes.io/enforce"] as string | undefined]));
    for (const w of e.workloads) {
      const level = levels.get(w.namespace);
      if (level !== "baseline" && level !== "restricted") continue;
      if (OPERATOR_MADE.has(w.kind)) continue;
      const v = podSecurityViolations(w.spec, level);
      if (v.length) out.push({ check: this.name, level: "error", objects: [w.id], message: `breaks the ${level} Pod Security level of namespace ${w.namespace} (${v.join(", ")}): admission refuses its pods` });
    }
    return out;
  },
};

function containerResources(e: TwinEstate, w: Workload) {
  const lr = (e.byKind.get("LimitRange") ?? []).find((l) => l.namespace === w.namespace);
  const item = ((lr?.object.spec?.limits ?? []) as any[]).find((x) => x.type === "Container") ?? {};
  return ((w.spec.containers ?? []) as any[]).map((c) => {
    const lim = { ...(item.default ?? {}), ...(c.resources?.limits ?? {}) };
    const req = { ...(item.defaultRequest ?? {}), ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    return { name: c.name, req, lim, max: item.max ?? {} };
  });
}

const quotaFits: TwinCheck = {
  name: "quota-fits",
  family: "scheduling",
  models: "LimitRange (a container over `max` is refused) and ResourceQuota admission (pods beyond the namespace's hard requests, limits, pod or claim counts are refused)",
  run(e) {
    const out: TwinFinding[] = [];
    const claims = claimsOf(e);
    for (const q of e.byKind.get("ResourceQuota") ?? []) {
      const ns = q.namespace!;
      const hard = (q.object.spec?.hard ?? {}) as Record<string, string>;
      const used: Record<string, number> = { "requests.cpu": 0, "requests.memory": 0, "limits.cpu": 0, "limits.memory": 0, pods: 0, persistentvolumeclaims: 0, "requests.storage": 0 };
      for (const w of e.workloads.filter((x) => x.namespace === ns && x.replicas > 0 && !["Job", "CronJob", "Pod"].includes(x.kind))) {
        for (const c of containerResources(e, w)) {
          used["requests.cpu"] += (quantity(c.req.cpu ?? 0) || 0) * w.replicas;
          used["requests.memory"] += (quantity(c.req.memory ?? 0) || 0) * w.replicas;
          used["limits.cpu"] += (quantity(c.lim.cpu ?? 0) || 0) * w.replicas;
          used["limits.memory"] += (quantity(c.lim.memory ?? 0) || 0) * w.replicas;
        }
        used.pods += w.replicas;
      }
      for (const c of claims.filter((x) => x.namespace === ns)) {
        const n = c.consumer && c.owner.kind !== "PersistentVolumeClaim" ? Math.max(c.consumer.replicas, 0) : 1;
        used.persistentvolumeclaims += n;
        used["requests.storage"] += c.sizeGiB * 1024 ** 3 * n;
      }
      const over = Object.entries(hard)
        .filter(([k, v]) => k in used && used[k] > quantity(v) * (1 + 1e-9))
        .map(([k, v]) => `${k} ${fmt(k, used[k])} > ${v}`);
      if (over.length) out.push({ check: this.name, level: "error", objects: [`ResourceQuota/${ns}/${q.name}`], message: `the namespace's pods and claims need ${over.join(", ")}: admission refuses the pods (or claims) beyond the quota` });
    }
    for (const w of e.workloads)
      for (const c of containerResources(e, w))
        for (const k of ["cpu", "memory"] as const)
          if (c.max[k] !== undefined && c.lim[k] !== undefined && quantity(c.lim[k]) > quantity(c.max[k]) * (1 + 1e-9))
            out.push({ check: this.name, level: "error", objects: [w.id], message: `container ${c.name} has a ${k} limit of ${c.lim[k]}, over the LimitRange max ${c.max[k]} of ${w.namespace}: admission refuses its pods` });
    return out;
  },
};

const fmt = (k: string, v: number) => (/cpu/.test(k) ? `${Math.round(v * 1000)}m` : /memory|storage/.test(k) ? `${Math.round(v / 1024 ** 2)}Mi` : String(v));

export const SCHEDULING_CHECKS: TwinCheck[] = [fitsPool, podSecurity, quotaFits];
