/**
 * The estate's Keycloak (codecentric `keycloakx` chart, pinned), its CloudNativePG database
 * (two instances), the admin credentials (random, secret), the `@pulumi/keycloak` provider
 * configured with them, and the estate realm with Organizations enabled.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import { stringify as toYaml } from "yaml";
import { coopHosts, type Estate } from "../config";
import { LABELS, PLATFORM } from "../conventions";
import { CHARTS } from "../versions";
import { APPS_NODE_SELECTOR, ingressAnnotations, tlsSecretName } from "../apps/common";
import { helmRelease, namespace as kitNamespace, opaqueSecret, password } from "../kit";
import { databaseStorageGB, resourcesFor } from "../apps/sizing";
import type { StorageContext } from "../storage/contracts";
import { PostgresCluster } from "../storage/postgres";
import { VolumeBackup } from "../storage/volumeBackup";
import type { PlatformIdentity } from "./identity";
import { MembershipScopes } from "./membership";
import { keycloakSmtpServer, mailPassword, mailRelay } from "../ops/mail";
import { SHARED_REPLICAS } from "../ops/availability";
import { adminOnlyMiddleware } from "../platform/access";
import { publicRoute } from "../routes";

/** Port of the chart's `keycloak-http` Service (keycloakx `service.httpPort`, default 80). */
export const KEYCLOAK_HTTP_PORT = 80;
/** Paths of Keycloak's administration: the console/API of every realm and the master realm. */
export const KEYCLOAK_ADMIN_PATHS = ["/admin", "/realms/master"];

export interface KeycloakArgs {
  estate: Estate;
  storage: StorageContext;
  /** Accounts of the whole estate (sizing). */
  users: number;
}

/** Where the estate's Keycloak answers (one home: the component and the platform contract read it). */
export function keycloakEndpoints(estate: Estate): { host: string; url: string; internalUrl: string; estateRealm: string } {
  const cfg = estate.sharedServices;
  const host = coopHosts(cfg).keycloak;
  return { host, url: `https://${host}`, internalUrl: `http://keycloak-http.${PLATFORM.keycloakNamespace}.svc`, estateRealm: cfg.keycloak.realm };
}

/** Arguments of the Keycloak provider (admin credentials: the password is secret). */
export interface KeycloakProviderArgs {
  url: string;
  realm: string;
  clientId: string;
  username: string;
  password: pulumi.Output<string>;
  initialLogin: boolean;
  clientTimeout: number;
}

export class Keycloak extends pulumi.ComponentResource {
  public readonly identity: PlatformIdentity;
  public readonly host: string;
  /** The arguments of the identity's provider (the platform contract carries them to tenant shards). */
  public readonly providerArgs: KeycloakProviderArgs;

