/**
 * Login only for members: how Keycloak admits to a bundle's apps only the members of the
 * organisation(s) it serves, and the names that carry membership to the apps.
 *
 * Enforcement in Keycloak (the documented "explicitly deny access in conditional flows" pattern,
 * Keycloak Server Administration Guide, *Conditions in conditional flows*: a CONDITIONAL subflow
 * holding "Condition - user role" with *negate* and "Deny access"):
 * - each bundle (a dedicated tenant, the shared instance, the shared Jitsi) has a realm role
 *   `liiibre-access-<bundle>`;
 * - each organisation has a group `org-<slug>` (its members), granted the access role of the
 *   bundles it may use while it is `active` (a `suspended` or `decommissioned` organisation
 *   loses the grant: login closed, accounts and data kept);
 * - every OIDC client of the bundle binds a browser flow `liiibre-members-<bundle>` (cookie or
 *   password + conditional OTP, then the deny step for users without the role). The condition
 *   sees roles inherited from groups.
 *
 * Defence in depth in the apps: each client puts the user's realm roles in the `liiibre_access`
 * claim (Synapse `attribute_requirements`, HedgeDoc `CMD_OAUTH2_ACCESS_ROLE`), and Nextcloud's
 * groups come from the `nextcloud_groups` claim, aggregated from an attribute of the
 * organisation groups that the estate sets (never from Keycloak group names, so no group called
 * `admin` anywhere in Keycloak can become Nextcloud's `admin`); user_oidc provisions only the
 * whitelisted `org-…` groups and refuses a login without one.
 */
import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";

/** Group namespace: an organisation's group is `org-<slug>` (slugs never start with `org-`). */
export const ORG_GROUP_PREFIX = "org-";
export const orgGroupName = (slug: string): string => `${ORG_GROUP_PREFIX}${slug}`;
/** Realm role admitting to a bundle's clients. */
export const accessRoleName = (bundle: string): string => `liiibre-access-${bundle}`;
/** Browser flow of a bundle's clients. */
export const membersFlowAlias = (bundle: string): string => `liiibre-members-${bundle}`;
/** Claim holding the user's realm roles (apps check their bundle's access role in it). */
export const ACCESS_CLAIM = "liiibre_access";
/** Group attribute listing the Nextcloud groups of the group's members (multi-valued, `##`). */
export const NEXTCLOUD_GROUPS_ATTRIBUTE = "liiibre-nextcloud-groups";
/** Claim the Nextcloud client gets from that attribute (aggregated over the user's groups). */
export const NEXTCLOUD_GROUPS_CLAIM = "nextcloud_groups";
/**
 * Nextcloud group of the shared instance's organisations that allow cross-organisation sharing
 * (`tenants[].crossOrganisationSharing`): they share this group, so they may find and share with
 * each other; the others only within their own group (`shareapi_only_share_with_group_members`).
 */
export const OPEN_SHARING_GROUP = "liiibre-open-sharing";

/** One step of the flow, as data (tested without mocks). */
export interface FlowStep {
  /** Alias of the subflow it belongs to (the top flow's alias for top-level steps). */
  parent: string;
  /** An authenticator execution, or a subflow (`subflow` set). */
  authenticator?: string;
  subflow?: string;
  requirement: "REQUIRED" | "ALTERNATIVE" | "CONDITIONAL";
  priority: number;
  config?: Record<string, string>;
}

/**
 * The browser flow of a bundle: log in (SSO cookie, or username/password with OTP when the user
 * configured one), then deny unless the user has `role` (directly or through a group).
 */
export function membersOnlyFlow(bundle: string, role: string): { alias: string; steps: FlowStep[] } {
  const top = membersFlowAlias(bundle);
  const login = `${top}-login`;
  const forms = `${top}-forms`;
  const otp = `${top}-otp`;
  const gate = `${top}-members-only`;
  return {
    alias: top,
    steps: [
      { parent: top, subflow: login, requirement: "REQUIRED", priority: 10 },
      { parent: login, authenticator: "auth-cookie", requirement: "ALTERNATIVE", priority: 10 },
      { parent: login, subflow: forms, requirement: "ALTERNATIVE", priority: 20 },
      { parent: forms, authenticator: "auth-username-password-form", requirement: "REQUIRED", priority: 10 },
      { parent: forms, subflow: otp, requirement: "CONDITIONAL", priority: 20 },
      { parent: otp, authenticator: "conditional-user-configured", requirement: "REQUIRED", priority: 10 },
      { parent: otp, authenticator: "auth-otp-form", requirement: "REQUIRED", priority: 20 },
      { parent: top, subflow: gate, requirement: "CONDITIONAL", priority: 20 },
      { parent: gate, authenticator: "conditional-user-role", requirement: "REQUIRED", priority: 10, config: { condUserRole: role, negate: "true" } },
      // No `denyErrorMessage`: Keycloak then shows its `accessDenied` message (DenyAccessAuthenticator),
      // translated by the login theme into the user's language ("Accès refusé"); a configured text
      // is shown as written, in one language. One ExecutionConfig fewer per bundle, too.
      { parent: gate, authenticator: "deny-access-authenticator", requirement: "REQUIRED", priority: 20 },
    ],
  };
}

