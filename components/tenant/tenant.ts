/**
 * A dedicated organisation's bundle (`plan: dedicated`): its namespace, quotas, network
 * isolation, storage, databases, Keycloak identity and apps (components/tenant/bundle.ts),
 * plus the organisation's URLs and DNS guide.
 *
 * Keyed by slug: every URN derives from `tenant.slug`, never from the tenant's position in
 * the config, so adding, removing or reordering tenants leaves the others untouched.
 * States: `active`; `suspended` (apps scaled to zero, Synapse excepted, see docs/apps.md;
 * data untouched); `decommissioned` (no app workload; namespace, Secrets, PVCs, databases,
 * buckets and backups kept). Removing a tenant from the config fails on its protected
 * resources instead of deleting data (docs/restore.md describes the deliberate procedure).
 */
import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import type { Tenant as TenantConfig } from "../config";
import type { TenantEnvironment } from "./environment";
import type { StorageContext } from "../storage/contracts";
import { organization, type IdentityContext } from "../shared/identity";
import { MembershipScopes, organisationGroup } from "../shared/membership";
import { storagePoolGB } from "../units";
import { keycloakSmtpServer, mailPassword } from "../ops/mail";
import { organisationAdminsGroup } from "../ops/org-admins";
import { deployBundle } from "./bundle";
import { dnsRecords, matrixDelegation, type DnsRecord, type IngressTarget } from "./dns";

export interface TenantArgs {
  /** The organisation (must have `plan: dedicated`). */
  tenant: TenantConfig;
  /** What the bundle needs of the estate (tenantEnvironment(estate), components/tenant/environment.ts). */
  env: TenantEnvironment;
  /** The storage layer (StoragePlatform.context); its `k8s` provider deploys everything in-cluster. */
  storage: StorageContext;
  /** The estate's Keycloak (SharedServices.identity). */
  identity: IdentityContext;
  /** Public addresses of the ingress nodes (the DNS records point there). */
  ingress: pulumi.Input<IngressTarget>;
}

export interface TenantOutputs {
  /** App → public URL (the shared Jitsi unless the tenant has a dedicated one). */
  urls: Record<string, string>;
  /** Records the organisation creates in its zone. */
  dnsRecords: pulumi.Output<DnsRecord[]>;
  /** Matrix client/server delegation documents (URL → JSON), when the tenant has Matrix. */
  matrixWellKnown: Record<string, string>;
}

export class Tenant extends pulumi.ComponentResource implements TenantOutputs {
  public readonly slug: string;
  public readonly urls: Record<string, string>;
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  public readonly matrixWellKnown: Record<string, string>;

  constructor(name: string, args: TenantArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:tenant:Tenant", name, {}, opts);
    const t = args.tenant;
    if (t.plan !== "dedicated") throw new Error(`Tenant ${t.slug}: plan "${t.plan}" organisations live on the shared instance (SharedServices), not in a Tenant`);
    if (name !== t.slug) throw new Error(`Tenant ${t.slug}: the component name must be the slug (URNs derive from it), got "${name}"`);
    const id = args.identity;
    this.slug = t.slug;

    // Identity: an organization of the estate realm, or the tenant's own realm (flag).
    let realm: { name: string; resource?: pulumi.Resource; clientScopes?: pulumi.Resource[] };
    // The lean layout's Keycloak shape (docs/scaling.md#leaner-tenants-keycloak): clients take the
    // membership scopes from the realm's defaults, and no Keycloak Organization (membership is
    // the group `org-<slug>`; nothing in the estate reads the Organization).
    const lean = t.dataLayout === "lean";
    const relay = args.env.mail;
    if (t.dedicatedRealm) {
      const r = new keycloak.Realm(
        `${t.slug}-realm`,
        {
          realm: t.slug,
          enabled: true,
          displayName: t.name,
          loginWithEmailAllowed: true,
          duplicateEmailsAllowed: false,
          sslRequired: "external",
          // Its password resets go through the estate's relay (liiibre:mail) too.
          ...(relay ? { smtpServer: keycloakSmtpServer(relay, mailPassword()) } : {}),
        },
        { parent: this, provider: id.provider, protect: true, retainOnDelete: true },
      );
      // Its own realm needs its own membership scopes (the estate realm's are in that realm).
      const scopes = new MembershipScopes(`${t.slug}-membership-scopes`, { realm: t.slug, realmDefaults: lean, provider: id.provider, dependsOn: [r] }, { parent: this });
      realm = { name: t.slug, resource: r, clientScopes: scopes.ready };
    } else if (lean) {
      realm = { name: id.estateRealm, resource: id.estateRealmResource, clientScopes: id.clientScopes };
    } else {
      const org = organization(
        `${t.slug}-organization`,
        { realm: id.estateRealm, slug: t.slug, displayName: t.name, domain: t.domain, provider: id.provider, dependsOn: id.estateRealmResource ? [id.estateRealmResource] : [] },
        this,
      );
      realm = { name: id.estateRealm, resource: org, clientScopes: id.clientScopes };
    }

    const bundle = deployBundle(this, {
      slug: t.slug,
      domain: t.domain,
      plan: "dedicated",
      state: t.state,
      users: t.users,
      quotaPerUserGB: t.quotaPerUserGB,
      poolGB: storagePoolGB(t),
      exemption: t.exemption?.reason,
      apps: t.apps,
      env: args.env,
      channel: t.channel,
      ha: t.ha,
      nextcloud: t.nextcloud,
      dataLayout: t.dataLayout,
      boundSecrets: t.boundSecrets,
      kubernetesObjects: t.kubernetesObjects,
      buckets: t.buckets,
      storage: args.storage,
      identity: id,
      realm,
    });
    // The organisation's group `org-<slug>` (in its own realm, where every account joins it by
    // default; or in the estate realm beside its Organization) and, while active, the access role
    // of its bundle (and of the estate's services): components/shared/membership.ts.
    const active = t.state === "active";
    const group = organisationGroup(
      `${t.slug}-group`,
      {
        realm: realm.name,
        slug: t.slug,
        roleIds: active ? [bundle.members.role.id, ...(t.dedicatedRealm ? [] : (id.estateServiceRoleIds ?? []))] : [],
        provider: id.provider,
        dependsOn: realm.resource ? [realm.resource] : [],
      },
      this,
    );
    // Its admins (components/ops/org-admins.ts), also members of org-<slug>: admins of its Nextcloud.
    organisationAdminsGroup(
      `${t.slug}-admins-group`,
      { realm: realm.name, slug: t.slug, provider: id.provider, dependsOn: realm.resource ? [realm.resource] : [] },
      this,
    );
    if (t.dedicatedRealm) new keycloak.DefaultGroups(`${t.slug}-default-groups`, { realmId: realm.name, groupIds: [group.id] }, { parent: this, provider: id.provider });
    this.urls = { jitsi: `https://${args.env.jitsi.sharedHost}`, ...bundle.urls };
    this.dnsRecords = pulumi.output(args.ingress).apply((target) => dnsRecords(t.apps, t.domain, target));
    this.matrixWellKnown = t.apps.includes("matrix") ? matrixDelegation(t.domain) : {};
    this.registerOutputs({ urls: this.urls, dnsRecords: this.dnsRecords });
  }
}
