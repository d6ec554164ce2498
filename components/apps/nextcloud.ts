/**
 * Nextcloud (upstream chart nextcloud/nextcloud, pinned in components/versions.ts):
 * primary object storage in the bundle's bucket, PostgreSQL from CloudNativePG, Redis,
 * `default_quota` from the offer, login through Keycloak (`user_oidc`), office suites wired
 * per format, and on the shared instance one group per organisation with its group quota.
 *
 * Settings Nextcloud keeps in its database are applied by the chart's `before-starting`
 * hook with idempotent `occ` commands (re-run on every pod start, so a change here reaches
 * the running instance with the next rollout). No secret is in the Helm values: passwords
 * come from Secrets through `existingSecret` / `secretKeyRef`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { IMAGES, imageRef, chartPin } from "../versions";
import { nextcloudQuota } from "../units";
import { PLATFORM } from "../conventions";
import { HOST_PREFIXES } from "../config/hosts";
import { APPS_NODE_SELECTOR, appLabels, hostOf, ingressAnnotations, replicasFor, tlsSecretName } from "./common";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedPodAnnotations, helmRelease, type SecretRef } from "../kit";
import { resourcesFor } from "./sizing";
import { S3_KEY_PURPOSES } from "../storage/settings";
import { OIDC_SECRET_KEY, objectsOf, oidcPurpose, oidcSecretRef, secretsOf, type AppContext, type AppInstance, type AppModule, type SharedGroup } from "./types";
import { ONLYOFFICE_JWT_PURPOSE, ONLYOFFICE_JWT_SECRET } from "./onlyoffice";
import { nextcloudMailValues } from "../ops/mail";
import { ORG_ADMINS_SCRIPT, adminGrants } from "../ops/org-admins";
import { NEXTCLOUD_GROUPS_CLAIM, groupWhitelistRegex, orgGroupName } from "../shared/membership";
import { STATELESS, deployStatelessNextcloud, nextcloudObjectPrefix, pinnedApps, statelessInstance, statelessConfigPhp, statelessEnv, statelessValues } from "./nextcloud-stateless";

/** Formats each office suite opens by default when both are installed (OOXML vs ODF). */
export const OFFICE_FORMATS = {
  onlyoffice: ["docx", "xlsx", "pptx"],
  collabora: ["odt", "ods", "odp"],
} as const;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `before-starting` hook: idempotent occ settings (no secret inline: env vars only). */
export function nextcloudSetupScript(ctx: Pick<AppContext, "apps" | "domain" | "quotaPerUserGB" | "oidc" | "groups" | "scim"> & { slug?: string }, mode: { stateless?: boolean } = {}): string {
  const lines = [
    "#!/bin/sh",
    "set -eu",
    "occ() { php /var/www/html/occ \"$@\"; }",
    // Stateless (components/apps/nextcloud-stateless.ts): the apps are pinned and already in
    // custom_apps (the app store is off), and system settings are in its config file (read-only).
    mode.stateless ? "app() { occ app:enable \"$1\"; }" : "app() { occ app:install \"$1\" >/dev/null 2>&1 || true; occ app:enable \"$1\"; }",
    `occ config:app:set files default_quota --value ${q(nextcloudQuota(ctx.quotaPerUserGB))}`,
    ...(mode.stateless ? [] : ["occ config:system:set overwriteprotocol --value https", "occ config:system:set maintenance_window_start --type integer --value 1"]),
  ];
  if (ctx.oidc) {
    lines.push(
      "app user_oidc",
      [
        "occ user_oidc:provider keycloak",
        `--clientid=${q(ctx.oidc.clientId)}`,
        // The secret stays off the command line: occ reads the variable itself.
        "--clientsecret-env=OIDC_CLIENT_SECRET",
        `--discoveryuri=${q(`${ctx.oidc.issuer}/.well-known/openid-configuration`)}`,
        "--scope='openid email profile'",
        "--unique-uid=0",
        "--mapping-uid=preferred_username",
        // Groups come from the estate-set `nextcloud_groups` claim, never from Keycloak group
        // names; only the bundle's organisation groups are provisioned, and a login without one
        // is refused (defence in depth behind Keycloak's members-only flow).
        "--group-provisioning=1",
        `--mapping-groups=${NEXTCLOUD_GROUPS_CLAIM}`,
        `--group-whitelist-regex=${q(groupWhitelistRegex(ctx.oidc.groupWhitelist))}`,
        "--group-restrict-login-to-whitelist=1",
      ].join(" "),
      // Keycloak is the only way in (the local admin keeps working with ?direct=1).
      "occ config:app:set user_oidc allow_multiple_user_backends --value 0",
    );
  }
  if (ctx.apps.includes("onlyoffice")) {
    const def = Object.fromEntries([...OFFICE_FORMATS.onlyoffice.map((f) => [f, "true"]), ...OFFICE_FORMATS.collabora.map((f) => [f, ctx.apps.includes("collabora") ? "false" : "true"])]);
    lines.push(
      "app onlyoffice",
      `occ config:app:set onlyoffice DocumentServerUrl --value ${q(`https://${hostOf(HOST_PREFIXES.onlyoffice, ctx.domain)}/`)}`,
      // jwt_secret: from config.php (onlyoffice.config.php reads the environment), never argv;
      // the app value is cleared so that the system value applies.
      "occ config:app:delete onlyoffice jwt_secret",
      `occ config:app:set onlyoffice defFormats --value ${q(JSON.stringify(def))}`,
      `occ config:app:set onlyoffice editFormats --value ${q(JSON.stringify(def))}`,
    );
  }
  if (ctx.apps.includes("collabora")) {
    lines.push(
      "app richdocuments",
      `occ config:app:set richdocuments wopi_url --value ${q(`https://${hostOf(HOST_PREFIXES.collabora, ctx.domain)}/`)}`,
      `occ config:app:set richdocuments public_wopi_url --value ${q(`https://${hostOf(HOST_PREFIXES.collabora, ctx.domain)}/`)}`,
      "occ richdocuments:activate-config || true",
    );
  }
  if (ctx.scim) lines.push("app scimserviceprovider");
  if (ctx.groups) {
    // The shared instance: an organisation sees and shares with its own members only (and with
    // the organisations that allow cross-organisation sharing, through the open-sharing group).
    lines.push(
      "occ config:app:set core shareapi_only_share_with_group_members --value yes",
      "occ config:app:set core shareapi_restrict_user_enumeration_to_group --value yes",
      "occ config:app:set core shareapi_restrict_user_enumeration_full_match --value no",
    );
  }
  if (ctx.groups?.length) {
    lines.push("app groupquota");
    for (const g of [...ctx.groups].sort((a, b) => a.slug.localeCompare(b.slug))) lines.push(...groupQuotaLines(g));
  }
  return lines.join("\n") + "\n";
}

