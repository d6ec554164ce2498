/**
 * Resources a stack will hold, estimated from the config before anything is registered, so
 * that a config that would put more than `liiibre:sharding.maxResourcesPerStack` resources in
 * one stack is refused (exit 2) instead of producing a stack too large to preview.
 *
 * The model is additive: a dedicated organisation costs a base (its Tenant, namespace, quota,
 * limits, 4 NetworkPolicies, its derivation key, its two Gateways, TenantStorage with its k8up
 * bucket and user, the members-only login — 1 flow, 4 subflows, 6 executions, 1 config, a
 * role —, the organisation and its group) plus a fixed cost per app (its Helm release or
 * Deployment, Secrets, bound passwords, OIDC client with its default scopes, HTTPRoute,
 * PostgreSQL cluster with its backup user, buckets and their Helsinki twins). The figures were
 * counted app by app on the prod plan of 2026-12-01 (matrix 30 since the matrix-stack 26.8.1
 * values): e.g. nextcloud+collabora = 86, the five default apps = 149, with a dedicated Jitsi =
 * 166; after the lean-tenant changes (docs/scaling.md) the five default apps = 137, 136 since
 * the pool alert is the estate's one rule.
 * Those figures are the `per-app` data layout every prod organisation has; the `lean` layout
 * (docs/storage.md#data-layouts) trades each app's PostgreSQL cluster for one per organisation
 * (DATA_LAYOUT_COST below), has a leaner Keycloak shape (keycloakLayoutCost below) and keeps its
 * secrets leaner (LEAN_SECRETS_COST below); its plain Kubernetes objects are entries of one objects
 * release by default (`kubernetesObjects: bundled`, BUNDLED_OBJECTS_COST below) and its apps share
 * one bucket (`buckets: organisation`, bucketLayoutCost below).
 * test/layers.test.ts checks the model against the evaluated program for several shapes (it must
 * never under-estimate an active organisation). Suspended and decommissioned organisations cost
 * a little less; the estimate keeps the active figure (an upper bound).
 */
import { APPS, type AppName } from "../config/apps";
import { defaultBoundSecrets, type BoundSecrets, type BucketLayout, type DataLayout, type KubernetesObjects } from "../config/schema";
import { stackLayout, type LayoutStack, type PlacementInput } from "./placement";

/** Resources of a dedicated organisation besides its apps (nextcloud-less figure). */
// Counted on the prod plan of 2026-12-01 after the ops, twin and edge merges (58), less the 9
// NetworkPolicies merged into allow-bundle, allow-cnpg and allow-k8up (13 → 4), plus the
// bundle's derivation key (+1) and its two Gateways (+2, an upper bound: a bundle without a
// route issuing its own certificate, or without a chart-certified host, has one or none).
// −1: the pool alert is no longer a PrometheusRule per organisation with buckets but the
// estate's one rule (components/ops/alert-rules.ts poolRule).
// −1: the members-only flow's deny step has no ExecutionConfig (Keycloak's translated message).
// −1: its replication Job: the stack's one CronJob replicates every bucket (SHARD_OVERHEAD, PLATFORM_BASE_COST).
export const TENANT_BASE_COST = 49;
/** Resources each app adds to a dedicated organisation. Apps not deployable yet cost nothing (config refuses them). */
// Lean tenants (docs/scaling.md), from the counts before: the app's Gateway joins the bundle's
// (−1 for onlyoffice, collabora, matrix, hedgedoc, jitsi-dedicated); its OIDC client's mappers
// become one ClientDefaultScopes (nextcloud 3 → 1, matrix and hedgedoc 2 → 1, jitsi 2 → 1); its
// OIDC secret is derived and kept in the app's own Secret (−1 password, −1 Secret; the dedicated
// Jitsi keeps its Secret); rotatable passwords are derived (onlyoffice jwt, collabora admin,
// matrix registration and form secret: −1 each).
export const APP_COST: Record<AppName, number> = {
  nextcloud: 25,
  // The edge (docs/ingress.md): a program-declared Ingress became an HTTPRoute on the bundle's
  // Gateway (OnlyOffice's route also has its body-limit Middleware).
  onlyoffice: 6,
  collabora: 5,
  // +1 with `ha`'s HAProxy budget (issue 12; the estimate is the upper bound).
  matrix: 26,
  // +1: the anonymous-read S3BucketPolicy on its bucket's uploads/ (pad images, docs/apps.md#hedgedoc-images).
  hedgedoc: 25,
  "jitsi-dedicated": 15,
  etherpad: 0,
  discourse: 0,
  mobilizon: 0,
  decidim: 0,
  grist: 0,
};
/**
 * Resources `ha` adds to an app (counted on the prod plan of 2026-12-01, fcso-occitanie): Collabora's
 * budget and its hashing proxy (the CollaboraProxy component, its ConfigMap, StatefulSet, Service,
 * the Services of its two pods (stick-table peers), budget and the headless Service of Collabora's
 * pods) = 9.
 */
