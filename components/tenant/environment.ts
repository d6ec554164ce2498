/**
 * What a bundle needs to know about the estate around it, and nothing more: the network
 * ranges its NetworkPolicies admit, the estate's SCIM switch and the shared Jitsi. A `Tenant`
 * receives this instead of the whole `Estate`, so that a tenant-shard stack (docs/scaling.md)
 * depends on a small, explicit part of the configuration.
 */
import { coopHosts, type Estate } from "../config";
import { mailRelay, type MailRelay } from "../ops/mail";

export interface TenantEnvironment {
  /** Ranges of the cluster and its nodes (NetworkPolicies). */
  network: { podCIDR: string; serviceCIDR: string; nodeCIDR: string };
  /** Provision Nextcloud accounts over SCIM (`sharedServices.keycloak.scim`). */
  scim: boolean;
  /** The shared Jitsi every organisation reaches (host resolved from `sharedServices.jitsi`). */
  jitsi: { sharedHost: string; resolution: Estate["sharedServices"]["jitsi"]["resolution"]; maxBitratesVideo: Estate["sharedServices"]["jitsi"]["maxBitratesVideo"] };
  /** The transactional-mail relay (`liiibre:mail`), if the estate has one (components/ops/mail.ts). */
  mail?: MailRelay;
}

/** The environment of every bundle of an estate (pure). */
export function tenantEnvironment(estate: Estate): TenantEnvironment {
  const s = estate.sharedServices;
  return {
    network: { podCIDR: estate.cluster.network.podCIDR, serviceCIDR: estate.cluster.network.serviceCIDR, nodeCIDR: estate.hetzner.network.ipRange },
    scim: s.keycloak.scim,
    jitsi: { sharedHost: coopHosts(s).jitsi, resolution: s.jitsi.resolution, maxBitratesVideo: s.jitsi.maxBitratesVideo },
    ...(mailRelay(estate) ? { mail: mailRelay(estate) } : {}),
  };
}