export interface MembersOnlyArgs {
  /** Realm name (= id for @pulumi/keycloak). */
  realm: pulumi.Input<string>;
  /** Bundle slug (a tenant's, the shared instance's, or `jitsi`). */
  bundle: string;
  provider: keycloak.Provider;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** A bundle's access role and its members-only browser flow. */
export class MembersOnly extends pulumi.ComponentResource {
  public readonly role: keycloak.Role;
  public readonly roleName: string;
  /** Id of the browser flow every client of the bundle binds (`authenticationFlowBindingOverrides.browserId`). */
  public readonly flowId: pulumi.Output<string>;

  constructor(name: string, args: MembersOnlyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:shared:MembersOnly", name, {}, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    this.roleName = accessRoleName(args.bundle);
    this.role = new keycloak.Role(`${name}-role`, { realmId: args.realm, name: this.roleName, description: `May log into the apps of ${args.bundle}` }, o);
    const spec = membersOnlyFlow(args.bundle, this.roleName);
    const flow = new keycloak.authentication.Flow(`${name}-flow`, { realmId: args.realm, alias: spec.alias, providerId: "basic-flow", description: `Login to ${args.bundle}: members only` }, o);
    const made = new Map<string, pulumi.Resource>([[spec.alias, flow]]);
    spec.steps.forEach((s, i) => {
      const after = made.get(s.parent)!;
      const child = { ...o, dependsOn: [after] };
      const id = `${name}-${String(i + 1).padStart(2, "0")}`;
      if (s.subflow) {
        const sub = new keycloak.authentication.Subflow(id, { realmId: args.realm, parentFlowAlias: s.parent, alias: s.subflow, providerId: "basic-flow", requirement: s.requirement, priority: s.priority }, child);
        made.set(s.subflow, sub);
      } else {
        const ex = new keycloak.authentication.Execution(id, { realmId: args.realm, parentFlowAlias: s.parent, authenticator: s.authenticator!, requirement: s.requirement, priority: s.priority }, child);
        if (s.config) new keycloak.authentication.ExecutionConfig(`${id}-config`, { realmId: args.realm, executionId: ex.id, alias: `${spec.alias}-${s.authenticator}`, config: s.config }, { ...o, dependsOn: [ex] });
      }
    });
    this.flowId = flow.id;
    this.registerOutputs({ role: this.roleName, flow: spec.alias });
  }
}

export interface OrganisationGroupArgs {
  realm: pulumi.Input<string>;
  slug: string;
  /** Nextcloud groups its members get (the `nextcloud_groups` claim). Default `[org-<slug>]`. */
  nextcloudGroups?: string[];
  /** Realm role ids granted to the members (empty: no login anywhere, the group and its members kept). */
  roleIds: pulumi.Input<string>[];
  /** Extra group attributes (e.g. the shared instance's quota). */
  attributes?: Record<string, string>;
  provider: keycloak.Provider;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The organisation's group `org-<slug>` (retained: memberships live in it) and the grant of the
 * access roles. `name` is the resource name (callers keep their existing URNs).
 */
export function organisationGroup(name: string, a: OrganisationGroupArgs, parent: pulumi.Resource): keycloak.Group {
  const group = new keycloak.Group(
    name,
    {
      realmId: a.realm,
      name: orgGroupName(a.slug),
      attributes: { ...(a.attributes ?? {}), [NEXTCLOUD_GROUPS_ATTRIBUTE]: (a.nextcloudGroups ?? [orgGroupName(a.slug)]).join("##") },
    },
    { parent, provider: a.provider, retainOnDelete: true, dependsOn: a.dependsOn },
  );
  if (a.roleIds.length) {
    new keycloak.GroupRoles(`${name}-access`, { realmId: a.realm, groupId: group.id, roleIds: a.roleIds, exhaustive: false }, { parent, provider: a.provider });
  }
  return group;
}

/** The Nextcloud whitelist regex (user_oidc `--group-whitelist-regex`) for a set of group ids. */
export const groupWhitelistRegex = (groups: string[]): string => `/^(${[...groups].sort().map((g) => g.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$/`;

/** Client scope carrying membership to the apps: `groups` (names) and `liiibre_access` (realm roles). */
export const MEMBERSHIP_SCOPE = "liiibre-membership";
/** Client scope carrying the `nextcloud_groups` claim (the Nextcloud clients only). */
export const NEXTCLOUD_GROUPS_SCOPE = "liiibre-nextcloud-groups";
/**
 * Keycloak's own default client scopes of an OpenID Connect client (Keycloak 26: `acr`, `basic`,
 * `email`, `profile`, `roles`, `web-origins`), kept beside ours: a client's default scopes are
 * set as a whole (`ClientDefaultScopes` is authoritative).
 */
export const KEYCLOAK_DEFAULT_SCOPES = ["acr", "basic", "email", "profile", "roles", "web-origins"] as const;

/** The default scopes of a bundle's client. */
export const clientDefaultScopes = (nextcloudGroups: boolean): string[] => [...KEYCLOAK_DEFAULT_SCOPES, MEMBERSHIP_SCOPE, ...(nextcloudGroups ? [NEXTCLOUD_GROUPS_SCOPE] : [])];

/**
 * The realm's default client scopes (`RealmDefaultClientScopes`, authoritative over the realm's
 * list): Keycloak's own OpenID Connect defaults, SAML's `role_list` (Keycloak creates it with
 * every realm), and both membership scopes. A name the realm lacks fails the update (the
 * provider resolves names among the realm's client scopes), so Keycloak 26's SAML
 * `saml_organization` is left out — a realm created before 26 has none; where it exists it
 * stops being a default, which only matters to SAML clients (the estate has none). Keycloak links a realm's default scopes of a protocol to every client of
 * that protocol when the client is created (Server Administration Guide, *Realm default client
 * scopes*; keycloak `AbstractLoginProtocolFactory.addDefaultClientScopes`), and the provider
 * creates clients without a scope list, so a client created after this resource carries the
 * membership claims without a `ClientDefaultScopes` of its own (the `lean` layout's clients:
 * docs/scaling.md#leaner-tenants-keycloak). The Nextcloud scope is then on every new client:
 * its claim repeats group names the `groups` claim already carries.
 */
export const REALM_DEFAULT_SCOPES = [...KEYCLOAK_DEFAULT_SCOPES, "role_list", MEMBERSHIP_SCOPE, NEXTCLOUD_GROUPS_SCOPE] as const;

export interface MembershipScopesArgs {
  /** Realm name (= id for @pulumi/keycloak). */
  realm: pulumi.Input<string>;
  /**
   * Also make both scopes realm default client scopes (REALM_DEFAULT_SCOPES), so that clients
   * created afterwards list them with no `ClientDefaultScopes` of their own. Default false.
   */
  realmDefaults?: boolean;
  provider: keycloak.Provider;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The realm's two client scopes and their mappers, once per realm (the estate realm, or a tenant's
 * own): what each client of each bundle had as its own protocol mappers. A default client scope's
 * mappers apply to every token of the clients listing it (`ClientDefaultScopes`), like the
 * client's own mappers; the realm-role mapper still sees only the roles in the client's scope
 * (every realm role: the clients keep `fullScopeAllowed`). Membership is still enforced by each
 * bundle's own flow and role (`MembersOnly`): the claims are the apps' second check.
 */
export class MembershipScopes extends pulumi.ComponentResource {
  /** What a client listing the scopes waits for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: MembershipScopesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:shared:MembershipScopes", name, {}, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    const scope = (id: string, scopeName: string, description: string) =>
      new keycloak.openid.ClientScope(`${name}-${id}`, { realmId: args.realm, name: scopeName, description, includeInTokenScope: false }, o);
    const membership = scope("membership", MEMBERSHIP_SCOPE, "Organisation groups and access roles (liiibre)");
    const nextcloud = scope("nextcloud-groups", NEXTCLOUD_GROUPS_SCOPE, "Nextcloud groups set by the estate (liiibre)");
    const inScope = (s: keycloak.openid.ClientScope) => ({ ...o, dependsOn: [s] });
    const mappers = [
      new keycloak.openid.GroupMembershipProtocolMapper(
        `${name}-groups`,
        { realmId: args.realm, clientScopeId: membership.id, name: "groups", claimName: "groups", fullPath: false, addToIdToken: true, addToAccessToken: true, addToUserinfo: true },
        inScope(membership),
      ),
      // The user's realm roles (the apps check their bundle's access role in it: defence in depth).
      new keycloak.openid.UserRealmRoleProtocolMapper(
        `${name}-access`,
        { realmId: args.realm, clientScopeId: membership.id, name: ACCESS_CLAIM, claimName: ACCESS_CLAIM, multivalued: true, addToIdToken: true, addToAccessToken: true, addToUserinfo: true },
        inScope(membership),
      ),
      new keycloak.openid.UserAttributeProtocolMapper(
        `${name}-nextcloud-groups-mapper`,
        {
          realmId: args.realm,
          clientScopeId: nextcloud.id,
          name: NEXTCLOUD_GROUPS_CLAIM,
          claimName: NEXTCLOUD_GROUPS_CLAIM,
          userAttribute: NEXTCLOUD_GROUPS_ATTRIBUTE,
          multivalued: true,
          aggregateAttributes: true,
          addToIdToken: true,
          addToAccessToken: true,
          addToUserinfo: true,
        },
        inScope(nextcloud),
      ),
    ];
    // New clients of the realm get both scopes (and their mappers) from the realm's defaults.
    const defaults = args.realmDefaults
      ? [new keycloak.RealmDefaultClientScopes(`${name}-realm-defaults`, { realmId: args.realm, defaultScopes: [...REALM_DEFAULT_SCOPES] }, { ...o, dependsOn: [membership, nextcloud] })]
      : [];
    this.ready = [membership, nextcloud, ...mappers, ...defaults];
    this.registerOutputs({ scopes: [MEMBERSHIP_SCOPE, NEXTCLOUD_GROUPS_SCOPE], realmDefaults: args.realmDefaults ?? false });
  }
}