export const HA_APP_COST: Partial<Record<AppName, number>> = { collabora: 9 };
/**
 * A stateless Nextcloud (components/apps/nextcloud-stateless.ts) adds to its bundle: three random
 * values, the instance Secret, the scripts ConfigMap, the budget, the upgrade Job with its
 * ServiceAccount, Role and RoleBinding, and the Job's NetworkPolicy = 11 (a suspended bundle has
 * no Job and no budget: 9; the estimate keeps the active figure).
 */
export const STATELESS_NEXTCLOUD_COST = 11;
/** PostgreSQL databases each app has (components/apps modules' `databases`): one per-app cluster each, or one Database in the lean layout. */
export const APP_DATABASES: Partial<Record<AppName, number>> = { nextcloud: 1, matrix: 1, hedgedoc: 1 };
/**
 * What a data layout costs, counted on the dev plan of 2026-12-01 with one organisation per
 * layout (components included, as the estimate counts):
 * - a per-app cluster (already in APP_COST): its PostgresCluster, Cluster, ObjectStore,
 *   ScheduledBackup, and its Helsinki S3User (component, password, user, policy, attachment, Secret) = 10;
 * - the lean organisation cluster: its OrganisationDatabase, Cluster, ObjectStore,
 *   ScheduledBackup and roles key = 5, plus per database its Database and role Secret = 2
 *   (its backups use the Helsinki user the organisation has anyway, the k8up one).
 */
export const DATA_LAYOUT_COST = { perAppCluster: 10, leanCluster: 5, leanDatabase: 2 } as const;
/**
 * What the lean layout's secrets save (components/kit/bundleSecrets.ts), counted on the dev plan
 * of 2026-12-01 (demo, five apps: 104 → 90 custom resources; 100 → 86 after the Keycloak shape):
 * - `shared`, per app: its Secret joins the bundle's shared one (nextcloud, onlyoffice, collabora,
 *   hedgedoc −1; matrix keeps its own: its chart mounts it whole) and its ConfigMap is inlined
 *   (nextcloud's org-admins script, matrix's S3-provider requirements −1); for the bundle, the
 *   `s3-credentials` Secret joins too and the shared Secret is one more (`bundle`: 0);
 * - `derived` (boundSecrets `derived`), per app: its bound passwords are derived (nextcloud admin
 *   and Redis −2, matrix macaroon and signing key −2, hedgedoc session −1); a dedicated Jitsi's
 *   JWT secret and XMPP passwords are derived (−3) and its JWT and adapter OIDC Secrets join the
 *   shared one (−2; Jicofo's and the videobridge's stay: the chart reads them whole), counted on
 *   the prod plan of 2026-12-01 with every dedicated organisation lean (up-bretagne 69 → 64);
 *   for the bundle, its two S3 users' keys (−2) and, with a database, the organisation cluster's
 *   roles key (−1).
 */
