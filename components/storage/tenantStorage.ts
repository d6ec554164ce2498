/**
 * A tenant's object storage and backups (docs/storage.md):
 * - its primary buckets, private, versioned, hard quota = the organisation's pool (users ×
 *   quotaPerUserGB × 1024³ bytes), noncurrent versions expired after
 *   `storage.noncurrentVersionDays`: one per app that stores files, `<slug>-<suffix>` (`per-app`
 *   layout), or ONE, `<slug>-apps`, each app under its prefix (`organisation`: `<suffix>/`,
 *   organisationBucketPrefix in components/config/apps.ts);
 * - one MinIO user whose policy grants only these buckets, its credentials in the Secret
 *   `s3-credentials` of the tenant namespace (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 *   and `credentials`: the same pair as an AWS shared credentials file);
 * - their Helsinki twins and the replication towards them (OffsiteCopy);
 * - the k8up Schedule of the namespace's volumes (VolumeBackup);
 * - on the bucket holding HedgeDoc's images only, the bucket policy letting browsers GET its
 *   `uploads/*` without credentials (anonymousRead.ts: the pad's image URLs point there;
 *   nothing else is public, no other app's prefix).
 *
 * The pool is one quota per organisation. In the organisation layout it is the one bucket's hard
 * quota: every app's files count against it together. In the per-app layout EVERY bucket carries
 * the whole pool (no app can exceed the pool on its own) and their sum is reported, not enforced
 * (see docs/storage.md#pooled-quota-per-organisation). Nextcloud's group and user quotas share
 * the pool between the members.
 *
 * Every bucket is `protect`ed and `retainOnDelete`: removing the tenant from config fails the
 * update on them instead of deleting data; the deliberate procedure is in docs/restore.md.
 */
import * as pulumi from "@pulumi/pulumi";
import * as minio from "@pulumi/minio";
import { ANNOTATIONS, LABELS } from "../conventions";
import { S3_CREDENTIALS_FILE_KEY, type TenantStorageArgs, type TenantStorageOutputs } from "./contracts";
import { OffsiteCopy } from "./offsiteCopy";
import { S3User, sharedCredentialsFile } from "./s3User";
import { ANONYMOUS_READ_PREFIXES, anonymousReadPolicy } from "./anonymousRead";
import { bucketPlacement, bucketsReadWritePolicy, settingsOf } from "./settings";
import { VolumeBackup } from "./volumeBackup";

/** Name of the Secret (tenant namespace) with the tenant's primary S3 credentials. */
export const S3_CREDENTIALS_SECRET = "s3-credentials";
/** ID of the primary buckets' lifecycle rule. */
export const PRIMARY_NONCURRENT_RULE_ID = "expire-noncurrent-versions";

export class TenantStorage extends pulumi.ComponentResource implements TenantStorageOutputs {
  public readonly buckets: Record<string, pulumi.Output<string>>;
  public readonly prefixes: Record<string, string>;
  public readonly credentialsSecretName: pulumi.Output<string>;
  /** The Secret with the organisation's Helsinki credentials (k8up, and its PostgreSQL cluster in the lean layout). */
  public readonly backupSecretName: string;
  /** The resource holding those credentials (the lean cluster's ObjectStore waits for it). */
  public readonly backupCredentials: pulumi.Resource;

