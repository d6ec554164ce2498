/**
 * The PostgreSQL of a dedicated organisation in the `lean` data layout (docs/storage.md#data-layouts):
 * ONE CloudNativePG cluster for the organisation instead of one per app database, with
 * - one role per app, declared in the Cluster's `spec.managed.roles` (CloudNativePG reconciles
 *   it: LOGIN, password from a `kubernetes.io/basic-auth` Secret `<cluster>-<database>`);
 * - one database per app, a declarative `Database` (postgresql.cnpg.io/v1, CloudNativePG ≥ 1.25)
 *   owned by that role, reclaim policy `retain` (deleting the object never drops the database);
 * - one `ObjectStore` (Barman Cloud plugin) and one daily `ScheduledBackup` for the cluster, in
 *   Helsinki under `s3://liiibre-postgres/<slug>/pg`, with the organisation's Helsinki user (the
 *   one of its k8up repository, whose policy also covers that prefix: components/storage/volumeBackup.ts).
 *
 * Isolation between the apps of the organisation: CloudNativePG creates a declarative database
 * with `CREATE DATABASE … OWNER` and leaves PostgreSQL's default ACL, in which PUBLIC keeps
 * CONNECT and TEMPORARY on every database (1.27's `Database` has no privileges field; a REVOKE
 * would need SQL run after each creation). The cluster's `pg_hba` therefore says it: a role
 * authenticates over the network only to the database of its own name (`sameuser`), every other
 * network login is rejected before the default rule. The fixed rules CloudNativePG puts first
 * (local peer access of the instance manager, certificate access of `streaming_replica`) are
 * untouched. Each app's role owns its database and nothing else: no app reads another's tables.
 *
 * The Cluster is protected and retained (its PVCs hold every app's data).
 */
import { createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { IMAGES } from "../versions";
import { LABELS } from "../conventions";
import type { PostgresClusterOutputs, PostgresResources, StorageContext, StorageSettings } from "./contracts";
import { baseBackupSchedule } from "../ops/schedules";
import { cnpgAvailability } from "../ops/availability";
import { BARMAN_PLUGIN, POSTGRES_BACKUP_BUCKET, archiveServerName, settingsOf } from "./settings";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";

/** Name of an organisation's CloudNativePG cluster (lean layout). */
export const organisationClusterName = (slug: string): string => `${slug}-pg`;
/** Prefix of its base backups and WAL in the PostgreSQL bucket of Helsinki (the per-app clusters used `<slug>/<database>`). */
export const organisationBackupPath = (slug: string): string => `${slug}/pg`;
/** The Secret holding an app role's credentials (`username`, `password`), in the organisation's namespace. */
export const roleSecretName = (cluster: string, database: string): string => `${cluster}-${database}`;
/**
 * The bootstrap database and owner CloudNativePG requires at `initdb`: no app uses them (each app
 * has its declarative database); a login as `app` reaches only the `app` database (pg_hba).
 */
export const BOOTSTRAP_DATABASE = "app";
/** Purpose label (components/kit/secrets.ts) of the roles' key when a lean bundle derives it from its key. */
export const POSTGRES_ROLES_PURPOSE = "postgres/roles";

/**
 * pg_hba rules of an organisation cluster, inserted by CloudNativePG between its fixed rules and
 * its default `host all all all scram-sha-256`: a role may log in over the network to the
 * database of its own name only.
 */
export const ORGANISATION_PG_HBA = ["host sameuser all all scram-sha-256", "host all all all reject"] as const;

/** App database names: also role names, PostgreSQL identifiers that need no quoting. */
const DATABASE_NAME = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * The password of an app role: HMAC-SHA256 of the role under the organisation cluster's generated
 * key, hex. One generated key per cluster instead of one generated password per role; a role's
 * password tells nothing about another's, and the same key and role give the same password
 * whenever the Secret is re-created.
 */
export function rolePassword(key: string, role: string): string {
  return createHmac("sha256", key).update(`postgres-role:${role}`).digest("hex");
}

export interface OrganisationDatabaseArgs {
  /** The organisation's slug: the cluster is `<slug>-pg`. */
  slug: string;
  /** The organisation's namespace (must exist: pass it in dependsOn). */
  namespace: string;
  /** The apps' databases (each also the name of its owner role), e.g. `["nextcloud", "synapse"]`. */
  databases: string[];
  /** PostgreSQL instances. Default 1. */
  instances?: number;
  /** Volume size per instance, GB (the sum of the apps' databases). */
  storageGB: number;
  /** Requests/limits of each instance. Default: none set (the namespace's LimitRange applies). */
  resources?: PostgresResources;
  /**
   * The Secret (in `namespace`) with the organisation's Helsinki credentials: keys
   * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `REGION` (VolumeBackup's, with `postgresBackupPath`).
   */
  backupSecretName: pulumi.Input<string>;
  /**
   * The key the roles' passwords derive from (`rolePassword`): a lean bundle's, itself derived
   * from the bundle's protected key. Default: a generated RandomPassword `<name>-roles-key`.
   */
  rolesKey?: pulumi.Input<string>;
  /**
   * The bundle's objects (components/kit/bundleObjects.ts): the Databases and the ScheduledBackup
   * are among them. The ObjectStore stays a resource (the Cluster, its own resource, waits for
   * it: bundled, the objects release would wait for the Cluster and the Cluster for the release),
   * as do the Cluster and the roles' Secrets. Default: resources of their own.
   */
  objects?: BundleObjects;
  context: StorageContext;
}

/** The `spec` of an organisation's Cluster (pure: tested without mocks). */
export function organisationClusterSpec(a: {
  cluster: string;
  databases: string[];
  instances: number;
  storageGB: number;
  resources?: PostgresResources;
  settings: Pick<StorageSettings, "databaseRecovery">;
}): Record<string, unknown> {
  const recovery = a.settings.databaseRecovery;
  const restoring = recovery.restoring && recovery.generation > 0;
  const store = `${a.cluster}-helsinki`;
  return {
    instances: a.instances,
    imageName: `${IMAGES.postgres.repository}:${IMAGES.postgres.tag}`,
    // Estate unit: 1 GB = 1024³ bytes (components/units.ts), so "Gi".
    storage: { size: `${a.storageGB}Gi` },
    ...(a.resources ? { resources: a.resources } : {}),
    // Bootstrap only matters when the Cluster is created: empty (the apps' databases are
    // declarative), or, during a disaster recovery, every database and role of the previous
    // archive generation from Helsinki.
    bootstrap: restoring
      ? { recovery: { source: "helsinki", ...(recovery.targetTime ? { recoveryTarget: { targetTime: recovery.targetTime } } : {}) } }
      : { initdb: { database: BOOTSTRAP_DATABASE, owner: BOOTSTRAP_DATABASE } },
    ...(restoring
      ? { externalClusters: [{ name: "helsinki", plugin: { name: BARMAN_PLUGIN, parameters: { barmanObjectName: store, serverName: archiveServerName(a.cluster, recovery.generation - 1) } } }] }
      : {}),
    postgresql: { pg_hba: [...ORGANISATION_PG_HBA] },
    managed: {
      roles: a.databases.map((db) => ({ name: db, ensure: "present", login: true, inherit: true, passwordSecret: { name: roleSecretName(a.cluster, db) } })),
    },
    plugins: [{ name: BARMAN_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: store, serverName: archiveServerName(a.cluster, recovery.generation) } }],
    // Metrics for the WAL and base-backup alerts (components/ops/alert-rules.ts), labelled by cluster.
    monitoring: {
      enablePodMonitor: true,
      podMonitorRelabelings: [{ sourceLabels: ["__meta_kubernetes_pod_label_cnpg_io_cluster"], targetLabel: "cluster" }],
    },
    ...cnpgAvailability(a.instances),
    // k8up must not copy live PostgreSQL files: CloudNativePG backs them up consistently.
    inheritedMetadata: { annotations: { "k8up.io/backup": "false" } },
  };
}

/** The `spec` of an app's declarative Database. */
export function databaseSpec(cluster: string, database: string): Record<string, unknown> {
  return { name: database, owner: database, cluster: { name: cluster }, ensure: "present", databaseReclaimPolicy: "retain" };
}

export class OrganisationDatabase extends pulumi.ComponentResource {
  /** Name of the CloudNativePG Cluster. */
  public readonly clusterName: string;
  /** Each app database as apps consume it (host, port, Secret with `username`/`password`). */
  public readonly databases: Record<string, PostgresClusterOutputs>;

