/**
 * A PostgreSQL database run by CloudNativePG, continuously backed up to Helsinki with the
 * Barman Cloud plugin (the in-tree `barmanObjectStore` is deprecated since CloudNativePG 1.26):
 * - an `ObjectStore` (barmancloud.cnpg.io/v1) pointing at `s3://liiibre-postgres/<backupPath>`
 *   in the Helsinki MinIO, retention `backup.databaseRetentionDays` days, gzip WAL and data;
 * - a Helsinki user limited to that prefix, its keys in the Secret `<cluster>-helsinki`;
 * - the `Cluster` (postgresql.cnpg.io/v1) archiving WAL through the plugin;
 * - a daily `ScheduledBackup` (base backup through the plugin).
 * The Cluster is protected and retained (its PVCs hold the data).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { IMAGES } from "../versions";
import type { PostgresClusterArgs, PostgresClusterOutputs } from "./contracts";
import { S3User } from "./s3User";
import { baseBackupSchedule } from "../ops/schedules";
import { cnpgAvailability } from "../ops/availability";
import { BARMAN_PLUGIN, POSTGRES_BACKUP_BUCKET, archiveServerName, bucketArn, objectsArn, settingsOf, type PolicyDocument } from "./settings";

/** CloudNativePG cluster names: DNS labels short enough for the derived objects (`<name>-rw`, `<name>-1`…). */
const CLUSTER_NAME = /^[a-z]([a-z0-9-]{0,48}[a-z0-9])?$/;
const BACKUP_PATH = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Base backups (CloudNativePG cron has a seconds field, UTC) start at a minute derived from the
 * cluster's `backupPath` (`<slug>/<database>`) inside `liiibre:backup.windows.baseBackup`
 * (components/ops/schedules.ts): 94 clusters no longer all start at 01:30.
 */

/** The only permissions of a cluster's Helsinki user: its own prefix of the PostgreSQL bucket. */
export function postgresBackupPolicy(backupPath: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Bucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [bucketArn(POSTGRES_BACKUP_BUCKET)] },
      {
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [bucketArn(POSTGRES_BACKUP_BUCKET)],
        Condition: { StringLike: { "s3:prefix": [`${backupPath}/*`, `${backupPath}/`, backupPath] } },
      },
      {
        Sid: "OwnPrefixObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: [objectsArn(POSTGRES_BACKUP_BUCKET, `${backupPath}/`)],
      },
    ],
  };
}

function validPostgresName(name: string, args: PostgresClusterArgs): string {
  if (!CLUSTER_NAME.test(name)) throw new Error(`PostgresCluster "${name}": the name must match ${CLUSTER_NAME.source} (it names the CloudNativePG Cluster)`);
  if (!BACKUP_PATH.test(args.backupPath)) throw new Error(`PostgresCluster "${name}": backupPath must be slash-separated lower-case segments such as "acme/nextcloud", got "${args.backupPath}"`);
  if (!Number.isInteger(args.storageGB) || args.storageGB < 1) throw new Error(`PostgresCluster "${name}": storageGB must be an integer >= 1, got ${args.storageGB}`);
  return name;
}

export class PostgresCluster extends pulumi.ComponentResource implements PostgresClusterOutputs {
  public readonly host: pulumi.Output<string>;
  public readonly port = 5432;
  public readonly appSecretName: pulumi.Output<string>;
  /** Name of the CloudNativePG Cluster (the component's name). */
  public readonly clusterName: string;

  /** `name` becomes the Cluster's name: a DNS label of at most 50 characters. */
  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered.
    super("liiibre:storage:PostgresCluster", validPostgresName(name, args), {}, opts);
    const { context } = args;
    const settings = settingsOf(context);
    const clusterName = name;
    this.clusterName = clusterName;
    const credentials = `${clusterName}-helsinki`;
    const recovery = settings.databaseRecovery;
    const restoring = recovery.restoring && recovery.generation > 0;

