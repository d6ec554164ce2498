/**
 * The platform-to-tenant contract: the one stack output (`platform`) of a platform stack that
 * tenant-shard stacks read through a `pulumi.StackReference` (docs/scaling.md).
 *
 * Plain data, validated by zod on both sides: the arguments of the four providers a bundle
 * uses (Kubernetes, the two MinIO, Keycloak — credentials as secrets), the S3 and Keycloak
 * endpoints, the ingress addresses, the network ranges, the storage settings, and the ids of the
 * estate services' access roles. No `Provider` or `Resource` object crosses it.
 *
 * Facts a shard needs while it builds its resources (endpoints, ranges, settings) are derived
 * from the same estate file by `platformFacts`, the function the platform fills the contract
 * with; the shard checks that the contract it reads says the same, and fails (before any change)
 * when the platform stack has not been updated with the estate file yet.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { Estate } from "../config";
import type { StorageSettings, S3Endpoint } from "../storage/contracts";
import { settingsFromEstate } from "../storage/settings";
import { storageEndpoints } from "../storage/platform";
import { keycloakEndpoints, type KeycloakProviderArgs } from "../shared/keycloak";
import { tenantEnvironment } from "../tenant/environment";
import type { IngressTarget } from "../tenant/dns";
import { ESTATE_SERVICES, type EstateService } from "../shared/sharedServices";

export const CONTRACT_VERSION = 1;
/** Name of the platform stack's output holding the contract. */
export const PLATFORM_OUTPUT = "platform";

const S3EndpointSchema = z.strictObject({ host: z.string().min(1), url: z.string().url(), region: z.string().min(1) });
const MinioProviderSchema = z.strictObject({ minioServer: z.string().min(1), minioSsl: z.boolean(), minioRegion: z.string().min(1), minioUser: z.string().min(1), minioPassword: z.string().min(1) });
const SettingsSchema = z.strictObject({
  primaryNoncurrentVersionDays: z.number().int(),
  backupNoncurrentVersionDays: z.number().int(),
  databaseRetentionDays: z.number().int(),
  k8up: z.strictObject({ keepDaily: z.number().int(), keepWeekly: z.number().int(), keepMonthly: z.number().int() }),
  /** Backup and prune windows; each organisation's times derive from its slug within them (components/ops/schedules.ts). */
  windows: z.strictObject({ baseBackup: z.string(), volumeBackup: z.string(), prune: z.string(), pruneWeekday: z.number().int() }),
  databaseRecovery: z.strictObject({ generation: z.number().int(), restoring: z.boolean(), targetTime: z.string().optional() }),
});

export const PlatformContractSchema = z.strictObject({
  version: z.literal(CONTRACT_VERSION),
  providers: z.strictObject({
    /** Secret: kubeconfig. */
    kubernetes: z.strictObject({ kubeconfig: z.string().min(1), enableServerSideApply: z.boolean() }),
    /** Secret: minioPassword. */
    primaryMinio: MinioProviderSchema,
    /** Secret: minioPassword. */
    backupMinio: MinioProviderSchema,
    /** Secret: password. */
    keycloak: z.strictObject({ url: z.string().url(), realm: z.string(), clientId: z.string(), username: z.string(), password: z.string().min(1), initialLogin: z.boolean(), clientTimeout: z.number().int() }),
  }),
  storage: z.strictObject({
    primary: S3EndpointSchema,
    backup: S3EndpointSchema,
    settings: SettingsSchema,
    /** Secret: the backup encryption key restic passwords derive from. */
    repositoryKey: z.string().min(1),
  }),
  identity: z.strictObject({ url: z.string().url(), internalUrl: z.string().url(), estateRealm: z.string().min(1), estateServiceRoleIds: z.record(z.enum(ESTATE_SERVICES), z.string().min(1)) }),
  ingress: z.strictObject({ ipv4: z.array(z.string()), ipv6: z.array(z.string()) }),
  network: z.strictObject({ podCIDR: z.string(), serviceCIDR: z.string(), nodeCIDR: z.string() }),
});
export type PlatformContract = z.output<typeof PlatformContractSchema>;

/** Paths (dot-separated) of the contract's secret values: marked secret on both sides. */
export const CONTRACT_SECRET_PATHS = [
  "providers.kubernetes.kubeconfig",
  "providers.primaryMinio.minioPassword",
  "providers.backupMinio.minioPassword",
  "providers.keycloak.password",
  "storage.repositoryKey",
] as const;

/** The facts of the contract that the estate file determines (pure). */
export interface PlatformFacts {
  storage: { primary: S3Endpoint; backup: S3Endpoint; settings: StorageSettings };
  identity: { url: string; internalUrl: string; estateRealm: string };
  network: PlatformContract["network"];
}

export function platformFacts(estate: Estate): PlatformFacts {
  const kc = keycloakEndpoints(estate);
  return {
    storage: { ...storageEndpoints(estate), settings: settingsFromEstate(estate) },
    identity: { url: kc.url, internalUrl: kc.internalUrl, estateRealm: kc.estateRealm },
    network: tenantEnvironment(estate).network,
  };
}

/** Where the contract disagrees with the facts of the estate file (paths), [] when it agrees. */
export function factMismatches(contract: PlatformContract, facts: PlatformFacts): string[] {
  const out: string[] = [];
  const cmp = (path: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
  };
  cmp("storage.primary", contract.storage.primary, facts.storage.primary);
  cmp("storage.backup", contract.storage.backup, facts.storage.backup);
  cmp("storage.settings", contract.storage.settings, facts.storage.settings);
  cmp("identity.url", contract.identity.url, facts.identity.url);
  cmp("identity.internalUrl", contract.identity.internalUrl, facts.identity.internalUrl);
  cmp("identity.estateRealm", contract.identity.estateRealm, facts.identity.estateRealm);
  cmp("network", contract.network, facts.network);
  return out;
}

