/**
 * The alert rules, evaluated by the real `promtool test rules` (Debian package `prometheus`):
 * every alert fires on a sample series and stays quiet on a healthy one. The sample values
 * are chosen by hand against each threshold (comments), not read back from the rules.
 * Annotations are stripped from the copy under test (promtool compares them verbatim); their
 * templates are checked by `promtool check rules` on the full file. The Alertmanager
 * configuration built from the stacks is checked by `amtool` (Debian `prometheus-alertmanager`).
 */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { BUCKET_SUFFIXES, alertRuleGroups, ksmLabel, poolBucketRegex } from "../components/ops/alert-rules";
import { LABELS } from "../components/conventions";
import { alertmanagerConfig, minioScrapeConfigs } from "../components/ops/alerting";
import { dashboards } from "../components/ops/dashboards";
import { MINIO_USAGE, MINIO_USAGE_KEEP, MINIO_V2_BUCKET_CAPPED_PATHS, MINIO_V2_MAX_BUCKETS } from "../components/ops/minio-metrics";
import { parseEstate } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";
import { type BucketState, scrapeSeries } from "./helpers/minio-exposition";
import { amtool, amtoolAvailable, promtool, promtoolAvailable } from "./helpers/prometheus-tools";

const groups = alertRuleGroups();
const withoutAnnotations = { groups: groups.map((g) => ({ name: g.name, rules: g.rules.map(({ annotations: _a, ...r }) => r) })) };

const s = (series: string, values: string) => ({ series, values });
const H = "s3.hel.liiibre.coop:443";
const TWIN = "helsinki-minio-usage";