export const LEAN_SECRETS_COST = {
  shared: { nextcloud: -2, onlyoffice: -1, collabora: -1, matrix: -1, hedgedoc: -1 } as Partial<Record<AppName, number>>,
  derived: { nextcloud: -2, matrix: -2, hedgedoc: -1, "jitsi-dedicated": -5 } as Partial<Record<AppName, number>>,
  bundle: { shared: 0, derived: -2, derivedRolesKey: -1 },
} as const;
/**
 * What bundling a dedicated organisation's plain Kubernetes objects into its one objects release
 * saves (`kubernetesObjects: bundled`, components/kit/bundleObjects.ts), counted on the prod plan
 * of 2026-12-01 with every dedicated organisation made lean and bundled (velo-en-ville, five apps:
 * 99 → 73; dev's demo 86 → 60):
 * - `base`: the release (+1) less the quota, the limit range, the 4 NetworkPolicies, the two
 *   Gateways (the base's upper bound: exact once they are bundled) and the k8up Schedule = −8;
 * - per app: nextcloud its Redis Deployment and Service and org-admins CronJob (−3); onlyoffice
 *   its Deployment, Service, HTTPRoute and body-limit Middleware (−4); collabora and hedgedoc
 *   their Deployment, Service and HTTPRoute (−3); matrix its well-known HTTPRoute and the budget
 *   APP_COST counts (−2); a dedicated Jitsi its adapter's Deployment, Service and HTTPRoute and its
 *   videobridge NetworkPolicy (−4);
 * - `notInlined`: outside the lean layout, the ConfigMaps lean bundles inline (nextcloud's
 *   org-admins script, matrix's S3-provider requirements: −1 each);
 * - `organisationCluster`: with the organisation cluster (lean or migrating), its ScheduledBackup
 *   (−1) and each app's Database (−1 each); its ObjectStore and Cluster stay resources;
 * - `ha`: Collabora's budget and its proxy's ConfigMap, StatefulSet, four Services and budget (−8);
 * - `statelessNextcloud`: its scripts ConfigMap, budget, ServiceAccount, Role, RoleBinding and the
 *   Job's NetworkPolicy (−6; the instance Secret, the random values and the Job stay resources).
 */
export const BUNDLED_OBJECTS_COST = {
  base: -8,
  apps: { nextcloud: -3, onlyoffice: -4, collabora: -3, matrix: -2, hedgedoc: -3, "jitsi-dedicated": -4 } as Partial<Record<AppName, number>>,
  notInlined: { nextcloud: -1, matrix: -1 } as Partial<Record<AppName, number>>,
  organisationCluster: { scheduledBackup: -1, database: -1 },
  ha: { collabora: -8 } as Partial<Record<AppName, number>>,
  statelessNextcloud: -6,
} as const;

/** Resources the objects release removes (0 in `resources` and `adopting`: each object stays a resource). */
export function kubernetesObjectsCost(t: Pick<CostTenant, "apps" | "dataLayout" | "kubernetesObjects" | "ha" | "nextcloud">): number {
  if ((t.kubernetesObjects ?? "resources") !== "bundled") return 0;
  const c = BUNDLED_OBJECTS_COST;
  const layout = t.dataLayout ?? "per-app";
  const sum = (table: Partial<Record<AppName, number>>) => t.apps.reduce((n, a) => n + (table[a] ?? 0), 0);
  const dbs = t.apps.reduce((n, a) => n + (APP_DATABASES[a] ?? 0), 0);
  return (
    c.base +
    sum(c.apps) +
    (layout === "lean" ? 0 : sum(c.notInlined)) +
    (layout !== "per-app" && dbs > 0 ? c.organisationCluster.scheduledBackup + c.organisationCluster.database * dbs : 0) +
    ((t.ha ?? true) ? sum(c.ha) : 0) +
    (t.nextcloud?.stateless && t.apps.includes("nextcloud") ? c.statelessNextcloud : 0)
  );
}

/**
 * What a bucket costs (in APP_COST, per app bucket suffix): in Falkenstein the bucket, its
 * versioning and its lifecycle, in Helsinki the same three for its twin = 6. The organisation
 * bucket (`buckets: organisation`, docs/storage.md#buckets) is one such set for all the apps;
 * the anonymous-read policy of HedgeDoc's images stays one either way (in APP_COST).
 */
export const BUCKET_COST = 6;

/** Resources the organisation bucket removes from the per-app figures (0 with per-app buckets). */
export function bucketLayoutCost(apps: readonly AppName[], layout: BucketLayout = "per-app"): number {
  const buckets = new Set(apps.flatMap((a) => APPS[a].buckets)).size;
  return layout === "organisation" && buckets > 0 ? BUCKET_COST * (1 - buckets) : 0;
}

/**
 * An own realm replaces the Organization with a Realm and adds DefaultGroups (+1) and its own
 * membership scopes (MembershipScopes: the component, 2 client scopes, 3 mappers: +6).
 */
