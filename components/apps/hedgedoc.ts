/**
 * HedgeDoc 1.x (pinned image): collaborative markdown, PostgreSQL from CloudNativePG,
 * uploaded images in the bundle's bucket, login only through Keycloak (OAuth2).
 */
import * as pulumi from "@pulumi/pulumi";
import { imageRef } from "../versions";
import { APPS_NODE_SELECTOR, appLabels, hostOf, replicasFor, webApp } from "./common";
import { HOST_PREFIXES } from "../config/hosts";
import { DERIVED_ANNOTATION, derivedAnnotation } from "../kit";
import { resourcesFor } from "./sizing";
import { S3_KEY_PURPOSES } from "../storage/settings";
import { OIDC_SECRET_KEY, oidcPurpose, oidcSecretRef, objectsOf, secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";

/** The app's Secret (session secret, OIDC client secret). */
export const HEDGEDOC_SECRET = "hedgedoc-liiibre";

export class HedgeDoc extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly host: string;

  constructor(name: string, args: { ctx: AppContext }, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:HedgeDoc", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "hedgedoc");
    this.host = hostOf(HOST_PREFIXES.hedgedoc, ctx.domain);
    this.url = `https://${this.host}`;
    // Bound to sessions (a new one logs everyone out): its own protected password, or (a lean
    // bundle created so) derived from the bundle's key (components/kit/bundleSecrets.ts).
    const secrets = secretsOf(ctx);
    const session = secrets.boundPassword("hedgedoc/session", `${name}-session-secret`, { parent: this }, 48);
    // One Secret for the app (or, lean, its entries in the bundle's): its session secret and its OIDC client secret (the bundle's client, derived).
    const data: Record<string, pulumi.Input<string>> = { CMD_SESSION_SECRET: session.value };
    if (ctx.oidcClientSecret) data[OIDC_SECRET_KEY] = ctx.oidcClientSecret;
    const derived = ctx.oidcClientSecret || session.derived ? { ...(ctx.oidcClientSecret ? { [OIDC_SECRET_KEY]: oidcPurpose("hedgedoc") } : {}), ...(session.derived ? { CMD_SESSION_SECRET: session.derived } : {}) } : undefined;
    const held = secrets.appSecret("hedgedoc", `${name}-secret`, { name: HEDGEDOC_SECRET, namespace: ctx.namespace, labels, stringData: data, derived }, child);
    const secret = held.ready;
    // What the pods read that is derived (a lean bundle's S3 key too): a new derivation restarts them.
    const podDerived = derived && secrets.bound === "derived" ? { ...derived, CMD_MINIO_SECRET_KEY: S3_KEY_PURPOSES.primary } : derived;
    const db = ctx.databases.hedgedoc;
    if (!db) throw new Error(`hedgedoc of ${ctx.slug}: the bundle did not create the "hedgedoc" database`);
    if (ctx.state !== "decommissioned") {
      const fromSecret = (name: pulumi.Input<string>, key: string) => ({ secretKeyRef: { name, key } });
      const env: Array<{ name: string; value?: pulumi.Input<string>; valueFrom?: unknown }> = [
        { name: "CMD_DOMAIN", value: this.host },
        { name: "CMD_PROTOCOL_USESSL", value: "true" },
        { name: "CMD_URL_ADDPORT", value: "false" },
        { name: "CMD_SESSION_SECRET", valueFrom: fromSecret(held.name, held.key("CMD_SESSION_SECRET")) },
        { name: "CMD_DB_DIALECT", value: "postgres" },
        { name: "CMD_DB_HOST", value: db.host },
        { name: "CMD_DB_PORT", value: String(db.port) },
        { name: "CMD_DB_DATABASE", value: "hedgedoc" },
        { name: "CMD_DB_USERNAME", valueFrom: fromSecret(db.appSecretName, "username") },
        { name: "CMD_DB_PASSWORD", valueFrom: fromSecret(db.appSecretName, "password") },
        // The `minio` uploader speaks plain S3 with path-style URLs (any S3 service, no
        // wildcard DNS); the bucket name is read from CMD_S3_BUCKET by both uploaders.
        // Pad images: browsers GET https://<s3Domain>/<bucket>/uploads/<uuid>.<ext> without
        // credentials; TenantStorage gives the bucket its anonymous-read policy on uploads/*
        // only (components/storage/anonymousRead.ts). CSP: HedgeDoc's default img-src is `*`.
        { name: "CMD_IMAGE_UPLOAD_TYPE", value: "minio" },
        { name: "CMD_MINIO_ENDPOINT", value: ctx.s3.host.replace(/:\d+$/, "") },
        { name: "CMD_MINIO_PORT", value: /:(\d+)$/.exec(ctx.s3.host)?.[1] ?? (ctx.s3.url.startsWith("https://") ? "443" : "80") },
        { name: "CMD_MINIO_SECURE", value: String(ctx.s3.url.startsWith("https://")) },
        { name: "CMD_S3_BUCKET", value: ctx.storage.buckets.hedgedoc },
        { name: "CMD_MINIO_ACCESS_KEY", valueFrom: fromSecret(ctx.storage.credentialsSecretName, "AWS_ACCESS_KEY_ID") },
        { name: "CMD_MINIO_SECRET_KEY", valueFrom: fromSecret(ctx.storage.credentialsSecretName, "AWS_SECRET_ACCESS_KEY") },
        { name: "CMD_ALLOW_ANONYMOUS", value: "false" },
        { name: "CMD_ALLOW_EMAIL_REGISTER", value: "false" },
        { name: "CMD_EMAIL", value: "false" },
        // No public /status and /metrics (instance statistics are an admin surface).
        { name: "CMD_ENABLE_STATS_API", value: "false" },
      ];
      if (ctx.oidc) {
        const base = `${ctx.oidc.issuer}/protocol/openid-connect`;
        env.push(
          { name: "CMD_OAUTH2_PROVIDERNAME", value: "Liiibre" },
          { name: "CMD_OAUTH2_CLIENT_ID", value: ctx.oidc.clientId },
          { name: "CMD_OAUTH2_CLIENT_SECRET", valueFrom: { secretKeyRef: oidcSecretRef(ctx.oidc) } },
          { name: "CMD_OAUTH2_AUTHORIZATION_URL", value: `${base}/auth` },
          { name: "CMD_OAUTH2_TOKEN_URL", value: `${base}/token` },
          { name: "CMD_OAUTH2_USER_PROFILE_URL", value: `${base}/userinfo` },
          { name: "CMD_OAUTH2_SCOPE", value: "openid email profile" },
          { name: "CMD_OAUTH2_USER_PROFILE_USERNAME_ATTR", value: "preferred_username" },
          { name: "CMD_OAUTH2_USER_PROFILE_DISPLAY_NAME_ATTR", value: "name" },
          { name: "CMD_OAUTH2_USER_PROFILE_EMAIL_ATTR", value: "email" },
          // Defence in depth behind Keycloak's members-only flow: the bundle's access role.
          { name: "CMD_OAUTH2_ROLES_CLAIM", value: ctx.oidc.accessClaim },
          { name: "CMD_OAUTH2_ACCESS_ROLE", value: ctx.oidc.accessRole },
        );
      }
      webApp(
        name,
        {
          name: "hedgedoc",
          namespace: ctx.namespace,
          labels,
          image: imageRef("hedgedoc", ctx.channel),
          containerPort: 3000,
          replicas: replicasFor(ctx.state),
          resources: resourcesFor("hedgedoc", ctx.users),
          env: env as never,
          host: this.host,
          probePath: "/_health",
          nodeSelector: APPS_NODE_SELECTOR,
          gateways: ctx.gateways,
          objects: objectsOf(ctx),
          ...(podDerived ? { podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation(podDerived) } } : {}),
        },
        { ...child, dependsOn: [secret] },
      );
    }
    this.registerOutputs({ url: this.url });
  }
}

export const hedgedocModule: AppModule = {
  app: "hedgedoc",
  workloads: ["hedgedoc"],
  databases: ["hedgedoc"],
  oidc: true,
  oidcSecret: HEDGEDOC_SECRET,
  redirectUris: (domain) => [`https://${hostOf(HOST_PREFIXES.hedgedoc, domain)}/auth/oauth2/callback`],
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const h = new HedgeDoc(`${ctx.slug}-hedgedoc`, { ctx }, { parent });
    return { urls: { hedgedoc: h.url }, hosts: [h.host] };
  },
};
