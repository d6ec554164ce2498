/**
 * Monitoring as the co-op runs it: Prometheus + Alertmanager + Grafana
 * (kube-prometheus-stack), Loki for logs (single binary) and Grafana Alloy shipping every
 * pod's logs to Loki through the Kubernetes API (no host mounts).
 *
 * Placement: on the nodes labelled `liiibre.org/monitoring=true` when a pool has that label.
 * Metrics and logs are not backed up (expendable, rebuilt from the live cluster); the
 * namespace is retained on delete so their volumes are never removed by accident.
 * k0s controllers are not Kubernetes nodes: controller-manager, scheduler and etcd are not
 * scraped (their targets do not exist inside the cluster).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { opaqueSecret, password } from "../kit";
import { coopHosts, type Estate } from "../config";
import { LABELS, PLATFORM } from "../conventions";
import { liveSlots } from "../hetzner/nodes";
import { CHARTS } from "../versions";
import { adminOnly } from "./access";
import { PLATFORM_NAMESPACES, platformNamespace, release, TOLERATE_ALL } from "./common";
import { HCLOUD_STORAGE_CLASS } from "./hcloud";
import { LOCAL_STORAGE_CLASS } from "./local-volumes";
import { Alerting, alertmanagerConfig, kubeStateMetricsValues, minioScrapeConfigs } from "../ops/alerting";
import { SHARED_REPLICAS, nodesIn, spreadOverNodes } from "../ops/availability";
import { ALERTMANAGER_SMTP_SECRET, mailPassword, mailRelay } from "../ops/mail";

/** Node label of the pool(s) monitoring runs on. */
export const MONITORING_NODE_LABEL = LABELS.nodeMonitoring;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const LOKI_URL = `http://loki.${PLATFORM_NAMESPACES.monitoring}.svc.cluster.local:3100`;

export interface MonitoringPlacement {
  nodeSelector: Record<string, string>;
  storageClass: string;
}

/** Where monitoring runs and which storage class its volumes use. */
export function monitoringPlacement(estate: Estate): MonitoringPlacement {
  const pools = estate.nodePools.filter((p) => p.labels[MONITORING_NODE_LABEL] === "true");
  const candidates = pools.length ? pools : estate.nodePools;
  const cloud = candidates.some((p) => p.cloud !== undefined && liveSlots(p.cloud).length > 0);
  return {
    nodeSelector: pools.length ? { [MONITORING_NODE_LABEL]: "true" } : {},
    storageClass: cloud ? HCLOUD_STORAGE_CLASS : LOCAL_STORAGE_CLASS,
  };
}

const pvc = (storageClass: string, size: string) => ({
  volumeClaimTemplate: { spec: { storageClassName: storageClass, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } },
});

/**
 * Replicas of monitoring's essentials (Prometheus, Alertmanager): 2 spread over the
 * monitoring nodes when there are two of them, each with a budget; 1 otherwise (no budget: it
 * would block drains). Grafana: grafanaValues.
 */
export function monitoringReplicas(estate: Estate): number {
  const pools = estate.nodePools.filter((p) => p.labels[MONITORING_NODE_LABEL] === "true");
  const candidates = (pools.length ? pools : estate.nodePools).map((p) => p.name);
  return Math.min(SHARED_REPLICAS, Math.max(1, nodesIn(estate, candidates)));
}

/** Operations' additions to the kube-prometheus-stack values (issue 12): alerting, scrape jobs, HA. */
function operationsValues(estate: Estate): { prometheus: Record<string, unknown>; alertmanager: Record<string, unknown>; alertmanagerSpec: Record<string, unknown>; defaultRules: Record<string, unknown> } {
  const n = monitoringReplicas(estate);
  const ha = n >= 2;
  return {
    prometheus: {
      podDisruptionBudget: { enabled: ha, minAvailable: 1 },
    },
    alertmanager: {
      config: alertmanagerConfig(estate),
      podDisruptionBudget: { enabled: ha, minAvailable: 1 },
    },
    alertmanagerSpec: {
      replicas: n,
      podAntiAffinity: ha ? "hard" : "soft",
      ...(mailRelay(estate) ? { secrets: [ALERTMANAGER_SMTP_SECRET] } : {}),
    },
    // Our rules (components/ops/alert-rules.ts) replace these two upstream ones.
    defaultRules: { disabled: { KubePodCrashLooping: true, KubeNodeNotReady: true } },
  };
}

