/**
 * StoragePlatform: everything that stores or copies data, below the apps.
 * - the storage operators (MinIO Operator, k8up, CloudNativePG + Barman Cloud plugin);
 * - the primary MinIO in Falkenstein (PrimaryObjectStore) and its provider;
 * - the Helsinki backup server (BackupServer) and its provider, independent of the cluster;
 * - Helsinki's estate-wide buckets: PostgreSQL backups and k0s backups (versioned, protected);
 * - the Helsinki replication user and the Secret the replication Jobs read.
 * Exposes `context` (StorageContext) for TenantStorage / PostgresCluster / VolumeBackup.
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BUCKET_SUFFIXES } from "../config/apps";
import { ReplicationSet } from "./offsiteReplication";
import type { Estate } from "../config";
import type { S3Endpoint, StorageContext } from "./contracts";
import { BackupServer } from "./backupServer";
import { K0sBackup } from "./k0sBackup";
import { StorageOperators } from "./operators";
import { PRIMARY_ROOT_USER, PrimaryObjectStore } from "./primaryObjectStore";
import { S3User } from "./s3User";
import {
  K0S_BACKUP_BUCKET,
  POSTGRES_BACKUP_BUCKET,
  REPLICATION_SECRET,
  S3_REGION,
  bucketArn,
  objectsArn,
  settingsFromEstate,
  REPOSITORY_KEY_NAME,
  type PolicyDocument,
} from "./settings";

export interface StoragePlatformArgs {
  estate: Estate;
  /** The cluster's Kubernetes provider (`K0sCluster.provider`). */
  provider: k8s.Provider;
  /** Public addresses of the nodes as CIDRs (`HetznerCompute.nodeCidrs`): allowed to reach Helsinki. */
  nodeCidrs: pulumi.Input<pulumi.Input<string>[]>;
  /** Hetzner SSH keys (names or ids) for the backup server. */
  sshKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** The k0s controllers (name, SSH address): they get the daily k0s backup timer. Default none. */
  controllers?: Array<{ name: string; publicIpv4: pulumi.Input<string> }>;
  /** SSH private key k0sctl uses (to install the k0s backup timer); required with `controllers`. */
  sshPrivateKey?: pulumi.Input<string>;
}

/** Name of the Helsinki user the primary replicates with. */
export const REPLICATION_USER = "replication";
/** ID of the lifecycle rule of the estate-wide Helsinki buckets. */
export const ESTATE_BUCKET_RULE_ID = "expire-old-backups";

/**
 * What the replication user may do in Helsinki (MinIO's documented remote-target permissions),
 * on tenant twins only: ARNs `*-<suffix>` for every primary bucket suffix (BUCKET_SUFFIXES: the
 * apps' and the organisation bucket's). It
 * cannot touch the k8up repositories, PostgreSQL or k0s backups.
 */
export function replicationTargetPolicy(): PolicyDocument {
  const suffixes = BUCKET_SUFFIXES;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TwinBuckets",
        Effect: "Allow",
        Action: [
          "s3:GetReplicationConfiguration",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:GetBucketLocation",
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
          "s3:GetEncryptionConfiguration",
        ],
        Resource: suffixes.map((s) => bucketArn(`*-${s}`)),
      },
      {
        Sid: "TwinObjects",
        Effect: "Allow",
        Action: [
          "s3:GetReplicationConfiguration",
          "s3:ReplicateTags",
          "s3:AbortMultipartUpload",
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:GetObjectVersionTagging",
          "s3:PutObject",
          "s3:PutObjectRetention",
          "s3:PutBucketObjectLockConfiguration",
          "s3:PutObjectLegalHold",
          "s3:DeleteObject",
          "s3:ReplicateObject",
          "s3:ReplicateDelete",
        ],
        Resource: suffixes.map((s) => objectsArn(`*-${s}`)),
      },
    ],
  };
}

/** The estate's S3 endpoints as clients see them (one home: the component and the platform contract read it). */
export function storageEndpoints(estate: Estate): { primary: S3Endpoint; backup: S3Endpoint } {
  const endpoint = (host: string): S3Endpoint => ({ host, url: `https://${host}`, region: S3_REGION });
  return { primary: endpoint(estate.storage.s3Domain), backup: endpoint(estate.backup.s3Domain) };
}