/** Group A: one failing and one healthy sample of every alert. */
const inputA = [
  // k8up: acme failed once at minute 6; calm never failed.
  s('k8up_jobs_failed_counter{jobType="backup",exported_namespace="acme"}', "0x5 1x1700"),
  s('k8up_jobs_failed_counter{jobType="backup",exported_namespace="calm"}', "0x1700"),
  // Both have a Schedule; acme's success counter never moves, calm succeeds at minute 600.
  s('k8up_schedules_gauge{exported_namespace="acme"}', "1x1700"),
  s('k8up_schedules_gauge{exported_namespace="calm"}', "1x1700"),
  s('k8up_jobs_successful_counter{jobType="backup",exported_namespace="acme"}', "3x1700"),
  s('k8up_jobs_successful_counter{jobType="backup",exported_namespace="calm"}', "0x600 1x1100"),
  // WAL: acme's last failure (2000) is newer than its last success (1000); calm the opposite.
  s('cnpg_pg_stat_archiver_last_failed_time{namespace="acme",pod="nextcloud-pg-1"}', "2000x30"),
  s('cnpg_pg_stat_archiver_last_archived_time{namespace="acme",pod="nextcloud-pg-1"}', "1000x30"),
  s('cnpg_pg_stat_archiver_last_failed_time{namespace="calm",pod="nextcloud-pg-1"}', "1000x30"),
  s('cnpg_pg_stat_archiver_last_archived_time{namespace="calm",pod="nextcloud-pg-1"}', "2000x30"),
  // 50 WAL segments ready (threshold 10) vs 2; "done" segments never count.
  s('cnpg_collector_pg_wal_archive_status{value="ready",namespace="acme",pod="nextcloud-pg-1"}', "50x30"),
  s('cnpg_collector_pg_wal_archive_status{value="ready",namespace="calm",pod="nextcloud-pg-1"}', "2x30"),
  s('cnpg_collector_pg_wal_archive_status{value="done",namespace="calm",pod="nextcloud-pg-1"}', "500x30"),
  // Base backups, evaluated at 30 h (time() = 108000): acme's is from t=1000 s (~29.7 h old);
  // calm's primary has t=100000 s (2.2 h old) and its replica reports 0 (max by cluster ignores it).
  s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{namespace="acme",cluster="nextcloud-pg",pod="nextcloud-pg-1"}', "1000x1900"),
  s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{namespace="calm",cluster="nextcloud-pg",pod="nextcloud-pg-1"}', "100000x1900"),
  s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{namespace="calm",cluster="nextcloud-pg",pod="nextcloud-pg-2"}', "0x1900"),
  // Replication (v3 cluster usage of both ends): acme's Nextcloud bucket holds 100 objects, its
  // Helsinki twin 60 (Failing), and it gains 10 versions a minute while the twin's versions never
  // move (Lagging); calm's twin follows its primary exactly. Helsinki's figures are 60 s old.
  ...v3("minio-primary", "acme-nextcloud", { objects: "100x240", versions: "0+10x240" }),
  ...v3(TWIN, "acme-nextcloud", { objects: "60x240", versions: "50x240" }),
  ...v3("minio-primary", "calm-nextcloud", { objects: "100x240", versions: "0+10x240" }),
  ...v3(TWIN, "calm-nextcloud", { objects: "100x240", versions: "0+10x240" }),
  fresh("60x240"),
  // The primary's usage figures are 20000 s (5.6 h) old: its scanner is stuck.
  s('minio_cluster_usage_objects_since_last_update_seconds{job="minio-primary",instance="minio.minio.svc.cluster.local:443"}', "20000x240"),
  // Helsinki scrape fails.
  s(`up{job="helsinki-minio",instance="${H}"}`, "0x30"),
  // Helsinki drives: disk1 90 % used (threshold 80 %), disk2 50 %.
  s(`minio_node_drive_free_bytes{job="helsinki-minio",instance="${H}",drive="/srv/minio/disk1"}`, "100x60"),
  s(`minio_node_drive_total_bytes{job="helsinki-minio",instance="${H}",drive="/srv/minio/disk1"}`, "1000x60"),
  s(`minio_node_drive_free_bytes{job="helsinki-minio",instance="${H}",drive="/srv/minio/disk2"}`, "500x60"),
  s(`minio_node_drive_total_bytes{job="helsinki-minio",instance="${H}",drive="/srv/minio/disk2"}`, "1000x60"),
  // Certificates, evaluated at 2 h: one expires at 10 days (< 14), one at 50 days.
  s('certmanager_certificate_expiration_timestamp_seconds{name="cloud-acme-org-tls",exported_namespace="acme"}', "864000x150"),
  s('certmanager_certificate_expiration_timestamp_seconds{name="cloud-calm-org-tls",exported_namespace="calm"}', "4320000x150"),
  // PVCs: 90 % (threshold 85 %) and 50 %.
  s('kubelet_volume_stats_used_bytes{namespace="acme",persistentvolumeclaim="data-nextcloud"}', "90x30"),
  s('kubelet_volume_stats_capacity_bytes{namespace="acme",persistentvolumeclaim="data-nextcloud"}', "100x30"),
  s('kubelet_volume_stats_used_bytes{namespace="calm",persistentvolumeclaim="data-nextcloud"}', "50x30"),
  s('kubelet_volume_stats_capacity_bytes{namespace="calm",persistentvolumeclaim="data-nextcloud"}', "100x30"),
  // Nodes: one Ready=true is 0 (its Ready=false is 1), the other Ready.
  s('kube_node_status_condition{node="fsn-apps-03",condition="Ready",status="true"}', "0x30"),
  s('kube_node_status_condition{node="fsn-apps-03",condition="Ready",status="false"}', "1x30"),
  s('kube_node_status_condition{node="fsn-apps-01",condition="Ready",status="true"}', "1x30"),
  // Containers: one in CrashLoopBackOff, one merely creating.
  s('kube_pod_container_status_waiting_reason{namespace="acme",pod="nextcloud-0",container="nextcloud",reason="CrashLoopBackOff"}', "1x40"),
  s('kube_pod_container_status_waiting_reason{namespace="calm",pod="nextcloud-0",container="nextcloud",reason="ContainerCreating"}', "1x40"),
  // Pools of 1000 bytes (each bucket's quota): acme uses 800 + 150 = 950 (> 90 %; the second
  // target's copy of the same bucket is not counted twice, and acme-nextcloud-old is no bucket of
  // an app); calm 500.
  ...usage("acme-nextcloud", 800, "10.0.0.7:9000"),
  ...pool("acme-nextcloud", 800, 1000),
  ...pool("acme-matrix-media", 150, 1000),
  s('minio_cluster_usage_buckets_total_bytes{job="minio-primary",bucket="acme-nextcloud-old"}', "100000x90"),
  ...pool("calm-nextcloud", 500, 1000),
];

