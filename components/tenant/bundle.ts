/**
 * One app bundle in its own namespace: what a dedicated `Tenant` and the shared instance
 * both are. Creates, as children of `owner`, in this order:
 * namespace (protected) → ResourceQuota, LimitRange, NetworkPolicies, TenantStorage and the
 * PostgreSQL clusters (side by side: each waits for the namespace only) → OIDC clients → the
 * apps (components/apps modules), whose releases wait for the objects release when bundled.
 *
 * Every resource name starts with the bundle's slug; nothing depends on list positions.
 *
 * Its plain Kubernetes objects (quota, limit range, NetworkPolicies, Gateways, the apps'
 * Deployments, Services, routes…) are declared through one collector (components/kit/bundleObjects.ts):
 * each its own resource (`kubernetesObjects: resources`, the shared instance's), or entries of the
 * bundle's one objects release `<slug>-objects`, sealed last; the apps' releases wait for it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { APPS, defaultBoundSecrets, type AppName, type BoundSecrets, type DataLayout, type KubernetesObjects, type BucketLayout, type Tenant } from "../config";
import type { TenantEnvironment } from "./environment";
import { ANNOTATIONS, LABELS, tenantNamespace } from "../conventions";
import { gbToBytes } from "../units";
import { DEPLOY_ORDER, MODULES, OIDC_SECRET_KEY, oidcPurpose, type AppContext, type OidcClient, type SharedGroup } from "../apps";
import { appLabels, hostOf } from "../apps/common";
import { LIMIT_CPU_FACTOR, LIMIT_MEMORY_FACTOR, databaseStorageGB, organisationPostgresResources, requestsFor, resourcesFor } from "../apps/sizing";
import type { PostgresClusterOutputs, StorageContext } from "../storage/contracts";
import { PostgresCluster } from "../storage/postgres";
import { OrganisationDatabase, POSTGRES_ROLES_PURPOSE, organisationBackupPath } from "../storage/organisationDatabase";
import { S3_KEY_PURPOSES } from "../storage/settings";
import { TenantStorage } from "../storage/tenantStorage";
import { issuerOf, oidcClient, type IdentityContext } from "../shared/identity";
import { ACCESS_CLAIM, MembersOnly, OPEN_SHARING_GROUP, orgGroupName } from "../shared/membership";
import { limitRangeSpec, resourceQuotaSpec } from "./quota";
import { synapseWorkerPods } from "../apps/matrix";
import { statelessNextcloudPods } from "../apps/nextcloud-stateless";
import { mailPassword } from "../ops/mail";
import { adminsGroup } from "../ops/org-admins";
import type { Channel } from "../versions";
import { NETPOL, networkPolicies } from "./networkPolicies";
import { BundleGateways } from "../routes";

/** Kubernetes name of a bundle's Gateway (`<name>-chart-tls` for the hosts a chart's Ingress certifies). */
export const BUNDLE_GATEWAY = "bundle";
import { BUNDLE_SECRET, BundleObjects, BundleSecrets, HELM_KEEP, derivedSecret, namespace as kitNamespace, secretKey } from "../kit";

