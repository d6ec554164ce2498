/**
 * What one scrape of a MinIO endpoint at the pinned release returns for a set of buckets, as
 * promtool input series: the model the scale tests feed through the rules, so that the series
 * come from the scrape path the program configures and not from the rules' own metric names.
 * Facts (minio/minio at RELEASE.2025-04-22T22-12-26Z, also in components/ops/minio-metrics.ts):
 * - `/minio/v2/metrics/bucket` (getBucketUsageMetrics, cmd/metrics-v2.go): the buckets sorted by
 *   name, cut at `v2MetricsMaxBuckets` (100); `minio_bucket_usage_total_bytes`,
 *   `minio_bucket_usage_object_total`, `minio_bucket_usage_version_total` and, for a bucket with a quota,
 *   `minio_bucket_quota_total_bytes`;
 * - `/minio/metrics/v3/cluster/usage` (loadClusterUsageBucketMetrics, cmd/metrics-v3-cluster-usage.go):
 *   every bucket, `minio_cluster_usage_buckets_{total_bytes,objects_count,versions_count}` and the
 *   quota when > 0, plus the cluster-wide `minio_cluster_usage_objects_since_last_update_seconds`.
 * Any other path: an error (the model knows only these).
 */
import { MINIO_V2_MAX_BUCKETS } from "../../components/ops/minio-metrics";

export interface BucketState {
  bucket: string;
  /** promtool value notation, e.g. "950x90" */
  bytes: string;
  quota?: string;
  objects: string;
  versions: string;
}

export interface Series {
  series: string;
  values: string;
}

/** The series `path` exposes for `buckets`, with the job and instance labels Prometheus adds. */
export function scrapeSeries(path: string, job: string, instance: string, buckets: BucketState[], sinceUpdate = "60x300"): Series[] {
  const l = (bucket: string) => `{job="${job}",instance="${instance}",bucket="${bucket}"}`;
  const sorted = [...buckets].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  if (path === "/minio/v2/metrics/bucket") {
    return sorted.slice(0, MINIO_V2_MAX_BUCKETS).flatMap((b) => [
      { series: `minio_bucket_usage_total_bytes${l(b.bucket)}`, values: b.bytes },
      { series: `minio_bucket_usage_object_total${l(b.bucket)}`, values: b.objects },
      { series: `minio_bucket_usage_version_total${l(b.bucket)}`, values: b.versions },
      ...(b.quota ? [{ series: `minio_bucket_quota_total_bytes${l(b.bucket)}`, values: b.quota }] : []),
    ]);
  }
  if (path === "/minio/metrics/v3/cluster/usage" || path === "/minio/metrics/v3/cluster/usage/buckets") {
    return [
      ...(path.endsWith("/usage") ? [{ series: `minio_cluster_usage_objects_since_last_update_seconds{job="${job}",instance="${instance}"}`, values: sinceUpdate }] : []),
      ...sorted.flatMap((b) => [
        { series: `minio_cluster_usage_buckets_total_bytes${l(b.bucket)}`, values: b.bytes },
        { series: `minio_cluster_usage_buckets_objects_count${l(b.bucket)}`, values: b.objects },
        { series: `minio_cluster_usage_buckets_versions_count${l(b.bucket)}`, values: b.versions },
        ...(b.quota ? [{ series: `minio_cluster_usage_buckets_quota_total_bytes${l(b.bucket)}`, values: b.quota }] : []),
      ]),
    ];
  }
  throw new Error(`minio-exposition: no model of ${path}`);
}
