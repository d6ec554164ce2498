/**
 * The interface between the storage layer (MinIO, Helsinki backups, databases) and the
 * components that keep data (tenant bundles, shared services). Kept narrow on purpose: the
 * co-op wants to be able to swap MinIO (e.g. for SeaweedFS) without touching the apps.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type * as minio from "@pulumi/minio";
import type { BundleSecrets } from "../kit/bundleSecrets";
import type { BundleObjects } from "../kit/bundleObjects";
import type { BucketLayout } from "../config/schema";
import type { ReplicationSet } from "./offsiteReplication";

/** An S3 service as clients see it. */
export interface S3Endpoint {
  /** Host name (and port when not 443), e.g. `s3.fsn.liiibre.coop`, as S3 clients want it. */
  host: string;
  /** Full URL, e.g. `https://s3.fsn.liiibre.coop`. */
  url: string;
  /** Region name the server answers to. */
  region: string;
}

/** What the storage platform hands to everything that stores data. */
export interface StorageContext {
  /** Provider of the primary MinIO in Falkenstein. */
  primaryMinio: minio.Provider;
  /** Provider of the standalone MinIO on the Helsinki backup server. */
  backupMinio: minio.Provider;
  /** The primary object store, as apps inside the cluster reach it. */
  primary: S3Endpoint;
  /** The Helsinki backup object store. */
  backup: S3Endpoint;
  /** The cluster's Kubernetes provider. */
  k8s: k8s.Provider;
  /**
   * Retention and schedules (from `liiibre:backup` / `liiibre:storage`). Optional so that a
   * hand-made context (tests) still works: missing values take the schema's defaults
   * (DEFAULT_STORAGE_SETTINGS in components/storage/settings.ts).
   */
  settings?: Partial<StorageSettings>;
  /**
   * The estate's backup encryption key (secret, from a protected resource of the storage
   * platform): restic repository passwords derive from it (`repositoryPassword`), never from a
   * per-tenant random value that a removed-and-re-added tenant would not get back.
   */
  repositoryKey: pulumi.Input<string>;
  /**
   * The stack's buckets to replicate into Helsinki (components/storage/offsiteReplication.ts):
   * every OffsiteCopy adds its own, and the program registers the stack's one CronJob after its
   * organisations.
   */
  replication: ReplicationSet;
}

import type { ScheduleWindows } from "../ops/schedules";

/** Retention and schedules the storage layer applies to every tenant. */
export interface StorageSettings {
  /** Days the primary keeps noncurrent versions (they count against the bucket quota). */
  primaryNoncurrentVersionDays: number;
  /** Days Helsinki keeps noncurrent versions (deleted or overwritten files), >= 30. */
  backupNoncurrentVersionDays: number;
  /** Retention of PostgreSQL base backups and WAL in Helsinki, days. */
  databaseRetentionDays: number;
  /** k8up schedules (cron, UTC) and restic retention. */
  k8up: { backup?: string; check?: string; prune?: string; keepDaily: number; keepWeekly: number; keepMonthly: number };
  /** Windows the spread schedules fall in (components/ops/schedules.ts); a fixed `k8up.*` cron wins. */
  windows: ScheduleWindows;
  /** PostgreSQL disaster recovery (`liiibre:backup.databaseRecovery`, docs/restore.md). */
  databaseRecovery: { generation: number; restoring: boolean; targetTime?: string };
}

