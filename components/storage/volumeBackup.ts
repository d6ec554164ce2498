/**
 * Backups of a namespace's persistent volumes: a k8up `Schedule` (k8up.io/v1) whose restic
 * repository is a bucket of the Helsinki MinIO, reached with a Helsinki user limited to that
 * bucket. Daily backup, weekly check, prune keeping 7 daily / 4 weekly / 6 monthly snapshots
 * (liiibre:backup.k8up). PostgreSQL volumes are skipped (CloudNativePG backs them up itself).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import { LABELS } from "../conventions";
import type { StorageContext } from "./contracts";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import { S3User } from "./s3User";
import { k8upSchedules } from "../ops/schedules";
import { bucketsReadWritePolicy, combinedPolicy, k8upBucketName, repositoryPassword, settingsOf } from "./settings";
import { postgresBackupPolicy } from "./postgres";

export interface VolumeBackupArgs {
  /** Tenant slug (or a service's name): the Helsinki bucket is `<slug>-k8up`. */
  slug: string;
  /** Namespace whose PVCs are backed up (must exist). */
  namespace: pulumi.Input<string>;
  /**
   * The lean data layout (docs/storage.md#data-layouts): the same Helsinki user also archives the
   * organisation's PostgreSQL cluster under this prefix of the PostgreSQL bucket (its one policy
   * holds both grants; its Secret gains `REGION` for the ObjectStore). Default: none, the user
   * reaches the k8up bucket only.
   */
  postgresBackupPath?: string;
  /** The Helsinki user's secret key (a lean bundle's, derived). Default: generated (S3User). */
  secretKey?: pulumi.Input<string>;
  /** Its purpose label when derived (`DERIVED_ANNOTATION` on the Secret). Default: none. */
  secretKeyPurpose?: string;
  /** The bundle's objects (components/kit/bundleObjects.ts): the Schedule is one. Default: a resource of its own. */
  objects?: BundleObjects;
  context: StorageContext;
}

/** Name of the Schedule and of the Secret holding the repository password and Helsinki credentials. */
export const K8UP_SCHEDULE_NAME = "helsinki";
export const K8UP_SECRET_NAME = "k8up-helsinki";

export class VolumeBackup extends pulumi.ComponentResource {
  /** The Helsinki bucket of the restic repository. */
  public readonly bucket: pulumi.Output<string>;
  /** Name of the Secret with the Helsinki credentials (`K8UP_SECRET_NAME`). */
  public readonly secretName = K8UP_SECRET_NAME;
  /** The Helsinki user and its Secret: what a user of the credentials waits for. */
  public readonly credentials: pulumi.Resource;

  constructor(name: string, args: VolumeBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:VolumeBackup", name, {}, opts);
    const { slug, context } = args;
    const all = settingsOf(context);
    const settings = all.k8up;
    // A fixed cron from the config wins; otherwise each namespace gets its own minute in the windows.
    const spread = k8upSchedules(slug, all.windows);
    const schedules = { backup: settings.backup ?? spread.backup, check: settings.check ?? spread.check, prune: settings.prune ?? spread.prune };
    const bucketName = k8upBucketName(slug);
    const labels = { [LABELS.tenant]: slug };

    // The restic repository: data, protected; no versioning (restic prunes it itself).
    const bucket = new minio.S3Bucket(
      `${slug}-k8up`,
      { bucket: bucketName, acl: "private", forceDestroy: false },
      { parent: this, provider: context.backupMinio, protect: true, retainOnDelete: true },
    );
    // Derived from the estate's protected backup key (never a per-tenant random value: that one
    // would be re-created with a new value after the tenant is removed and re-added, and the
    // retained repository could no longer be opened).
    const repoPassword = pulumi.secret(pulumi.output(context.repositoryKey).apply((key) => repositoryPassword(key, slug)));
    const user = new S3User(
      `${slug}-k8up`,
      {
        userName: `${slug}-k8up`,
        // Same user and Secret in every layout: switching an organisation to the lean layout
        // updates this policy in place instead of replacing its k8up credentials.
        policy: args.postgresBackupPath
          ? combinedPolicy({ Restic: bucketsReadWritePolicy([bucketName]), Postgres: postgresBackupPolicy(args.postgresBackupPath) })
          : bucketsReadWritePolicy([bucketName]),
        minioProvider: context.backupMinio,
        k8sProvider: context.k8s,
        ...(args.secretKey !== undefined ? { secretKey: args.secretKey } : {}),
        secret: {
          name: K8UP_SECRET_NAME,
          namespace: args.namespace,
          labels,
          ...(args.secretKeyPurpose ? { derived: { AWS_SECRET_ACCESS_KEY: args.secretKeyPurpose } } : {}),
          extra: { RESTIC_PASSWORD: repoPassword, ...(args.postgresBackupPath ? { REGION: context.backup.region } : {}) },
        },
      },
      { parent: this, dependsOn: [bucket] },
    );
    this.credentials = user;
    const ref = (key: string) => ({ name: K8UP_SECRET_NAME, key });
    (args.objects ?? ownResources()).add(
      k8s.apiextensions.CustomResource,
      `${slug}-k8up-schedule`,
      {
        apiVersion: "k8up.io/v1",
        kind: "Schedule",
        metadata: { name: K8UP_SCHEDULE_NAME, namespace: args.namespace, labels },
        spec: {
          backend: {
            repoPasswordSecretRef: ref("RESTIC_PASSWORD"),
            s3: {
              endpoint: context.backup.url,
              bucket: bucketName,
              accessKeyIDSecretRef: ref("AWS_ACCESS_KEY_ID"),
              secretAccessKeySecretRef: ref("AWS_SECRET_ACCESS_KEY"),
            },
          },
          backup: { schedule: schedules.backup, successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 4 },
          check: { schedule: schedules.check },
          prune: {
            schedule: schedules.prune,
            retention: { keepDaily: settings.keepDaily, keepWeekly: settings.keepWeekly, keepMonthly: settings.keepMonthly },
          },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: [user] },
    );
    this.bucket = bucket.bucket;
    this.registerOutputs({ bucket: this.bucket });
  }
}