/** occ lines creating a shared organisation's group and setting its quota (its pool). */
export function groupQuotaLines(g: SharedGroup): string[] {
  return [
    `occ group:add --display-name ${q(g.displayName)} ${q(orgGroupName(g.slug))} >/dev/null 2>&1 || true`,
    `occ groupquota:set ${q(orgGroupName(g.slug))} ${q(nextcloudQuota(g.quotaGB))}`,
  ];
}

/** Starts Redis with its password read from stdin (`redis-server -`), not from its command line. */
export const REDIS_START = 'exec redis-server - --save "" --appendonly no <<EOF\nrequirepass $REDIS_PASSWORD\nEOF\n';

/** config.php fragment giving the OnlyOffice connector its JWT secret from the environment. */
export const ONLYOFFICE_CONFIG_PHP = "<?php\n$CONFIG = array('onlyoffice' => array('jwt_secret' => getenv('ONLYOFFICE_JWT_SECRET')));\n";

/** Name of the bundle's Redis (Deployment and Service beside the release). */
export { nextcloudObjectPrefix };
export const NEXTCLOUD_REDIS = "nextcloud-redis";
/** Secret of the admin login, the Redis password, the relay and the OIDC client secret. */
export const NEXTCLOUD_SECRET = "nextcloud-liiibre";

