/**
 * The narrow interface between a bundle (a dedicated tenant or the shared instance) and
 * its apps. An app module receives an `AppContext` and returns an `AppInstance`; it never
 * reaches into another app. Swapping Nextcloud for something else means writing one module
 * against this interface and changing the catalogue (components/config/apps.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { AppName, DataLayout, Tenant } from "../config";
import { BundleSecrets } from "../kit/bundleSecrets";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import type { ReplicaSizing, Workload } from "./sizing";
import type { MailRelay } from "../ops/mail";
import type { Channel } from "../versions";
import type { RouteAttacher } from "../routes";
import type { PostgresClusterOutputs, S3Endpoint, TenantStorageOutputs } from "../storage/contracts";

/** Key of the OIDC client secret in the Secret an app reads it from. */
export const OIDC_SECRET_KEY = "OIDC_CLIENT_SECRET";
/** Purpose label of an app's OIDC client secret, derived from the bundle's key (components/kit/secrets.ts). */
export const oidcPurpose = (app: string): string => `oidc/${app}`;

/** An OIDC client registered in Keycloak for one app of one bundle. */
export interface OidcClient {
  /** Issuer URL, e.g. `https://auth.liiibre.coop/realms/liiibre`. */
  issuer: string;
  clientId: string;
  /**
   * Secret (in the bundle's namespace) holding the client secret under `OIDC_CLIENT_SECRET`: the
   * app's own Secret when its module names one (`AppModule.oidcSecret`), else `<app>-oidc`.
   */
  secretName: string;
  /** Its key in that Secret. Defaults to `OIDC_CLIENT_SECRET` (the shared Secret of a lean bundle: `<app>.OIDC_CLIENT_SECRET`). */
  secretKey?: string;
  /** Realm role a user needs to log in (components/shared/membership.ts); apps check it too. */
  accessRole: string;
  /** Claim listing the user's realm roles. */
  accessClaim: string;
  /**
   * Nextcloud group ids the members may be provisioned into (user_oidc whitelist; a login needs
   * one): `org-<slug>` of a dedicated tenant, the active organisations' groups on the shared instance.
   */
  groupWhitelist: string[];
}

/** A group of the shared instance: one small organisation. */
export interface SharedGroup {
  /** The organisation's slug; its group id in Nextcloud and Keycloak is `org-<slug>`. */
  slug: string;
  displayName: string;
  /** users × quotaPerUserGB (binary GB). */
  quotaGB: number;
  /** `active` organisations may log in; `suspended`/`decommissioned` keep their group and data only. */
  active: boolean;
  /** Its members may find and share with those of the other organisations allowing it. */
  crossSharing: boolean;
}

export interface AppContext {
  /** Slug of the bundle: a dedicated tenant's slug or the shared instance's slug. */
  slug: string;
  /** Domain the bundle's hosts live under. */
  domain: string;
  /** Namespace of the bundle (exists: the bundle passes it in dependsOn). */
  namespace: string;
  /** Accounts served (sizing). */
  users: number;
  /** Per-user quota in GB (Nextcloud `default_quota`). */
  quotaPerUserGB: number;
  state: Tenant["state"];
  /** Every app of the bundle (e.g. Nextcloud wires the office suites selected). */
  apps: AppName[];
  storage: TenantStorageOutputs;
  s3: S3Endpoint;
  /** The app's databases, by database name (created by the bundle from `databases`). */
  databases: Record<string, PostgresClusterOutputs>;
  /** The app's OIDC client, when the module asked for one (`oidc: true`). */
  oidc?: OidcClient;
  /**
   * Its client secret (derived from the bundle's key, purpose `oidc/<app>`), set with `oidc`: an
   * app whose module names `oidcSecret` puts it in that Secret under `OIDC_CLIENT_SECRET`.
   */
  oidcClientSecret?: pulumi.Output<string>;
  /** Shared instance only: the organisations hosted as groups. */
  groups?: SharedGroup[];
  /** Provision Nextcloud accounts over SCIM from Keycloak (`sharedServices.keycloak.scim`). */
  scim: boolean;
  /** The estate's Jitsi settings (a `jitsi-dedicated` app uses the same caps as the shared one). */
  jitsi: {
    /** Host of the shared Jitsi. */
    sharedHost: string;
    resolution: number;
    maxBitratesVideo: { low: number; standard: number; high: number };
    /** The Keycloak Jitsi users log in with (the bundle's realm). */
    keycloak: { url: string; internalUrl: string; realm: string };
  };
  provider: k8s.Provider;
  /** Upgrade wave of the bundle: which pins of components/versions.ts its apps use. Default stable. */
  channel?: Channel;
  /** Replicas of the bundle's stateless app workloads (2 with `ha`). Default 1. */
  instances?: number;
  /** How the bundle's Nextcloud runs (`nextcloud` of the tenant or shared instance config). Default: one replica on its volume. */
  nextcloud?: { stateless: boolean; secretsImported: boolean };
  /** The transactional-mail relay (`liiibre:mail`), when configured; apps that send mail use it. */
  mail?: MailRelay;
  /**
   * The bundle's Gateways (components/routes.ts `BundleGateways`): the app's public routes attach
   * a listener there instead of creating a Gateway each. Defaults to a Gateway per route.
   */
  gateways?: RouteAttacher;
  /** The relay password (secret config `liiibre:mailPassword`), set with `mail`. */
  mailPassword?: pulumi.Output<string>;
  /**
   * The bundle's protected secret key (components/kit/secrets.ts): the app derives its rotatable
   * secrets from it (`derivedSecret(ctx.secretKey, "<app>/<purpose>")`) instead of generating them.
   */
  secretKey: pulumi.Output<string>;
  /**
   * How the bundle keeps its secrets (components/kit/bundleSecrets.ts): bound values own or
   * derived, one Secret per app or one shared. Defaults to own values, a Secret per app.
   */
  secrets?: BundleSecrets;
  /**
   * The bundle's plain Kubernetes objects (components/kit/bundleObjects.ts): the app declares its
   * Deployments, Services, routes, CronJobs… through `objectsOf(ctx).add`, as its own resources or
   * as entries of the bundle's objects release. Defaults to resources of their own.
   */
  objects?: BundleObjects;
  /** The bundle's data layout: `lean` bundles also inline their small scripts (no ConfigMap). Defaults to `per-app`. */
  dataLayout?: DataLayout;
}