/** A primary bucket's usage series (one MinIO server's answer; v3 cluster usage carries no `server`, a second target may answer too). */
function usage(bucket: string, used: number, instance = "minio.minio.svc.cluster.local:443") {
  return [s(`minio_cluster_usage_buckets_total_bytes{job="minio-primary",bucket="${bucket}",instance="${instance}"}`, `${used}x90`)];
}
/** A primary bucket's usage and its quota (MinIO exports the quota only for a bucket that has one). */
function pool(bucket: string, used: number, quota: number) {
  return [...usage(bucket, used), s(`minio_cluster_usage_buckets_quota_total_bytes{job="minio-primary",bucket="${bucket}",instance="minio.minio.svc.cluster.local:443"}`, `${quota}x90`)];
}
/** Object and version counts of a bucket in one side's v3 cluster usage (`job`: the primary's or the twins'). */
function v3(job: string, bucket: string, v: { objects: string; versions: string }) {
  return [
    s(`minio_cluster_usage_buckets_objects_count{job="${job}",bucket="${bucket}"}`, v.objects),
    s(`minio_cluster_usage_buckets_versions_count{job="${job}",bucket="${bucket}"}`, v.versions),
  ];
}
/** Age of Helsinki's usage figures (seconds since its scanner updated them). */
function fresh(values: string) {
  return s(`minio_cluster_usage_objects_since_last_update_seconds{job="${TWIN}",instance="${H}"}`, values);
}

/** A tenant namespace as kube-state-metrics exports it (its ServiceMonitor honours labels: `namespace` is the object's). */
function lifecycle(slug: string, state: string) {
  return [s(`kube_namespace_labels{job="kube-state-metrics",namespace="${slug}",${ksmLabel(LABELS.tenant)}="${slug}",${ksmLabel(LABELS.state)}="${state}"}`, "1x90")];
}

/**
 * Group D: the pool alert's bucket → organisation mapping (label_replace on the suffix set).
 * Every bucket of an organisation carries the whole pool as its quota.
 * - `ada` (buckets of three apps): 400 + 300 + 190 = 890 of 1000 = 89 %: quiet. Its Nextcloud
 *   bucket is answered by two targets (counted once: 1290 would fire) and `ada-backup-old` (no
 *   app's suffix, 100000 bytes) is nobody's.
 * - `ada-lab` (its slug starts with `ada-`): 600 + 310 = 910 of 1000 = 91 %: fires. Counted
 *   with `ada`'s it would make `ada` 180 % and `ada-lab` vanish.
 * - `calm`: a 2000-byte pool, 1000 + 820 = 1820 = 91 %: fires (summing its two buckets' quotas as
 *   the pool would give 45.5 %: quiet).
 * - `mutualise`, the shared instance: its buckets' quota is its three members' pools summed
 *   (3 × 1000); 2600 + 140 = 2740 of 3000 = 91.3 %: fires.
 * - `zen` at 50 %, quiet; a bucket of another scrape job (10⁶ bytes) is ignored.
 * - Lifecycle (kube-state-metrics' `kube_namespace_labels`, labels allowed by
 *   NAMESPACE_LABELS_FOR_METRICS): `gone`, decommissioned, at 95 %: quiet; `nap`, suspended, at
 *   95 %: fires (Synapse still writes); `ada-lab` is labelled active and fires; `calm` has no
 *   namespace series at all and still fires (a missing metric silences nobody).
 */
const inputD = [
  ...pool("ada-nextcloud", 400, 1000),
  ...usage("ada-nextcloud", 400, "10.0.0.7:9000"),
  ...pool("ada-matrix-media", 300, 1000),
  ...pool("ada-hedgedoc", 190, 1000),
  s('minio_cluster_usage_buckets_total_bytes{job="minio-primary",bucket="ada-backup-old"}', "100000x90"),
  ...pool("ada-lab-nextcloud", 600, 1000),
  ...pool("ada-lab-matrix-media", 310, 1000),
  ...pool("calm-nextcloud", 1000, 2000),
  ...pool("calm-hedgedoc", 820, 2000),
  ...pool("mutualise-nextcloud", 2600, 3000),
  ...pool("mutualise-matrix-media", 140, 3000),
  ...pool("zen-nextcloud", 500, 1000),
  s('minio_cluster_usage_buckets_total_bytes{job="elsewhere",bucket="zen-hedgedoc"}', "1000000x90"),
  ...pool("gone-nextcloud", 950, 1000),
  ...pool("nap-nextcloud", 950, 1000),
  ...lifecycle("gone", "decommissioned"),
  ...lifecycle("nap", "suspended"),
  ...lifecycle("ada-lab", "active"),
  ...lifecycle("ada", "active"),
];
const POOL_FIRING_D = ["ada-lab", "calm", "mutualise", "nap"];

