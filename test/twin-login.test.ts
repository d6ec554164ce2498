/**
 * The twin's login check (`keycloak-members-only`, scripts/twin/checks/login.ts) on the dev
 * plan with organisations of every Keycloak shape: the lean layout's (membership scopes from
 * the realm's defaults, no Organization), a per-app one (its own ClientDefaultScopes and
 * Organization), a lean one in its own realm, a suspended one, shared ones. It holds on the
 * program's real output, and each way Keycloak would let a non-member in — read from Keycloak's
 * sources, named in the check — makes it fail on a copy of that output.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseEstate } from "../components/estate";
import { REALM_DEFAULT_SCOPES } from "../components/shared/membership";
import { keycloakLayoutCost, OIDC_APPS } from "../components/layers/cost";
import { MODULES } from "../components/apps";
import { APP_NAMES } from "../components/config/apps";
import type { Plan, PlanResource } from "../scripts/plan-model";
import { twinInput } from "../scripts/twin/from-evaluation";
import { runTwin } from "../scripts/twin";
import { LOGIN_CHECKS } from "../scripts/twin/checks/login";
import { diffPlans } from "../scripts/diff/diff";
import { devConfig, devPlan } from "./helpers/estates";

const TENANTS = [
  { slug: "alpha", name: "Alpha", domain: "alpha.example.org", plan: "dedicated", users: 40 },
  { slug: "legacy", name: "Legacy", domain: "legacy.example.org", plan: "dedicated", users: 40, dataLayout: "per-app" },
  { slug: "own-realm", name: "Own realm", domain: "own.example.org", plan: "dedicated", users: 30, apps: ["nextcloud", "matrix"], dedicatedRealm: true },
  { slug: "asleep", name: "Asleep", domain: "asleep.example.org", plan: "dedicated", users: 20, state: "suspended" },
  { slug: "petite", name: "Petite", domain: "petite.example.org", plan: "shared", users: 4 },
];
const withTenants = (c: any) => (c.tenants = structuredClone(TENANTS));

let plan: Plan;
beforeAll(async () => {
  plan = await devPlan(withTenants);
}, 180_000);

const estate = () => parseEstate({ ...devConfig(), tenants: structuredClone(TENANTS) });
const loginFindings = async (resources: PlanResource[]) => (await runTwin(twinInput(estate(), { ...plan, resources }), LOGIN_CHECKS)).findings;
const copy = () => structuredClone(plan.resources);
const of = (rs: PlanResource[], type: string, tenant?: string | null) => rs.filter((r) => r.type === type && (tenant === undefined || r.tenant === tenant));
const named = (rs: PlanResource[], type: string, name: string) => {
  const r = rs.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};

describe("the Keycloak shape per layout", () => {
  it("lean: no ClientDefaultScopes and no Organization; per-app keeps both (retained); the estate realm's defaults list the membership scopes", () => {
    const rs = plan.resources;
    expect(of(rs, "keycloak:openid/clientDefaultScopes:ClientDefaultScopes", "alpha")).toEqual([]);
    expect(of(rs, "keycloak:index/organization:Organization", "alpha")).toEqual([]);
    expect(of(rs, "keycloak:openid/clientDefaultScopes:ClientDefaultScopes", "legacy")).toHaveLength(3);
    for (const s of of(rs, "keycloak:openid/clientDefaultScopes:ClientDefaultScopes")) expect(s.retainOnDelete, s.name).toBe(true);
    expect(of(rs, "keycloak:index/organization:Organization", "legacy")).toHaveLength(1);
    const defaults = of(rs, "keycloak:index/realmDefaultClientScopes:RealmDefaultClientScopes");
    expect(defaults.map((d) => [d.inputs.realmId, d.tenant]).sort()).toEqual([["liiibre", null], ["own-realm", "own-realm"]]);
    for (const d of defaults) expect(d.inputs.defaultScopes).toEqual([...REALM_DEFAULT_SCOPES]);
    // Keycloak's own defaults stay among the realm's (the resource is authoritative over the list).
    expect(REALM_DEFAULT_SCOPES).toEqual(expect.arrayContaining(["acr", "basic", "email", "profile", "roles", "web-origins", "liiibre-membership", "liiibre-nextcloud-groups"]));
    // Every lean client waits for its realm's defaults (Keycloak links them at creation only).
    for (const c of of(rs, "keycloak:openid/client:Client", "alpha")) expect(c.dependsOn).toContain(defaults.find((d) => d.inputs.realmId === "liiibre")!.urn);
  });

  it("Keycloak objects of a lean organisation of the estate realm: 19 (23 per-app), as the cost model counts them", () => {
    const kc = (slug: string) => plan.resources.filter((r) => r.tenant === slug && r.custom && r.type.startsWith("keycloak:")).length;
    // Flow 12 (the deny step has no config: Keycloak's translated message), role, grant, two groups,
    // three clients; per-app adds three ClientDefaultScopes and the Organization.
    expect(kc("alpha")).toBe(19);
    expect(kc("legacy")).toBe(23);
    const t = estate().tenants;
    const by = (s: string) => t.find((x) => x.slug === s)!;
    expect(keycloakLayoutCost(by("alpha"))).toBe(-(kc("legacy") - kc("alpha")));
    expect(keycloakLayoutCost(by("own-realm"))).toBe(-2 + 1);
    expect(keycloakLayoutCost(by("legacy"))).toBe(0);
    // The model's OIDC apps are the modules that ask for a client.
    expect([...OIDC_APPS].sort()).toEqual(APP_NAMES.filter((a) => MODULES[a]?.oidc).sort());
  });
});

describe("keycloak-members-only", () => {
  it("holds on the program's output: every client of every shape refuses non-members", async () => {
    expect(of(plan.resources, "keycloak:openid/client:Client").length).toBeGreaterThanOrEqual(10);
    expect(await loginFindings(plan.resources)).toEqual([]);
  });

  it("fails when the gate's role condition loses its configuration (Keycloak: no config matches nobody, the deny never runs)", async () => {
    const rs = copy().filter((r) => !(r.type === "keycloak:authentication/executionConfig:ExecutionConfig" && r.name === "alpha-members-09-config"));
    const f = await loginFindings(rs);
    expect(f.every((x) => /the role condition in liiibre-members-alpha-members-only has no configuration/.test(x.message))).toBe(true);
    expect(f.map((x) => x.objects[0]).sort()).toEqual(["keycloak client liiibre/alpha-hedgedoc", "keycloak client liiibre/alpha-matrix", "keycloak client liiibre/alpha-nextcloud"]);
  });

  it("fails when the gate runs before the login (no user yet: the role condition matches nobody)", async () => {
    const rs = copy();
    named(rs, "keycloak:authentication/subflow:Subflow", "alpha-members-08").inputs.priority = 5;
    expect((await loginFindings(rs)).some((x) => /runs before any REQUIRED login step/.test(x.message))).toBe(true);
  });

  it("fails when the condition is not negated, names a missing role, or the deny is disabled", async () => {
    const cfg = (rs: PlanResource[]) => named(rs, "keycloak:authentication/executionConfig:ExecutionConfig", "alpha-members-09-config").inputs.config as Record<string, string>;
    let rs = copy();
    cfg(rs).negate = "false";
    expect((await loginFindings(rs)).some((x) => /not negated/.test(x.message))).toBe(true);
    rs = copy();
    cfg(rs).condUserRole = "liiibre-access-nobody";
    expect((await loginFindings(rs)).some((x) => /names liiibre-access-nobody, no role of realm liiibre/.test(x.message))).toBe(true);
    rs = copy();
    named(rs, "keycloak:authentication/execution:Execution", "alpha-members-10").inputs.requirement = "DISABLED";
    expect((await loginFindings(rs)).some((x) => /no CONDITIONAL subflow denying/.test(x.message))).toBe(true);
  });

  it("warns when a client may be created before its gate's configurations (the gate matches nobody meanwhile)", async () => {
    const rs = copy();
    const c = named(rs, "keycloak:openid/client:Client", "alpha-hedgedoc-oidc");
    c.dependsOn = c.dependsOn.filter((u) => !u.endsWith("liiibre:shared:MembersOnly::alpha-members"));
    const f = await loginFindings(rs);
    expect(f).toMatchObject([{ level: "warning", objects: ["keycloak client liiibre/alpha-hedgedoc"] }]);
    // The role condition's configuration (the deny step has none).
    expect(f[0].message).toMatch(/before alpha-members-09-config\b/);
    expect(f[0].message).not.toMatch(/members-10-config/);
  });

  it("fails when a client binds no flow, or another realm's", async () => {
    let rs = copy();
    delete named(rs, "keycloak:openid/client:Client", "alpha-nextcloud-oidc").inputs.authenticationFlowBindingOverrides;
    expect((await loginFindings(rs)).map((x) => x.message)).toEqual([expect.stringMatching(/binds no flow of its own/)]);
    rs = copy();
    (named(rs, "keycloak:openid/client:Client", "own-realm-nextcloud-oidc").inputs.authenticationFlowBindingOverrides as any).browserId = "alpha-members-flow-id";
    expect((await loginFindings(rs)).some((x) => /not its own realm own-realm/.test(x.message))).toBe(true);
  });

  it("fails when another organisation's group holds the access role", async () => {
    const rs = copy();
    const grant = named(rs, "keycloak:index/groupRoles:GroupRoles", "legacy-group-access");
    (grant.inputs.roleIds as string[]).push("alpha-members-role-id");
    const f = await loginFindings(rs);
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => /members of group org-legacy hold liiibre-access-alpha/.test(x.message))).toBe(true);
  });

  it("fails when a lean client's membership claims cannot reach it (realm defaults lacking the scope, or not waited for)", async () => {
    let rs = copy();
    const d = rs.find((r) => r.type === "keycloak:index/realmDefaultClientScopes:RealmDefaultClientScopes" && r.inputs.realmId === "liiibre")!;
    d.inputs.defaultScopes = (d.inputs.defaultScopes as string[]).filter((s) => s !== "liiibre-nextcloud-groups");
    // The lean Nextcloud clients of the estate realm (alpha's, and the suspended asleep's); the per-app ones list it themselves.
    expect((await loginFindings(rs)).map((x) => x.objects[0]).sort()).toEqual(["keycloak client liiibre/alpha-nextcloud", "keycloak client liiibre/asleep-nextcloud"]);
    rs = copy();
    const c = named(rs, "keycloak:openid/client:Client", "alpha-matrix-oidc");
    c.dependsOn = c.dependsOn.filter((u) => !u.includes("RealmDefaultClientScopes"));
    expect((await loginFindings(rs)).map((x) => x.message)).toEqual([expect.stringMatching(/without waiting for them/)]);
    // A per-app client's own list lacking the membership scope.
    rs = copy();
    const own = named(rs, "keycloak:openid/clientDefaultScopes:ClientDefaultScopes", "legacy-hedgedoc-oidc-scopes");
    own.inputs.defaultScopes = (own.inputs.defaultScopes as string[]).filter((s) => s !== "liiibre-membership");
    expect((await loginFindings(rs)).map((x) => x.objects[0])).toEqual(["keycloak client liiibre/legacy-hedgedoc"]);
  });
});

describe("an organisation moving to the lean layout (--diff)", () => {
  it("migrating → lean: its ClientDefaultScopes and Organization are forgotten, not deleted (retained: each a danger line); no Keycloak object is replaced", async () => {
    const at = (layout: string) => devPlan((c) => {
      withTenants(c);
      c.tenants.find((t: any) => t.slug === "legacy").dataLayout = layout;
    });
    const d = diffPlans(await at("migrating"), await at("lean"));
    const kc = d.changes.filter((c) => c.type.startsWith("keycloak:"));
    expect(kc.filter((c) => c.action === "replace")).toEqual([]);
    expect(kc.filter((c) => c.action !== "delete")).toEqual([]);
    expect(kc.map((c) => `${c.type} ${c.name}`).sort()).toEqual([
      "keycloak:index/organization:Organization legacy-organization",
      "keycloak:openid/clientDefaultScopes:ClientDefaultScopes legacy-hedgedoc-oidc-scopes",
      "keycloak:openid/clientDefaultScopes:ClientDefaultScopes legacy-matrix-oidc-scopes",
      "keycloak:openid/clientDefaultScopes:ClientDefaultScopes legacy-nextcloud-oidc-scopes",
    ]);
    for (const c of kc) expect(c.danger.join(" "), c.name).toMatch(/retained on delete: Pulumi forgets it/);
  }, 240_000);
});