/** The bundle's secrets of a context (own values and a Secret per app when the bundle set none). */
export const secretsOf = (ctx: Pick<AppContext, "secrets" | "secretKey">): BundleSecrets => ctx.secrets ?? new BundleSecrets({ key: ctx.secretKey, bound: "own" });
/** The bundle's objects of a context (resources of their own when the bundle set none). */
export const objectsOf = (ctx: Pick<AppContext, "objects" | "namespace">): BundleObjects => ctx.objects ?? ownResources(ctx.namespace);
/** The Secret and key of a context's OIDC client secret. */
export const oidcSecretRef = (oidc: OidcClient): { name: string; key: string } => ({ name: oidc.secretName, key: oidc.secretKey ?? OIDC_SECRET_KEY });

export interface AppInstance {
  /** Public URLs by purpose (e.g. `nextcloud`, `element`). */
  urls: Record<string, string>;
  /** Host names served by the cluster's ingress for this app. */
  hosts: string[];
}

/** What a module declares so that the bundle can prepare storage, databases and OIDC. */
export interface AppModule {
  app: AppName;
  /** Workloads the app runs (components/apps/sizing.ts), for the bundle's ResourceQuota. */
  workloads: Workload[];
  /**
   * How each workload runs with `ha` (components/apps/sizing.ts `replicaPlan`): the module deploys
   * and the bundle's ResourceQuota counts the same replicas. A workload missing here runs once.
   * Defaults to none.
   */
  replicated?: Partial<Record<Workload, ReplicaSizing>>;
  /** PostgreSQL databases the app needs (the bundle creates one PostgresCluster each). */
  databases: string[];
  /** Whether the app logs in through Keycloak (the bundle registers a client). */
  oidc: boolean;
  /** Whether the client requires PKCE (default true; false for a client that sends no code challenge). */
  oidcPkce?: boolean;
  /**
   * The app's own Secret that holds its OIDC client secret (key `OIDC_CLIENT_SECRET`, from
   * `ctx.oidc.clientSecret`). Defaults to none: the bundle creates a Secret `<app>-oidc`.
   */
  oidcSecret?: string;
  /**
   * Like `oidcSecret`, only in a bundle whose bound secrets are derived (`boundSecrets: derived`):
   * there the app keeps its OIDC client secret with its other values (a dedicated Jitsi: entries of
   * the bundle's shared Secret); elsewhere the bundle creates `<app>-oidc` as before. Defaults to none.
   */
  derivedOidcSecret?: string;
  /**
   * The app's Secret stays its own in every layout (its chart mounts it whole, so a Secret
   * shared with the other apps would show it their values). Defaults to false: a lean bundle
   * keeps its values in the bundle's shared Secret (components/kit/bundleSecrets.ts).
   */
  ownSecret?: boolean;
  /** OIDC redirect URIs for the bundle's domain. */
  redirectUris?: (domain: string) => string[];
  /** Deploys the app as a child of `parent`. */
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance;
}