export function kubePrometheusStackValues(estate: Estate): Record<string, unknown> {
  const { nodeSelector, storageClass } = monitoringPlacement(estate);
  const ops = operationsValues(estate);
  const n = monitoringReplicas(estate);
  return {
    defaultRules: ops.defaultRules,
    crds: { enabled: true },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    prometheus: {
      prometheusSpec: {
        retention: "15d",
        retentionSize: "45GB",
        nodeSelector,
        storageSpec: pvc(storageClass, "50Gi"),
        // Pick up every ServiceMonitor/PodMonitor/rule, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        replicas: n,
        podAntiAffinity: n >= 2 ? "hard" : "soft",
        additionalScrapeConfigs: minioScrapeConfigs(estate),
      },
      ...ops.prometheus,
    },
    alertmanager: { ...ops.alertmanager, alertmanagerSpec: { nodeSelector, storage: pvc(storageClass, "5Gi"), ...ops.alertmanagerSpec } },
    // Grafana runs in its own release (grafanaValues, after the storage layer: its database is a
    // CloudNativePG cluster); this one keeps the datasources and the chart's dashboards, which
    // Grafana's sidecars load from the namespace.
    grafana: { enabled: false, forceDeployDatasources: true, forceDeployDashboards: true, additionalDataSources: [{ name: "Loki", type: "loki", access: "proxy", url: LOKI_URL }] },
    "prometheus-node-exporter": { tolerations: TOLERATE_ALL },
    "kube-state-metrics": kubeStateMetricsValues(),
  };
}