type Labels = Record<string, string>;
const expect1 = (evalTime: string, alertname: string, labels: Labels[]) => ({ eval_time: evalTime, alertname, exp_alerts: labels.map((l) => ({ exp_labels: l })) });

/**
 * Group E: the replication alerts' judgement, evaluated at 4 h 30 (minute 270), Helsinki's figures
 * 2 minutes old. Primary and twin objects/versions per minute:
 * - `ada-nextcloud` grows 10 a minute, its twin follows 10 minutes late: quiet (healthy lag);
 * - `ada-lab-nextcloud` grows the same, its twin freezes at 600 from minute 60: the primary has held
 *   more than 600 for the last 3 h from minute 241 (Failing, `for` 15 min: firing from 256) and the
 *   twin has not moved for 2 h from minute 180 (Lagging, `for` 30 min);
 * - `calm-hedgedoc` holds 5 objects and has no twin at all: Failing (Lagging needs growth);
 * - `calm-nextcloud` idle, twin equal: quiet; `zen-nextcloud` loses objects on the primary (7-day
 *   expiry) while the twin keeps them (30 days): quiet; `scratch` (no app's suffix, no twin): quiet;
 * - `zen-hedgedoc`'s twin starts an hour late and catches up (10 a minute more than the primary):
 *   quiet, though at 45 min it is 500 objects behind the primary's oldest figure, because the rules
 *   judge only with the whole window behind them (nor does `calm-hedgedoc` fire before 3 h 15).
 */
const inputE = [
  ...v3("minio-primary", "ada-nextcloud", { objects: "0+10x300", versions: "0+10x300" }),
  ...v3(TWIN, "ada-nextcloud", { objects: "0x10 0+10x290", versions: "0x10 0+10x290" }),
  ...v3("minio-primary", "ada-lab-nextcloud", { objects: "0+10x300", versions: "0+10x300" }),
  ...v3(TWIN, "ada-lab-nextcloud", { objects: "0+10x60 600x240", versions: "0+10x60 600x240" }),
  ...v3("minio-primary", "calm-hedgedoc", { objects: "5x300", versions: "5x300" }),
  ...v3("minio-primary", "calm-nextcloud", { objects: "40x300", versions: "40x300" }),
  ...v3(TWIN, "calm-nextcloud", { objects: "40x300", versions: "40x300" }),
  ...v3("minio-primary", "zen-nextcloud", { objects: "500-1x300", versions: "900-1x300" }),
  ...v3(TWIN, "zen-nextcloud", { objects: "500x300", versions: "900x300" }),
  ...v3("minio-primary", "scratch", { objects: "9x300", versions: "9x300" }),
  ...v3("minio-primary", "zen-hedgedoc", { objects: "500+10x300", versions: "500+10x300" }),
  ...v3(TWIN, "zen-hedgedoc", { objects: "0x60 0+20x240", versions: "0x60 0+20x240" }),
  fresh("120x300"),
];
const testsE = [
  expect1("45m", "LiiibreReplicationFailing", []),
  expect1("45m", "LiiibreReplicationLagging", []),
  expect1("250m", "LiiibreReplicationFailing", [{ severity: "critical", bucket: "calm-hedgedoc" }]),
  expect1("270m", "LiiibreReplicationFailing", ["ada-lab-nextcloud", "calm-hedgedoc"].map((bucket) => ({ severity: "critical", bucket }))),
  expect1("270m", "LiiibreReplicationLagging", [{ severity: "warning", bucket: "ada-lab-nextcloud" }]),
];
/** Group E, Helsinki's scanner figures 5.5 h old (its scanner stalled): no replication verdict at all. */
const inputEStale = [...inputE.slice(0, -1), fresh("20000x300")];
const testsEStale = ["LiiibreReplicationFailing", "LiiibreReplicationLagging"].map((a) => expect1("270m", a, []));

/**
 * Group F: 150 organisations (`co-001` … `co-150`, two buckets each: 300 buckets, 200 more than the
 * v2 bucket endpoint's 100), as one scrape of the path the program configures for each job
 * (test/helpers/minio-exposition.ts). `co-150` is the last by name: its pool is 95 % full (the
 * others 50 %) and its Nextcloud twin misses 40 of 100 objects (the others' twins are complete).
 */
