/**
 * Login: what Keycloak does when an account that is NOT a member of an organisation opens one
 * of its apps (docs/security.md, components/shared/membership.ts). For every OpenID Connect
 * client the program declares, the check follows the client's browser flow as Keycloak's
 * `DefaultAuthenticationFlow` runs it and says whether a non-member is refused:
 *
 * - a level's REQUIRED and CONDITIONAL executions all run, in priority order; its ALTERNATIVE
 *   ones are ignored as soon as the level has a REQUIRED or CONDITIONAL one
 *   (`fillListsOfExecutions`); condition executions only count inside a CONDITIONAL subflow;
 * - a CONDITIONAL subflow runs only when every enabled condition in it matches, and is skipped
 *   when it has none (`isConditionalSubflowDisabled`; Server Administration Guide, *Conditions
 *   in conditional flows*);
 * - "Condition - user role" (`conditional-user-role`) matches nothing when there is no user yet,
 *   no configuration, or the configured role does not exist — whatever `negate` says
 *   (`ConditionalRoleAuthenticator.matchCondition`): a gate before the login step, without its
 *   configuration or naming a missing role lets everyone through;
 * - "Deny access" (`deny-access-authenticator`) always fails the flow.
 *
 * So a client admits members only when its flow's top level has a REQUIRED login step and,
 * after it, a CONDITIONAL subflow whose conditions are all a negated role condition on an
 * existing realm role, holding a REQUIRED "Deny access". The role must be held only by
 * organisation groups (`org-<slug>`), and by no group of another organisation than the
 * client's own (a dedicated organisation's clients). The apps' second check needs the
 * membership claims: the client lists the membership scope (its `ClientDefaultScopes`), or its
 * realm's default client scopes do and the client is created after them (Keycloak links a
 * realm's defaults only to clients created afterwards: `AbstractLoginProtocolFactory`).
 *
 * Ids resolve as the offline plan's mocks make them (`mockId`, scripts/mock-outputs.ts).
 */
import type { TwinCheck, TwinFinding, TwinInput } from "../model";
import { mockId } from "../../mock-outputs";
import { MEMBERSHIP_SCOPE, NEXTCLOUD_GROUPS_SCOPE, ORG_GROUP_PREFIX } from "../../../components/shared/membership";

type Res = TwinInput["resources"][number];
const T = {
  client: "keycloak:openid/client:Client",
  flow: "keycloak:authentication/flow:Flow",
  subflow: "keycloak:authentication/subflow:Subflow",
  execution: "keycloak:authentication/execution:Execution",
  config: "keycloak:authentication/executionConfig:ExecutionConfig",
  role: "keycloak:index/role:Role",
  group: "keycloak:index/group:Group",
  groupRoles: "keycloak:index/groupRoles:GroupRoles",
  clientScopes: "keycloak:openid/clientDefaultScopes:ClientDefaultScopes",
  realmScopes: "keycloak:index/realmDefaultClientScopes:RealmDefaultClientScopes",
} as const;
/** Condition authenticators of Keycloak 26.0 (its `authenticators.conditional` package). */
const CONDITIONS = new Set(["conditional-user-role", "conditional-user-configured", "conditional-user-attribute", "conditional-level-of-authentication"]);

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
const realmOf = (r: Res) => str(r.inputs.realmId ?? r.inputs.realm);

/** One node of a flow: an execution, or a subflow with its children. */
interface Step { res: Res; requirement: string; priority: number; authenticator?: string; alias?: string }

export interface LoginVerdict {
  /** Why a non-member would get in (empty: refused). */
  open: string[];
  /** The access role the gate requires (when one was found). */
  role?: string;
  /** The configurations the gate needs (its conditions' and its deny's), when one was found. */
  gateConfigs?: Res[];
}

