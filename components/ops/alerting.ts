/**
 * Alerting as code: the PrometheusRule of the estate (components/ops/alert-rules.ts), the
 * Grafana dashboards (dashboards.ts), and — as pure builders read by the kube-prometheus-stack
 * values (components/platform/monitoring.ts) — the Alertmanager configuration (receivers from
 * `liiibre:monitoring.alerting`, routed by severity, e-mail through the `liiibre:mail` relay)
 * and the scrape jobs of the two MinIO servers (which endpoints, and why: minio-metrics.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { LABELS } from "../conventions";
import { PLATFORM_NAMESPACES } from "../platform/common";
import { NAMESPACE_LABELS_FOR_METRICS, alertRuleGroups, type Severity } from "./alert-rules";
import { DASHBOARD_LABEL, dashboards } from "./dashboards";
import { alertmanagerSmtpGlobal, mailRelay } from "./mail";
import { HELSINKI_MINIO_JOB, HELSINKI_MINIO_USAGE_JOB, MINIO_USAGE_KEEP, MINIO_V2_NODE_PATH, MINIO_V3_CLUSTER_USAGE_PATH, PRIMARY_MINIO_JOB } from "./minio-metrics";

/** Receivers of each severity: explicit routes, or the defaults documented in the schema. */
export function routesOf(estate: Estate): Record<Severity, Array<"email" | "webhook">> {
  const a = estate.monitoring.alerting;
  const configured = (["email", "webhook"] as const).filter((r) => a.receivers[r]);
  return {
    critical: a.routes.critical ?? configured,
    warning: a.routes.warning ?? (a.receivers.webhook ? ["webhook"] : configured),
    info: a.routes.info ?? [],
  };
}

/** The whole Alertmanager configuration (kube-prometheus-stack `alertmanager.config`). No secret in it. */
export function alertmanagerConfig(estate: Estate): Record<string, unknown> {
  const a = estate.monitoring.alerting;
  const relay = mailRelay(estate);
  const routes = routesOf(estate);
  const receivers: Array<Record<string, unknown>> = [{ name: "null" }];
  const severities = ["critical", "warning", "info"] as const;
  for (const sev of severities) {
    const r = routes[sev];
    if (!r.length) continue;
    const rec: Record<string, unknown> = { name: sev };
    if (r.includes("email") && a.receivers.email) rec.email_configs = [{ to: a.receivers.email.to.join(", "), send_resolved: true }];
    if (r.includes("webhook") && a.receivers.webhook) rec.webhook_configs = [{ url: a.receivers.webhook.url, send_resolved: true, max_alerts: 20 }];
    receivers.push(rec);
  }
  return {
    global: { resolve_timeout: "5m", ...(relay ? alertmanagerSmtpGlobal(relay) : {}) },
    inhibit_rules: [
      { source_matchers: ["severity = critical"], target_matchers: ["severity =~ warning|info"], equal: ["namespace", "alertname"] },
      { source_matchers: ["severity = warning"], target_matchers: ["severity = info"], equal: ["namespace", "alertname"] },
    ],
    route: {
      receiver: "null",
      group_by: ["alertname", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: a.repeatInterval,
      routes: [
        { receiver: "null", matchers: ['alertname = "Watchdog"'] },
        ...severities.filter((s) => routes[s].length).map((s) => ({ receiver: s, matchers: [`severity = "${s}"`] })),
      ],
    },
    receivers,
    templates: ["/etc/alertmanager/config/*.tmpl"],
  };
}

/** Keeps only the usage series the rules and panels read (MINIO_USAGE): one bucket is then 4 series, not ~25. */
const keepUsage = [{ source_labels: ["__name__"], regex: MINIO_USAGE_KEEP, action: "keep" }];

/**
 * Prometheus scrape jobs beyond ServiceMonitors (all public: `MINIO_PROMETHEUS_AUTH_TYPE=public` on
 * both servers, no bearer token):
 * - PRIMARY_MINIO_JOB: the primary's v3 cluster usage (every bucket; the v2 bucket endpoint stops at
 *   100) through its Service: the `/cluster` groups are cluster-wide, any server answers for all;
 * - HELSINKI_MINIO_JOB: Helsinki's v2 node metrics (drives, and `up` for LiiibreHelsinkiDown);
 * - HELSINKI_MINIO_USAGE_JOB: Helsinki's v3 cluster usage (every twin bucket), the other end of the
 *   replication rules.
 */
export function minioScrapeConfigs(estate: Estate): Array<Record<string, unknown>> {
  const helsinki = [{ targets: [`${estate.backup.s3Domain}:443`] }];
  return [
    {
      job_name: PRIMARY_MINIO_JOB,
      scheme: "https",
      metrics_path: MINIO_V3_CLUSTER_USAGE_PATH,
      scrape_interval: "2m",
      // The Tenant's certificate is signed by the operator's own CA (requestAutoCert).
      tls_config: { insecure_skip_verify: true },
      static_configs: [{ targets: ["minio.minio.svc.cluster.local:443"] }],
      metric_relabel_configs: keepUsage,
    },
    {
      job_name: HELSINKI_MINIO_JOB,
      scheme: "https",
      metrics_path: MINIO_V2_NODE_PATH,
      scrape_interval: "1m",
      static_configs: helsinki,
    },
    {
      job_name: HELSINKI_MINIO_USAGE_JOB,
      scheme: "https",
      metrics_path: MINIO_V3_CLUSTER_USAGE_PATH,
      scrape_interval: "2m",
      static_configs: helsinki,
      metric_relabel_configs: keepUsage,
    },
  ];
}

/** kube-state-metrics values (kube-prometheus-stack subchart): the namespace labels the pool alert reads. */
export function kubeStateMetricsValues(): Record<string, unknown> {
  return { metricLabelsAllowlist: [`namespaces=[${NAMESPACE_LABELS_FOR_METRICS.join(",")}]`] };
}

export interface AlertingArgs {
  estate: Estate;
  provider: k8s.Provider;
  /** Namespace of kube-prometheus-stack (its Prometheus selects every PrometheusRule). */
  namespace: pulumi.Input<string>;
}

export class Alerting extends pulumi.ComponentResource {
  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:ops:Alerting", name, {}, opts);
    const { estate, provider, namespace } = args;
    const labels = { [LABELS.layer]: "platform", "app.kubernetes.io/part-of": "liiibre" };
    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "liiibre-alerts", namespace, labels },
        // Estate-wide rules, the organisations' pool alert included (one rule for all, no per-organisation data).
        spec: { groups: alertRuleGroups() },
      },
      { parent: this, provider },
    );
    // cert-manager's metrics Service (chart value prometheus.enabled); its own ServiceMonitor
    // is off because the chart installs before the monitoring CRDs may exist.
    new k8s.apiextensions.CustomResource(
      `${name}-cert-manager-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "cert-manager", namespace, labels },
        spec: {
          namespaceSelector: { matchNames: [PLATFORM_NAMESPACES.certManager] },
          selector: { matchLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" } },
          endpoints: [{ port: "tcp-prometheus-servicemonitor", interval: "60s" }],
        },
      },
      { parent: this, provider },
    );
    for (const [cm, model] of Object.entries(dashboards())) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${cm}`,
        { metadata: { name: cm, namespace, labels: { ...labels, ...DASHBOARD_LABEL } }, data: { [`${cm}.json`]: JSON.stringify(model) } },
        { parent: this, provider },
      );
    }
    this.registerOutputs({});
  }
}
