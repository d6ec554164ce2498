/**
 * Names and defaults of the storage layer, shared by its components and its tests.
 */
import { createHmac } from "node:crypto";
import type { BucketLayout, Estate } from "../config";
import { ORGANISATION_BUCKET_SUFFIX, organisationBucketPrefix } from "../config/apps";
import { NAMESPACES, bucketName } from "../conventions";
import type { StorageContext, StorageSettings } from "./contracts";
import { DEFAULT_WINDOWS } from "../ops/schedules";

/** Namespace of the primary MinIO Tenant, its root credentials and the replication Jobs. */
export const STORAGE_NAMESPACE = NAMESPACES.minio;
/** Namespace of the MinIO Operator. */
export const MINIO_OPERATOR_NAMESPACE = NAMESPACES.minioOperator;
/** Namespace of the k8up operator. */
export const K8UP_NAMESPACE = NAMESPACES.k8up;
/** Namespace of the CloudNativePG operator and its Barman Cloud plugin (the plugin must share it). */
export const CNPG_NAMESPACE = NAMESPACES.cnpg;
/** Name of the MinIO Tenant (its in-cluster Service is `minio` in STORAGE_NAMESPACE). */
export const MINIO_TENANT_NAME = "primary";
/**
 * Secret (in STORAGE_NAMESPACE) read by the replication Jobs: primary root credentials and the
 * Helsinki replication user. Created by StoragePlatform.
 */
export const REPLICATION_SECRET = "replication-credentials";
/** Helsinki bucket holding every PostgreSQL base backup and WAL archive (one prefix per cluster). */
export const POSTGRES_BACKUP_BUCKET = "liiibre-postgres";
/** Helsinki bucket holding the k0s backups (etcd, PKI, config) of the controllers. */
export const K0S_BACKUP_BUCKET = "liiibre-k0s";
/** Region name both MinIO servers answer to. */
export const S3_REGION = "us-east-1";
/** Name of the Barman Cloud plugin in a CloudNativePG Cluster's `spec.plugins`. */
export const BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io";
/** Resource name (after the platform's name) of the estate's backup encryption key. */
export const REPOSITORY_KEY_NAME = "backup-repository-key";

/**
 * The restic password of a slug's k8up repository: HMAC-SHA256 of the slug under the estate's
 * backup key, hex. Deterministic: the same key and slug give the same password whenever the
 * tenant is (re-)created; another slug's password tells nothing about this one.
 */
export function repositoryPassword(key: string, slug: string): string {
  return createHmac("sha256", key).update(`k8up-repository:${slug}`).digest("hex");
}

/**
 * Purpose labels (components/kit/secrets.ts) of a lean bundle's S3 users' secret keys, derived
 * from the bundle's key: `primary` (its apps' buckets), `backup` (Helsinki: k8up and PostgreSQL).
 */
export const S3_KEY_PURPOSES = { primary: "s3/primary", backup: "s3/backup" } as const;

/** Helsinki bucket of a tenant's k8up (restic) repository. */
export const k8upBucketName = (slug: string): string => `${slug}-k8up`;

/**
 * Where each bucket suffix of an organisation (APPS[app].buckets) keeps its files: its bucket and
 * the prefix of its keys there. `per-app`: a bucket `<slug>-<suffix>` each, keys at the root;
 * `organisation`: the one bucket `<slug>-apps`, a prefix per suffix (organisationBucketPrefix).
 * The one home of that mapping: TenantStorage creates these buckets, the config's bucket rules claim them.
 */
export function bucketPlacement(slug: string, suffixes: readonly string[], layout: BucketLayout): Array<{ suffix: string; bucket: string; prefix: string }> {
  return [...new Set(suffixes)].map((suffix) =>
    layout === "organisation" ? { suffix, bucket: bucketName(slug, ORGANISATION_BUCKET_SUFFIX), prefix: organisationBucketPrefix(suffix) } : { suffix, bucket: bucketName(slug, suffix), prefix: "" },
  );
}

/** The schema's defaults (components/config/schema.ts), for contexts built without settings. */
export const DEFAULT_STORAGE_SETTINGS: StorageSettings = {
  primaryNoncurrentVersionDays: 7,
  backupNoncurrentVersionDays: 30,
  databaseRetentionDays: 30,
  k8up: { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
  windows: DEFAULT_WINDOWS,
  databaseRecovery: { generation: 0, restoring: false },
};

/** The settings of a context, defaults filled in. */
export function settingsOf(context: StorageContext): StorageSettings {
  const s = context.settings ?? {};
  return {
    ...DEFAULT_STORAGE_SETTINGS,
    ...s,
    k8up: { ...DEFAULT_STORAGE_SETTINGS.k8up, ...(s.k8up ?? {}) },
    windows: { ...DEFAULT_STORAGE_SETTINGS.windows, ...(s.windows ?? {}) },
    databaseRecovery: { ...DEFAULT_STORAGE_SETTINGS.databaseRecovery, ...(s.databaseRecovery ?? {}) },
  };
}

/** The settings of an estate. */
export function settingsFromEstate(estate: Estate): StorageSettings {
  return {
    primaryNoncurrentVersionDays: estate.storage.noncurrentVersionDays,
    backupNoncurrentVersionDays: estate.backup.noncurrentVersionDays,
    databaseRetentionDays: estate.backup.databaseRetentionDays,
    k8up: { ...estate.backup.k8up },
    windows: { ...estate.backup.windows },
    databaseRecovery: { ...estate.backup.databaseRecovery },
  };
}

/** An IAM policy document (the subset MinIO understands and this project writes). */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Array<{
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string[]>>;
  }>;
}

/** ARN of a bucket, and of the objects in it. */
export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectsArn = (bucket: string, prefix = ""): string => `arn:aws:s3:::${bucket}/${prefix}*`;

/** Read/write access to the objects of the given buckets, nothing else (no ListAllMyBuckets). */
export function bucketsReadWritePolicy(buckets: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Buckets",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
        Resource: buckets.map(bucketArn),
      },
      {
        Sid: "Objects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: buckets.map((b) => objectsArn(b)),
      },
    ],
  };
}

/**
 * One policy document with every statement of `parts` (one policy per user instead of one user
 * per purpose); each statement's Sid is prefixed with its part's name so that Sids stay unique.
 */
export function combinedPolicy(parts: Record<string, PolicyDocument>): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: Object.entries(parts).flatMap(([name, doc]) => doc.Statement.map((st) => ({ ...st, Sid: `${name}${st.Sid ?? ""}` }))),
  };
}

/**
 * The Barman `serverName` a CloudNativePG cluster archives under for a recovery generation:
 * the cluster name for generation 0, `<cluster>-g<N>` after the N-th disaster recovery (a
 * recovered cluster must never write into the archive it was restored from).
 */
export const archiveServerName = (cluster: string, generation: number): string => (generation > 0 ? `${cluster}-g${generation}` : cluster);