export interface TenantStorageArgs {
  /** Tenant slug (or the shared instance's slug): buckets are `<slug>-<suffix>`. */
  slug: string;
  /** Namespace receiving the credentials Secret and the k8up Schedule (must exist: pass it in dependsOn). */
  namespace: pulumi.Input<string>;
  /** Bucket suffixes, from APPS[app].buckets of the tenant's apps. */
  bucketSuffixes: string[];
  /**
   * `per-app`: one bucket `<slug>-<suffix>` per suffix; `organisation`: one bucket `<slug>-apps`
   * with each suffix's files under its prefix (organisationBucketPrefix; `tenants[].buckets`,
   * docs/storage.md#buckets). Default `per-app`.
   */
  layout?: BucketLayout;
  /** Hard quota of the organisation's pool, bytes (users × quotaPerUserGB × BYTES_PER_GB). */
  quotaBytes: number;
  /**
   * Lean and migrating data layouts: the prefix of the organisation's PostgreSQL cluster in the
   * Helsinki PostgreSQL bucket, archived with the Helsinki user of its volumes (VolumeBackup).
   * Default: none (per-app layout: each cluster has its own Helsinki user).
   */
  postgresBackupPath?: string;
  /**
   * Lean bundles (docs/security.md): the secret keys of the organisation's primary and Helsinki
   * S3 users (derived from the bundle's key). Default: each user's generated RandomPassword.
   */
  secretKeys?: {
    primary: pulumi.Input<string>;
    backup: pulumi.Input<string>;
    /** Their purpose labels (`DERIVED_ANNOTATION` on the Secrets holding them). Default: none. */
    purposes?: { primary: string; backup: string };
  };
  /**
   * Lean bundles: the Secret the primary credentials go to, instead of `s3-credentials` (the
   * bundle's shared Secret, components/kit/bundleSecrets.ts; same keys). Default: `s3-credentials`.
   */
  credentialsStore?: BundleSecrets;
  /** The bundle's objects (components/kit/bundleObjects.ts): its k8up Schedule is one. Default: a resource of its own. */
  objects?: BundleObjects;
  context: StorageContext;
}

/**
 * Key of the tenant's credentials Secret holding the same credentials as an AWS shared
 * credentials file (`[default]` profile), for clients that can only read them from a file
 * (`AWS_SHARED_CREDENTIALS_FILE`), e.g. a chart that accepts no `secretKeyRef` env.
 */
export const S3_CREDENTIALS_FILE_KEY = "credentials";

export interface TenantStorageOutputs {
  /** Bucket suffix → bucket name (the same organisation bucket for every suffix in that layout). */
  buckets: Record<string, pulumi.Output<string>>;
  /**
   * Bucket suffix → where that app's keys go in its bucket: "" (the whole bucket, per-app
   * layout) or a prefix ending with "/" (organisation bucket).
   */
  prefixes: Record<string, string>;
  /**
   * Name of the Secret (in the tenant namespace) with keys `AWS_ACCESS_KEY_ID`,
   * `AWS_SECRET_ACCESS_KEY`, and the same pair as a shared credentials file under
   * `S3_CREDENTIALS_FILE_KEY`.
   */
  credentialsSecretName: pulumi.Output<string>;
}

export interface PostgresClusterArgs {
  /** Namespace of the CloudNativePG Cluster (must exist: pass it in dependsOn). */
  namespace: pulumi.Input<string>;
  /** Database name and owner role. */
  database: string;
  owner: string;
  /** PostgreSQL instances. Default 1 (2 for shared services). */
  instances?: number;
  /** Volume size per instance in GB. */
  storageGB: number;
  /** Path prefix of the base backups and WAL in the Helsinki bucket, e.g. `<slug>/nextcloud`. */
  backupPath: string;
  /**
   * Requests/limits of each PostgreSQL instance (the Cluster's `spec.resources`). Default: none
   * set, the namespace's LimitRange default applies.
   */
  resources?: PostgresResources;
  context: StorageContext;
}

/** Kubernetes resource requirements of a database instance (quantities as strings, e.g. `500m`, `1Gi`). */
export interface PostgresResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface PostgresClusterOutputs {
  /** Read-write service host, `<cluster>-rw.<namespace>.svc`. */
  host: pulumi.Output<string>;
  port: number;
  /** Secret created by CloudNativePG with keys `username`, `password` (`<cluster>-app`). */
  appSecretName: pulumi.Output<string>;
}