export interface BundleArgs {
  slug: string;
  domain: string;
  plan: Tenant["plan"];
  state: Tenant["state"];
  users: number;
  quotaPerUserGB: number;
  /** Hard quota of the buckets, GB (the organisation's pool, or the sum of the shared pools). */
  poolGB: number;
  exemption?: string;
  apps: AppName[];
  /** Shared instance only: the organisations it hosts. */
  groups?: SharedGroup[];
  /** The estate around the bundle (components/tenant/environment.ts). */
  env: TenantEnvironment;
  /** Upgrade wave (which pins of components/versions.ts). Default stable. */
  channel?: Channel;
  /** Two instances of each database and of the stateless app workloads (docs/operations.md). Default false. */
  ha?: boolean;
  /** How its Nextcloud runs (docs/operations.md#stateless-nextcloud). Default: one replica on its volume. */
  nextcloud?: AppContext["nextcloud"];
  /**
   * Layout of the bundle's databases and backups (docs/storage.md#data-layouts). Default
   * `per-app` (the shared instance's: its data lives in per-app clusters).
   */
  dataLayout?: DataLayout;
  /**
   * Where the bundle's bound secrets come from (components/config/schema.ts BOUND_SECRETS).
   * Default: derived in the lean layout, own in the others.
   */
  boundSecrets?: BoundSecrets;
  /**
   * How the bundle's plain Kubernetes objects are declared (components/config/schema.ts
   * KUBERNETES_OBJECTS, components/kit/bundleObjects.ts). Default `resources` (the shared
   * instance's: each object its own resource).
   */
  kubernetesObjects?: KubernetesObjects;
  /**
   * Where its apps keep their files (components/config/schema.ts BUCKET_LAYOUTS). Default
   * `per-app` (the shared instance's: a bucket per app).
   */
  buckets?: BucketLayout;
  storage: StorageContext;
  identity: IdentityContext;
  /**
   * Realm of the bundle's OIDC clients (the estate realm or the tenant's own), and its membership
   * client scopes the clients list (absent when another stack holds them).
   */
  realm: { name: string; resource?: pulumi.Resource; clientScopes?: pulumi.Resource[] };
}

export interface Bundle {
  namespace: k8s.core.v1.Namespace;
  /** The bundle's access role and members-only flow (organisation groups are granted the role). */
  members: MembersOnly;
  urls: Record<string, string>;
  hosts: string[];
}

/**
 * Pod Security Admission labels of a bundle's namespace: `baseline`, except that a dedicated
 * Jitsi's videobridge binds UDP 10000 as a hostPort of the media nodes, which baseline refuses
 * (estate twin, check pod-security): such a namespace enforces `privileged` and still warns and
 * audits at `baseline`, so that any other pod breaking baseline is reported.
 */
export function podSecurityLabels(apps: readonly string[]): Record<string, string> {
  if (!apps.includes("jitsi-dedicated")) return { "pod-security.kubernetes.io/enforce": "baseline" };
  return { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "baseline", "pod-security.kubernetes.io/audit": "baseline" };
}

/**
 * The bundle's PostgreSQL in its layout: one cluster per app database (`per-app`), one cluster
 * for the organisation (`lean`), or both while migrating, the apps still on the per-app ones
 * until the layout says `lean` (docs/storage.md#migrating-to-the-lean-layout).
 */
function deployDatabases(
  owner: pulumi.ComponentResource,
  a: Pick<BundleArgs, "slug" | "users" | "ha" | "storage"> & {
    layout: DataLayout;
    namespace: string;
    names: string[];
    backupSecretName: string;
    backupCredentials: pulumi.Resource;
    dependsOn: pulumi.Resource[];
    objects: BundleObjects;
    /** The roles' key when the bound secrets are derived (else the cluster generates its own). */
    rolesKey?: pulumi.Output<string>;
  },
): Record<string, PostgresClusterOutputs> {
  const { slug } = a;
  const instances = a.ha ? 2 : 1;
  const perApp: Record<string, PostgresClusterOutputs> = {};
  if (a.layout !== "lean") {
    for (const db of a.names) {
      perApp[db] = new PostgresCluster(
        `${slug}-${db}-pg`,
        { namespace: a.namespace, database: db, owner: db, instances, storageGB: databaseStorageGB(db, a.users), backupPath: `${slug}/${db}`, resources: resourcesFor("postgres", a.users), context: a.storage },
        { parent: owner, dependsOn: a.dependsOn },
      );
    }
  }
  if (a.layout === "per-app" || a.names.length === 0) return perApp;
  const org = new OrganisationDatabase(
    `${slug}-db`,
    {
      slug,
      namespace: a.namespace,
      databases: a.names,
      instances,
      storageGB: a.names.reduce((n, db) => n + databaseStorageGB(db, a.users), 0),
      resources: organisationPostgresResources(a.names.length, a.users),
      backupSecretName: a.backupSecretName,
      ...(a.rolesKey ? { rolesKey: a.rolesKey } : {}),
      objects: a.objects,
      context: a.storage,
    },
    // Its ObjectStore reads the organisation's Helsinki credentials: created first.
    { parent: owner, dependsOn: [...a.dependsOn, a.backupCredentials] },
  );
  return a.layout === "lean" ? org.databases : perApp;
}