export const DEDICATED_REALM_COST = 7;
/**
 * An organisation of the shared instance: its Keycloak Organization, its two groups (`org-<slug>`,
 * `admins-<slug>`) and the members' group roles. (3 until 2026-12-01: the admins group was left
 * out, and the platform base absorbed prod's 34 — the 700-organisation estate's platform stack
 * came out at 2,004 against an estimate of 1,689, so the 2,000 limit could not refuse it.)
 */
export const SHARED_MEMBER_COST = 4;
/**
 * The platform without any organisation: servers, cluster, add-ons, storage platform, Keycloak,
 * Jitsi and the shared instance's own bundle (prod: 29 servers, 537 resources before its 34
 * shared organisations' 102). A platform with many more servers is under-estimated: the plan
 * reports every stack's real count beside the estimate.
 */
// 608: counted on the prod plan of 2026-12-01 (platform stack 710 resources less its 34 shared
// organisations' 102) after the edge (Traefik, Gateway API CRDs, Teapot, the platform's
// Gateways/HTTPRoutes/Middlewares), ops (alerts, kured, budgets) and twin (default class) merges;
// 589 after the lean-tenant changes (platform stack 691 less 102): the shared instance's bundle
// lost 9 NetworkPolicies, 2 Gateways, its per-client mappers and rotatable passwords, the estate
// realm gained its MembershipScopes (6). +19 with the HA work (issue 12): Grafana's release and
// CloudNativePG cluster with its backup user, the budgets of Teapot, the MinIO Operator, the
// shared instance's HAProxy and Synapse workers.
// +1: the estate realm's RealmDefaultClientScopes (the lean layout's clients, docs/scaling.md).
// +20 with the shared Jitsi's second shard (issue 12): its release, the shard router (component,
// ConfigMap, StatefulSet, 3 Services, budget, PodMonitor), the budgets of shard two's web and of
// Prosody, Jicofo and the videobridges across shards (13), and prod's fifth media node for its
// videobridge (CloudServer, Server, ServerNetwork, 2 PrimaryIps, 2 Rdns: 7).
// +1: the shared instance's HedgeDoc bucket policy (anonymous GetObject on uploads/*).
// The shared instance's stateless Nextcloud (prod) adds STATELESS_NEXTCLOUD_COST (estimateStacks).
// +9 for the shared instance's Collabora behind its hashing proxy (HA_APP_COST; 7 before its
// proxy became a StatefulSet with a Service per pod).
// −34: the admins groups of prod's 34 shared organisations, now in SHARED_MEMBER_COST.
// −2: the deny steps of the shared instance's and the shared Jitsi's members-only flows lost
// their ExecutionConfig (Keycloak's translated message).
// +1: the stack's replication CronJob and its component (2) instead of the shared instance's Job.
export const PLATFORM_BASE_COST = 604;
/**
 * A shard's own resources: the StackReference, the four providers rebuilt from the contract, and
 * its replication CronJob with its component (components/storage/offsiteReplication.ts).
 */
export const SHARD_OVERHEAD = 7;

export interface CostTenant {
  plan: "shared" | "dedicated";
  apps: readonly AppName[];
  dedicatedRealm?: boolean;
  /** Default `per-app` (the larger figure: an estimate must not under-count). */
  dataLayout?: DataLayout;
  /** Two instances of its apps (HA_APP_COST). Default true (the larger figure). */
  ha?: boolean;
  /** Default: the layout's (`derived` in lean, else `own`). */
  boundSecrets?: BoundSecrets;
  /** Its Nextcloud's mode; stateless adds STATELESS_NEXTCLOUD_COST. Default volume mode. */
  nextcloud?: { stateless: boolean };
  /** How its plain Kubernetes objects are declared (BUNDLED_OBJECTS_COST). Default `resources` (the larger figure). */
  kubernetesObjects?: KubernetesObjects;
  /** Where its apps keep their files (bucketLayoutCost). Default `per-app` (the larger figure). */
  buckets?: BucketLayout;
}

/** Resources the data layout adds to (or, lean, removes from) the per-app figures of APP_COST. */
export function dataLayoutCost(apps: readonly AppName[], layout: DataLayout = "per-app"): number {
  const dbs = apps.reduce((n, a) => n + (APP_DATABASES[a] ?? 0), 0);
  if (layout === "per-app" || dbs === 0) return 0;
  const lean = DATA_LAYOUT_COST.leanCluster + DATA_LAYOUT_COST.leanDatabase * dbs;
  return layout === "migrating" ? lean : lean - DATA_LAYOUT_COST.perAppCluster * dbs;
}

