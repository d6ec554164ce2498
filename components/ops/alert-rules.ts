/**
 * The estate's alert rules (PrometheusRule groups), as pure data: what must page someone
 * before users notice. Metric names are those the exporters publish:
 * - k8up operator (`k8up_jobs_failed_counter`, `k8up_jobs_successful_counter`, `k8up_schedules_gauge`,
 *   labels `namespace`, `jobType`; scraped by the chart's ServiceMonitor without honorLabels, so the
 *   job's namespace arrives as `exported_namespace`);
 * - CloudNativePG instances (`cnpg_pg_stat_archiver_*`, `cnpg_collector_pg_wal_archive_status`) and the
 *   Barman Cloud plugin through them (`barman_cloud_cloudnative_pg_io_last_available_backup_timestamp`);
 * - MinIO: v3 cluster usage (`/minio/metrics/v3/cluster/usage`, every bucket) of the primary and of
 *   Helsinki, v2 node metrics (`/minio/v2/metrics/node`, drives) of Helsinki — why v3 and not the
 *   v2 bucket endpoint (capped at 100 buckets), and why no per-bucket replication counter: minio-metrics.ts;
 * - cert-manager (`certmanager_certificate_expiration_timestamp_seconds`);
 * - kubelet (`kubelet_volume_stats_*`), kube-state-metrics (`kube_node_status_condition`,
 *   `kube_pod_container_status_waiting_reason`, `kube_namespace_labels` for the pool alert's lifecycle).
 * Tested with `promtool test rules` (test/alert-rules.test.ts): each alert fires on a sample
 * series and stays quiet on a healthy one.
 */

import { BUCKET_SUFFIXES } from "../config/apps";
import { LABELS } from "../conventions";

import { HELSINKI_MINIO_JOB, HELSINKI_MINIO_USAGE_JOB, MINIO_USAGE, PRIMARY_MINIO_JOB } from "./minio-metrics";

export { HELSINKI_MINIO_JOB, HELSINKI_MINIO_USAGE_JOB, PRIMARY_MINIO_JOB };

export type Severity = "critical" | "warning" | "info";

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: { summary: string; description: string };
}
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** Thresholds of the rules (defaults = the figures). */
export const THRESHOLDS = {
  backupMissingHours: 26,
  baseBackupMaxAgeHours: 26,
  walReadyBacklog: 10,
  replicationStallHours: 2,
  replicationBehindHours: 3,
  helsinkiDiskRatio: 0.8,
  certificateDays: 14,
  volumeRatio: 0.85,
  poolRatio: 0.9,
} as const;

/** Bucket suffixes: every app's and the organisation bucket's (components/config/apps.ts, their one home). */
export { BUCKET_SUFFIXES };

/**
 * The anchored regular expression (PromQL matchers and label_replace are fully anchored) that
 * splits a primary bucket `<slug>-<suffix>` into its organisation: group 1 is the slug. Slugs may
 * contain hyphens (`ada`, `ada-lab`): the suffix must be one of `suffixes` and end the name, so
 * `ada-lab-nextcloud` is `ada-lab`'s and never `ada`'s. Refuses a suffix that is not plain
 * `[a-z0-9-]` (it would need escaping) and a set where one suffix ends with `-<another>`
 * (`media` beside `matrix-media`): bucket names themselves would then be ambiguous.
 */
export function poolBucketRegex(suffixes: readonly string[] = BUCKET_SUFFIXES): string {
  if (!suffixes.length) throw new Error("poolBucketRegex: no bucket suffix");
  for (const s of suffixes) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(s)) throw new Error(`poolBucketRegex: bucket suffix "${s}" must be lowercase letters, digits and inner hyphens`);
    const clash = suffixes.find((o) => o !== s && s.endsWith(`-${o}`));
    if (clash) throw new Error(`poolBucketRegex: bucket suffix "${s}" ends with "-${clash}", another suffix: <slug>-${s} and <slug>-${s.slice(0, -clash.length - 1)}-${clash} are the same bucket name`);
  }
  return `(.+)-(?:${[...suffixes].sort().join("|")})`;
}

/**
 * Name of a Kubernetes label in kube-state-metrics' `kube_<kind>_labels` (`label_` and the key
 * with every character outside `[a-zA-Z0-9_]` replaced by `_`: kube-state-metrics'
 * internal/store/utils.go), for the keys `NAMESPACE_LABELS_FOR_METRICS` allows.
 */
