/**
 * Coordinated node reboots (kured): unattended upgrades (cloud-init, k0sctl hook) leave
 * `/var/run/reboot-required`; kured reboots one node at a time, inside
 * `liiibre:operations.reboots` days and window (UTC), after draining it through the eviction
 * API — so every PodDisruptionBudget holds (a drain that cannot proceed is retried, never forced)
 * — and never while one of the estate's critical alerts fires (it asks Prometheus first). The backup server is no
 * node: it reboots itself after the backup windows (components/storage/backupCloudInit.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { CHARTS, IMAGES } from "../versions";
import { PLATFORM_NAMESPACES, TOLERATE_ALL, release } from "../platform/common";
import { alertRuleGroups } from "./alert-rules";

/** In-cluster URL of kube-prometheus-stack's Prometheus (release `kube-prometheus-stack`). */
export const PROMETHEUS_URL = `http://kube-prometheus-stack-prometheus.${PLATFORM_NAMESPACES.monitoring}.svc:9090`;

/** Names of the estate's critical alerts (components/ops/alert-rules.ts), sorted. */
export function criticalAlerts(): string[] {
  return [...new Set(alertRuleGroups([]).flatMap((g) => g.rules.filter((r) => r.labels.severity === "critical").map((r) => r.alert)))].sort();
}

export function kuredValues(estate: Estate): Record<string, unknown> {
  const r = estate.operations.reboots;
  const [start, end] = r.window.split("-");
  return {
    image: { repository: IMAGES.kured.repository, tag: IMAGES.kured.tag },
    // Every node, including tainted pools (storage, ingress, media).
    tolerations: TOLERATE_ALL,
    configuration: {
      concurrency: 1,
      rebootDays: r.days,
      startTime: start,
      endTime: end,
      timeZone: "UTC",
      period: "1h",
      // Never force: a drain blocked by a budget is retried at the next period.
      forceReboot: false,
      drainTimeout: "15m",
      drainGracePeriod: "120",
      // Hold reboots while one of the estate's critical alerts fires (a node down, backups or
      // replication broken): warnings such as a full storage pool must not stop patching for weeks.
      prometheusUrl: PROMETHEUS_URL,
      alertFilterRegexp: `^(${criticalAlerts().join("|")})$`,
      alertFilterMatchOnly: true,
      alertFiringOnly: true,
      annotateNodes: true,
      preferNoScheduleTaint: "weave.works/kured-node-reboot",
    },
  };
}

export interface NodeRebootsArgs {
  estate: Estate;
  provider: k8s.Provider;
}

export class NodeReboots extends pulumi.ComponentResource {
  constructor(name: string, args: NodeRebootsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:ops:NodeReboots", name, {}, opts);
    if (args.estate.operations.reboots.enabled) {
      release("kured", { pin: CHARTS.kured, namespace: PLATFORM_NAMESPACES.system, values: kuredValues(args.estate) }, { parent: this, provider: args.provider });
    }
    this.registerOutputs({});
  }
}