  constructor(name: string, args: KeycloakArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:shared:Keycloak", name, {}, opts);
    const cfg = args.estate.sharedServices;
    const provider = args.storage.k8s;
    const endpoints = keycloakEndpoints(args.estate);
    this.host = endpoints.host;
    const url = endpoints.url;
    const ns = PLATFORM.keycloakNamespace;
    const labels = { [LABELS.layer]: "shared", "app.kubernetes.io/name": "keycloak", "app.kubernetes.io/part-of": "liiibre" };

    const namespace = kitNamespace(`${name}-namespace`, { name: ns, labels: { [LABELS.layer]: "shared", [LABELS.stateful]: "true" } }, { parent: this, provider, protect: true, retainOnDelete: true });
    const db = new PostgresCluster(
      `${name}-pg`,
      { namespace: ns, database: "keycloak", owner: "keycloak", instances: 2, storageGB: databaseStorageGB("keycloak", args.users), backupPath: "shared/keycloak", resources: resourcesFor("keycloak-postgres", args.users), context: args.storage },
      { parent: this, dependsOn: [namespace] },
    );
    // The namespace is stateful (the database PVCs): its volumes get the k8up Schedule every
    // stateful namespace has (CloudNativePG's own volumes are skipped; their backup is Barman).
    new VolumeBackup(`${name}-volumes`, { slug: name, namespace: ns, context: args.storage }, { parent: this, dependsOn: [namespace] });
    const admin = password(`${name}-admin-password`, { parent: this });
    const adminSecret = opaqueSecret(
      `${name}-admin`,
      { name: "keycloak-admin", namespace: ns, labels, stringData: { username: "admin", password: admin.result } },
      { parent: this, provider, dependsOn: [namespace] },
    );
    const env = [
      { name: "KC_BOOTSTRAP_ADMIN_USERNAME", valueFrom: { secretKeyRef: { name: "keycloak-admin", key: "username" } } },
      { name: "KC_BOOTSTRAP_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: "keycloak-admin", key: "password" } } },
      { name: "KC_HOSTNAME", value: url },
      { name: "KC_PROXY_HEADERS", value: "xforwarded" },
      { name: "KC_HTTP_ENABLED", value: "true" },
      { name: "KC_HEALTH_ENABLED", value: "true" },
      { name: "JAVA_OPTS_APPEND", value: "-Djgroups.dns.query=keycloak-headless.keycloak.svc" },
    ];
    const values = {
      // Objects named `keycloak`, `keycloak-headless` (the JGroups DNS query below).
      fullnameOverride: "keycloak",
      replicas: SHARED_REPLICAS,
      // The chart's default affinity already requires one pod per node; the budget keeps one up during drains.
      podDisruptionBudget: { minAvailable: 1 },
      command: ["/opt/keycloak/bin/kc.sh", "start", "--http-port=8080", "--cache-stack=kubernetes"],
      // The chart renders extraEnv as a template string.
      extraEnv: toYaml(env),
      database: {
        vendor: "postgres",
        hostname: db.host,
        port: db.port,
        database: "keycloak",
        username: "keycloak",
        existingSecret: db.appSecretName,
        existingSecretKey: "password",
      },
      http: { relativePath: "/" },
      resources: resourcesFor("keycloak", args.users),
      nodeSelector: APPS_NODE_SELECTOR,
      ingress: {
        enabled: true,
        ingressClassName: PLATFORM.ingressClass,
        // Keycloak's large response headers (cookies) fit Traefik's defaults: no buffer to raise.
        annotations: ingressAnnotations(),
        rules: [{ host: this.host, paths: [{ path: "/", pathType: "Prefix" }] }],
        tls: [{ hosts: [this.host], secretName: tlsSecretName(this.host) }],
      },
    };
    const release = helmRelease(`${name}-release`, CHARTS.keycloakx, { releaseName: "keycloak", namespace: ns, values }, { parent: this, provider, dependsOn: [adminSecret] });
    // The master realm (the estate's administrators, and the provider's login below) and the
    // admin console/API of every realm: only from the admin CIDRs. A Gateway API route of their
    // own beside the chart's Ingress for `/` (Traefik ranks HTTPRoutes above Ingress routers;
    // policy admin-surfaces-restricted); the chart's Ingress issues the host's certificate.
    const adminAccess = adminOnlyMiddleware(args.estate.hetzner.adminCidrs, "keycloak-admin-allowlist");
    publicRoute(
      `${name}-admin`,
      {
        name: "keycloak-admin",
        namespace: ns,
        host: this.host,
        labels,
        issueCertificate: false,
        middlewares: [adminAccess],
        rules: KEYCLOAK_ADMIN_PATHS.map((path) => ({ path, service: "keycloak-http", port: KEYCLOAK_HTTP_PORT })),
      },
      { parent: this, provider, dependsOn: [release] },
    );

    // The provider logs in lazily (initialLogin false): previews work before Keycloak exists.
    this.providerArgs = { url, realm: "master", clientId: "admin-cli", username: "admin", password: pulumi.secret(admin.result), initialLogin: false, clientTimeout: 60 };
    const kc = new keycloak.Provider(
      `${name}-provider`,
      this.providerArgs,
      { parent: this, dependsOn: [release] },
    );
    const relay = mailRelay(args.estate);
    const realm = new keycloak.Realm(
      `${name}-estate-realm`,
      {
        realm: cfg.keycloak.realm,
        enabled: true,
        displayName: "Liiibre",
        organizationsEnabled: true,
        loginWithEmailAllowed: true,
        duplicateEmailsAllowed: false,
        resetPasswordAllowed: true,
        sslRequired: "external",
        // Password resets and verification mails through the relay (liiibre:mail).
        ...(relay ? { smtpServer: keycloakSmtpServer(relay, mailPassword()) } : {}),
      },
      // Every account of the estate lives in it.
      { parent: this, provider: kc, protect: true, retainOnDelete: true },
    );
    // The membership claims every client of the estate realm lists (components/shared/membership.ts),
    // also as the realm's default client scopes: the lean layout's clients get them at creation.
    const scopes = new MembershipScopes(`${name}-membership-scopes`, { realm: cfg.keycloak.realm, realmDefaults: true, provider: kc, dependsOn: [realm] }, { parent: this });
    this.identity = { provider: kc, url, internalUrl: endpoints.internalUrl, estateRealm: cfg.keycloak.realm, estateRealmResource: realm, clientScopes: scopes.ready };
    this.registerOutputs({ url, realm: cfg.keycloak.realm });
  }
}