export const ksmLabel = (key: string): string => `label_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;
/** Namespace labels kube-state-metrics exports in `kube_namespace_labels` (its `metricLabelsAllowlist`, components/ops/alerting.ts). */
export const NAMESPACE_LABELS_FOR_METRICS = [LABELS.tenant, LABELS.state] as const;

/** Each organisation's pool fill (0–1, label `tenant`): its buckets' usage over their quota (poolRule, and the storage dashboard). */
export function poolFillExpr(): string {
  const re = poolBucketRegex();
  const byTenant = (agg: "sum" | "max", metric: string) =>
    `${agg} by (tenant) (label_replace(max by (bucket) (${metric}{job="${PRIMARY_MINIO_JOB}",bucket=~"${re}"}), "tenant", "$1", "bucket", "${re}"))`;
  return `${byTenant("sum", MINIO_USAGE.bucketBytes)} / ${byTenant("max", MINIO_USAGE.bucketQuota)}`;
}

/**
 * The pool alert of every organisation, in one estate-wide rule with no per-organisation data:
 * adding, suspending or removing an organisation changes nothing here. Both sides come from the
 * primary MinIO's v3 cluster usage (`/minio/metrics/v3/cluster/usage`, job PRIMARY_MINIO_JOB; every
 * bucket, where the v2 bucket endpoint stopped at 100: minio-metrics.ts): per bucket
 * `minio_cluster_usage_buckets_total_bytes` and `minio_cluster_usage_buckets_quota_total_bytes`
 * (exported when the bucket has a quota: every primary bucket carries its organisation's whole
 * pool, components/storage/tenantStorage.ts). `max by (bucket)` keeps one copy when several
 * targets answer for the same bucket (several servers, or a second scrape during a migration); the
 * bucket → `tenant` (= slug) mapping is poolBucketRegex's; usage = the sum of the organisation's
 * buckets, pool = their quota (max: they are equal, and during a resize the larger one is the
 * new pool). The shared instance is one `tenant` (its slug): its buckets' quota is the sum of its
 * members' pools. A suspended organisation stays watched (Synapse still writes media). A
 * decommissioned one keeps its buckets and their quota but nobody can act on its pool: its
 * namespace's `LABELS.state` (through kube-state-metrics' `kube_namespace_labels`) silences it;
 * without that metric nothing is silenced (the rule errs on the side of alerting).
 */
export function poolRule(): AlertRule {
  const t = THRESHOLDS;
  return {
    alert: "LiiibreStoragePoolFull",
    expr:
      `${poolFillExpr()} > ${t.poolRatio}` +
      ` unless on (tenant) label_replace(kube_namespace_labels{${ksmLabel(LABELS.state)}="decommissioned"}, "tenant", "$1", "${ksmLabel(LABELS.tenant)}", "(.+)")`,
    for: "1h",
    labels: { severity: "warning" },
    annotations: {
      summary: `The storage pool of {{ $labels.tenant }} is more than ${t.poolRatio * 100} % full`,
      description: "Its admin should redistribute the pool between members (Nextcloud group admin) or ask for more accounts.",
    },
  };
}

/**
 * The replication alerts, per bucket and for every bucket: each side's v3 cluster usage (the
 * primary's PRIMARY_MINIO_JOB, the Helsinki twins' HELSINKI_MINIO_USAGE_JOB; a twin has its primary
 * bucket's name, components/storage/offsiteCopy.ts). MinIO's per-bucket replication counters cannot
 * be scraped for 1,000 buckets at the pinned release (minio-metrics.ts), so the rules judge what
 * arrived, from the data-usage scanner's figures:
 * - Failing: the twin holds fewer objects than the primary held at every moment of the last
 *   `replicationBehindHours` (min_over_time): objects written that long ago are missing. Healthy
 *   replication cannot trigger it: the twin is the primary of some moment less than that ago, and
 *   what Helsinki keeps longer (noncurrent versions 30 days against 7, versioned deletes that are
 *   not replicated) only makes the twin larger. A primary bucket with objects and no twin at all
 *   counts as failing too.
 * - Lagging: the primary's versions grew over `replicationStallHours` and the twin's figure did not
 *   move once in that time (a lifecycle expiry on the primary only lowers the count; on the twin it
 *   would hide a stall: the rule errs on the quiet side there, Failing catches it later).
 * Both are judged only over a full window of history (`offset`), while Helsinki's usage figures are
 * fresh (its scanner updated them within the window; a missing scrape is LiiibreHelsinkiDown's), and only for the organisations' buckets
 * (poolBucketRegex: every one of them has a twin). The scanner's pace makes this slower than the
 * v2 counters were (hours, not minutes): docs/operations.md#alerts.
 */
export function replicationRules(): AlertRule[] {
  const t = THRESHOLDS;
  const re = poolBucketRegex();
  const primary = (metric: string) => `${metric}{job="${PRIMARY_MINIO_JOB}",bucket=~"${re}"}`;
  const twin = (metric: string) => `${metric}{job="${HELSINKI_MINIO_USAGE_JOB}"}`;
  const fresh = (hours: number) => ` and on () (max(${twin(MINIO_USAGE.sinceUpdate)}) <= ${hours * 3600})`;
  // Only buckets with the whole window behind them: a partial window (the first hours after the
  // switch to these metrics, a new bucket) would compare the twin with too recent a primary.
  const since = (selector: string, hours: number) => ` and on (bucket) max by (bucket) (${selector} offset ${hours}h)`;
  const held = `(max by (bucket) (min_over_time(${primary(MINIO_USAGE.bucketObjects)}[${t.replicationBehindHours}h]))${since(primary(MINIO_USAGE.bucketObjects), t.replicationBehindHours)})`;
  const copied = `max by (bucket) (${twin(MINIO_USAGE.bucketObjects)})`;
  return [
    {
      alert: "LiiibreReplicationFailing",
      expr: `(${held} > on (bucket) ${copied} or (${held} > 0 unless on (bucket) ${copied}))${fresh(t.replicationBehindHours)}`,
      for: "15m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The Helsinki copy of bucket {{ $labels.bucket }} misses objects",
        description: `The primary bucket has held at least {{ $value }} objects for ${t.replicationBehindHours} hours and its Helsinki twin has fewer (or does not exist): \`mc replicate status primary/{{ $labels.bucket }}\` shows the failures.`,
      },
    },
    {
      // The verdicts above (and the pool alert) need both sides' usage figures: say when they are
      // missing or old instead of going quiet.
      alert: "LiiibreStorageMetricsStale",
      expr:
        `max by (job) (${MINIO_USAGE.sinceUpdate}{job=~"${PRIMARY_MINIO_JOB}|${HELSINKI_MINIO_USAGE_JOB}"}) > ${t.replicationBehindHours * 3600}` +
        ` or absent(${MINIO_USAGE.sinceUpdate}{job="${PRIMARY_MINIO_JOB}"}) or absent(${twin(MINIO_USAGE.sinceUpdate)})`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "MinIO usage figures of {{ $labels.job }} are missing or more than ${t.replicationBehindHours} h old",
        description: "The pool alert (primary) or the replication alerts (Helsinki) cannot judge: check the scrape target and MinIO's scanner (`mc admin scanner status`).",
      },
    },
    {
      alert: "LiiibreReplicationLagging",
      expr:
        `max by (bucket) (delta(${primary(MINIO_USAGE.bucketVersions)}[${t.replicationStallHours}h])) > 0` +
        ` unless on (bucket) max by (bucket) (changes(${twin(MINIO_USAGE.bucketVersions)}[${t.replicationStallHours}h])) > 0` +
        since(twin(MINIO_USAGE.bucketVersions), t.replicationStallHours) +
        fresh(t.replicationStallHours),
      for: "30m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Bucket {{ $labels.bucket }} grows but its Helsinki copy does not change",
        description: `The primary bucket gained object versions over the last ${t.replicationStallHours} hours and its Helsinki twin's figures did not move.`,
      },
    },
  ];
}