/** Index of the Keycloak objects of a plan, for the verdicts below. */
export function keycloakIndex(resources: Res[]) {
  // By type, once (the checks ask per client: a filter of the whole plan each time was quadratic).
  const byType = new Map<string, Res[]>();
  for (const r of resources) {
    if (!r.type.startsWith("keycloak:")) continue;
    const list = byType.get(r.type);
    if (list) list.push(r);
    else byType.set(r.type, [r]);
  }
  const of = (type: string): Res[] => byType.get(type) ?? [];
  const byId = new Map(resources.filter((r) => r.type.startsWith("keycloak:")).map((r) => [mockId(r.type, r.name), r]));
  const children = new Map<string, Step[]>();
  for (const r of [...of(T.subflow), ...of(T.execution)]) {
    const key = `${realmOf(r)}/${str(r.inputs.parentFlowAlias)}`;
    const step: Step = { res: r, requirement: str(r.inputs.requirement), priority: Number(r.inputs.priority ?? 0), ...(r.type === T.execution ? { authenticator: str(r.inputs.authenticator) } : { alias: str(r.inputs.alias) }) };
    const list = children.get(key);
    if (list) list.push(step);
    else children.set(key, [step]);
  }
  for (const list of children.values()) list.sort((a, b) => a.priority - b.priority);
  const configRes = new Map(of(T.config).map((c) => [str(c.inputs.executionId), c]));
  const configOf = new Map([...configRes].map(([id, c]) => [id, (c.inputs.config ?? {}) as Record<string, string>]));
  const roles = new Map(of(T.role).map((r) => [`${realmOf(r)}/${str(r.inputs.name)}`, r]));
  // GroupRoles by the role ids they grant; ClientDefaultScopes by client id; RealmDefaultClientScopes by realm (first wins, as `find` did).
  const grantsOf = new Map<string, Res[]>();
  for (const g of of(T.groupRoles))
    for (const id of new Set((g.inputs.roleIds as string[]) ?? [])) {
      const list = grantsOf.get(id);
      if (list) list.push(g);
      else grantsOf.set(id, [g]);
    }
  const clientScopesOf = new Map<string, Res>();
  for (const c of of(T.clientScopes)) if (!clientScopesOf.has(str(c.inputs.clientId))) clientScopesOf.set(str(c.inputs.clientId), c);
  const realmScopesOf = new Map<string, Res>();
  for (const c of of(T.realmScopes)) if (!realmScopesOf.has(realmOf(c))) realmScopesOf.set(realmOf(c), c);
  return { of, byId, children, configOf, configRes, roles, grantsOf, clientScopesOf, realmScopesOf };
}
type Index = ReturnType<typeof keycloakIndex>;

/** Does the client's browser flow refuse an authenticated account that lacks every role it grants? */
export function loginVerdict(client: Res, ix: Index): LoginVerdict {
  const realm = realmOf(client);
  const flow = ix.byId.get(str((client.inputs.authenticationFlowBindingOverrides as any)?.browserId));
  if (!flow || flow.type !== T.flow) return { open: ["binds no flow of its own: the realm's browser flow admits every account of the realm"] };
  if (realmOf(flow) !== realm) return { open: [`binds flow ${str(flow.inputs.alias)} of realm ${realmOf(flow)}, not its own realm ${realm}: Keycloak falls back to the realm's browser flow`] };
  const top = (ix.children.get(`${realm}/${str(flow.inputs.alias)}`) ?? []).filter((s) => s.requirement !== "DISABLED");
  const required = top.filter((s) => s.requirement === "REQUIRED" || s.requirement === "CONDITIONAL");
  const login = required.find((s) => s.requirement === "REQUIRED" && !CONDITIONS.has(s.authenticator ?? ""));
  const open: string[] = [];
  let role: string | undefined;
  let gated = false;
  let gateConfigs: Res[] | undefined;
  for (const s of required.filter((x) => x.requirement === "CONDITIONAL" && x.alias)) {
    const inner = (ix.children.get(`${realm}/${s.alias}`) ?? []).filter((x) => x.requirement !== "DISABLED");
    const conditions = inner.filter((x) => CONDITIONS.has(x.authenticator ?? ""));
    const denies = inner.some((x) => x.authenticator === "deny-access-authenticator" && x.requirement === "REQUIRED");
    if (!denies) continue;
    const why: string[] = [];
    if (!conditions.length) why.push(`subflow ${s.alias} has no condition: Keycloak skips it`);
    for (const c of conditions) {
      const cfg = ix.configOf.get(mockId(c.res.type, c.res.name));
      if (c.authenticator !== "conditional-user-role") why.push(`${c.authenticator} in ${s.alias} is not shown to match every non-member`);
      else if (!cfg) why.push(`the role condition in ${s.alias} has no configuration: it matches nobody and the deny never runs`);
      else if (cfg.negate !== "true") why.push(`the role condition in ${s.alias} is not negated: it denies the members instead`);
      else if (!ix.roles.has(`${realm}/${cfg.condUserRole}`)) why.push(`the role condition in ${s.alias} names ${cfg.condUserRole}, no role of realm ${realm}: it matches nobody`);
      else role = cfg.condUserRole;
    }
    if (!login || login.priority >= s.priority) why.push(`the gate ${s.alias} runs before any REQUIRED login step: with no user yet its condition matches nobody`);
    if (!why.length) {
      gated = true;
      gateConfigs = inner.map((x) => ix.configRes.get(mockId(x.res.type, x.res.name))).filter((c): c is Res => !!c);
    } else open.push(...why);
  }
  if (!gated && !open.length) open.push(`flow ${str(flow.inputs.alias)} has no CONDITIONAL subflow denying accounts without an access role`);
  return gated ? { open: [], role, gateConfigs } : { open, role };
}