/** Resources the lean layout's secrets remove from the per-app figures (0 in the other layouts). */
export function leanSecretsCost(apps: readonly AppName[], layout: DataLayout = "per-app", bound: BoundSecrets = defaultBoundSecrets(layout)): number {
  if (layout !== "lean") return 0;
  const c = LEAN_SECRETS_COST;
  const sum = (table: Partial<Record<AppName, number>>) => apps.reduce((n, a) => n + (table[a] ?? 0), 0);
  if (bound === "own") return c.bundle.shared + sum(c.shared);
  const dbs = apps.some((a) => (APP_DATABASES[a] ?? 0) > 0);
  return c.bundle.shared + sum(c.shared) + c.bundle.derived + sum(c.derived) + (dbs ? c.bundle.derivedRolesKey : 0);
}

/** Apps with an OIDC client (components/apps modules' `oidc`): each has its ClientDefaultScopes outside the lean layout. */
export const OIDC_APPS: ReadonlySet<AppName> = new Set<AppName>(["nextcloud", "matrix", "hedgedoc", "jitsi-dedicated"]);

/**
 * What the lean layout's Keycloak shape removes (docs/scaling.md#leaner-tenants-keycloak): each
 * OIDC client's ClientDefaultScopes (−1 per OIDC app: the realm's default client scopes give
 * them), and in the estate realm the Organization (−1); an own realm gains its
 * RealmDefaultClientScopes (+1, and has no Organization anyway). 0 for `per-app` and `migrating`.
 */
export function keycloakLayoutCost(t: Pick<CostTenant, "apps" | "dedicatedRealm" | "dataLayout">): number {
  if ((t.dataLayout ?? "per-app") !== "lean") return 0;
  const clients = t.apps.filter((a) => OIDC_APPS.has(a)).length;
  return -clients + (t.dedicatedRealm ? 1 : -1);
}

export function tenantCost(t: CostTenant): number {
  if (t.plan === "shared") return SHARED_MEMBER_COST;
  const ha = (t.ha ?? true) ? t.apps.reduce((n, a) => n + (HA_APP_COST[a] ?? 0), 0) : 0;
  const stateless = t.nextcloud?.stateless && t.apps.includes("nextcloud") ? STATELESS_NEXTCLOUD_COST : 0;
  return (
    TENANT_BASE_COST +
    t.apps.reduce((n, a) => n + APP_COST[a], 0) +
    (t.dedicatedRealm ? DEDICATED_REALM_COST : 0) +
    dataLayoutCost(t.apps, t.dataLayout) +
    keycloakLayoutCost(t) +
    leanSecretsCost(t.apps, t.dataLayout, t.boundSecrets) +
    kubernetesObjectsCost(t) +
    bucketLayoutCost(t.apps, t.buckets) +
    stateless +
    ha
  );
}

export interface StackEstimate extends LayoutStack {
  /** Estimated resources of the stack. */
  resources: number;
}

/** Every stack of the estate with its estimated resource count. */
export interface EstimateInput extends PlacementInput {
  tenants: ReadonlyArray<PlacementInput["tenants"][number] & CostTenant>;
  /** The shared instance's Nextcloud mode (stateless adds STATELESS_NEXTCLOUD_COST to the platform). Default volume mode. */
  sharedServices?: { sharedInstance: { apps: readonly AppName[]; nextcloud?: { stateless: boolean } } };
}

export function estimateStacks(estate: string, e: EstimateInput): StackEstimate[] {
  const bySlug = new Map<string, CostTenant>(e.tenants.map((t) => [t.slug, t]));
  const sum = (slugs: string[]) => slugs.reduce((n, s) => n + tenantCost(bySlug.get(s)!), 0);
  const si = e.sharedServices?.sharedInstance;
  const platform = PLATFORM_BASE_COST + (si?.nextcloud?.stateless && si.apps.includes("nextcloud") ? STATELESS_NEXTCLOUD_COST : 0);
  return stackLayout(estate, e).map((s) => ({
    ...s,
    resources: s.layer === "shard" ? SHARD_OVERHEAD + sum(s.tenants) : platform + sum(s.tenants),
  }));
}
