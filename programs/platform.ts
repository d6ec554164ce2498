/**
 * The platform program: compute, cluster, platform add-ons, storage platform and shared
 * services (with the shared instance and its organisations). In the one-stack layout it also
 * holds every dedicated organisation's `Tenant`; in the sharded layout it exports the platform
 * contract (components/layers/contract.ts) that tenant-shard stacks read.
 */
import { sshPrivateKey, type Estate } from "../components/config";
import { HetznerCompute, ingressAddresses, nodesByRoleAndLocation } from "../components/hetzner";
import { K0sCluster } from "../components/k0s";
import { PLATFORM_OUTPUT, platformContract } from "../components/layers/contract";
import { Platform } from "../components/platform";
import { StoragePlatform } from "../components/storage";
import { PLATFORM_REPLICATION_SCOPE } from "../components/storage/offsiteReplication";
import { SharedServices } from "../components/shared";
import { Tenant } from "../components/tenant";
import { tenantEnvironment } from "../components/tenant/environment";
import { tenantsOutput } from "./outputs";

export interface PlatformProgramOptions {
  /** Also build every dedicated organisation's Tenant here (the one-stack layout). */
  withTenants: boolean;
}

export function platformProgram(estate: Estate, opts: PlatformProgramOptions) {
  const compute = new HetznerCompute("estate", { estate });
  const cluster = new K0sCluster(estate.cluster.name, { estate, hosts: compute.hosts, sshPrivateKey: sshPrivateKey() });
  const platform = new Platform("platform", { estate, provider: cluster.provider, networkId: compute.network.networkId });
  const storage = new StoragePlatform("storage", {
    estate,
    provider: cluster.provider,
    nodeCidrs: compute.nodeCidrs,
    sshKeys: compute.sshKeyIds,
    controllers: compute.hosts.filter((h) => h.role !== "worker"),
    sshPrivateKey: sshPrivateKey(),
  }, { dependsOn: [compute, ...platform.ready] });
  const ingress = ingressAddresses(compute.hosts, compute.ingressLoadBalancer);
  const shared = new SharedServices("shared", { estate, storage: storage.context }, { dependsOn: [storage] });
  const env = tenantEnvironment(estate);
  const tenants = opts.withTenants
    ? estate.tenants
        .filter((t) => t.plan === "dedicated")
        .map((t) => new Tenant(t.slug, { tenant: t, env, storage: storage.context, identity: shared.identity, ingress }, { dependsOn: [storage] }))
    : [];
  // Every bucket of this stack's organisations (the shared instance's, and the others' in the one-stack layout): one CronJob.
  storage.context.replication.register(PLATFORM_REPLICATION_SCOPE, storage.context, { dependsOn: [storage] });
  const bundles = { ...shared.sharedTenantOutputs(), ...Object.fromEntries(tenants.map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }])) };
  const here = opts.withTenants ? estate.tenants : estate.tenants.filter((t) => t.plan !== "dedicated");
  return {
    nodes: nodesByRoleAndLocation(compute.hosts),
    kubeconfig: cluster.kubeconfig,
    ingressAddresses: ingress,
    backupServerIpv4: storage.backupServerIpv4,
    tenants: tenantsOutput(here, bundles),
    ...(opts.withTenants
      ? {}
      : {
          [PLATFORM_OUTPUT]: platformContract({
            estate,
            kubernetes: cluster.providerArgs,
            primaryMinio: storage.providerArgs.primary,
            backupMinio: storage.providerArgs.backup,
            keycloak: shared.keycloak.providerArgs,
            repositoryKey: storage.context.repositoryKey,
            estateServiceRoleIds: shared.serviceRoleIds,
            ingress,
          }),
        }),
  };
}
