/**
 * Login only for members (issue 9, Why bullets 1 and 4): every OIDC client of an organisation
 * binds a browser flow that denies users without the bundle's access role, the role is granted
 * only to the organisation's own group `org-<slug>` while it is active, and the apps check the
 * same role (Synapse, HedgeDoc) or group (Nextcloud) again. The shared instance's organisations
 * cannot see or share with each other's members; a suspended one cannot log in.
 *
 * Expected values are the Keycloak semantics of docs: "Condition - user role" with negate
 * true followed by "Deny access" inside a CONDITIONAL subflow denies users lacking the role.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../scripts/harness";
import { T, evalBundles, nextcloudSettings, objectOf, ofType, release, values, yaml } from "./bundle-fixtures";
import { accessRoleName, groupWhitelistRegex, membersOnlyFlow } from "../components/shared/membership";
import { configProblems } from "../components/estate";
import { config } from "./bundle-fixtures";

const CLIENT = "keycloak:openid/client:Client";
const FLOW = "keycloak:authentication/flow:Flow";
const EXECUTION = "keycloak:authentication/execution:Execution";
const EXECUTION_CONFIG = "keycloak:authentication/executionConfig:ExecutionConfig";
const SUBFLOW = "keycloak:authentication/subflow:Subflow";
const GROUP = "keycloak:index/group:Group";
const GROUP_ROLES = "keycloak:index/groupRoles:GroupRoles";
const ROLE = "keycloak:index/role:Role";
const REALM_ROLE_MAPPER = "keycloak:openid/userRealmRoleProtocolMapper:UserRealmRoleProtocolMapper";
const CLIENT_DEFAULT_SCOPES = "keycloak:openid/clientDefaultScopes:ClientDefaultScopes";
const CLIENT_SCOPE = "keycloak:openid/clientScope:ClientScope";
const REALM_DEFAULT_SCOPES = "keycloak:index/realmDefaultClientScopes:RealmDefaultClientScopes";

const suspended = { slug: "club-sommeil", name: "Club en sommeil", domain: "sommeil.example.org", plan: "shared", users: 3, state: "suspended" };
const open1 = { ...T.small1, crossOrganisationSharing: true };

let ev: Evaluation;
beforeAll(async () => {
  ev = await evalBundles([T.acme, T.realm, open1, T.small2, suspended, { ...T.exempt, state: "suspended" }]);
}, 180_000);

const byName = (type: string, name: string): RecordedResource => {
  const r = ofType(ev.resources, type).find((x) => x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};
const idOf = (r: RecordedResource) => `${r.name}-id`; // the harness's mock ids

/** The role a flow requires: follow its subflows down to the negated role condition and its deny step. */
function gateOf(flow: RecordedResource): { role: string; negate: string; denies: boolean } | undefined {
  const aliases = new Set([String(flow.inputs.alias)]);
  const subs = ofType(ev.resources, SUBFLOW);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of subs) if (aliases.has(String(s.inputs.parentFlowAlias)) && !aliases.has(String(s.inputs.alias))) (aliases.add(String(s.inputs.alias)), (grew = true));
  }
  const execs = ofType(ev.resources, EXECUTION).filter((e) => aliases.has(String(e.inputs.parentFlowAlias)));
  const cond = execs.find((e) => e.inputs.authenticator === "conditional-user-role");
  if (!cond) return undefined;
  const cfg = ofType(ev.resources, EXECUTION_CONFIG).find((c) => c.inputs.executionId === idOf(cond));
  const gate = subs.find((s) => s.inputs.alias === cond.inputs.parentFlowAlias)!;
  const denies = execs.some((e) => e.inputs.authenticator === "deny-access-authenticator" && e.inputs.parentFlowAlias === cond.inputs.parentFlowAlias && e.inputs.requirement === "REQUIRED");
  expect(gate.inputs.requirement).toBe("CONDITIONAL");
  return { role: String((cfg?.inputs.config as any)?.condUserRole), negate: String((cfg?.inputs.config as any)?.negate), denies };
}

