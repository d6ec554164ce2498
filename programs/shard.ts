/**
 * A tenant-shard program: the `Tenant`s of the dedicated organisations placed in one shard
 * (components/layers/placement.ts), on providers rebuilt from the platform stack's contract
 * read through a `pulumi.StackReference` (components/layers/contract.ts).
 *
 * Resource names are those of the one-stack layout (the Tenant component is named by the slug,
 * at the top of the stack): moving an organisation between layouts or shards changes only the
 * stack part of its URNs, which `pulumi state move` carries (docs/scaling.md).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import * as minio from "@pulumi/minio";
import type { Estate } from "../components/config";
import { clusterIdentifierOf } from "../components/k0s/cluster";
import { PLATFORM_OUTPUT, contractOutputs, platformFacts } from "../components/layers/contract";
import { shardOf } from "../components/layers/placement";
import type { IdentityContext } from "../components/shared/identity";
import type { StorageContext } from "../components/storage/contracts";
import { ReplicationSet, shardReplicationScope } from "../components/storage/offsiteReplication";
import { Tenant } from "../components/tenant";
import { tenantEnvironment } from "../components/tenant/environment";
import { tenantsOutput } from "./outputs";

/** Names of a shard's own resources (one home: the plan and the docs read them). */
export const SHARD_RESOURCES = {
  reference: "platform",
  kubernetes: "platform-kubernetes",
  primaryMinio: "platform-primary-minio",
  backupMinio: "platform-backup-minio",
  keycloak: "platform-keycloak",
} as const;

export interface ShardProgramOptions {
  /** The estate's name: its platform stack's name and the prefix of its shard stacks. */
  estateName: string;
  shard: string;
}

/**
 * Where each provider a shard rebuilds lives in the one-stack layout (type chain and name, as
 * programs/platform.ts names them). A tenant moved from the one stack with `pulumi state move`
 * arrives with a copy of these providers under the shard's stack name; aliasing the shard's
 * providers to them keeps the moved resources on "their" provider instead of seeing a provider
 * change (docs/scaling.md). test/layers-stability.test.ts checks they exist in the one-stack plan.
 */
export function oneStackProviderUrns(estate: Estate, stack: string): Record<Exclude<keyof typeof SHARD_RESOURCES, "reference">, string> {
  const urn = (chain: string, name: string) => `urn:pulumi:${stack}::${pulumi.getProject()}::${chain}::${name}`;
  return {
    kubernetes: urn("liiibre:k0s:K0sCluster$pulumi:providers:kubernetes", `${estate.cluster.name}-provider`),
    primaryMinio: urn("liiibre:storage:StoragePlatform$liiibre:storage:PrimaryObjectStore$pulumi:providers:minio", "storage-primary-minio"),
    backupMinio: urn("liiibre:storage:StoragePlatform$liiibre:storage:BackupServer$pulumi:providers:minio", "storage-backup-minio"),
    keycloak: urn("liiibre:shared:SharedServices$liiibre:shared:Keycloak$pulumi:providers:keycloak", "keycloak-provider"),
  };
}

/** Fully qualified name of the platform stack a shard reads. */
export const platformStackRef = (estateName: string): string => `${pulumi.getOrganization()}/${pulumi.getProject()}/${estateName}`;

export function shardProgram(estate: Estate, opts: ShardProgramOptions) {
  const ref = new pulumi.StackReference(SHARD_RESOURCES.reference, { name: platformStackRef(opts.estateName) });
  const facts = platformFacts(estate);
  const c = contractOutputs(ref.requireOutput(PLATFORM_OUTPUT), facts, opts.estateName);

  const moved = oneStackProviderUrns(estate, pulumi.getStack());
  const k8sProvider = new k8s.Provider(SHARD_RESOURCES.kubernetes, { ...c.kubernetes, clusterIdentifier: clusterIdentifierOf(estate) }, { aliases: [moved.kubernetes] });
  const storage: StorageContext = {
    k8s: k8sProvider,
    primaryMinio: new minio.Provider(SHARD_RESOURCES.primaryMinio, c.primaryMinio, { aliases: [moved.primaryMinio] }),
    backupMinio: new minio.Provider(SHARD_RESOURCES.backupMinio, c.backupMinio, { aliases: [moved.backupMinio] }),
    primary: facts.storage.primary,
    backup: facts.storage.backup,
    settings: facts.storage.settings,
    repositoryKey: c.repositoryKey,
    replication: new ReplicationSet(),
  };
  const identity: IdentityContext = {
    provider: new keycloak.Provider(SHARD_RESOURCES.keycloak, c.keycloak, { aliases: [moved.keycloak] }),
    ...facts.identity,
    estateServiceRoleIds: c.estateServiceRoleIds,
  };
  const env = tenantEnvironment(estate);
  const mine = estate.tenants.filter((t) => t.plan === "dedicated" && shardOf(t, estate.sharding.shards) === opts.shard);
  const tenants = mine.map((t) => new Tenant(t.slug, { tenant: t, env, storage, identity, ingress: c.ingress }));
  // The shard's buckets: one replication CronJob, named after the shard (all stacks share the namespace).
  storage.replication.register(shardReplicationScope(opts.shard), storage);
  return {
    tenants: tenantsOutput(mine, Object.fromEntries(tenants.map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }]))),
  };
}