/** What the platform program hands over to fill the contract. */
export interface ContractParts {
  estate: Estate;
  kubernetes: { kubeconfig: pulumi.Output<string>; enableServerSideApply: boolean };
  primaryMinio: { minioServer: string; minioSsl: boolean; minioRegion: string; minioUser: string; minioPassword: pulumi.Output<string> };
  backupMinio: { minioServer: string; minioSsl: boolean; minioRegion: string; minioUser: string; minioPassword: pulumi.Output<string> };
  keycloak: KeycloakProviderArgs;
  repositoryKey: pulumi.Input<string>;
  estateServiceRoleIds: Record<EstateService, pulumi.Input<string>>;
  ingress: pulumi.Input<IngressTarget>;
}

/** The platform stack's `platform` output (secrets stay secret). */
export function platformContract(p: ContractParts): pulumi.Output<PlatformContract> {
  const facts = platformFacts(p.estate);
  return pulumi.output({
    version: CONTRACT_VERSION as typeof CONTRACT_VERSION,
    providers: {
      // The provider's clusterIdentifier is not carried: each stack derives it from the estate (clusterIdentifierOf).
      kubernetes: { kubeconfig: pulumi.secret(p.kubernetes.kubeconfig), enableServerSideApply: p.kubernetes.enableServerSideApply },
      primaryMinio: { ...p.primaryMinio, minioPassword: pulumi.secret(p.primaryMinio.minioPassword) },
      backupMinio: { ...p.backupMinio, minioPassword: pulumi.secret(p.backupMinio.minioPassword) },
      keycloak: { ...p.keycloak, password: pulumi.secret(p.keycloak.password) },
    },
    storage: { ...facts.storage, repositoryKey: pulumi.secret(p.repositoryKey) },
    identity: { ...facts.identity, estateServiceRoleIds: p.estateServiceRoleIds },
    ingress: p.ingress,
    network: facts.network,
  }) as pulumi.Output<PlatformContract>;
}

/** Thrown (inside the shard's outputs) when the contract read from the platform stack is unusable. */
export class ContractError extends Error {}

/**
 * Validates the contract read from the platform stack against the schema and the estate file's
 * facts. Returns the parsed contract, or throws `ContractError` naming the key paths.
 */
export function parseContract(value: unknown, facts: PlatformFacts, platformStack: string): PlatformContract {
  const r = PlatformContractSchema.safeParse(value);
  if (!r.success) {
    const paths = r.error.issues.map((i) => `${PLATFORM_OUTPUT}.${i.path.join(".")}: ${i.message}`);
    throw new ContractError(`the output "${PLATFORM_OUTPUT}" of stack ${platformStack} is not a platform contract v${CONTRACT_VERSION} (${paths.join("; ")}): run \`pulumi up\` on ${platformStack} first`);
  }
  const mismatches = factMismatches(r.data, facts);
  if (mismatches.length) {
    throw new ContractError(`stack ${platformStack} exports ${mismatches.map((m) => `${PLATFORM_OUTPUT}.${m}`).join(", ")} different from its estate file: run \`pulumi up\` on ${platformStack} first`);
  }
  return r.data;
}

/**
 * The contract as a shard uses it: every value an Output derived from the reference, the secret
 * ones marked secret, the others not (a StackReference marks a whole output secret when any part
 * of it is).
 */
export function contractOutputs(ref: pulumi.Output<unknown>, facts: PlatformFacts, platformStack: string) {
  const c = ref.apply((v) => parseContract(v, facts, platformStack));
  const plain = <T>(f: (c: PlatformContract) => T): pulumi.Output<T> => pulumi.unsecret(c.apply(f));
  const secret = (f: (c: PlatformContract) => string): pulumi.Output<string> => pulumi.secret(c.apply(f));
  const minio = (k: "primaryMinio" | "backupMinio") => ({
    minioServer: plain((x) => x.providers[k].minioServer),
    minioSsl: plain((x) => x.providers[k].minioSsl),
    minioRegion: plain((x) => x.providers[k].minioRegion),
    minioUser: plain((x) => x.providers[k].minioUser),
    minioPassword: secret((x) => x.providers[k].minioPassword),
  });
  return {
    kubernetes: { kubeconfig: secret((x) => x.providers.kubernetes.kubeconfig), enableServerSideApply: plain((x) => x.providers.kubernetes.enableServerSideApply) },
    primaryMinio: minio("primaryMinio"),
    backupMinio: minio("backupMinio"),
    keycloak: {
      url: plain((x) => x.providers.keycloak.url),
      realm: plain((x) => x.providers.keycloak.realm),
      clientId: plain((x) => x.providers.keycloak.clientId),
      username: plain((x) => x.providers.keycloak.username),
      password: secret((x) => x.providers.keycloak.password),
      initialLogin: plain((x) => x.providers.keycloak.initialLogin),
      clientTimeout: plain((x) => x.providers.keycloak.clientTimeout),
    },
    repositoryKey: secret((x) => x.storage.repositoryKey),
    /** In ESTATE_SERVICES order, as IdentityContext.estateServiceRoleIds. */
    estateServiceRoleIds: ESTATE_SERVICES.map((s) => plain((x) => x.identity.estateServiceRoleIds[s])),
    ingress: plain((x) => x.ingress),
  };
}