  constructor(name: string, args: OrganisationDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered.
    const bad = args.databases.find((d) => !DATABASE_NAME.test(d) || d === BOOTSTRAP_DATABASE || d === "postgres");
    if (bad !== undefined) throw new Error(`OrganisationDatabase ${args.slug}: database "${bad}" must match ${DATABASE_NAME.source} and be neither "${BOOTSTRAP_DATABASE}" nor "postgres"`);
    if (new Set(args.databases).size !== args.databases.length) throw new Error(`OrganisationDatabase ${args.slug}: each database once, got ${args.databases.join(", ")}`);
    if (!Number.isInteger(args.storageGB) || args.storageGB < 1) throw new Error(`OrganisationDatabase ${args.slug}: storageGB must be an integer >= 1, got ${args.storageGB}`);
    super("liiibre:storage:OrganisationDatabase", name, {}, opts);
    const { context, namespace } = args;
    const settings = settingsOf(context);
    const cluster = organisationClusterName(args.slug);
    this.clusterName = cluster;
    const backupPath = organisationBackupPath(args.slug);
    const instances = args.instances ?? 1;
    const labels = { [LABELS.tenant]: args.slug };

    // The roles' passwords derive from this key (rolePassword); it is a secret output of the provider.
    const key = { result: args.rolesKey !== undefined ? pulumi.secret(pulumi.output(args.rolesKey)) : new random.RandomPassword(`${name}-roles-key`, { length: 48, special: false }, { parent: this }).result };
    const secrets = args.databases.map(
      (db) =>
        new k8s.core.v1.Secret(
          `${name}-${db}-credentials`,
          {
            // CloudNativePG reads a managed role's password from a basic-auth Secret and reloads it on change.
            metadata: { name: roleSecretName(cluster, db), namespace, labels: { ...labels, "cnpg.io/reload": "true" } },
            type: "kubernetes.io/basic-auth",
            stringData: pulumi.secret(key.result.apply((k) => ({ username: db, password: rolePassword(k, db) }))),
          },
          { parent: this, provider: context.k8s },
        ),
    );
    const store = new k8s.apiextensions.CustomResource(
      `${name}-objectstore`,
      {
        apiVersion: "barmancloud.cnpg.io/v1",
        kind: "ObjectStore",
        metadata: { name: `${cluster}-helsinki`, namespace },
        spec: {
          retentionPolicy: `${settings.databaseRetentionDays}d`,
          configuration: {
            destinationPath: `s3://${POSTGRES_BACKUP_BUCKET}/${backupPath}`,
            endpointURL: context.backup.url,
            s3Credentials: {
              accessKeyId: { name: args.backupSecretName, key: "AWS_ACCESS_KEY_ID" },
              secretAccessKey: { name: args.backupSecretName, key: "AWS_SECRET_ACCESS_KEY" },
              region: { name: args.backupSecretName, key: "REGION" },
            },
            wal: { compression: "gzip", maxParallel: 2 },
            data: { compression: "gzip", jobs: 2 },
          },
        },
      },
      { parent: this, provider: context.k8s },
    );
    const clusterResource = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: cluster, namespace },
        spec: organisationClusterSpec({ cluster, databases: args.databases, instances, storageGB: args.storageGB, resources: args.resources, settings }),
      },
      { parent: this, provider: context.k8s, dependsOn: [store, ...secrets], protect: true, retainOnDelete: true },
    );
    const objects = args.objects ?? ownResources();
    // As their own resources the Databases and the ScheduledBackup wait for the Cluster. Bundled,
    // they do not: the operator reconciles them once the Cluster runs, and a wait would make the
    // whole objects release (the namespace's NetworkPolicies, quota and limit range among them)
    // come after the Cluster instead of beside it.
    const clusterWait = objects.bundled ? [] : [clusterResource];
    for (const db of args.databases) {
      objects.add(
        k8s.apiextensions.CustomResource,
        `${name}-${db}`,
        { apiVersion: "postgresql.cnpg.io/v1", kind: "Database", metadata: { name: `${cluster}-${db}`, namespace, labels }, spec: databaseSpec(cluster, db) },
        { parent: this, provider: context.k8s, dependsOn: clusterWait },
      );
    }
    objects.add(
      k8s.apiextensions.CustomResource,
      `${name}-scheduled-backup`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ScheduledBackup",
        metadata: { name: `${cluster}-daily`, namespace },
        spec: {
          schedule: baseBackupSchedule(backupPath, settings.windows),
          immediate: true,
          backupOwnerReference: "self",
          cluster: { name: cluster },
          method: "plugin",
          pluginConfiguration: { name: BARMAN_PLUGIN },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: clusterWait },
    );
    const host = pulumi.output(`${cluster}-rw.${namespace}.svc`);
    this.databases = {};
    for (const db of args.databases) this.databases[db] = { host, port: 5432, appSecretName: pulumi.output(roleSecretName(cluster, db)) };
    this.registerOutputs({ clusterName: cluster });
  }
}