const ORGS = Array.from({ length: 150 }, (_, i) => `co-${String(i + 1).padStart(3, "0")}`);
const LAST = ORGS[ORGS.length - 1];
function scaleBuckets(side: "primary" | "twin"): BucketState[] {
  return ORGS.flatMap((slug) =>
    ["nextcloud", "matrix-media"].map((suffix) => {
      const bucket = `${slug}-${suffix}`;
      const full = slug === LAST;
      // One sample every 5 minutes (Group F's interval, as the 2-minute scrape thinned): 50 = 4 h 10.
      const objects = side === "twin" && full && suffix === "nextcloud" ? "60x50" : "100x50";
      return side === "primary"
        ? { bucket, bytes: full ? "475x50" : "250x50", quota: "1000x50", objects, versions: "100x50" }
        : { bucket, bytes: "250x50", objects, versions: "100x50" };
    }),
  );
}
const prodScrape = () => minioScrapeConfigs(parseEstate(readStackConfig(stackConfigFile("prod"))));
const pathOf = (job: string) => prodScrape().find((j) => j.job_name === job)!.metrics_path as string;
const scaleInput = (primaryPath = pathOf("minio-primary"), twinPath = pathOf(TWIN)) => [
  ...scrapeSeries(primaryPath, "minio-primary", "minio.minio.svc.cluster.local:443", scaleBuckets("primary")),
  ...scrapeSeries(twinPath, TWIN, H, scaleBuckets("twin"), "60x50"),
];
const testsF = [
  expect1("70m", "LiiibreStoragePoolFull", [{ severity: "warning", tenant: LAST }]),
  expect1("3h20m", "LiiibreReplicationFailing", [{ severity: "critical", bucket: `${LAST}-nextcloud` }]),
];

const testsA = [
  expect1("30m", "LiiibreVolumeBackupFailed", [{ severity: "warning", exported_namespace: "acme" }]),
  expect1("27h", "LiiibreVolumeBackupMissing", [{ severity: "critical", exported_namespace: "acme" }]),
  expect1("20m", "LiiibreWalArchivingFailing", [{ severity: "critical", namespace: "acme", pod: "nextcloud-pg-1" }]),
  expect1("25m", "LiiibreWalArchivingLagging", [{ severity: "warning", namespace: "acme", pod: "nextcloud-pg-1", value: "ready" }]),
  expect1("30h", "LiiibreBaseBackupTooOld", [{ severity: "critical", namespace: "acme", cluster: "nextcloud-pg" }]),
  expect1("3h20m", "LiiibreReplicationFailing", [{ severity: "critical", bucket: "acme-nextcloud" }]),
  expect1("3h", "LiiibreReplicationLagging", [{ severity: "warning", bucket: "acme-nextcloud" }]),
  expect1("10m", "LiiibreHelsinkiDown", [{ severity: "critical", job: "helsinki-minio", instance: H }]),
  expect1("40m", "LiiibreHelsinkiDiskFull", [{ severity: "warning", job: "helsinki-minio", instance: H, drive: "/srv/minio/disk1" }]),
  expect1("2h", "LiiibreCertificateExpiring", [{ severity: "warning", name: "cloud-acme-org-tls", exported_namespace: "acme" }]),
  expect1("20m", "LiiibreVolumeFull", [{ severity: "warning", namespace: "acme", persistentvolumeclaim: "data-nextcloud" }]),
  expect1("10m", "LiiibreNodeNotReady", [{ severity: "critical", node: "fsn-apps-03", condition: "Ready", status: "true" }]),
  expect1("25m", "LiiibrePodCrashLooping", [{ severity: "warning", namespace: "acme", pod: "nextcloud-0", container: "nextcloud", reason: "CrashLoopBackOff" }]),
  expect1("70m", "LiiibreStoragePoolFull", [{ severity: "warning", tenant: "acme" }]),
  expect1("70m", "LiiibreStorageMetricsStale", [{ severity: "warning", job: "minio-primary" }]),
];

/** Group B: every signal healthy (Helsinki up): nothing fires. */
const inputB = [
  s(`up{job="helsinki-minio",instance="${H}"}`, "1x30"),
  s('kube_node_status_condition{node="fsn-apps-01",condition="Ready",status="true"}', "1x30"),
];
const testsB = groups.flatMap((g) => g.rules.map((r) => ({ eval_time: "20m", alertname: r.alert, exp_alerts: [] })));