/** Every estate-wide group (components/ops/alerting.ts puts them in one PrometheusRule). */
export function alertRuleGroups(): RuleGroup[] {
  const t = THRESHOLDS;
  const backups: AlertRule[] = [
    {
      alert: "LiiibreVolumeBackupFailed",
      expr: 'sum by (exported_namespace) (increase(k8up_jobs_failed_counter{jobType="backup"}[1h])) > 0',
      labels: { severity: "warning" },
      annotations: {
        summary: "k8up backup failed in {{ $labels.exported_namespace }}",
        description: "A k8up backup Job of {{ $labels.exported_namespace }} failed in the last hour (kubectl -n {{ $labels.exported_namespace }} get backups).",
      },
    },
    {
      alert: "LiiibreVolumeBackupMissing",
      expr: `max by (exported_namespace) (k8up_schedules_gauge) > 0 unless on (exported_namespace) sum by (exported_namespace) (increase(k8up_jobs_successful_counter{jobType="backup"}[${t.backupMissingHours}h])) > 0`,
      for: "15m",
      labels: { severity: "critical" },
      annotations: {
        summary: "No successful k8up backup of {{ $labels.exported_namespace }} for ${t.backupMissingHours} h",
        description: "The namespace has a k8up Schedule but no backup succeeded in the last ${t.backupMissingHours} hours.",
      },
    },
    {
      alert: "LiiibreWalArchivingFailing",
      expr: "cnpg_pg_stat_archiver_last_failed_time > cnpg_pg_stat_archiver_last_archived_time",
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "WAL archiving to Helsinki fails for {{ $labels.namespace }}/{{ $labels.pod }}",
        description: "The last WAL archive attempt failed and none succeeded since: point-in-time recovery is degrading.",
      },
    },
    {
      alert: "LiiibreWalArchivingLagging",
      expr: `cnpg_collector_pg_wal_archive_status{value="ready"} > ${t.walReadyBacklog}`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "WAL archiving lags for {{ $labels.namespace }}/{{ $labels.pod }}",
        description: "{{ $value }} WAL segments are waiting to be archived (more than ${t.walReadyBacklog} for 15 minutes).",
      },
    },
    {
      alert: "LiiibreBaseBackupTooOld",
      expr: `time() - max by (namespace, cluster) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp) > ${t.baseBackupMaxAgeHours * 3600}`,
      for: "15m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Last base backup of {{ $labels.namespace }}/{{ $labels.cluster }} is older than ${t.baseBackupMaxAgeHours} h",
        description: "The newest base backup in Helsinki is {{ $value | humanizeDuration }} old.",
      },
    },
  ];
  const offsite: AlertRule[] = [
    ...replicationRules(),
    {
      alert: "LiiibreHelsinkiDown",
      expr: `up{job="${HELSINKI_MINIO_JOB}"} == 0 or absent(up{job="${HELSINKI_MINIO_JOB}"})`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The Helsinki backup server does not answer",
        description: "Prometheus cannot scrape the Helsinki MinIO: replication, WAL archiving and k8up backups are stalled.",
      },
    },
    {
      alert: "LiiibreHelsinkiDiskFull",
      expr: `1 - (minio_node_drive_free_bytes{job="${HELSINKI_MINIO_JOB}"} / minio_node_drive_total_bytes{job="${HELSINKI_MINIO_JOB}"}) > ${t.helsinkiDiskRatio}`,
      for: "30m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Helsinki drive {{ $labels.drive }} is more than ${t.helsinkiDiskRatio * 100} % full",
        description: "Grow the backup volumes (liiibre:backup.server.volumesGB) before replication and backups stop.",
      },
    },
  ];
  const cluster: AlertRule[] = [
    {
      alert: "LiiibreCertificateExpiring",
      expr: `certmanager_certificate_expiration_timestamp_seconds - time() < ${t.certificateDays * 86400}`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "Certificate {{ $labels.name }} expires in less than ${t.certificateDays} days",
        description: "cert-manager did not renew it: check the Certificate and its Order (kubectl describe certificate {{ $labels.name }}).",
      },
    },
    {
      alert: "LiiibreVolumeFull",
      expr: `kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > ${t.volumeRatio}`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is more than ${t.volumeRatio * 100} % full",
        description: "Grow the PVC or clean it up before the app stops writing.",
      },
    },
    {
      alert: "LiiibreNodeNotReady",
      expr: 'kube_node_status_condition{condition="Ready",status="true"} == 0',
      for: "5m",
      labels: { severity: "critical" },
      annotations: { summary: "Node {{ $labels.node }} is not ready", description: "The node has not been Ready for 5 minutes." },
    },
    {
      alert: "LiiibrePodCrashLooping",
      expr: 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
        description: "The container has been in CrashLoopBackOff for 15 minutes.",
      },
    },
  ];
  return [
    { name: "liiibre.backups", rules: backups },
    { name: "liiibre.offsite", rules: offsite },
    { name: "liiibre.cluster", rules: cluster },
    { name: "liiibre.organisations", rules: [poolRule()] },
  ];
}