/** What the `nextcloud` values of a bundle are computed from (plain data). */
export interface NextcloudValuesInput {
  ctx: Pick<AppContext, "apps" | "domain" | "namespace" | "quotaPerUserGB" | "oidc" | "groups" | "scim" | "users" | "state" | "s3" | "mail" | "instances" | "nextcloud"> & { slug?: string };
  database: { host: string; port: number; appSecretName: string };
  /** The bundle's Nextcloud bucket (primary storage). */
  bucket: string;
  /**
   * Where Nextcloud's objects go in it ("" or a prefix ending with "/": the organisation bucket's
   * `nextcloud/`). Default "": keys `urn:oid:<file id>` at the bucket's root.
   */
  prefix?: string;
  /** The storage layer's credentials Secret. */
  credentialsSecretName: string;
  /**
   * Lean bundles (components/kit/bundleSecrets.ts): where the app's values and the OnlyOffice JWT
   * are, and the derived values its pods read beyond the OIDC secret and the JWT (env name →
   * purpose). Default: the Secret `NEXTCLOUD_SECRET` with its plain keys, `ONLYOFFICE_JWT_SECRET`.
   */
  secrets?: { app: { name: string; key: (k: string) => string }; jwt: SecretRef; derived?: Record<string, string> };
}

/** Where the bundle's Nextcloud reads its app values and the OnlyOffice JWT (NextcloudValuesInput `secrets`; default the plain Secrets). */
function secretRefs(secrets?: NextcloudValuesInput["secrets"]): { app: { name: string; key: (k: string) => string }; jwt: SecretRef } {
  return { app: secrets?.app ?? { name: NEXTCLOUD_SECRET, key: (k: string) => k }, jwt: secrets?.jwt ?? { name: ONLYOFFICE_JWT_SECRET, key: "JWT_SECRET" } };
}

/** The bundle's extra environment of Nextcloud: Redis, and the OIDC and OnlyOffice secrets. */
export function nextcloudExtraEnv(ctx: Pick<AppContext, "apps" | "namespace" | "oidc">, secrets?: NextcloudValuesInput["secrets"]): k8s.types.input.core.v1.EnvVar[] {
  const { app, jwt } = secretRefs(secrets);
  const extraEnv: k8s.types.input.core.v1.EnvVar[] = [
    { name: "REDIS_HOST", value: `${NEXTCLOUD_REDIS}.${ctx.namespace}.svc` },
    { name: "REDIS_HOST_PORT", value: "6379" },
    { name: "REDIS_HOST_PASSWORD", valueFrom: { secretKeyRef: { name: app.name, key: app.key("redis-password") } } },
  ];
  if (ctx.oidc) extraEnv.push({ name: "OIDC_CLIENT_SECRET", valueFrom: { secretKeyRef: oidcSecretRef(ctx.oidc) } });
  if (ctx.apps.includes("onlyoffice")) extraEnv.push({ name: "ONLYOFFICE_JWT_SECRET", valueFrom: { secretKeyRef: jwt } });
  return extraEnv;
}

/** The config files the chart mounts (`nextcloud.configs`) that a stateless Nextcloud's init container and Job copy too. */
export function statelessConfigs(ctx: Pick<AppContext, "apps">, host: string): Record<string, string> {
  return { ...(ctx.apps.includes("onlyoffice") ? { "onlyoffice.config.php": ONLYOFFICE_CONFIG_PHP } : {}), [STATELESS.configFile]: statelessConfigPhp({ host }) };
}