/** Release of Grafana (the kube-prometheus-stack chart with only its Grafana enabled). */
export const GRAFANA_RELEASE = "grafana";
/** Labels Grafana's pods carry (`grafana.selectorLabels`: name, release). */
export const GRAFANA_SELECTOR = { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": GRAFANA_RELEASE };

/** Grafana's PostgreSQL (plain data: a CloudNativePG cluster's read-write host and its app Secret). */
export interface GrafanaDatabase {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Secret with key `password` (CloudNativePG's `<cluster>-app`). */
  appSecretName: string;
}

/** Every part of kube-prometheus-stack but Grafana, off (the Grafana-only release). */
const ONLY_GRAFANA = {
  crds: { enabled: false },
  defaultRules: { create: false },
  alertmanager: { enabled: false },
  prometheus: { enabled: false },
  prometheusOperator: { enabled: false },
  kubeStateMetrics: { enabled: false },
  nodeExporter: { enabled: false },
  windowsMonitoring: { enabled: false },
  kubeApiServer: { enabled: false },
  kubelet: { enabled: false },
  kubeControllerManager: { enabled: false },
  coreDns: { enabled: false },
  kubeDns: { enabled: false },
  kubeEtcd: { enabled: false },
  kubeScheduler: { enabled: false },
  kubeProxy: { enabled: false },
};

/**
 * Values of the Grafana release: two replicas spread over the monitoring nodes with a budget,
 * sharing one PostgreSQL database (users, sessions, preferences, annotations) instead of SQLite on
 * a ReadWriteOnce volume, which one pod only can mount. Grafana's own alerting is off: alerts
 * are Prometheus rules routed by Alertmanager, and two Grafanas without an alerting cluster
 * (`ha_peers`) would each evaluate and send.
 */
export function grafanaValues(estate: Estate, db: GrafanaDatabase): Record<string, unknown> {
  const { nodeSelector } = monitoringPlacement(estate);
  const grafanaHost = coopHosts(estate.sharedServices).grafana;
  return {
    ...ONLY_GRAFANA,
    grafana: {
      enabled: true,
      // The release's datasource ConfigMap would point at a Prometheus of this release: the stack's one is used.
      sidecar: { datasources: { defaultDatasourceEnabled: false } },
      defaultDashboardsEnabled: false,
      testFramework: { enabled: false },
      // The chart reads the keys `admin-user` and `admin-password` (its defaults) from this Secret.
      admin: { existingSecret: GRAFANA_ADMIN_SECRET },
      replicas: SHARED_REPLICAS,
      topologySpreadConstraints: spreadOverNodes(GRAFANA_SELECTOR),
      podDisruptionBudget: { minAvailable: 1 },
      nodeSelector,
      persistence: { enabled: false },
      envValueFrom: { GF_DATABASE_PASSWORD: { secretKeyRef: { name: db.appSecretName, key: "password" } } },
      ingress: {
        enabled: true,
        ingressClassName: PLATFORM.ingressClass,
        // Every tenant's logs and the estate's metrics: the admin CIDRs only.
        annotations: { [PLATFORM.clusterIssuerAnnotation]: PLATFORM.clusterIssuer, ...adminOnly(estate.hetzner.adminCidrs).annotations },
        hosts: [grafanaHost],
        tls: [{ secretName: "grafana-tls", hosts: [grafanaHost] }],
      },
      "grafana.ini": {
        server: { root_url: `https://${grafanaHost}` },
        analytics: { reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false },
        database: { type: "postgres", host: `${db.host}:${db.port}`, name: db.database, user: db.user, ssl_mode: "require" },
        unified_alerting: { enabled: false },
      },
    },
  };
}

export function lokiValues(estate: Estate): Record<string, unknown> {
  const { nodeSelector, storageClass } = monitoringPlacement(estate);
  return {
    // "SingleBinary" was renamed "Monolithic" (chart 12.0); the `singleBinary` block keeps its name.
    deploymentMode: "Monolithic",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: "filesystem" },
      schemaConfig: {
        configs: [{ from: "2024-01-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } }],
      },
      limits_config: { retention_period: "744h" },
      compactor: { retention_enabled: true, delete_request_store: "filesystem" },
    },
    singleBinary: { replicas: 1, nodeSelector, persistence: { enabled: true, size: "50Gi", storageClass } },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    gateway: { enabled: false },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
  };
}

/** Alloy pipeline: every pod's logs, read through the API, labelled, pushed to Loki. */
export const ALLOY_CONFIG = `discovery.kubernetes "pods" {
  role = "pod"
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = "node"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
  clustering {
    enabled = true
  }
}

loki.write "default" {
  endpoint {
    url = "${LOKI_URL}/loki/api/v1/push"
  }
}
`;

export function alloyValues(estate: Estate): Record<string, unknown> {
  const { nodeSelector } = monitoringPlacement(estate);
  return {
    alloy: { configMap: { create: true, content: ALLOY_CONFIG }, clustering: { enabled: true } },
    // Two clustered collectors (the log targets are shared between them), with a budget.
    controller: { type: "statefulset", replicas: SHARED_REPLICAS, nodeSelector, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
  };
}

export interface MonitoringArgs {
  estate: Estate;
  provider: k8s.Provider;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly stack: k8s.helm.v3.Release;
  readonly loki: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:Monitoring", name, {}, opts);
    const { provider, estate } = args;
    const ns = platformNamespace(PLATFORM_NAMESPACES.monitoring, this, provider, { retainOnDelete: true });

    const grafanaAdmin = password(`${name}-grafana-admin`, { parent: this });
    const admin = opaqueSecret(
      `${name}-grafana-admin`,
      { name: GRAFANA_ADMIN_SECRET, namespace: ns.metadata.name, stringData: { "admin-user": "admin", "admin-password": grafanaAdmin.result } },
      { parent: this, provider },
    );
    // The relay password Alertmanager reads from a mounted file (alertmanagerSpec.secrets).
    const relay = mailRelay(estate);
    const smtp = relay
      ? [opaqueSecret(`${name}-alertmanager-smtp`, { name: ALERTMANAGER_SMTP_SECRET, namespace: ns.metadata.name, stringData: { password: mailPassword() } }, { parent: this, provider })]
      : [];
    this.stack = release("kube-prometheus-stack", { pin: CHARTS.kubePrometheusStack, namespace: ns.metadata.name, values: kubePrometheusStackValues(estate) }, { parent: this, provider, dependsOn: [admin, ...smtp] });
    // Alert rules and dashboards need the stack's CRDs and sidecar.
    new Alerting(`${name}-alerting`, { estate, provider, namespace: ns.metadata.name }, { parent: this, dependsOn: [this.stack] });
    this.loki = release("loki", { pin: CHARTS.loki, namespace: ns.metadata.name, values: lokiValues(estate) }, { parent: this, provider });
    release("alloy", { pin: CHARTS.alloy, namespace: ns.metadata.name, values: alloyValues(estate) }, { parent: this, provider, dependsOn: [this.loki] });
    this.registerOutputs({});
  }
}
