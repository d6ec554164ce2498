/**
 * The shared ("mutualised") instance: one bundle (same app modules as a dedicated tenant)
 * hosting every `plan: shared` organisation as a Nextcloud group whose group quota is the
 * organisation's pool (users × per-user GB, `groupquota`), and as a Keycloak organization
 * plus a group of the same name in the estate realm (the OIDC `groups` claim puts each
 * member in their organisation's Nextcloud group). Its buckets' quota is the sum of the
 * shared organisations' pools.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Estate, Tenant } from "../config";
import type { SharedGroup } from "../apps";
import type { StorageContext } from "../storage/contracts";
import { storagePoolGB } from "../units";
import { deployBundle } from "../tenant/bundle";
import { tenantEnvironment } from "../tenant/environment";
import { organization, type PlatformIdentity } from "./identity";
import { organisationAdminsGroup } from "../ops/org-admins";
import { OPEN_SHARING_GROUP, orgGroupName, organisationGroup } from "./membership";

export interface SharedInstanceArgs {
  estate: Estate;
  storage: StorageContext;
  identity: PlatformIdentity;
}

/** The groups of the shared instance, one per `plan: shared` organisation, sorted by slug. */
export function sharedGroups(tenants: Tenant[]): SharedGroup[] {
  return tenants
    .filter((t) => t.plan === "shared")
    .map((t) => ({ slug: t.slug, displayName: t.name, quotaGB: storagePoolGB(t), active: t.state === "active", crossSharing: t.crossOrganisationSharing }))
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

export class SharedInstance extends pulumi.ComponentResource {
  public readonly urls: Record<string, string>;
  public readonly groups: SharedGroup[];

  constructor(name: string, args: SharedInstanceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:shared:SharedInstance", name, {}, opts);
    const { estate, identity } = args;
    const si = estate.sharedServices.sharedInstance;
    const members = estate.tenants.filter((t) => t.plan === "shared");
    this.groups = sharedGroups(estate.tenants);
    const users = members.reduce((n, t) => n + t.users, 0);
    const poolGB = this.groups.reduce((n, g) => n + g.quotaGB, 0);

    for (const t of members) {
      organization(
        `${t.slug}-organization`,
        { realm: identity.estateRealm, slug: t.slug, displayName: t.name, domain: t.domain, provider: identity.provider, dependsOn: [identity.estateRealmResource] },
        this,
      );
    }

    const bundle = deployBundle(this, {
      slug: si.slug,
      domain: si.domain,
      plan: "shared",
      state: "active",
      // Its members' accounts and the sum of their pools (the namespace annotations and the
      // buckets' quota agree); an estate without shared organisations keeps a minimal instance.
      users: users > 0 ? users : estate.offer.smallOrgThreshold,
      quotaPerUserGB: estate.offer.quotaPerUserGB,
      poolGB: users > 0 ? poolGB : estate.offer.quotaPerUserGB * estate.offer.smallOrgThreshold,
      apps: si.apps,
      groups: this.groups,
      env: tenantEnvironment(estate),
      // ~30 organisations depend on it: its databases and stateless workloads run twice, on stable pins.
      channel: "stable",
      ha: true,
      nextcloud: si.nextcloud,
      storage: args.storage,
      identity,
      realm: { name: identity.estateRealm, resource: identity.estateRealmResource, clientScopes: identity.clientScopes },
    });
    // Each organisation's group `org-<slug>`: its members, its Nextcloud groups (its own, plus the
    // open-sharing group when it allows cross-organisation sharing) and, while it is active, the
    // access roles of the shared instance and the estate's services (components/shared/membership.ts).
    for (const t of members) {
      const active = t.state === "active";
      organisationGroup(
        `${t.slug}-group`,
        {
          realm: identity.estateRealm,
          slug: t.slug,
          attributes: { "liiibre-quota-gb": String(storagePoolGB(t)) },
          nextcloudGroups: [orgGroupName(t.slug), ...(active && t.crossOrganisationSharing ? [OPEN_SHARING_GROUP] : [])],
          roleIds: active ? [bundle.members.role.id, ...(identity.estateServiceRoleIds ?? [])] : [],
          provider: identity.provider,
          dependsOn: [identity.estateRealmResource],
        },
        this,
      );
      // Its admins: group admins of `org-<slug>` on the shared Nextcloud (components/ops/org-admins.ts).
      organisationAdminsGroup(
        `${t.slug}-admins-group`,
        { realm: identity.estateRealm, slug: t.slug, provider: identity.provider, dependsOn: [identity.estateRealmResource] },
        this,
      );
    }
    this.urls = bundle.urls;
    this.registerOutputs({ urls: this.urls });
  }
}