export class StoragePlatform extends pulumi.ComponentResource {
  public readonly context: StorageContext;
  /** The arguments of the two MinIO providers (the platform contract carries them to tenant shards). */
  public readonly providerArgs: { primary: PrimaryObjectStore["providerArgs"]; backup: BackupServer["providerArgs"] };
  /** Public IPv4 of the Helsinki backup server (its DNS record `backup.s3Domain` must point to it). */
  public readonly backupServerIpv4: pulumi.Output<string>;

  constructor(name: string, args: StoragePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:StoragePlatform", name, {}, opts);
    const { estate } = args;
    const settings = settingsFromEstate(estate);

    const operators = new StorageOperators(`${name}-operators`, { provider: args.provider }, { parent: this });
    const primary = new PrimaryObjectStore(`${name}-primary`, { estate, provider: args.provider, operator: operators.minioOperator }, { parent: this });
    const backup = new BackupServer(`${name}-backup`, { estate, nodeCidrs: args.nodeCidrs, sshKeys: args.sshKeys }, { parent: this });
    this.backupServerIpv4 = backup.ipv4;

    // Estate-wide Helsinki buckets: versioned (a wiped prefix stays recoverable), old versions expired.
    for (const bucket of [POSTGRES_BACKUP_BUCKET, K0S_BACKUP_BUCKET]) {
      const b = new minio.S3Bucket(
        `${name}-${bucket}`,
        { bucket, acl: "private", forceDestroy: false },
        { parent: this, provider: backup.provider, protect: true, retainOnDelete: true },
      );
      new minio.S3BucketVersioning(
        `${name}-${bucket}-versioning`,
        { bucket: b.bucket, versioningConfiguration: { status: "Enabled" } },
        { parent: this, provider: backup.provider, retainOnDelete: true },
      );
      new minio.IlmPolicy(
        `${name}-${bucket}-lifecycle`,
        {
          bucket: b.bucket,
          rules: [
            bucket === K0S_BACKUP_BUCKET
              ? { id: ESTATE_BUCKET_RULE_ID, status: "Enabled", expiration: `${settings.backupNoncurrentVersionDays}d`, noncurrentVersionExpirationDays: settings.backupNoncurrentVersionDays }
              : { id: ESTATE_BUCKET_RULE_ID, status: "Enabled", noncurrentVersionExpirationDays: settings.backupNoncurrentVersionDays },
          ],
        },
        { parent: this, provider: backup.provider, retainOnDelete: true },
      );
    }

    // The replication Jobs' credentials: primary root (to configure replication rules) and the
    // Helsinki replication user (the remote target).
    new S3User(
      `${name}-replication`,
      {
        userName: REPLICATION_USER,
        policy: replicationTargetPolicy(),
        minioProvider: backup.provider,
        k8sProvider: args.provider,
        secret: {
          name: REPLICATION_SECRET,
          namespace: primary.namespace.metadata.name,
          accessKeyKey: "TARGET_ACCESS_KEY",
          secretKeyKey: "TARGET_SECRET_KEY",
          extra: { PRIMARY_ACCESS_KEY: PRIMARY_ROOT_USER, PRIMARY_SECRET_KEY: primary.rootPassword },
        },
      },
      { parent: this },
    );

    if (args.controllers?.length) {
      if (!args.sshPrivateKey) throw new Error("StoragePlatform: controllers need sshPrivateKey (k0s backup timer)");
      new K0sBackup(
        `${name}-k0s-backup`,
        { estate, controllers: args.controllers, sshPrivateKey: args.sshPrivateKey, backupMinio: backup.provider, backupHost: estate.backup.s3Domain },
        // After the cluster exists (its provider is built from the kubeconfig k0sctl returns).
        { parent: this, dependsOn: [args.provider] },
      );
    }

    // The estate's backup encryption key: every restic repository password derives from it and
    // the tenant's slug (repositoryPassword), so removing and re-adding a tenant finds the same
    // password and its retained backups stay readable. Protected, retained, never per tenant
    // (docs/restore.md#backup-encryption-key).
    const repositoryKey = new random.RandomPassword(`${name}-${REPOSITORY_KEY_NAME}`, { length: 64, special: false }, { parent: this, protect: true, retainOnDelete: true });

    this.providerArgs = { primary: primary.providerArgs, backup: backup.providerArgs };
    this.context = {
      k8s: args.provider,
      primaryMinio: primary.provider,
      backupMinio: backup.provider,
      ...storageEndpoints(estate),
      settings,
      repositoryKey: pulumi.secret(repositoryKey.result),
      replication: new ReplicationSet(),
    };
    this.registerOutputs({ backupServerIpv4: this.backupServerIpv4 });
  }
}
