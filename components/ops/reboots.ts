/**
 * Coordinated node reboots (kured): unattended upgrades (cloud-init, k0sctl hook) leave
 * `/var/run/reboot-required`; kured reboots one node at a time, inside
 * `liiibre:operations.reboots` days and window (UTC), after draining it through the eviction
 * API — so every PodDisruptionBudget holds (a drain that cannot proceed is retried, never forced)
 * — and never while one of the estate's critical alerts fires (it asks Prometheus first). The backup server is no
 * node: it reboots itself after the backup windows (components/storage/backupCloudInit.ts).
 *
 * No Helm chart: the program declares kured's objects itself, as upstream's plain manifests do
 * (kubereboot/kured `kured-ds.yaml`, `kured-rbac.yaml`): a ServiceAccount; a ClusterRole to
 * cordon/uncordon nodes and evict their pods; a Role to take the lock (an annotation on kured's
 * own DaemonSet, one node at a time); the DaemonSet on every node, privileged with the host's
 * PID namespace (it enters PID 1's mount namespace to run `systemctl reboot`). Its namespace
 * `kured` is the only platform namespace at Pod Security level `privileged`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { LABELS, NAMESPACES } from "../conventions";
import { IMAGES } from "../versions";
import { PLATFORM_NAMESPACES, TOLERATE_ALL } from "../platform/common";
import { alertRuleGroups } from "./alert-rules";

/** In-cluster URL of kube-prometheus-stack's Prometheus (release `kube-prometheus-stack`). */
export const PROMETHEUS_URL = `http://kube-prometheus-stack-prometheus.${PLATFORM_NAMESPACES.monitoring}.svc:9090`;

/** Namespace of kured (Pod Security `privileged`, nothing else in it). */
export const KURED_NAMESPACE = NAMESPACES.kured;
/** Name of kured's ServiceAccount, roles and DaemonSet (the lock is on this DaemonSet: `--ds-name`). */
export const KURED_NAME = "kured";
/** Where the container sees the host's `/var/run` (the sentinel `reboot-required` is there). */
export const SENTINEL_MOUNT = "/sentinel";
/** Taint kured puts on a node waiting for its reboot, so new pods prefer the others. */
export const KURED_PREFER_NO_SCHEDULE_TAINT = "weave.works/kured-node-reboot";

/** Names of the estate's critical alerts (components/ops/alert-rules.ts), sorted. */
export function criticalAlerts(): string[] {
  return [...new Set(alertRuleGroups().flatMap((g) => g.rules.filter((r) => r.labels.severity === "critical").map((r) => r.alert)))].sort();
}

/** kured's command line (flags of kured 1.23; nothing secret in it). */
export function kuredCommand(estate: Estate): string[] {
  const r = estate.operations.reboots;
  const [start, end] = r.window.split("-");
  return [
    "/usr/bin/kured",
    `--reboot-sentinel=${SENTINEL_MOUNT}/reboot-required`,
    // The lock: an annotation on this DaemonSet; one node reboots at a time.
    `--ds-name=${KURED_NAME}`,
    `--ds-namespace=${KURED_NAMESPACE}`,
    "--concurrency=1",
    `--reboot-days=${r.days.join(",")}`,
    `--start-time=${start}`,
    `--end-time=${end}`,
    "--time-zone=UTC",
    "--period=1h",
    // Never force: a drain blocked by a budget is retried at the next period.
    "--force-reboot=false",
    "--drain-timeout=15m",
    "--drain-grace-period=120",
    // Hold reboots while one of the estate's critical alerts fires (a node down, backups or
    // replication broken): warnings such as a full storage pool must not stop patching for weeks.
    `--prometheus-url=${PROMETHEUS_URL}`,
    `--alert-filter-regexp=^(${criticalAlerts().join("|")})$`,
    "--alert-filter-match-only=true",
    "--alert-firing-only=true",
    "--annotate-nodes=true",
    `--prefer-no-schedule-taint=${KURED_PREFER_NO_SCHEDULE_TAINT}`,
  ];
}

/** Every object kured needs, as plain Kubernetes inputs (no Pulumi resource). */
export interface KuredObjects {
  namespace: k8s.types.input.core.v1.Namespace;
  serviceAccount: k8s.types.input.core.v1.ServiceAccount;
  clusterRole: k8s.types.input.rbac.v1.ClusterRole;
  clusterRoleBinding: k8s.types.input.rbac.v1.ClusterRoleBinding;
  role: k8s.types.input.rbac.v1.Role;
  roleBinding: k8s.types.input.rbac.v1.RoleBinding;
  daemonSet: k8s.types.input.apps.v1.DaemonSet;
}

