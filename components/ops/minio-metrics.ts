/**
 * What the MinIO release of the estate (IMAGES.minio = MINIO_RELEASE, RELEASE.2025-04-22T22-12-26Z,
 * components/versions.ts) serves to Prometheus, as read in minio/minio at that tag: the one home of
 * the paths, metric names and limits the scrape jobs (alerting.ts), the rules (alert-rules.ts) and
 * the dashboards (dashboards.ts) rely on. docs/operations.md#alerts cites the same sources.
 *
 * - v2 (`/minio/v2/metrics/{cluster,node,bucket,resource}`, cmd/metrics-router.go): the bucket
 *   endpoint reports at most `v2MetricsMaxBuckets` = 100 buckets, the first 100 by name
 *   (cmd/metrics-v2.go: a `const`, no environment variable or config key changes it; applied to
 *   usage, quota, replication, traffic and TTFB series). It cannot see an estate of 1,000 buckets.
 * - v3 (`/minio/metrics/v3/<collector path>`, cmd/metrics-v3.go, cmd/metrics-v3-handler.go): a path
 *   returns every collector group at or below it. Groups under `/cluster` are cluster-wide and carry
 *   no `server` label; `/cluster/usage/buckets` lists EVERY bucket of the data-usage scan
 *   (loadClusterUsageBucketMetrics, cmd/metrics-v3-cluster-usage.go: no cap), named
 *   `minio_cluster_usage_buckets_<name>{bucket}`; the quota only for a bucket with one (> 0). A
 *   bucket without quota (the Helsinki twins) is listed; one whose bucket metadata cannot be read
 *   is skipped for that scrape (`globalBucketQuotaSys.Get` error → `continue`).
 * - v3 bucket groups (`/bucket/api`, `/bucket/replication`) take exactly ONE bucket, the last path
 *   element (`/minio/metrics/v3/bucket/replication/<bucket>`; ServeHTTP reads no query parameter but
 *   `list`, whatever docs/metrics/v3.md says of `?buckets=`), and return nothing without one. Each
 *   replication request computes the replication stats of every bucket on every server
 *   (`getAllLatest` → GetClusterAllBucketStats, cmd/bucket-replication-stats.go) and the v3 handler
 *   serves 2 requests at a time (`MaxRequestsInFlight: 2`): one target per bucket would be
 *   O(buckets²) work per scrape cycle, 503s beyond two concurrent scrapes, and every bucket name in
 *   the platform's Prometheus configuration. So per-bucket replication counters are NOT scraped;
 *   the replication alerts compare the two ends' `/cluster/usage` instead (alert-rules.ts).
 * - `minio_replication_recent_backlog_count` (v3 `/replication`, per server) is the MRF retry queue
 *   size at its last save, which only happens when the queue is not empty (persistMRF,
 *   cmd/bucket-replication.go): it never returns to 0 and cannot resolve an alert. Not used.
 * - Auth: `MINIO_PROMETHEUS_AUTH_TYPE=public` (set on the primary Tenant and on Helsinki) applies to
 *   v2 and v3 alike (registerMetricsRouter); the public S3 host restricts `/minio/metrics` and
 *   `/minio/v2/metrics` to the admin CIDRs (MINIO_ADMIN_PATHS, components/storage/primaryObjectStore.ts).
 */

/** `v2MetricsMaxBuckets` of cmd/metrics-v2.go at the pinned release. */
export const MINIO_V2_MAX_BUCKETS = 100;

/** v2 endpoints whose bucket-labelled series stop at MINIO_V2_MAX_BUCKETS buckets. */
export const MINIO_V2_BUCKET_CAPPED_PATHS: readonly string[] = ["/minio/v2/metrics/bucket"];

/** The v2 node endpoint: per-drive and per-node series, no bucket label (Helsinki's drives). */
export const MINIO_V2_NODE_PATH = "/minio/v2/metrics/node";

/** v3 cluster usage: the `/cluster/usage/objects` and `/cluster/usage/buckets` groups, every bucket. */
export const MINIO_V3_CLUSTER_USAGE_PATH = "/minio/metrics/v3/cluster/usage";

/** Series of MINIO_V3_CLUSTER_USAGE_PATH the estate reads (metric names as the sources build them). */
export const MINIO_USAGE = {
  /** Bytes of a bucket, every version counted (`bucket`). */
  bucketBytes: "minio_cluster_usage_buckets_total_bytes",
  /** Hard quota of a bucket, bytes; absent for a bucket without quota (`bucket`). */
  bucketQuota: "minio_cluster_usage_buckets_quota_total_bytes",
  /** Object names of a bucket with at least one version, delete markers included (`bucket`). */
  bucketObjects: "minio_cluster_usage_buckets_objects_count",
  /** Object versions of a bucket, delete markers included (`bucket`). */
  bucketVersions: "minio_cluster_usage_buckets_versions_count",
  /**
   * Seconds since the scanner last updated the usage figures. The `/cluster/usage/objects` one:
   * its twin `minio_cluster_usage_buckets_since_last_update_seconds` is set from a Go Duration
   * without `.Seconds()` (nanoseconds) at the pinned release.
   */
  sinceUpdate: "minio_cluster_usage_objects_since_last_update_seconds",
} as const;

/** The scrape keeps only MINIO_USAGE (the histograms would be ~20 more series per bucket). */
export const MINIO_USAGE_KEEP = `(${Object.values(MINIO_USAGE).join("|")})`;

/** Scrape job of the primary MinIO's cluster usage (every bucket; additionalScrapeConfigs). */
export const PRIMARY_MINIO_JOB = "minio-primary";
/** Scrape job of the Helsinki MinIO's node metrics (drives, `up`). */
export const HELSINKI_MINIO_JOB = "helsinki-minio";
/** Scrape job of the Helsinki MinIO's cluster usage (every twin bucket). */
export const HELSINKI_MINIO_USAGE_JOB = "helsinki-minio-usage";
