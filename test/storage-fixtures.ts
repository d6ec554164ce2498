/**
 * Shared by the storage and backup tests: a StorageContext built from the estate without the
 * rest of the program (its own providers), and small lookups over harness records.
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../components/config";
import type { StorageContext } from "../components/storage/contracts";
import { ReplicationSet } from "../components/storage/offsiteReplication";
import { S3_REGION, settingsFromEstate } from "../components/storage/settings";
import type { RecordedResource } from "../scripts/harness";

export function testContext(estate: Estate): StorageContext {
  return {
    k8s: new k8s.Provider("test-k8s", { kubeconfig: "{}" }),
    primaryMinio: new minio.Provider("test-primary-minio", { minioServer: `${estate.storage.s3Domain}:443`, minioUser: "root", minioPassword: pulumi.secret("MOCKSECRET-root"), minioSsl: true }),
    backupMinio: new minio.Provider("test-backup-minio", { minioServer: `${estate.backup.s3Domain}:443`, minioUser: "root", minioPassword: pulumi.secret("MOCKSECRET-root"), minioSsl: true }),
    primary: { host: estate.storage.s3Domain, url: `https://${estate.storage.s3Domain}`, region: S3_REGION },
    backup: { host: estate.backup.s3Domain, url: `https://${estate.backup.s3Domain}`, region: S3_REGION },
    settings: settingsFromEstate(estate),
    repositoryKey: pulumi.secret("MOCKSECRET-repository-key"),
    replication: new ReplicationSet(),
  };
}

export const ofType = (rs: RecordedResource[], type: string) => rs.filter((r) => r.type === type);
export const byUrn = (rs: RecordedResource[]) => new Map(rs.map((r) => [r.urn, r]));
/** The chain of ancestors (parent first) of a record. */
export function ancestors(rs: RecordedResource[], r: RecordedResource): RecordedResource[] {
  const m = byUrn(rs);
  const out: RecordedResource[] = [];
  let p = r.parent ? m.get(r.parent) : undefined;
  while (p) {
    out.push(p);
    p = p.parent ? m.get(p.parent) : undefined;
  }
  return out;
}
/** The recorded provider of a record, by URN. */
export const providerOf = (rs: RecordedResource[], r: RecordedResource) => (r.provider ? rs.find((x) => r.provider!.startsWith(x.urn)) : undefined);

/**
 * Fields of the upstream CRDs this project sets, as published (paths under `spec`). Sources:
 * minio/operator resources/base/crds/minio.min.io_tenants.yaml (v7.1),
 * k8up-io/k8up config/crd/apiextensions.k8s.io/v1/k8up.io_schedules.yaml,
 * cloudnative-pg/cloudnative-pg config/crd/bases/postgresql.cnpg.io_{clusters,scheduledbackups}.yaml,
 * cloudnative-pg/plugin-barman-cloud config/crd/bases/barmancloud.cnpg.io_objectstores.yaml.
 * Transcribed by hand (no network here): a field this project starts to use must be added
 * after checking upstream, which is what this test forces.
 */
export const UPSTREAM_FIELDS: Record<string, string[]> = {
  Tenant: [
    "image", "configuration", "configuration.name", "requestAutoCert", "mountPath", "podManagementPolicy", "env",
    "pools", "pools.name", "pools.servers", "pools.volumesPerServer", "pools.volumeClaimTemplate", "pools.nodeSelector",
    "pools.tolerations", "pools.affinity",
  ],
  Schedule: [
    "backend", "backend.repoPasswordSecretRef", "backend.s3", "backend.s3.endpoint", "backend.s3.bucket",
    "backend.s3.accessKeyIDSecretRef", "backend.s3.secretAccessKeySecretRef", "backup", "backup.schedule",
    "backup.successfulJobsHistoryLimit", "backup.failedJobsHistoryLimit", "check", "check.schedule", "prune",
    "prune.schedule", "prune.retention", "prune.retention.keepDaily", "prune.retention.keepWeekly", "prune.retention.keepMonthly",
  ],
  Cluster: [
    "instances", "imageName", "storage", "storage.size", "bootstrap", "bootstrap.initdb", "bootstrap.initdb.database", "bootstrap.initdb.owner",
    "bootstrap.recovery", "bootstrap.recovery.source", "bootstrap.recovery.database", "bootstrap.recovery.owner", "bootstrap.recovery.recoveryTarget",
    "bootstrap.recovery.recoveryTarget.targetTime", "externalClusters", "externalClusters.name", "externalClusters.plugin", "externalClusters.plugin.name",
    "externalClusters.plugin.parameters", "plugins", "plugins.name", "plugins.isWALArchiver", "plugins.parameters", "inheritedMetadata", "inheritedMetadata.annotations",
    // Checked against the Cluster CRD of the pinned cloudnative-pg chart 0.26.0 (templates/crds/crds.yaml).
    "monitoring", "monitoring.enablePodMonitor", "monitoring.podMonitorRelabelings", "monitoring.podMonitorRelabelings.sourceLabels",
    "monitoring.podMonitorRelabelings.targetLabel", "enablePDB", "affinity", "affinity.enablePodAntiAffinity", "affinity.podAntiAffinityType", "affinity.topologyKey",
  ],
  ScheduledBackup: ["schedule", "immediate", "backupOwnerReference", "cluster", "cluster.name", "method", "pluginConfiguration", "pluginConfiguration.name"],
  ObjectStore: [
    "retentionPolicy", "configuration", "configuration.destinationPath", "configuration.endpointURL", "configuration.s3Credentials",
    "configuration.s3Credentials.accessKeyId", "configuration.s3Credentials.secretAccessKey", "configuration.s3Credentials.region",
    "configuration.wal", "configuration.wal.compression", "configuration.wal.maxParallel", "configuration.data", "configuration.data.compression", "configuration.data.jobs",
  ],
};
/** Object-valued leaves that are free-form maps or Kubernetes core types (not walked further). */
const OPAQUE = new Set(["pools.volumeClaimTemplate", "pools.nodeSelector", "pools.tolerations", "pools.affinity", "env", "plugins.parameters", "externalClusters.plugin.parameters", "inheritedMetadata.annotations", "backend.repoPasswordSecretRef", "backend.s3.accessKeyIDSecretRef", "backend.s3.secretAccessKeySecretRef", "configuration.s3Credentials.accessKeyId", "configuration.s3Credentials.secretAccessKey", "configuration.s3Credentials.region"]);
export function fieldPaths(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => fieldPaths(x, prefix));
  if (!v || typeof v !== "object" || OPAQUE.has(prefix)) return [];
  return Object.entries(v).flatMap(([k, x]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...fieldPaths(x, p)];
  });
}