/** kured's objects for an estate (pure: tested and validated without mocks). */
export function kuredObjects(estate: Estate): KuredObjects {
  const labels = { "app.kubernetes.io/name": KURED_NAME, [LABELS.layer]: "platform" };
  const selector = { "app.kubernetes.io/name": KURED_NAME };
  const meta = { name: KURED_NAME, namespace: KURED_NAMESPACE, labels };
  const subject = { kind: "ServiceAccount", name: KURED_NAME, namespace: KURED_NAMESPACE };
  return {
    namespace: {
      metadata: {
        name: KURED_NAMESPACE,
        labels: {
          [LABELS.layer]: "platform",
          // hostPID, a privileged container and a hostPath volume: only `privileged` admits them.
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/warn": "privileged",
          "pod-security.kubernetes.io/audit": "privileged",
        },
      },
    },
    serviceAccount: { metadata: meta },
    clusterRole: {
      metadata: { name: KURED_NAME, labels },
      rules: [
        // Cordon and uncordon (spec.unschedulable), annotate and taint the node.
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "patch"] },
        // Drain: list the node's pods, then evict them (the eviction API: budgets hold).
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
        // The drain skips DaemonSet pods after reading their owner.
        { apiGroups: ["apps"], resources: ["daemonsets"], verbs: ["get"] },
      ],
    },
    clusterRoleBinding: {
      metadata: { name: KURED_NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: KURED_NAME },
      subjects: [subject],
    },
    role: {
      metadata: meta,
      // The lock: kured annotates its own DaemonSet, and nothing else.
      rules: [{ apiGroups: ["apps"], resources: ["daemonsets"], resourceNames: [KURED_NAME], verbs: ["get", "update"] }],
    },
    roleBinding: {
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: KURED_NAME },
      subjects: [subject],
    },
    daemonSet: {
      metadata: meta,
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: "RollingUpdate" },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: KURED_NAME,
            // Every node, including tainted pools (storage, ingress, media) and controllers.
            tolerations: TOLERATE_ALL,
            nodeSelector: { "kubernetes.io/os": "linux" },
            // kured enters PID 1's mount namespace (nsenter) to reboot the host.
            hostPID: true,
            restartPolicy: "Always",
            volumes: [{ name: "sentinel", hostPath: { path: "/var/run", type: "Directory" } }],
            containers: [
              {
                name: "kured",
                image: `${IMAGES.kured.repository}:${IMAGES.kured.tag}`,
                imagePullPolicy: "IfNotPresent",
                securityContext: { privileged: true, readOnlyRootFilesystem: true },
                command: kuredCommand(estate),
                // The node it runs on: the node it drains, reboots and locks for.
                env: [{ name: "KURED_NODE_ID", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                ports: [{ name: "metrics", containerPort: 8080, protocol: "TCP" }],
                volumeMounts: [{ name: "sentinel", mountPath: SENTINEL_MOUNT, readOnly: true }],
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
              },
            ],
          },
        },
      },
    },
  };
}

export interface NodeRebootsArgs {
  /** The estate: `operations.reboots` (enabled, days, window). */
  estate: Estate;
  provider: k8s.Provider;
}

export class NodeReboots extends pulumi.ComponentResource {
  constructor(name: string, args: NodeRebootsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:ops:NodeReboots", name, {}, opts);
    if (args.estate.operations.reboots.enabled) {
      const o = kuredObjects(args.estate);
      const child = { parent: this, provider: args.provider };
      const ns = new k8s.core.v1.Namespace(`${name}-namespace`, o.namespace, child);
      const inNs = { ...child, dependsOn: [ns] };
      const sa = new k8s.core.v1.ServiceAccount(`${name}-service-account`, o.serviceAccount, inNs);
      const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, o.clusterRole, child);
      const crb = new k8s.rbac.v1.ClusterRoleBinding(`${name}-cluster-role-binding`, o.clusterRoleBinding, { ...child, dependsOn: [clusterRole, sa] });
      const role = new k8s.rbac.v1.Role(`${name}-role`, o.role, inNs);
      const rb = new k8s.rbac.v1.RoleBinding(`${name}-role-binding`, o.roleBinding, { ...child, dependsOn: [role, sa] });
      new k8s.apps.v1.DaemonSet(`${name}-daemonset`, o.daemonSet, { ...child, dependsOn: [crb, rb] });
    }
    this.registerOutputs({});
  }
}