export function deployBundle(owner: pulumi.ComponentResource, a: BundleArgs): Bundle {
  const { slug, env } = a;
  const provider = a.storage.k8s;
  const ns = tenantNamespace(slug);
  const annotations: Record<string, string> = {
    [ANNOTATIONS.users]: String(a.users),
    [ANNOTATIONS.quotaPerUserGB]: String(a.quotaPerUserGB),
    [ANNOTATIONS.plan]: a.plan,
  };
  if (a.exemption) annotations[ANNOTATIONS.quotaExemption] = a.exemption;
  const namespace = kitNamespace(
    `${slug}-namespace`,
    { name: ns, labels: { [LABELS.tenant]: slug, [LABELS.layer]: "tenant", [LABELS.stateful]: "true", [LABELS.channel]: a.channel ?? "stable", [LABELS.state]: a.state, ...podSecurityLabels(a.apps) }, annotations },
    // Deleting the namespace would delete its PVCs and databases: never from a config change.
    { parent: owner, provider, protect: true, retainOnDelete: true },
  );
  const inNs = { parent: owner, provider, dependsOn: [namespace] };
  const labels = { [LABELS.tenant]: slug };
  const layout = a.dataLayout ?? "per-app";
  // The bundle's plain Kubernetes objects: their own resources, or entries of its one objects
  // release `<slug>-objects`, sealed at the end once every app has added its own.
  const objects = new BundleObjects({ mode: a.kubernetesObjects ?? "resources", namespace: ns, resourceName: `${slug}-objects`, opts: inNs });

  // A stateless Nextcloud (components/apps/nextcloud-stateless.ts): its second replica and upgrade Job count in the quota.
  const statelessNextcloud = !!a.nextcloud?.stateless && a.apps.includes("nextcloud");
  const extraPods = [
    ...(a.apps.includes("matrix") ? synapseWorkerPods({ groups: a.groups, instances: a.ha ? 2 : 1 }) : []),
    ...(statelessNextcloud ? statelessNextcloudPods({ replicas: a.ha ? 2 : 1, users: a.users, requestsFor, limitFactors: { cpu: LIMIT_CPU_FACTOR, mem: LIMIT_MEMORY_FACTOR } }) : []),
  ];
  // The namespace's isolation (quota, limit range, default deny) outlives its objects release:
  // Helm keeps them when the release is uninstalled (a tenant removed from config, a failed first
  // install), so the retained namespace is never left open. Only objects no bundle ever drops:
  // a kept object removed from the release would stay behind.
  const kept = objects.mode === "resources" ? {} : { annotations: { ...HELM_KEEP } };
  objects.add(k8s.core.v1.ResourceQuota, `${slug}-quota`, { metadata: { name: "bundle", namespace: ns, labels, ...kept }, spec: resourceQuotaSpec(a.apps, a.users, layout, extraPods, a.ha ? 2 : 1) }, inNs);
  objects.add(k8s.core.v1.LimitRange, `${slug}-limits`, { metadata: { name: "bundle", namespace: ns, labels, ...kept }, spec: limitRangeSpec(a.apps, a.users, layout, a.ha ? 2 : 1) }, inNs);
  for (const p of networkPolicies({ ...env.network, jitsi: a.apps.includes("jitsi-dedicated"), nextcloudUpgrade: statelessNextcloud })) {
    objects.add(k8s.networking.v1.NetworkPolicy, `${slug}-netpol-${p.name}`, { metadata: { name: p.name, namespace: ns, labels, ...(p.name === NETPOL.defaultDeny ? kept : {}) }, spec: p.spec }, inNs);
  }

  // The bundle's one protected key: its rotatable secrets (OIDC client secrets, the office JWT,
  // admin consoles…) derive from it (components/kit/secrets.ts), and in the lean layout its bound
  // ones too (boundSecrets `derived`); `own` bound ones keep their own resource.
  const key = secretKey(`${slug}-derivation-key`, { parent: owner });
  const bound = a.boundSecrets ?? defaultBoundSecrets(layout);
  if (bound === "derived" && layout !== "lean") throw new Error(`bundle ${slug}: derived bound secrets need the lean data layout, got ${layout}`);
  // Lean: one Secret for the apps whose consumers read single keys (components/kit/bundleSecrets.ts).
  const secrets = new BundleSecrets({ key: key.result, bound, ...(layout === "lean" ? { shared: { resourceName: `${slug}-bundle-secret`, name: BUNDLE_SECRET, namespace: ns, labels } } : {}) });
  // MinIO's secret keys: 8 to 40 characters (40 hex: 160 bits).
  const derivedKeys =
    bound === "derived"
      ? { primary: derivedSecret(key.result, S3_KEY_PURPOSES.primary, { length: 40 }), backup: derivedSecret(key.result, S3_KEY_PURPOSES.backup, { length: 40 }), purposes: S3_KEY_PURPOSES }
      : undefined;

  const suffixes = [...new Set(a.apps.flatMap((app) => APPS[app].buckets))];
  const storage = new TenantStorage(
    `${slug}-storage`,
    {
      slug,
      namespace: ns,
      bucketSuffixes: suffixes,
      layout: a.buckets ?? "per-app",
      quotaBytes: gbToBytes(a.poolGB),
      context: a.storage,
      ...(layout === "per-app" ? {} : { postgresBackupPath: organisationBackupPath(slug) }),
      ...(derivedKeys ? { secretKeys: derivedKeys } : {}),
      ...(secrets.isShared ? { credentialsStore: secrets } : {}),
      objects,
    },
    { parent: owner, dependsOn: [namespace] },
  );

  // Its pool alert is the estate's one rule (components/ops/alert-rules.ts poolRule): nothing here.

  const modules = DEPLOY_ORDER.filter((app) => a.apps.includes(app)).map((app) => MODULES[app]!);
  const databases = deployDatabases(owner, {
    ...a,
    layout,
    namespace: ns,
    names: modules.flatMap((m) => m.databases),
    backupSecretName: storage.backupSecretName,
    backupCredentials: storage.backupCredentials,
    dependsOn: [namespace],
    objects,
    ...(bound === "derived" ? { rolesKey: derivedSecret(key.result, POSTGRES_ROLES_PURPOSE) } : {}),
  });
  const relay = a.env.mail;
  const mail = relay ? { mail: relay, mailPassword: mailPassword() } : {};
  const issuer = issuerOf(a.identity.url, a.realm.name);
  // Members only: every client of the bundle binds this flow (components/shared/membership.ts).
  const realmDeps = a.realm.resource ? [a.realm.resource] : [];
  const members = new MembersOnly(`${slug}-members`, { realm: a.realm.name, bundle: slug, provider: a.identity.provider, dependsOn: realmDeps }, { parent: owner });
  // Members' and admins' groups (components/ops/org-admins.ts) of the organisations served.
  const groupWhitelist = a.groups
    ? [
        ...a.groups.filter((g) => g.active).flatMap((g) => [orgGroupName(g.slug), adminsGroup(g.slug)]),
        ...(a.groups.some((g) => g.active && g.crossSharing) ? [OPEN_SHARING_GROUP] : []),
      ]
    : [orgGroupName(slug), adminsGroup(slug)];
  const urls: Record<string, string> = {};
  const hosts: string[] = [];
  // One Gateway for the bundle's own routes (a listener per host), created once the apps have
  // attached theirs (components/routes.ts).
  const gateways = new BundleGateways(BUNDLE_GATEWAY, ns, labels);
  for (const m of modules) {
    let oidc: OidcClient | undefined;
    let oidcClientSecret: pulumi.Output<string> | undefined;
    if (m.oidc) {
      const clientId = `${slug}-${m.app}`;
      // The app's own Secret (or, lean, its entry in the shared one) when its module names one
      // (`derivedOidcSecret`: only with derived bound secrets).
      const appOidcSecret = m.oidcSecret ?? (bound === "derived" ? m.derivedOidcSecret : undefined);
      const ref = appOidcSecret ? (m.ownSecret ? { name: appOidcSecret, key: OIDC_SECRET_KEY } : secrets.refOf(m.app, appOidcSecret, OIDC_SECRET_KEY)) : undefined;
      const secretName = ref?.name ?? `${m.app}-oidc`;
      const purpose = oidcPurpose(m.app);
      const clientSecret = derivedSecret(key.result, purpose);
      oidcClient(
        `${slug}-${m.app}-oidc`,
        {
          realm: a.realm.name,
          clientId,
          redirectUris: m.redirectUris?.(a.domain) ?? [],
          rootUrl: `https://${hostOf(APPS[m.app].hosts[0], a.domain)}`,
          clientSecret,
          // The app's own Secret holds it when its module names one; else `<app>-oidc`.
          ...(appOidcSecret ? {} : { secret: { name: secretName, namespace: ns, labels: appLabels(slug, m.app) }, derivedPurpose: purpose }),
          keycloakProvider: a.identity.provider,
          k8sProvider: provider,
          pkce: m.oidcPkce,
          membersOnly: members,
          nextcloudGroups: m.app === "nextcloud",
          clientScopes: a.realm.clientScopes,
          // Lean: the membership scopes come from the realm's defaults (docs/scaling.md#leaner-tenants-keycloak).
          scopesFromRealmDefaults: layout === "lean",
          dependsOn: [namespace, ...realmDeps],
        },
        owner,
      );
      oidcClientSecret = clientSecret;
      oidc = { issuer, clientId, secretName, ...(ref && ref.key !== OIDC_SECRET_KEY ? { secretKey: ref.key } : {}), accessRole: members.roleName, accessClaim: ACCESS_CLAIM, groupWhitelist };
    }
    const ctx: AppContext = {
      slug,
      domain: a.domain,
      namespace: ns,
      users: a.users,
      quotaPerUserGB: a.quotaPerUserGB,
      state: a.state,
      apps: a.apps,
      storage,
      s3: a.storage.primary,
      databases,
      oidc,
      oidcClientSecret,
      groups: a.groups,
      scim: env.scim,
      jitsi: {
        ...env.jitsi,
        keycloak: { url: a.identity.url, internalUrl: a.identity.internalUrl, realm: a.realm.name },
      },
      provider,
      ...mail,
      channel: a.channel ?? "stable",
      instances: a.ha ? 2 : 1,
      nextcloud: a.nextcloud,
      secretKey: key.result,
      secrets,
      ...(layout === "per-app" ? {} : { dataLayout: layout }),
      gateways,
      objects,
    };
    const inst = m.deploy(ctx, owner);
    Object.assign(urls, inst.urls);
    hosts.push(...inst.hosts);
  }
  gateways.register(`${slug}-gateway`, inNs, objects);
  secrets.register(inNs);
  // Last: every object is known (the Gateways' and the shared Secret's readers are released first).
  objects.register();
  return { namespace, members, urls, hosts };
}
