/**
 * The estate's alert rules (PrometheusRule groups), as pure data: what must page someone
 * before users notice. Metric names are those the exporters publish:
 * - k8up operator (`k8up_jobs_failed_counter`, `k8up_jobs_successful_counter`, `k8up_schedules_gauge`,
 *   labels `namespace`, `jobType`; scraped by the chart's ServiceMonitor without honorLabels, so the
 *   job's namespace arrives as `exported_namespace`);
 * - CloudNativePG instances (`cnpg_pg_stat_archiver_*`, `cnpg_collector_pg_wal_archive_status`) and the
 *   Barman Cloud plugin through them (`barman_cloud_cloudnative_pg_io_last_available_backup_timestamp`);
 * - MinIO v2 metrics (`/minio/v2/metrics/bucket` of the primary, `/minio/v2/metrics/node` of Helsinki);
 * - cert-manager (`certmanager_certificate_expiration_timestamp_seconds`);
 * - kubelet (`kubelet_volume_stats_*`), kube-state-metrics (`kube_node_status_condition`,
 *   `kube_pod_container_status_waiting_reason`).
 * Tested with `promtool test rules` (test/alert-rules.test.ts): each alert fires on a sample
 * series and stays quiet on a healthy one.
 */

/** Scrape job of the primary MinIO's bucket metrics (additionalScrapeConfigs, components/ops/alerting.ts). */
export const PRIMARY_MINIO_JOB = "minio-primary";
/** Scrape job of the Helsinki MinIO's node metrics. */
export const HELSINKI_MINIO_JOB = "helsinki-minio";

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

/** One organisation's storage pool: the buckets it is spread over and its size in bytes. */
export interface PoolInput {
  slug: string;
  buckets: string[];
  poolBytes: number;
}

/** Thresholds of the rules (defaults = the figures). */
export const THRESHOLDS = {
  backupMissingHours: 26,
  baseBackupMaxAgeHours: 26,
  walReadyBacklog: 10,
  replicationStallHours: 2,
  helsinkiDiskRatio: 0.8,
  certificateDays: 14,
  volumeRatio: 0.85,
  poolRatio: 0.9,
} as const;

/**
 * The pool alert of one organisation (or of the shared instance: the sum of its members' pools):
 * its buckets' usage against its pool. Each bundle declares its own (a PrometheusRule in its
 * namespace, components/tenant/bundle.ts), so adding an organisation touches nothing else.
 */
export function poolRule(p: PoolInput): AlertRule {
  const t = THRESHOLDS;
  return {
    alert: "LiiibreStoragePoolFull",
    expr: `sum(max by (bucket) (minio_bucket_usage_total_bytes{job="${PRIMARY_MINIO_JOB}",bucket=~"${p.buckets.join("|")}"})) / ${p.poolBytes} > ${t.poolRatio}`,
    for: "1h",
    labels: { severity: "warning", tenant: p.slug },
    annotations: {
      summary: `The storage pool of ${p.slug} is more than ${t.poolRatio * 100} % full`,
      description: "Its admin should redistribute the pool between members (Nextcloud group admin) or ask for more accounts.",
    },
  };
}

/** The rule group of one bundle's pool. */
export const poolRuleGroup = (p: PoolInput): RuleGroup => ({ name: `liiibre.pool.${p.slug}`, rules: [poolRule(p)] });

/** Every estate-wide group, plus the pool rules of `pools` (the tests pass sample pools; the program passes none: bundles declare theirs). */
export function alertRuleGroups(pools: PoolInput[]): RuleGroup[] {
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
    {
      alert: "LiiibreReplicationFailing",
      expr: `max by (bucket) (minio_bucket_replication_last_hour_failed_count{job="${PRIMARY_MINIO_JOB}"}) > 0`,
      for: "15m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Replication of bucket {{ $labels.bucket }} to Helsinki fails",
        description: "{{ $value }} objects of {{ $labels.bucket }} failed to replicate in the last hour.",
      },
    },
    {
      alert: "LiiibreReplicationLagging",
      expr: `sum by (bucket) (increase(minio_bucket_traffic_received_bytes{job="${PRIMARY_MINIO_JOB}"}[${t.replicationStallHours}h])) > 0 unless on (bucket) sum by (bucket) (increase(minio_bucket_replication_sent_bytes{job="${PRIMARY_MINIO_JOB}"}[${t.replicationStallHours}h])) > 0`,
      for: "30m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Bucket {{ $labels.bucket }} receives writes but sends nothing to Helsinki",
        description: "Data arrived in {{ $labels.bucket }} over the last ${t.replicationStallHours} hours and no byte was replicated.",
      },
    },
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
  const organisations: AlertRule[] = [...pools].sort((a, b) => a.slug.localeCompare(b.slug)).map(poolRule);
  return [
    { name: "liiibre.backups", rules: backups },
    { name: "liiibre.offsite", rules: offsite },
    { name: "liiibre.cluster", rules: cluster },
    ...(organisations.length ? [{ name: "liiibre.organisations", rules: organisations }] : []),
  ];
}