  constructor(name: string, args: TenantStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered.
    if (!Number.isSafeInteger(args.quotaBytes) || args.quotaBytes <= 0) {
      throw new Error(`TenantStorage ${args.slug}: quotaBytes must be a positive integer number of bytes, got ${args.quotaBytes}`);
    }
    super("liiibre:storage:TenantStorage", name, {}, opts);
    const { slug, context } = args;
    const settings = settingsOf(context);
    // Per-app: a bucket per suffix, its keys at the root. Organisation: one bucket, a prefix per suffix.
    const placed = bucketPlacement(slug, args.bucketSuffixes, args.layout ?? "per-app");
    const names = [...new Set(placed.map((p) => p.bucket))];
    const primaryResources: pulumi.Resource[] = [];
    const created = new Map<string, pulumi.Output<string>>();
    for (const b of names) {
      const bucket = new minio.S3Bucket(
        b,
        { bucket: b, acl: "private", quota: args.quotaBytes, forceDestroy: false },
        { parent: this, provider: context.primaryMinio, protect: true, retainOnDelete: true },
      );
      const versioning = new minio.S3BucketVersioning(
        `${b}-versioning`,
        { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
        { parent: this, provider: context.primaryMinio, retainOnDelete: true },
      );
      new minio.IlmPolicy(
        `${b}-lifecycle`,
        {
          bucket: bucket.bucket,
          rules: [{ id: PRIMARY_NONCURRENT_RULE_ID, status: "Enabled", noncurrentVersionExpirationDays: settings.primaryNoncurrentVersionDays }],
        },
        { parent: this, provider: context.primaryMinio, retainOnDelete: true },
      );
      // The prefixes browsers read without credentials: those of the suffixes kept in this bucket.
      const readable = placed.filter((p) => p.bucket === b && ANONYMOUS_READ_PREFIXES[p.suffix]).map((p) => `${p.prefix}${ANONYMOUS_READ_PREFIXES[p.suffix]}`);
      if (readable.length) {
        // Not stateful: the policy is re-applied from here (the Helsinki twin has none: replication copies objects, not policies).
        new minio.S3BucketPolicy(
          `${b}-anonymous-read`,
          { bucket: bucket.bucket, policy: JSON.stringify(anonymousReadPolicy(b, readable)) },
          { parent: this, provider: context.primaryMinio },
        );
      }
      primaryResources.push(bucket, versioning);
      created.set(b, bucket.bucket);
    }
    this.buckets = Object.fromEntries(placed.map((p) => [p.suffix, created.get(p.bucket)!]));
    this.prefixes = Object.fromEntries(placed.map((p) => [p.suffix, p.prefix]));

    if (names.length > 0) {
      const store = args.credentialsStore;
      const user = new S3User(
        `${slug}-s3`,
        {
          userName: `${slug}-s3`,
          policy: bucketsReadWritePolicy(names),
          minioProvider: context.primaryMinio,
          k8sProvider: context.k8s,
          ...(store ? {} : { secret: { name: S3_CREDENTIALS_SECRET, namespace: args.namespace, labels: { [LABELS.tenant]: slug }, credentialsFileKey: S3_CREDENTIALS_FILE_KEY } }),
          ...(args.secretKeys ? { secretKey: args.secretKeys.primary } : {}),
        },
        { parent: this, dependsOn: primaryResources },
      );
      if (store) {
        // The same keys in the bundle's shared Secret (lean layout): its readers name only the Secret.
        const purpose = args.secretKeys?.purposes?.primary;
        const held = store.put(
          {
            AWS_ACCESS_KEY_ID: user.userName,
            AWS_SECRET_ACCESS_KEY: user.secretKey,
            [S3_CREDENTIALS_FILE_KEY]: pulumi.secret(pulumi.all([user.userName, user.secretKey]).apply(([id, key]) => sharedCredentialsFile(id, key))),
          },
          purpose ? { AWS_SECRET_ACCESS_KEY: purpose, [S3_CREDENTIALS_FILE_KEY]: purpose } : {},
          // Whose credentials these are (the Secret is not the user's own): the twin's S3 checks follow it.
          { [ANNOTATIONS.s3User]: `${slug}-s3` },
        );
        this.credentialsSecretName = pulumi.output(held.name);
      } else {
        this.credentialsSecretName = user.secretName;
      }
      new OffsiteCopy(`${slug}-offsite`, { buckets: names, primaryResources, context }, { parent: this });
    } else {
      this.credentialsSecretName = pulumi.output("");
    }
    const volumes = new VolumeBackup(
      `${slug}-volumes`,
      {
        slug,
        namespace: args.namespace,
        postgresBackupPath: args.postgresBackupPath,
        ...(args.secretKeys ? { secretKey: args.secretKeys.backup, ...(args.secretKeys.purposes ? { secretKeyPurpose: args.secretKeys.purposes.backup } : {}) } : {}),
        ...(args.objects ? { objects: args.objects } : {}),
        context,
      },
      { parent: this },
    );
    this.backupSecretName = volumes.secretName;
    this.backupCredentials = volumes.credentials;
    this.registerOutputs({ buckets: this.buckets, prefixes: this.prefixes, credentialsSecretName: this.credentialsSecretName });
  }
}