    const user = new S3User(
      `${name}-backup`,
      {
        userName: `${name}-wal`,
        policy: postgresBackupPolicy(args.backupPath),
        minioProvider: context.backupMinio,
        k8sProvider: context.k8s,
        secret: { name: credentials, namespace: args.namespace, accessKeyKey: "ACCESS_KEY_ID", secretKeyKey: "ACCESS_SECRET_KEY", extra: { REGION: context.backup.region } },
      },
      { parent: this },
    );
    const store = new k8s.apiextensions.CustomResource(
      `${name}-objectstore`,
      {
        apiVersion: "barmancloud.cnpg.io/v1",
        kind: "ObjectStore",
        metadata: { name: `${clusterName}-helsinki`, namespace: args.namespace },
        spec: {
          retentionPolicy: `${settings.databaseRetentionDays}d`,
          configuration: {
            destinationPath: `s3://${POSTGRES_BACKUP_BUCKET}/${args.backupPath}`,
            endpointURL: context.backup.url,
            s3Credentials: {
              accessKeyId: { name: credentials, key: "ACCESS_KEY_ID" },
              secretAccessKey: { name: credentials, key: "ACCESS_SECRET_KEY" },
              region: { name: credentials, key: "REGION" },
            },
            wal: { compression: "gzip", maxParallel: 2 },
            data: { compression: "gzip", jobs: 2 },
          },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: [user] },
    );
    const cluster = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: clusterName, namespace: args.namespace },
        spec: {
          instances: args.instances ?? 1,
          imageName: `${IMAGES.postgres.repository}:${IMAGES.postgres.tag}`,
          // Estate unit: 1 GB = 1024³ bytes (components/units.ts), so "Gi".
          storage: { size: `${args.storageGB}Gi` },
          ...(args.resources ? { resources: args.resources } : {}),
          // Bootstrap only matters when the Cluster is created: an empty database, or, during a
          // disaster recovery, the Helsinki backups of the previous archive generation.
          bootstrap: restoring
            ? { recovery: { source: "helsinki", database: args.database, owner: args.owner, ...(recovery.targetTime ? { recoveryTarget: { targetTime: recovery.targetTime } } : {}) } }
            : { initdb: { database: args.database, owner: args.owner } },
          ...(restoring
            ? {
                externalClusters: [
                  {
                    name: "helsinki",
                    plugin: { name: BARMAN_PLUGIN, parameters: { barmanObjectName: `${clusterName}-helsinki`, serverName: archiveServerName(clusterName, recovery.generation - 1) } },
                  },
                ],
              }
            : {}),
          plugins: [
            {
              name: BARMAN_PLUGIN,
              isWALArchiver: true,
              parameters: { barmanObjectName: `${clusterName}-helsinki`, serverName: archiveServerName(clusterName, recovery.generation) },
            },
          ],
          // Metrics for the WAL and base-backup alerts (components/ops/alert-rules.ts), labelled by cluster.
          monitoring: {
            enablePodMonitor: true,
            podMonitorRelabelings: [{ sourceLabels: ["__meta_kubernetes_pod_label_cnpg_io_cluster"], targetLabel: "cluster" }],
          },
          ...cnpgAvailability(args.instances ?? 1),
          // k8up must not copy live PostgreSQL files: CloudNativePG backs them up consistently.
          inheritedMetadata: { annotations: { "k8up.io/backup": "false" } },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: [store], protect: true, retainOnDelete: true },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-scheduled-backup`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ScheduledBackup",
        metadata: { name: `${clusterName}-daily`, namespace: args.namespace },
        spec: {
          schedule: baseBackupSchedule(args.backupPath, settings.windows),
          immediate: true,
          backupOwnerReference: "self",
          cluster: { name: clusterName },
          method: "plugin",
          pluginConfiguration: { name: BARMAN_PLUGIN },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: [cluster] },
    );
    this.host = pulumi.interpolate`${clusterName}-rw.${args.namespace}.svc`;
    this.appSecretName = pulumi.output(`${clusterName}-app`);
    this.registerOutputs({ host: this.host, port: this.port, appSecretName: this.appSecretName });
  }
}