/** Group C: the Helsinki target is not scraped at all: absent() fires. */
const inputC = [s('up{job="minio-primary",instance="minio.minio.svc:443"}', "1x90")];
const testsC = [
  expect1("10m", "LiiibreHelsinkiDown", [{ severity: "critical", job: "helsinki-minio" }]),
  // Neither side's usage figures exist: both are reported after an hour, not before.
  expect1("50m", "LiiibreStorageMetricsStale", []),
  expect1("70m", "LiiibreStorageMetricsStale", ["minio-primary", "helsinki-minio-usage"].map((job) => ({ severity: "warning", job }))),
];

const testsD = [
  // `for: 1h`: pending at 30 min, firing at 70.
  expect1("30m", "LiiibreStoragePoolFull", []),
  expect1("70m", "LiiibreStoragePoolFull", POOL_FIRING_D.map((tenant) => ({ severity: "warning", tenant }))),
];

const testFile = (tests: Array<{ input: unknown[]; alerts: unknown[]; interval?: string }>) =>
  stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: tests.map((t) => ({ interval: t.interval ?? "1m", input_series: t.input, alert_rule_test: t.alerts })) });

describe("alert rules (promtool)", () => {
  it("cover every alert of the issue, each once per group", () => {
    const names = groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(new Set(names)).toEqual(new Set(testsA.map((t) => t.alertname)));
    for (const g of groups) for (const r of g.rules) expect(r.labels.severity).toMatch(/^(critical|warning|info)$/);
  });

  it.skipIf(!promtoolAvailable)("pass `promtool check rules` (syntax, templates)", () => {
    const r = promtool(["check", "rules", "rules.yaml"], { "rules.yaml": stringify({ groups }) });
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it.skipIf(!promtoolAvailable)("fire on the failing samples and stay quiet on the healthy ones (`promtool test rules`)", () => {
    const r = promtool(["test", "rules", "tests.yaml"], {
      "rules.yaml": stringify(withoutAnnotations),
      "tests.yaml": testFile([
        { input: inputA, alerts: testsA },
        { input: inputB, alerts: testsB },
        { input: inputC, alerts: testsC },
        { input: inputD, alerts: testsD },
        { input: inputE, alerts: testsE },
        { input: inputEStale, alerts: testsEStale },
      ]),
    });
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it.skipIf(!promtoolAvailable)("is a real check: a healthy sample expected to fire makes promtool fail", () => {
    const r = promtool(["test", "rules", "tests.yaml"], {
      "rules.yaml": stringify(withoutAnnotations),
      "tests.yaml": testFile([{ input: inputA, alerts: [expect1("20m", "LiiibreVolumeFull", [{ severity: "warning", namespace: "calm", persistentvolumeclaim: "data-nextcloud" }])] }]),
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});

describe("the pool alert's bucket → organisation mapping", () => {
  const re = new RegExp(`^${poolBucketRegex()}$`); // PromQL anchors it the same way
  const slugOf = (bucket: string) => bucket.match(re)?.[1];

  it("reads the slug of every app's bucket, hyphens included, and nothing else", () => {
    expect(BUCKET_SUFFIXES).toEqual(expect.arrayContaining(["nextcloud", "matrix-media", "hedgedoc"]));
    for (const slug of ["ada", "ada-lab", "a-b-c", "matrix", "nextcloud"]) for (const suffix of BUCKET_SUFFIXES) expect(slugOf(`${slug}-${suffix}`)).toBe(slug);
    expect(slugOf("ada-lab-nextcloud")).toBe("ada-lab");
    expect(slugOf("ada-nextcloud-old")).toBeUndefined();
    expect(slugOf("ada-media")).toBeUndefined();
    expect(slugOf("nextcloud")).toBeUndefined();
  });

  it("has no slug or size in it: one rule for every organisation", () => {
    const pools = groups.flatMap((g) => g.rules).filter((r) => r.alert === "LiiibreStoragePoolFull");
    expect(pools).toHaveLength(1);
    expect(pools[0].labels).toEqual({ severity: "warning" }); // `tenant` comes from the series
    expect(pools[0].expr).not.toMatch(/\d{4,}/);
    expect(pools[0].expr).toContain("minio_cluster_usage_buckets_quota_total_bytes");
  });

  it("reads the namespace labels under kube-state-metrics' names", () => {
    expect(ksmLabel("liiibre.org/state")).toBe("label_liiibre_org_state");
    expect(ksmLabel(LABELS.tenant)).toBe("label_liiibre_org_tenant");
  });

  it("refuses suffixes that would need escaping or make bucket names ambiguous", () => {
    expect(() => poolBucketRegex(["nextcloud", "media", "matrix-media"])).toThrow(/"matrix-media" ends with "-media"/);
    expect(() => poolBucketRegex(["next.cloud"])).toThrow(/next\.cloud/);
    expect(() => poolBucketRegex([])).toThrow(/no bucket suffix/);
    expect(poolBucketRegex(["hedgedoc", "nextcloud"])).toBe("(.+)-(?:hedgedoc|nextcloud)");
  });

  it.skipIf(!promtoolAvailable)("is a real check: `ada` at 89 % expected to fire makes promtool fail", () => {
    const r = promtool(["test", "rules", "tests.yaml"], {
      "rules.yaml": stringify(withoutAnnotations),
      "tests.yaml": testFile([{ input: inputD, alerts: [expect1("70m", "LiiibreStoragePoolFull", ["ada", ...POOL_FIRING_D].map((tenant) => ({ severity: "warning", tenant })))] }]),
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});

describe("MinIO at 150 organisations (300 buckets): every bucket seen", () => {
  it("scrapes no capped v2 endpoint for bucket series (the pinned release's v2MetricsMaxBuckets = 100)", () => {
    for (const stack of ["prod", "dev"]) {
      const jobs = minioScrapeConfigs(parseEstate(readStackConfig(stackConfigFile(stack))));
      const readers = new Set(
        groups
          .flatMap((g) => g.rules)
          .map((r) => r.expr)
          .join(" ")
          .match(/job="[^"]+"/g)!
          .map((m) => m.slice(5, -1)),
      );
      for (const j of jobs) {
        expect(MINIO_V2_BUCKET_CAPPED_PATHS, `${stack} ${j.job_name}`).not.toContain(j.metrics_path);
        expect(j.metrics_path, `${stack} ${j.job_name}`).toMatch(/^\/minio\/(metrics\/v3\/cluster\/|v2\/metrics\/node$)/);
      }
      // Both ends of the replication rules and the pool rule are scraped jobs.
      for (const job of ["minio-primary", TWIN, "helsinki-minio"]) expect(readers.has(job) && jobs.some((j) => j.job_name === job), job).toBe(true);
    }
  });

  it("models the v2 cap as the source has it: the last 200 buckets by name are missing from a v2 scrape", () => {
    const v2 = scrapeSeries("/minio/v2/metrics/bucket", "minio-primary", "x", scaleBuckets("primary"));
    const seen = new Set(v2.map((x) => /bucket="([^"]+)"/.exec(x.series)![1]));
    expect(MINIO_V2_MAX_BUCKETS).toBe(100);
    expect(seen.size).toBe(100);
    expect(seen.has(`${LAST}-nextcloud`)).toBe(false);
    expect(seen.has("co-050-nextcloud")).toBe(true); // 50 organisations × 2 buckets fit
    expect(scrapeSeries(pathOf("minio-primary"), "minio-primary", "x", scaleBuckets("primary")).filter((x) => x.series.startsWith(MINIO_USAGE.bucketBytes))).toHaveLength(300);
  });

  it("keeps, after metric relabelling, every MinIO series the rules and dashboards read", () => {
    const keep = new RegExp(`^${MINIO_USAGE_KEEP}$`); // Prometheus anchors relabel regexes
    const panels = Object.values(dashboards()).flatMap((d: any) => d.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string)));
    const exprs = [...groups.flatMap((g) => g.rules).map((r) => r.expr), ...panels];
    const used = new Set(exprs.join(" ").match(/minio_[a-z_]+/g));
    for (const m of [...used].filter((m) => m.startsWith("minio_node_"))) used.delete(m); // Helsinki's v2 node job keeps everything
    expect(used.size).toBeGreaterThanOrEqual(5);
    for (const m of used) expect(m, m).toMatch(keep);
    expect("minio_cluster_usage_buckets_object_size_distribution").not.toMatch(keep); // the histograms are dropped
  });

  it.skipIf(!promtoolAvailable)("has dashboard queries Prometheus parses (each Prometheus panel as a recording rule, `promtool check rules`)", () => {
    const targets = Object.values(dashboards()).flatMap((d: any) => d.panels.filter((p: any) => p.datasource.type === "prometheus").flatMap((p: any) => p.targets.map((t: any) => t.expr as string)));
    expect(targets.some((e) => e.includes(MINIO_USAGE.bucketQuota))).toBe(true);
    const file = (exprs: string[]) => ({ "rules.yaml": stringify({ groups: [{ name: "panels", rules: exprs.map((expr, i) => ({ record: `panel:${i}`, expr })) }] }) });
    const r = promtool(["check", "rules", "rules.yaml"], file(targets));
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
    expect(promtool(["check", "rules", "rules.yaml"], file([...targets, "max by (bucket) ("])).status).not.toBe(0);
  });

  it.skipIf(!promtoolAvailable)("fires the pool and replication alerts for the 150th organisation (`promtool test rules` on the configured scrape paths)", () => {
    const r = promtool(["test", "rules", "tests.yaml"], {
      "rules.yaml": stringify(withoutAnnotations),
      "tests.yaml": testFile([{ input: scaleInput(), alerts: testsF, interval: "5m" }]),
    });
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it.skipIf(!promtoolAvailable)("is a real check: with the primary scraped at the v2 bucket endpoint, nothing fires for the 150th and promtool fails", () => {
    const r = promtool(["test", "rules", "tests.yaml"], {
      "rules.yaml": stringify(withoutAnnotations),
      "tests.yaml": testFile([{ input: scaleInput("/minio/v2/metrics/bucket", "/minio/v2/metrics/bucket"), alerts: testsF, interval: "5m" }]),
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });

  it.skipIf(!promtoolAvailable)("pass `promtool check config` (prod and dev scrape jobs), which refuses a broken one", () => {
    for (const stack of ["prod", "dev"]) {
      const scrape_configs = minioScrapeConfigs(parseEstate(readStackConfig(stackConfigFile(stack))));
      const r = promtool(["check", "config", "--syntax-only", "prometheus.yml"], { "prometheus.yml": stringify({ global: { scrape_interval: "1m" }, scrape_configs }) });
      expect(r.output, stack).toContain("SUCCESS");
      expect(r.status, stack).toBe(0);
    }
    const broken = prodScrape().map((j) => ({ ...j, metric_relabel_configs: [{ source_labels: ["__name__"], regex: "(", action: "keep" }] }));
    const r = promtool(["check", "config", "--syntax-only", "prometheus.yml"], { "prometheus.yml": stringify({ scrape_configs: broken }) });
    expect(r.status).not.toBe(0);
  });
});

describe("Alertmanager configuration (amtool)", () => {
  const configs = () => {
    return Object.fromEntries(["prod", "dev"].map((s) => [s, stringify(alertmanagerConfig(parseEstate(readStackConfig(stackConfigFile(s)))))]));
  };

  it.skipIf(!amtoolAvailable)("is accepted by `amtool check-config` (prod: e-mail and webhook receivers; dev: none)", () => {
    for (const [stack, text] of Object.entries(configs())) {
      const r = amtool(["check-config", "alertmanager.yaml"], { "alertmanager.yaml": text });
      expect(r.output, stack).toContain("SUCCESS");
      expect(r.status, stack).toBe(0);
    }
    const broken = amtool(["check-config", "alertmanager.yaml"], { "alertmanager.yaml": configs().prod.replace("receiver: critical", "receiver: nobody") });
    expect(broken.status).not.toBe(0);
  });

  it.skipIf(!amtoolAvailable)("routes prod alerts by severity (`amtool config routes test`)", () => {
    const prod = configs().prod;
    const route = (...labels: string[]) => amtool(["config", "routes", "test", "--config.file=alertmanager.yaml", ...labels], { "alertmanager.yaml": prod }).output.replace(/^Warning:.*$/gm, "").trim();
    expect(route("alertname=LiiibreHelsinkiDown", "severity=critical")).toBe("critical");
    expect(route("alertname=LiiibreVolumeFull", "severity=warning")).toBe("warning");
    expect(route("alertname=Something", "severity=info")).toBe("null"); // prod routes info nowhere
    expect(route("alertname=Watchdog", "severity=none")).toBe("null");
  });
});