/** The pinned apps of a bundle's stateless Nextcloud (the same switches as its setup script). */
export const bundlePinnedApps = (ctx: Pick<AppContext, "apps" | "oidc" | "scim" | "groups">) => pinnedApps({ apps: ctx.apps, oidc: !!ctx.oidc, scim: ctx.scim, groups: !!ctx.groups?.length });

/** The `nextcloud` chart values of a bundle: S3 primary storage, external PostgreSQL and Redis, quotas in the hook. */
export function nextcloudValues(i: NextcloudValuesInput): Record<string, unknown> {
  const { ctx } = i;
  const host = hostOf(HOST_PREFIXES.nextcloud, ctx.domain);
  const { app } = secretRefs(i.secrets);
  const extraEnv = nextcloudExtraEnv(ctx, i.secrets);
  // The derived secrets the pods read (components/kit/secrets.ts): a new derivation restarts them.
  const derived: Record<string, string> = {
    ...(ctx.oidc ? { [OIDC_SECRET_KEY]: oidcPurpose("nextcloud") } : {}),
    ...(ctx.apps.includes("onlyoffice") ? { ONLYOFFICE_JWT_SECRET: ONLYOFFICE_JWT_PURPOSE } : {}),
    ...(i.secrets?.derived ?? {}),
  };
  const base: Record<string, unknown> = {
    replicaCount: replicasFor(ctx.state),
    ...(Object.keys(derived).length ? { podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation(derived) } } : {}),
    nextcloud: {
      host,
      trustedDomains: [host],
      existingSecret: {
        enabled: true,
        secretName: app.name,
        usernameKey: app.key("nextcloud-username"),
        passwordKey: app.key("nextcloud-password"),
        // The relay (liiibre:mail): host, user and password from the same Secret (Nextcloud sets them).
        ...(ctx.mail ? { smtpHostKey: app.key("smtp-host"), smtpUsernameKey: app.key("smtp-username"), smtpPasswordKey: app.key("smtp-password") } : {}),
      },
      ...(ctx.mail ? { mail: nextcloudMailValues(ctx.mail) } : {}),
      objectStore: {
        s3: {
          enabled: true,
          host: ctx.s3.host,
          port: "443",
          ssl: true,
          region: ctx.s3.region,
          bucket: i.bucket,
          // The image's s3.config.php: `objectPrefix` (keys `<objectPrefix><file id>`), "urn:oid:" when unset.
          ...(i.prefix ? { prefix: nextcloudObjectPrefix(i.prefix) } : {}),
          usePathStyle: true,
          autoCreate: false,
          existingSecret: i.credentialsSecretName,
          secretKeys: { accessKey: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" },
        },
      },
      extraEnv,
      ...(ctx.apps.includes("onlyoffice") ? { configs: { "onlyoffice.config.php": ONLYOFFICE_CONFIG_PHP } } : {}),
      hooks: { "before-starting": nextcloudSetupScript(ctx) },
    },
    internalDatabase: { enabled: false },
    externalDatabase: {
      enabled: true,
      type: "postgresql",
      host: `${i.database.host}:${i.database.port}`,
      database: "nextcloud",
      existingSecret: { enabled: true, secretName: i.database.appSecretName, usernameKey: "username", passwordKey: "password" },
    },
    postgresql: { enabled: false },
    mariadb: { enabled: false },
    redis: { enabled: false },
    // The default cron `type` is a sidecar of the Nextcloud pod: its resources live under `sidecar`.
    cronjob: { enabled: true, sidecar: { resources: resourcesFor("nextcloud-cron", ctx.users) } },
    // Code and config.php only (files are in S3); kept if the release is ever uninstalled.
    persistence: { enabled: true, size: "8Gi", annotations: { "helm.sh/resource-policy": "keep" } },
    resources: resourcesFor("nextcloud", ctx.users),
    nodeSelector: APPS_NODE_SELECTOR,
    ingress: {
      enabled: true,
      // Uploads of any size, unbuffered: Traefik sets no body limit and streams bodies (docs/ingress.md).
      className: PLATFORM.ingressClass,
      annotations: ingressAnnotations(),
      tls: [{ secretName: tlsSecretName(host), hosts: [host] }],
    },
    metrics: { enabled: false },
  };
  if (!ctx.nextcloud?.stateless) return base;
  return statelessValues(base, {
    replicas: replicasFor(ctx.state, ctx.instances ?? 1),
    apps: bundlePinnedApps(ctx),
    host,
    env: statelessEnv({ database: i.database, s3: { host: ctx.s3.host, region: ctx.s3.region, bucket: i.bucket, ...(i.prefix ? { prefix: i.prefix } : {}), credentialsSecretName: i.credentialsSecretName }, extraEnv }),
  });
}

