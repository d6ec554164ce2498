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
import { PLATFORM_OUTPUT, contractOutputs, platformFacts } from "../components/layers/contract";
import { shardOf } from "../components/layers/placement";
import type { IdentityContext } from "../components/shared/identity";
import type { StorageContext } from "../components/storage/contracts";
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

/** Fully qualified name of the platform stack a shard reads. */
export const platformStackRef = (estateName: string): string => `${pulumi.getOrganization()}/${pulumi.getProject()}/${estateName}`;

export function shardProgram(estate: Estate, opts: ShardProgramOptions) {
  const ref = new pulumi.StackReference(SHARD_RESOURCES.reference, { name: platformStackRef(opts.estateName) });
  const facts = platformFacts(estate);
  const c = contractOutputs(ref.requireOutput(PLATFORM_OUTPUT), facts, opts.estateName);

  const k8sProvider = new k8s.Provider(SHARD_RESOURCES.kubernetes, c.kubernetes);
  const storage: StorageContext = {
    k8s: k8sProvider,
    primaryMinio: new minio.Provider(SHARD_RESOURCES.primaryMinio, c.primaryMinio),
    backupMinio: new minio.Provider(SHARD_RESOURCES.backupMinio, c.backupMinio),
    primary: facts.storage.primary,
    backup: facts.storage.backup,
    settings: facts.storage.settings,
    repositoryKey: c.repositoryKey,
  };
  const identity: IdentityContext = {
    provider: new keycloak.Provider(SHARD_RESOURCES.keycloak, c.keycloak),
    ...facts.identity,
    estateServiceRoleIds: c.estateServiceRoleIds,
  };
  const env = tenantEnvironment(estate);
  const mine = estate.tenants.filter((t) => t.plan === "dedicated" && shardOf(t, estate.sharding.shards) === opts.shard);
  const tenants = mine.map((t) => new Tenant(t.slug, { tenant: t, env, storage, identity, ingress: c.ingress }));
  return {
    tenants: tenantsOutput(mine, Object.fromEntries(tenants.map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }]))),
  };
}