/** Does `r` wait for `target` (dependsOn it, or a component holding it)? */
function waitsFor(r: Res, target: Res, parentOf: Map<string, string | null>): boolean {
  const deps = new Set(r.dependsOn);
  for (let u: string | null | undefined = target.urn; u; u = parentOf.get(u)) if (deps.has(u)) return true;
  return false;
}

/** Groups holding a realm role (through GroupRoles), by group name. */
export function roleHolders(role: Res, ix: Index): string[] {
  const id = mockId(role.type, role.name);
  return (ix.grantsOf.get(id) ?? [])
    .map((g) => str(ix.byId.get(str(g.inputs.groupId))?.inputs.name) || str(g.inputs.groupId))
    .sort();
}

/** Where the client's membership claims come from, or why they do not reach it. */
export function claimsProblem(client: Res, ix: Index, input: Pick<TwinInput, "resources" | "stacks">): string | null {
  const realm = realmOf(client);
  const wanted = [MEMBERSHIP_SCOPE, ...(str(client.inputs.clientId).endsWith("-nextcloud") ? [NEXTCLOUD_GROUPS_SCOPE] : [])];
  const own = ix.clientScopesOf.get(mockId(client.type, client.name));
  if (own) {
    const missing = wanted.filter((w) => !((own.inputs.defaultScopes as string[]) ?? []).includes(w));
    return missing.length ? `its default scopes lack ${missing.join(", ")}: the app gets no membership claim and refuses every login` : null;
  }
  const defaults = ix.realmScopesOf.get(realm);
  if (!defaults) return `neither the client nor realm ${realm} lists ${wanted.join(", ")} as default scopes: the app gets no membership claim and refuses every login`;
  const missing = wanted.filter((w) => !((defaults.inputs.defaultScopes as string[]) ?? []).includes(w));
  if (missing.length) return `realm ${realm}'s default scopes lack ${missing.join(", ")}: the client is created without them and the app refuses every login`;
  // Keycloak links realm defaults at creation only: the defaults must exist first.
  const platformFirst = input.stacks?.find((s) => s.layer === "platform")?.name;
  const stackOf = (r: Res) => (r as { stack?: string }).stack;
  if (stackOf(defaults) !== stackOf(client) && stackOf(defaults) === platformFirst) return null;
  if (client.dependsOn.includes(defaults.urn)) return null;
  return `created from realm ${realm}'s default scopes without waiting for them (no dependsOn, same stack): Keycloak may create it first and it then never gets the membership claims`;
}

const membersOnly: TwinCheck = {
  name: "keycloak-members-only",
  family: "login",
  models:
    "Keycloak's browser flow (DefaultAuthenticationFlow, ConditionalRoleAuthenticator, Deny access) for an account outside the organisation: refused at login, the access role held only by organisation groups, the membership claims on every client",
  run(e) {
    const ix = keycloakIndex(e.input.resources as Res[]);
    const out: TwinFinding[] = [];
    const groupsById = new Map(ix.of(T.group).map((g) => [mockId(g.type, g.name), g]));
    const parentOf = new Map((e.input.resources as Res[]).map((r) => [r.urn, r.parent]));
    for (const client of ix.of(T.client)) {
      const label = `keycloak client ${realmOf(client)}/${str(client.inputs.clientId)}`;
      const v = loginVerdict(client, ix);
      for (const why of v.open) out.push({ check: this.name, level: "error", objects: [label], message: `an account outside the organisation logs in: ${why}` });
      // Created before its gate's configuration, the client binds a flow whose gate matches nobody for that while.
      const early = (v.gateConfigs ?? []).filter((c) => !waitsFor(client, c, parentOf));
      if (early.length)
        out.push({ check: this.name, level: "warning", objects: [label], message: `may be created before ${early.map((c) => c.name).join(", ")}: until then its gate's condition has no configuration, matches nobody, and anyone logs in` });
      const role = v.role ? ix.roles.get(`${realmOf(client)}/${v.role}`) : undefined;
      if (role) {
        for (const g of ix.grantsOf.get(mockId(role.type, role.name)) ?? []) {
          const group = groupsById.get(str(g.inputs.groupId));
          const name = str(group?.inputs.name);
          const tenant = client.tenant ?? null;
          const foreign = !name.startsWith(ORG_GROUP_PREFIX) || (tenant !== null && name !== `${ORG_GROUP_PREFIX}${tenant}`);
          if (foreign) out.push({ check: this.name, level: "error", objects: [label, `keycloak group ${name || str(g.inputs.groupId)}`], message: `the members of group ${name || str(g.inputs.groupId)} hold ${v.role} and log into ${str(client.inputs.clientId)}: ${tenant ? `only org-${tenant} may` : "only organisation groups may"}` });
        }
      }
      const claims = claimsProblem(client, ix, e.input);
      if (claims) out.push({ check: this.name, level: "error", objects: [label], message: claims });
    }
    return out;
  },
};

export const LOGIN_CHECKS: TwinCheck[] = [membersOnly];