export interface NextcloudArgs {
  ctx: AppContext;
}

export class Nextcloud extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly host: string;
  public readonly release?: k8s.helm.v3.Release;

  constructor(name: string, args: NextcloudArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:Nextcloud", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "nextcloud");
    this.host = hostOf(HOST_PREFIXES.nextcloud, ctx.domain);
    this.url = `https://${this.host}`;

    // Bound: the admin password is stored in Nextcloud's database at install (a new value in the
    // Secret would not change it); the Redis password guards the sessions Redis holds (a new one
    // restarts Redis: everyone logged out). Each its own protected password, or (a lean bundle
    // created so) derived from the bundle's key (components/kit/bundleSecrets.ts).
    const secrets = secretsOf(ctx);
    const admin = secrets.boundPassword("nextcloud/admin", `${name}-admin-password`, { parent: this });
    const redisPassword = secrets.boundPassword("nextcloud/redis", `${name}-redis-password`, { parent: this });
    const secretData: Record<string, pulumi.Input<string>> = {
      "nextcloud-username": "admin",
      "nextcloud-password": admin.value,
      "redis-password": redisPassword.value,
    };
    // The bundle's OIDC client secret (derived from its key) in the same Secret.
    if (ctx.oidcClientSecret) secretData[OIDC_SECRET_KEY] = ctx.oidcClientSecret;
    // The relay (liiibre:mail): the chart reads host, user and password from this Secret.
    if (ctx.mail && ctx.mailPassword) Object.assign(secretData, { "smtp-host": ctx.mail.host, "smtp-username": ctx.mail.user, "smtp-password": ctx.mailPassword });
    const boundDerived = { ...(admin.derived ? { "nextcloud-password": admin.derived } : {}), ...(redisPassword.derived ? { "redis-password": redisPassword.derived } : {}) };
    const derived = ctx.oidcClientSecret || admin.derived ? { ...(ctx.oidcClientSecret ? { [OIDC_SECRET_KEY]: oidcPurpose("nextcloud") } : {}), ...boundDerived } : undefined;
    const held = secrets.appSecret("nextcloud", `${name}-secret`, { name: NEXTCLOUD_SECRET, namespace: ctx.namespace, labels, stringData: secretData, derived }, child);
    const secret = held.ready;
    const ref = (k: string) => ({ name: held.name, key: held.key(k) });

    const db = ctx.databases.nextcloud;
    if (!db) throw new Error(`nextcloud of ${ctx.slug}: the bundle did not create the "nextcloud" database`);

    // A stateless Nextcloud's instanceid, passwordsalt and secret (components/apps/nextcloud-stateless.ts).
    const instance = ctx.nextcloud?.stateless ? statelessInstance(name, { slug: ctx.slug, namespace: ctx.namespace, labels, provider: ctx.provider }, this) : undefined;

    // Secrets persist while the tenant is decommissioned: they open the data that is kept.
    if (ctx.state === "decommissioned") {
      this.registerOutputs({ url: this.url });
      return;
    }

    const redisRes = resourcesFor("redis", ctx.users);
    const redisName = NEXTCLOUD_REDIS;
    const redisSelector = { "app.kubernetes.io/instance": `${ctx.slug}-nextcloud`, "app.kubernetes.io/name": redisName };
    const objects = objectsOf(ctx);
    objects.add(
      k8s.apps.v1.Deployment,
      `${name}-redis`,
      {
        metadata: { name: redisName, namespace: ctx.namespace, labels: { ...labels, ...redisSelector } },
        spec: {
          replicas: replicasFor(ctx.state),
          selector: { matchLabels: redisSelector },
          template: {
            // A derived password (lean) restarts Redis only when its own derivation changes.
            metadata: { labels: { ...labels, ...redisSelector }, ...(redisPassword.derived ? { annotations: derivedPodAnnotations({ REDIS_PASSWORD: redisPassword.derived }) } : {}) },
            spec: {
              automountServiceAccountToken: false,
              nodeSelector: APPS_NODE_SELECTOR,
              containers: [
                {
                  name: "redis",
                  image: imageRef("redis", ctx.channel),
                  // The password reaches redis as configuration on stdin (a here-document), never argv.
                  args: ["sh", "-c", REDIS_START],
                  env: [{ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: ref("redis-password") } }],
                  ports: [{ name: "redis", containerPort: 6379, protocol: "TCP" }],
                  resources: redisRes,
                  readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10 },
                },
              ],
            },
          },
        },
      },
      { ...child, dependsOn: [secret] },
    );
    objects.add(
      k8s.core.v1.Service,
      `${name}-redis-service`,
      {
        metadata: { name: redisName, namespace: ctx.namespace, labels: { ...labels, ...redisSelector } },
        spec: { type: "ClusterIP", selector: redisSelector, ports: [{ name: "redis", port: 6379, targetPort: "redis", protocol: "TCP" }] },
      },
      child,
    );

    // Where the pods read their secrets (lean bundles: components/kit/bundleSecrets.ts); the
    // stateless mode's init container and Job read the same.
    const valueSecrets: NextcloudValuesInput["secrets"] =
      secrets.isShared || admin.derived
        ? {
            app: { name: held.name, key: held.key },
            jwt: secrets.refOf("onlyoffice", ONLYOFFICE_JWT_SECRET, "JWT_SECRET"),
            derived: {
              ...(admin.derived ? { NEXTCLOUD_ADMIN_PASSWORD: admin.derived } : {}),
              ...(redisPassword.derived ? { REDIS_HOST_PASSWORD: redisPassword.derived } : {}),
              ...(secrets.bound === "derived" ? { OBJECTSTORE_S3_SECRET: S3_KEY_PURPOSES.primary } : {}),
            },
          }
        : undefined;
    const values = pulumi
      .all([db.host, db.appSecretName, ctx.storage.buckets.nextcloud, ctx.storage.credentialsSecretName])
      .apply(([host, appSecretName, bucket, credentialsSecretName]) =>
        nextcloudValues({ ctx, database: { host, port: db.port, appSecretName }, bucket, prefix: ctx.storage.prefixes.nextcloud ?? "", credentialsSecretName, ...(valueSecrets ? { secrets: valueSecrets } : {}) }),
      );
    // Organisation admins (components/ops/org-admins.ts): members of `<slug>-admins` become group admins.
    const grants = adminGrants(ctx.slug, ctx.groups?.filter((g) => g.active).map((g) => g.slug));
    // Lean bundles run the script inline (`python3 -c`: no ConfigMap; it holds no secret, and
    // changes reach the next run either way); the others mount it from a ConfigMap.
    const inline = ctx.dataLayout === "lean";
    const syncScript = inline
      ? undefined
      : objects.add(
          k8s.core.v1.ConfigMap,
          `${name}-org-admins-script`,
          { metadata: { name: "nextcloud-org-admins", namespace: ctx.namespace, labels }, data: { "sync.py": ORG_ADMINS_SCRIPT } },
          child,
        );
    objects.add(
      k8s.batch.v1.CronJob,
      `${name}-org-admins`,
      {
        metadata: { name: "nextcloud-org-admins", namespace: ctx.namespace, labels },
        spec: {
          schedule: "*/15 * * * *",
          concurrencyPolicy: "Forbid",
          suspend: ctx.state !== "active",
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 1,
              activeDeadlineSeconds: 600,
              template: {
                metadata: { labels },
                spec: {
                  restartPolicy: "Never",
                  automountServiceAccountToken: false,
                  securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
                  nodeSelector: APPS_NODE_SELECTOR,
                  containers: [
                    {
                      name: "sync",
                      image: `${IMAGES.python.repository}:${IMAGES.python.tag}`,
                      command: inline ? ["python3", "-c", ORG_ADMINS_SCRIPT] : ["python3", "/script/sync.py"],
                      env: [
                        { name: "NC_URL", value: `http://nextcloud.${ctx.namespace}.svc:8080` },
                        { name: "NC_HOST", value: this.host },
                        { name: "NC_USER", valueFrom: { secretKeyRef: ref("nextcloud-username") } },
                        { name: "NC_PASSWORD", valueFrom: { secretKeyRef: ref("nextcloud-password") } },
                        { name: "GRANTS", value: JSON.stringify(grants) },
                      ],
                      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
                      ...(inline ? {} : { volumeMounts: [{ name: "script", mountPath: "/script", readOnly: true }] }),
                    },
                  ],
                  ...(inline ? {} : { volumes: [{ name: "script", configMap: { name: "nextcloud-org-admins" } }] }),
                },
              },
            },
          },
        },
      },
      { ...child, dependsOn: syncScript ? [secret, syncScript] : [secret] },
    );
    // Stateless mode (components/apps/nextcloud-stateless.ts): the instance Secret, scripts, budget and upgrade Job.
    const stateless = instance
      ? deployStatelessNextcloud(
          name,
          {
            objects,
            slug: ctx.slug,
            namespace: ctx.namespace,
            labels,
            replicas: replicasFor(ctx.state, ctx.instances ?? 1),
            apps: bundlePinnedApps(ctx),
            env: pulumi
              .all([db.host, db.appSecretName, ctx.storage.buckets.nextcloud, ctx.storage.credentialsSecretName])
              .apply(([host, appSecretName, bucket, credentialsSecretName]) =>
                statelessEnv({ database: { host, port: db.port, appSecretName }, s3: { host: ctx.s3.host, region: ctx.s3.region, bucket, prefix: ctx.storage.prefixes.nextcloud ?? "", credentialsSecretName }, extraEnv: nextcloudExtraEnv(ctx, valueSecrets) }),
              ),
            setupScript: nextcloudSetupScript(ctx, { stateless: true }),
            configs: statelessConfigs(ctx, this.host),
            resources: resourcesFor("nextcloud", ctx.users),
            provider: ctx.provider,
            active: ctx.state === "active",
          },
          instance,
          this,
        )
      : undefined;
    this.release = helmRelease(
      `${name}-release`,
      chartPin("nextcloud", ctx.channel),
      { releaseName: "nextcloud", namespace: ctx.namespace, values },
      // After the bundle's objects (its quota, limit range and NetworkPolicies) when they are one release.
      { ...child, dependsOn: [secret, ...(stateless?.dependsOn ?? []), ...objects.after()] },
    );
    this.registerOutputs({ url: this.url });
  }
}

export const nextcloudModule: AppModule = {
  app: "nextcloud",
  workloads: ["nextcloud", "nextcloud-cron", "redis"],
  databases: ["nextcloud"],
  oidc: true,
  oidcSecret: NEXTCLOUD_SECRET,
  redirectUris: (domain) => [`https://${hostOf(HOST_PREFIXES.nextcloud, domain)}/apps/user_oidc/code`],
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const nc = new Nextcloud(`${ctx.slug}-nextcloud`, { ctx }, { parent });
    return { urls: { nextcloud: nc.url }, hosts: [nc.host] };
  },
};