describe("every client of an organisation admits only its members (Keycloak)", () => {
  it("each OIDC client binds a flow that denies users without its bundle's access role", () => {
    const clients = ofType(ev.resources, CLIENT);
    expect(clients.length).toBeGreaterThanOrEqual(8);
    for (const c of clients) {
      const clientId = String(c.inputs.clientId);
      const bundle = clientId === "jitsi" ? "jitsi" : ["acme", "senat-petitions", "mutualise", "studio-son"].find((b) => clientId.startsWith(`${b}-`))!;
      expect(bundle, clientId).toBeDefined();
      const browserId = (c.inputs.authenticationFlowBindingOverrides as any)?.browserId;
      const flow = ofType(ev.resources, FLOW).find((f) => idOf(f) === browserId);
      expect(flow, `${clientId} binds a browser flow`).toBeDefined();
      expect(flow!.inputs.realmId).toBe(c.inputs.realmId);
      expect(gateOf(flow!), clientId).toEqual({ role: accessRoleName(bundle), negate: "true", denies: true });
      // The role exists in the client's realm.
      const role = ofType(ev.resources, ROLE).find((r) => r.inputs.name === accessRoleName(bundle) && r.inputs.realmId === c.inputs.realmId);
      expect(role, `${clientId}: role ${accessRoleName(bundle)}`).toBeDefined();
      // The same roles reach the app (defence in depth): the client lists its realm's membership
      // scope as a default scope, whose realm-role mapper fills the claim — its own
      // ClientDefaultScopes (the shared instance, Jitsi, per-app organisations), or, for the lean
      // layout's clients (every dedicated fixture here), the realm's default client scopes,
      // which Keycloak links to a client at its creation: the client waits for them.
      const own = ofType(ev.resources, CLIENT_DEFAULT_SCOPES).find((s) => s.inputs.clientId === idOf(c));
      const realmDefaults = ofType(ev.resources, REALM_DEFAULT_SCOPES).find((s) => s.inputs.realmId === c.inputs.realmId);
      const lean = bundle !== "jitsi" && bundle !== "mutualise";
      expect(!!own, `${clientId}: its own default scopes`).toBe(!lean);
      if (lean) expect(c.dependsOn, `${clientId} waits for its realm's default scopes`).toContain(realmDefaults!.urn);
      const listed = own ?? realmDefaults;
      expect(listed, `${clientId}: default scopes`).toBeDefined();
      expect(listed!.inputs.realmId).toBe(c.inputs.realmId);
      const scope = ofType(ev.resources, CLIENT_SCOPE).find((s) => s.inputs.realmId === c.inputs.realmId && (listed!.inputs.defaultScopes as string[]).includes(String(s.inputs.name)) && s.inputs.name === "liiibre-membership");
      expect(scope, `${clientId}: the membership scope in its realm`).toBeDefined();
      const mapper = ofType(ev.resources, REALM_ROLE_MAPPER).find((m) => m.inputs.clientScopeId === idOf(scope!));
      expect(mapper?.inputs).toMatchObject({ claimName: "liiibre_access", multivalued: true, addToUserinfo: true });
      // Keycloak's own default scopes stay (the list is set as a whole).
      expect(listed!.inputs.defaultScopes).toEqual(expect.arrayContaining(["profile", "email", "roles", "web-origins", "basic", "acr"]));
      // Only Nextcloud's clients get the Nextcloud groups from their own list (a realm's defaults
      // give every new client both scopes: the Nextcloud claim repeats names `groups` carries).
      if (own) expect((listed!.inputs.defaultScopes as string[]).includes("liiibre-nextcloud-groups"), clientId).toBe(clientId.endsWith("-nextcloud"));
      else expect(listed!.inputs.defaultScopes, clientId).toEqual(expect.arrayContaining(["liiibre-membership", "liiibre-nextcloud-groups"]));
    }
  });

  it("the flow logs the user in first (cookie or password + conditional OTP), then gates", () => {
    const spec = membersOnlyFlow("x", "r");
    const top = spec.steps.filter((s) => s.parent === spec.alias);
    expect(top.map((s) => s.requirement)).toEqual(["REQUIRED", "CONDITIONAL"]);
    expect(spec.steps.map((s) => s.authenticator).filter(Boolean)).toEqual([
      "auth-cookie", "auth-username-password-form", "conditional-user-configured", "auth-otp-form", "conditional-user-role", "deny-access-authenticator",
    ]);
  });

  it("an organisation's role is granted to its own group only, while it is active", () => {
    const grants = ofType(ev.resources, GROUP_ROLES);
    const holders = (role: RecordedResource) => grants.filter((g) => (g.inputs.roleIds as string[]).includes(idOf(role))).map((g) => byName(GROUP, String(g.name).replace(/-access$/, "")).inputs.name).sort();
    expect(holders(byName(ROLE, "acme-members-role"))).toEqual(["org-acme"]);
    expect(holders(byName(ROLE, "senat-petitions-members-role"))).toEqual(["org-senat-petitions"]);
    // The shared instance: its active organisations; the suspended one keeps its group, not the grant.
    expect(holders(byName(ROLE, "mutualise-members-role"))).toEqual(["org-club-photo", "org-petite-asso"]);
    expect(byName(GROUP, "club-sommeil-group").retainOnDelete).toBe(true);
    // A suspended dedicated tenant: its group and clients stay, nobody holds its role.
    expect(holders(byName(ROLE, "studio-son-members-role"))).toEqual([]);
    expect(byName(GROUP, "studio-son-group").inputs.name).toBe("org-studio-son");
    // The shared Jitsi: every active organisation of the estate realm (not the dedicated realm's).
    expect(holders(byName(ROLE, "jitsi-members-role"))).toEqual(["org-acme", "org-club-photo", "org-petite-asso"]);
    // A dedicated realm's accounts join its organisation's group by default.
    expect(byName("keycloak:index/defaultGroups:DefaultGroups", "senat-petitions-default-groups").inputs.groupIds).toEqual([idOf(byName(GROUP, "senat-petitions-group"))]);
  });
});

