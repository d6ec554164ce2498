/**
 * Grafana dashboards as code: JSON models provisioned as ConfigMaps that Grafana's dashboard
 * sidecar (kube-prometheus-stack: label `grafana_dashboard: "1"`, every namespace) loads.
 * - "Liiibre / Errors per service": the co-op's incident board — HTTP 5xx per ingress/service
 *   (Traefik's request metrics, the edge controller), error log lines per
 *   namespace (Loki), crash-looping containers, firing alerts;
 * - "Liiibre / Storage per organisation": bucket usage against the pool (every bucket: MinIO's v3
 *   cluster usage, minio-metrics.ts), the fullest organisation pools, PVC usage;
 * - "Liiibre / Backups": k8up jobs, base backup age, WAL archiving, replication to Helsinki (objects
 *   the twins miss, and the age of both sides' usage figures, which that comparison relies on).
 */
import { poolFillExpr } from "./alert-rules";
import { HELSINKI_MINIO_JOB, HELSINKI_MINIO_USAGE_JOB, MINIO_USAGE, PRIMARY_MINIO_JOB } from "./minio-metrics";

export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

interface Target {
  expr: string;
  legend: string;
  datasource?: "prometheus" | "loki";
}

let nextId = 1;
function panel(title: string, targets: Target[], unit: string, x: number, y: number, type: "timeseries" | "stat" = "timeseries") {
  const ds = targets[0]?.datasource === "loki" ? { type: "loki", uid: "${loki}" } : { type: "prometheus", uid: "${datasource}" };
  return {
    id: nextId++,
    title,
    type,
    datasource: ds,
    gridPos: { h: 8, w: 12, x, y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: type === "timeseries" ? { legend: { displayMode: "table", placement: "right", calcs: ["lastNotNull", "max"] } } : { reduceOptions: { calcs: ["lastNotNull"] } },
    targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), expr: t.expr, legendFormat: t.legend, datasource: ds })),
  };
}

function dashboard(uid: string, title: string, panels: unknown[]) {
  return {
    uid,
    title,
    tags: ["liiibre"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-24h", to: "now" },
    refresh: "1m",
    templating: {
      list: [
        { name: "datasource", type: "datasource", query: "prometheus", current: {} },
        { name: "loki", type: "datasource", query: "loki", current: {} },
      ],
    },
    panels,
  };
}

export function errorsDashboard() {
  nextId = 1;
  return dashboard("liiibre-errors", "Liiibre / Errors per service", [
    // Traefik's request counter (its ServiceMonitor, components/platform/edge.ts); `exported_service`
    // is `<namespace>-<service>-<port>@kubernetes…`, one series per route backend.
    panel(
      "HTTP 5xx per second, by service",
      [{ expr: 'sum by (exported_service) (rate(traefik_service_requests_total{code=~"5.."}[5m]))', legend: "{{exported_service}}" }],
      "reqps",
      0,
      0,
    ),
    panel(
      "Share of 5xx, by service",
      [{ expr: 'sum by (exported_service) (rate(traefik_service_requests_total{code=~"5.."}[5m])) / sum by (exported_service) (rate(traefik_service_requests_total[5m]))', legend: "{{exported_service}}" }],
      "percentunit",
      12,
      0,
    ),
    panel("Error log lines per namespace (Loki)", [{ expr: 'sum by (namespace) (count_over_time({namespace=~".+"} |~ "(?i)(error|fatal|exception)" [5m]))', legend: "{{namespace}}", datasource: "loki" }], "short", 0, 8),
    panel("Containers crash-looping", [{ expr: 'sum by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})', legend: "{{namespace}}/{{pod}}" }], "short", 12, 8),
    panel("Firing alerts by severity", [{ expr: 'sum by (severity) (ALERTS{alertstate="firing"})', legend: "{{severity}}" }], "short", 0, 16, "stat"),
  ]);
}

export function storageDashboard() {
  nextId = 1;
  return dashboard("liiibre-storage", "Liiibre / Storage per organisation", [
    panel("Bucket usage", [{ expr: `max by (bucket) (${MINIO_USAGE.bucketBytes}{job="${PRIMARY_MINIO_JOB}"})`, legend: "{{bucket}}" }], "bytes", 0, 0),
    panel("Bucket usage / quota (the organisation's pool)", [{ expr: `max by (bucket) (${MINIO_USAGE.bucketBytes}{job="${PRIMARY_MINIO_JOB}"}) / max by (bucket) (${MINIO_USAGE.bucketQuota}{job="${PRIMARY_MINIO_JOB}"})`, legend: "{{bucket}}" }], "percentunit", 12, 0),
    // At 700 organisations the bucket panels hold ~1,000 series: the fullest pools first (the pool alert's own expression).
    panel("Fullest organisation pools (usage / pool)", [{ expr: `topk(20, ${poolFillExpr()})`, legend: "{{tenant}}" }], "percentunit", 0, 8),
    panel("PVC usage by namespace", [{ expr: "sum by (namespace) (kubelet_volume_stats_used_bytes)", legend: "{{namespace}}" }], "bytes", 12, 8),
    panel("Fullest PVCs", [{ expr: "topk(10, kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes)", legend: "{{namespace}}/{{persistentvolumeclaim}}" }], "percentunit", 0, 16),
  ]);
}

export function backupsDashboard() {
  nextId = 1;
  return dashboard("liiibre-backups", "Liiibre / Backups", [
    panel(
      "k8up jobs in the last 24 h (success / failure)",
      [
        { expr: "sum by (exported_namespace, jobType) (increase(k8up_jobs_successful_counter[24h]))", legend: "ok {{exported_namespace}} {{jobType}}" },
        { expr: "sum by (exported_namespace, jobType) (increase(k8up_jobs_failed_counter[24h]))", legend: "failed {{exported_namespace}} {{jobType}}" },
      ],
      "short",
      0,
      0,
    ),
    panel("Age of the last base backup", [{ expr: "time() - max by (namespace, cluster) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp)", legend: "{{namespace}}/{{cluster}}" }], "s", 12, 0),
    panel("Seconds since the last archived WAL", [{ expr: "max by (namespace, pod) (cnpg_pg_stat_archiver_seconds_since_last_archival)", legend: "{{namespace}}/{{pod}}" }], "s", 0, 8),
    panel(
      "Replication to Helsinki: objects the twin misses, by bucket",
      [{ expr: `max by (bucket) (${MINIO_USAGE.bucketObjects}{job="${PRIMARY_MINIO_JOB}"}) - on (bucket) max by (bucket) (${MINIO_USAGE.bucketObjects}{job="${HELSINKI_MINIO_USAGE_JOB}"}) > 0`, legend: "{{bucket}}" }],
      "short",
      12,
      8,
    ),
    panel("Age of the usage figures (MinIO scanner)", [{ expr: `max by (job) (${MINIO_USAGE.sinceUpdate}{job=~"${PRIMARY_MINIO_JOB}|${HELSINKI_MINIO_USAGE_JOB}"})`, legend: "{{job}}" }], "s", 12, 16),
    panel("Helsinki drives used", [{ expr: `1 - minio_node_drive_free_bytes{job="${HELSINKI_MINIO_JOB}"} / minio_node_drive_total_bytes{job="${HELSINKI_MINIO_JOB}"}`, legend: "{{drive}}" }], "percentunit", 0, 16),
  ]);
}

/** Every dashboard: ConfigMap name → JSON model. */
export function dashboards(): Record<string, unknown> {
  return { "liiibre-errors": errorsDashboard(), "liiibre-storage": storageDashboard(), "liiibre-backups": backupsDashboard() };
}
