/**
 * The Liiibre estate, as one Pulumi program: a short composition of components.
 *
 * Pulumi calls the default export with no argument: the estate is then read from the
 * stack's `liiibre:*` config and validated (exit 2 with one line per problem before any
 * resource is registered). The offline harness (scripts/harness.ts) passes the estate it
 * validated from the same config.
 */
import { loadEstateOrExit, sshPrivateKey, type Estate } from "./components/config";
import { HetznerCompute, ingressAddresses, nodesByRoleAndLocation } from "./components/hetzner";
import { K0sCluster } from "./components/k0s";
import { Platform } from "./components/platform";
import { StoragePlatform } from "./components/storage";
import { SharedServices } from "./components/shared";
import { Tenant } from "./components/tenant";
import { storagePoolGB } from "./components/units";

export default async function main(estate: Estate = loadEstateOrExit()) {
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
  const tenants = estate.tenants
    .filter((t) => t.plan === "dedicated")
    .map((t) => new Tenant(t.slug, { tenant: t, estate, storage: storage.context, identity: shared.identity, ingress }, { dependsOn: [storage] }));
  const bundles = { ...shared.sharedTenantOutputs(), ...Object.fromEntries(tenants.map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }])) };
  return {
    nodes: nodesByRoleAndLocation(compute.hosts),
    kubeconfig: cluster.kubeconfig,
    ingressAddresses: ingress,
    backupServerIpv4: storage.backupServerIpv4,
    tenants: Object.fromEntries(
      estate.tenants.map((t) => [t.slug, { plan: t.plan, users: t.users, storagePoolGB: storagePoolGB(t), ...bundles[t.slug] }]),
    ),
  };
}