describe("the apps check membership again (defence in depth)", () => {
  it("Synapse requires the access role in the claim", () => {
    const cfg = yaml(values(release(ev.resources, "acme-matrix-release")).synapse.additional["10-liiibre.yaml"].config);
    expect(cfg.oidc_providers[0].attribute_requirements).toEqual([{ attribute: "liiibre_access", value: "liiibre-access-acme" }]);
  });

  it("HedgeDoc requires the access role (CMD_OAUTH2_ROLES_CLAIM + CMD_OAUTH2_ACCESS_ROLE)", () => {
    const dep = objectOf(ev.resources, "kubernetes:apps/v1:Deployment", "acme", "hedgedoc")!;
    const env = Object.fromEntries(((dep.inputs as any).spec.template.spec.containers[0].env as any[]).map((e) => [e.name, e.value]));
    expect(env.CMD_OAUTH2_ROLES_CLAIM).toBe("liiibre_access");
    expect(env.CMD_OAUTH2_ACCESS_ROLE).toBe("liiibre-access-acme");
  });

  it("Nextcloud provisions only the organisation groups, from the estate-set claim, and refuses a login without one", () => {
    const hook = (slug: string) => values(release(ev.resources, `${slug}-nextcloud-release`)).nextcloud.hooks["before-starting"] as string;
    const whitelist = (slug: string) => new RegExp(/--group-whitelist-regex='\/(.*)\/'/.exec(hook(slug))![1]);
    for (const slug of ["acme", "mutualise"]) {
      expect(hook(slug)).toContain("--mapping-groups=nextcloud_groups");
      expect(hook(slug)).toContain("--group-restrict-login-to-whitelist=1");
      // No Keycloak group called admin (or anything else) becomes a Nextcloud group.
      for (const g of ["admin", "users", "org-acme-admin", "xorg-acme"]) expect(whitelist(slug).test(g), `${slug}: ${g}`).toBe(false);
    }
    expect(whitelist("acme").test("org-acme")).toBe(true);
    expect(whitelist("acme").test("org-petite-asso")).toBe(false);
    // Shared: the active organisations (and the open-sharing group one of them allows), not the suspended one.
    for (const g of ["org-petite-asso", "org-club-photo", "liiibre-open-sharing"]) expect(whitelist("mutualise").test(g), g).toBe(true);
    expect(whitelist("mutualise").test("org-club-sommeil")).toBe(false);
    expect(groupWhitelistRegex(["a.b"])).toBe("/^(a\\.b)$/");
  });
});

describe("the shared instance keeps its organisations apart", () => {
  it("sharing and user search are limited to one's own groups", () => {
    const hook = nextcloudSettings(ev.resources, "mutualise");
    expect(hook).toContain("occ config:app:set core shareapi_only_share_with_group_members --value yes");
    expect(hook).toContain("occ config:app:set core shareapi_restrict_user_enumeration_to_group --value yes");
    expect(hook).toContain("occ config:app:set core shareapi_restrict_user_enumeration_full_match --value no");
  });

  it("only the organisations that allow it share the open-sharing group", () => {
    const attr = (slug: string) => String((byName(GROUP, `${slug}-group`).inputs.attributes as any)["liiibre-nextcloud-groups"]).split("##");
    expect(attr("petite-asso")).toEqual(["org-petite-asso", "liiibre-open-sharing"]);
    expect(attr("club-photo")).toEqual(["org-club-photo"]);
    expect(attr("club-sommeil")).toEqual(["org-club-sommeil"]);
  });

  it("crossOrganisationSharing is for the shared instance only, and `admin` is no slug", () => {
    expect(configProblems(config([{ ...T.acme, crossOrganisationSharing: true }]))).toEqual([
      'liiibre:tenants[0].crossOrganisationSharing: expected false for plan "dedicated" (only the shared instance\'s organisations share an instance), got true',
    ]);
    expect(configProblems(config([{ ...T.small1, slug: "admin" }]))[0]).toMatch(/^liiibre:tenants\[0\]\.slug: expected a slug not reserved by the platform .*got "admin"$/);
  });
});
