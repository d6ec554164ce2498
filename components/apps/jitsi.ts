/**
 * Jitsi Meet (jitsi-contrib `jitsi-meet` chart, pinned): the shared release and every
 * dedicated one go through this one component, so the offer's 720p cap and bitrate caps
 * cannot differ between them.
 *
 * - Resolution: `RESOLUTION`/`RESOLUTION_MIN`/`RESOLUTION_WIDTH`/`RESOLUTION_WIDTH_MIN` (docker-jitsi-meet
 *   turns them into `config.resolution` and `config.constraints.video`).
 * - Bitrates: `config.videoQuality.maxBitratesVideo` in the custom config.js.
 * - Media: the videobridge listens on UDP 10000 as a hostPort of the `media` nodes (the
 *   compute layer opens UDP 10000 in their firewall), advertising the node's address.
 * - Authentication: JWT (`AUTH_TYPE=jwt`, app id `liiibre`). Jitsi's `tokenAuthUrl`
 *   (`TOKEN_AUTH_URL=https://<host>/oidc/auth?state={state}`) sends a user without a token
 *   to the Keycloak adapter (nordeck jitsi-keycloak-adapter-v2, pinned image), which logs
 *   them in through Keycloak (a confidential OIDC client of the realm, secret from random)
 *   and mints the JWT Prosody checks. The ingress routes `/oidc/` of the Jitsi host to the
 *   adapter. JWT secret and client secret come from @pulumi/random and reach Prosody and the
 *   adapter through Secrets, never Helm values; the XMPP passwords of Jicofo and the
 *   videobridge too (`*.existingSecretName`, chart ≥ 2.0), so they stay the same across upgrades.
 *   A dedicated Jitsi in a bundle with derived bound secrets derives all three from the bundle's
 *   key instead, and keeps the JWT secret in the bundle's shared Secret (`JitsiArgs.derived`).
 *   Guests without an account may join a room
 *   once an authenticated user (the host) is in it (`ENABLE_GUESTS`, `muc_wait_for_host`).
 * - Shards (`shards` ≥ 2, the shared Jitsi): Prosody and Jicofo run one replica each in the chart
 *   (hard-coded), so redundancy is Jitsi's shard model: several releases of the chart, each a full
 *   Prosody/Jicofo/videobridge/web set (`jitsi`, `jitsi-2`…), and a shard router (HAProxy,
 *   jitsiRouter.ts) that sends every request of a conference to one shard. Shard one keeps the
 *   release, names and URNs of the single-shard layout. The JWT secret and the XMPP passwords
 *   are shared (one adapter mints tokens every shard's Prosody accepts). Signalling pods of two
 *   shards never share a node (required anti-affinity on shards ≥ 2; the scheduler honours an
 *   existing pod's required anti-affinity too), videobridges never do (all bind UDP 10000 as a
 *   host port), and budgets across shards keep a drain from taking every shard's Prosody, Jicofo
 *   or videobridge at once. The edge routes the host to the router (an HTTPRoute beside the
 *   adapter's path, issuing the certificate) instead of the chart's Ingress.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import { CHARTS, IMAGES } from "../versions";
import { LABELS, PLATFORM } from "../conventions";
import { HOST_PREFIXES } from "../config/hosts";
import { attachedRoute, type RouteAttacher } from "../routes";
import { APPS_NODE_SELECTOR, appLabels, hostOf, ingressAnnotations, replicasFor, tlsSecretName, webApp } from "./common";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedPodAnnotations, derivedSecret, helmRelease, opaqueSecret, password, type BundleSecrets, type SecretRef } from "../kit";
import { resourcesFor } from "./sizing";
import { HOSTNAME_TOPOLOGY, podDisruptionBudget } from "../ops/availability";
import { OIDC_SECRET_KEY, objectsOf, oidcPurpose, secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";
import { JITSI_ROUTER, JITSI_ROUTER_SERVICE_PORT, JitsiRouter } from "./jitsiRouter";

export interface JitsiArgs {
  /** Namespace of the release (exists: pass it in dependsOn). */
  namespace: string;
  /** Public host, e.g. `meet.liiibre.coop`. */
  host: string;
  /** Maximum video height (≤ 720 in this offer). */
  resolution: number;
  /** Simulcast layer caps, bits per second. */
  maxBitratesVideo: { low: number; standard: number; high: number };
  /** The Keycloak client the adapter logs users in with (registered by the caller). */
  auth: JitsiAuth;
  /** Labels of the Secrets (tenant label for a dedicated release). */
  labels: Record<string, string>;
  provider: k8s.Provider;
  /** Default true; false scales nothing but removes the release (decommissioned tenant). */
  enabled?: boolean;
  /** Replicas of the Keycloak adapter. Default 1; 0 closes logins (suspended tenant). */
  adapterReplicas?: number;
  /**
   * Replicas of the web front (stateless nginx + config) and of the adapter, spread over nodes
   * with budgets when >= 2 (the shared Jitsi: 2). Prosody and Jicofo stay single: the pinned
   * chart runs them as single instances (docs/operations.md). Default: `adapterReplicas` / 1.
   */
  frontReplicas?: number;
  /**
   * Shards: releases of the chart, each a full Prosody/Jicofo/videobridge/web set, behind the
   * shard router (jitsiRouter.ts). Default 1: one release and the chart's Ingress, no router.
   */
  shards?: number;
  /** A bundle's Gateways the adapter's route attaches to (a dedicated Jitsi). Defaults to a Gateway of its own (the shared Jitsi). */
  gateways?: RouteAttacher;
  /** A bundle's objects (components/kit/bundleObjects.ts; a dedicated Jitsi). Defaults to resources of their own (the shared Jitsi). */
  objects?: BundleObjects;
  /**
   * A dedicated Jitsi in a bundle whose bound secrets are derived (`boundSecrets: derived`, the
   * lean default): its JWT secret and XMPP passwords derive from the bundle's key (`JITSI_PURPOSES`)
   * instead of being RandomPasswords; the JWT secret and the adapter's OIDC client secret are
   * entries `<app>.<key>` of the bundle's shared Secret, read by key (the adapter's env, Prosody's
   * `extraSecrets`); Jicofo's and the videobridge's passwords keep a Secret each (the chart hands
   * those whole to Jicofo, the videobridge and Prosody: `envFrom`). Defaults to none: a
   * RandomPassword and a Secret each (the shared Jitsi, `boundSecrets: own`).
   */
  derived?: JitsiDerived;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface JitsiAuth {
  /** Keycloak public base URL (browsers are redirected there), e.g. `https://auth.liiibre.coop`. */
  keycloakUrl: string;
  /** Keycloak in-cluster base URL (the adapter's token and userinfo calls). */
  keycloakInternalUrl: string;
  /** Realm of the client. */
  realm: string;
  /** OIDC client id (confidential, no PKCE: the adapter sends no code challenge). */
  clientId: string;
  /** Secret in the release's namespace holding the client secret under `clientSecretKey`. */
  clientSecretName: string;
  /** Its key there. Defaults to `OIDC_CLIENT_SECRET` (a lean bundle's shared Secret: `jitsi-dedicated.OIDC_CLIENT_SECRET`). */
  clientSecretKey?: string;
  /**
   * Purpose label when the client secret derives from a bundle's key (a dedicated Jitsi): the
   * adapter's pods are annotated with it, so a new derivation restarts them. Defaults to none (random).
   */
  clientSecretPurpose?: string;
}

/** What a dedicated Jitsi with derived secrets takes from its bundle (`JitsiArgs.derived`). */
export interface JitsiDerived {
  /** The bundle's protected key (components/kit/secrets.ts `secretKey`). */
  key: pulumi.Input<string>;
  /** The bundle's secrets (its shared Secret holds the JWT secret and the OIDC client secret). */
  secrets: BundleSecrets;
  /** The app name its entries are stored under (`<app>.<key>`, components/kit/bundleSecrets.ts `refOf`). */
  app: string;
  /** The adapter's OIDC client secret (derived by the bundle, purpose `auth.clientSecretPurpose`). */
  oidcClientSecret: pulumi.Input<string>;
}

/**
 * Purpose labels of a dedicated Jitsi's derived values (`JitsiArgs.derived`), 64 hex characters
 * each (docker-jitsi-meet's gen-passwords.sh writes these as hex too, `openssl rand -hex 16`):
 * the JWT secret Prosody checks and the adapter signs with (HS256: 256 bits), and the XMPP
 * passwords Prosody registers for Jicofo's and the videobridge's users at each start.
 */
export const JITSI_PURPOSES = { jwt: "jitsi/jwt", jicofo: "jitsi/jicofo", jvb: "jitsi/jvb" } as const;

/** Nominal Secret of a dedicated Jitsi's shared values (`JitsiArgs.derived`): in a lean bundle, entries of the bundle's shared Secret. */
export const JITSI_DEDICATED_SECRET = "jitsi-liiibre";

/** Helm release of shard `n` (1-based): shard one keeps the single-shard name `jitsi`. */
export const shardRelease = (n: number): string => (n === 1 ? "jitsi" : `jitsi-${n}`);

/** Pod selector of a chart component (`web`, `prosody`, `jicofo`, `jvb`) of one release. */
export const jitsiSelector = (component: string, release = "jitsi"): Record<string, string> => ({
  "app.kubernetes.io/name": "jitsi-meet",
  "app.kubernetes.io/instance": release,
  "app.kubernetes.io/component": component,
});

/** Pod selector of the chart's web Deployment (release `jitsi`). */
export const JITSI_WEB_SELECTOR = jitsiSelector("web");

/** The chart's web Service of a release (port 80). */
export const webServiceOf = (release: string): string => `${release}-jitsi-meet-web`;

/** Pods of a chart component in every shard of the namespace (the cross-shard budgets). */
export const allShards = (component: string): Record<string, string> => ({ "app.kubernetes.io/name": "jitsi-meet", "app.kubernetes.io/component": component });

/** JWT app id: `iss`/`aud` of the tokens the adapter mints and Prosody accepts. */
export const JWT_APP_ID = "liiibre";
/** Port the adapter listens on (its image's default). */
export const ADAPTER_PORT = 9000;
/** Path prefix the adapter serves (`/oidc/auth`, `/oidc/tokenize`, `/oidc/health`). */
export const ADAPTER_PATH = "/oidc";

/** Redirect URIs of the adapter's Keycloak client: its own paths on the Jitsi host only. */
export const adapterRedirectUris = (host: string): string[] => [`https://${host}${ADAPTER_PATH}/*`];

/** Width matching a 16:9 height, rounded to an even number (720 → 1280). */
export const widthFor = (height: number): number => Math.round((height * 16) / 9 / 2) * 2;

/** Lowest simulcast height (docker-jitsi-meet default 180). */
export const RESOLUTION_MIN = 180;

/** The custom `config.js` lines: bitrate caps per simulcast layer. */
export function jitsiCustomConfig(caps: JitsiArgs["maxBitratesVideo"]): string {
  return [
    "config.videoQuality = config.videoQuality || {};",
    `config.videoQuality.maxBitratesVideo = ${JSON.stringify({ low: caps.low, standard: caps.standard, high: caps.high })};`,
    "config.disableDeepLinking = false;",
  ].join("\n");
}

/** Names of the Secrets the release reads (created by `JitsiMeet` from @pulumi/random; with `JitsiArgs.derived`, `jicofo` and `jvb` only, derived). */
export const JITSI_SECRETS = { jwt: "jitsi-jwt", jicofo: "jitsi-jicofo", jvb: "jitsi-jvb" } as const;

/**
 * Where a release with derived secrets (`JitsiArgs.derived`) reads its JWT secret: Prosody takes it
 * by key (`prosody.extraSecrets`, an env `valueFrom.secretKeyRef`) instead of `prosody.jwt`'s
 * whole-Secret `envFrom`; and the pods' restart annotations (`DERIVED_ANNOTATION`, through the
 * chart's `podAnnotations`) naming the derived values each reads.
 */
export interface JitsiDerivedValues {
  jwt: SecretRef;
}

/** The restart annotations of the chart's pods reading derived values (Prosody reads all three; Jicofo and the videobridge their own). */
export const jitsiPodDerivations = {
  prosody: { JWT_APP_SECRET: JITSI_PURPOSES.jwt, JICOFO_AUTH_PASSWORD: JITSI_PURPOSES.jicofo, JVB_AUTH_PASSWORD: JITSI_PURPOSES.jvb },
  jicofo: { JICOFO_AUTH_PASSWORD: JITSI_PURPOSES.jicofo },
  jvb: { JVB_AUTH_PASSWORD: JITSI_PURPOSES.jvb },
} as const;

/**
 * The `jitsi-meet` chart values (chart ≥ 2.0: Prosody is part of the chart, and the XMPP and
 * JWT secrets come from existing Secrets: `prosody.jwt.existingSecretName`,
 * `jicofo.xmpp.existingSecretName`, `jvb.xmpp.existingSecretName`, so no upgrade ever
 * generates new XMPP passwords). Only Prosody gets the JWT secret (with `derived`: by key from
 * the bundle's shared Secret, `JitsiDerivedValues`).
 */
export function jitsiValues(args: Pick<JitsiArgs, "host" | "resolution" | "maxBitratesVideo" | "frontReplicas" | "shards"> & { shard?: number; derived?: JitsiDerivedValues }): Record<string, unknown> {
  const front = args.frontReplicas ?? 1;
  const shards = args.shards ?? 1;
  const shard = args.shard ?? 1;
  const release = shardRelease(shard);
  const d = args.derived;
  const media = { [LABELS.nodeMedia]: "true" };
  const mediaToleration = [{ key: LABELS.nodeMedia, operator: "Equal", value: "true", effect: "NoSchedule" }];
  // Shards after the first keep their Prosody and Jicofo off the nodes of every other shard's
  // (the scheduler also applies an existing pod's required anti-affinity to newcomers, so shard
  // one's pods need no term of their own and keep their single-shard spec).
  const apartFromOtherShards =
    shard > 1
      ? {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: {
                    matchLabels: { "app.kubernetes.io/name": "jitsi-meet" },
                    matchExpressions: [
                      { key: "app.kubernetes.io/component", operator: "In", values: ["prosody", "jicofo"] },
                      { key: "app.kubernetes.io/instance", operator: "NotIn", values: [release] },
                    ],
                  },
                  topologyKey: HOSTNAME_TOPOLOGY,
                },
              ],
            },
          },
        }
      : {};
  const ingress =
    shards >= 2
      ? // The host goes to the shard router (an HTTPRoute of JitsiMeet), not to one shard's web.
        { enabled: false }
      : {
          enabled: true,
          ingressClassName: PLATFORM.ingressClass,
          annotations: ingressAnnotations(),
          hosts: [{ host: args.host, paths: ["/"] }],
          tls: [{ secretName: tlsSecretName(args.host), hosts: [args.host] }],
        };
  return {
    publicURL: `https://${args.host}`,
    enableAuth: true,
    enableGuests: true,
    websockets: { colibri: { enabled: true }, xmpp: { enabled: true } },
    extraCommonEnvs: {
      AUTH_TYPE: "jwt",
      JWT_APP_ID,
      JWT_ACCEPTED_ISSUERS: JWT_APP_ID,
      JWT_ACCEPTED_AUDIENCES: JWT_APP_ID,
      TOKEN_AUTH_URL: `https://${args.host}${ADAPTER_PATH}/auth?state={state}`,
      // Guests (no account) wait in the lobby until an authenticated host joins;
      // Jicofo itself does not authenticate (Prosody's token check does).
      JICOFO_ENABLE_AUTH: "false",
      XMPP_MODULES: "persistent_lobby",
      XMPP_MUC_MODULES: "muc_wait_for_host",
    },
    web: {
      // Stateless front: with 2+ replicas, one per node (a budget in JitsiMeet keeps one up).
      replicaCount: front,
      ...(front >= 2 ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: jitsiSelector("web", release) }, topologyKey: HOSTNAME_TOPOLOGY }] } } } : {}),
      extraEnvs: {
        RESOLUTION: String(args.resolution),
        RESOLUTION_MIN: String(Math.min(RESOLUTION_MIN, args.resolution)),
        RESOLUTION_WIDTH: String(widthFor(args.resolution)),
        RESOLUTION_WIDTH_MIN: String(widthFor(Math.min(RESOLUTION_MIN, args.resolution))),
      },
      custom: { configs: { _custom_config_js: jitsiCustomConfig(args.maxBitratesVideo) } },
      ingress,
      resources: resourcesFor("jitsi-web", 0),
    },
    prosody: {
      ...(d
        ? // By key from the bundle's shared Secret (templates/prosody/statefulset.yaml renders `extraSecrets` as env entries; without `jwt.secret` or `jwt.existingSecretName` it adds no JWT `envFrom`).
          { extraSecrets: [{ name: "JWT_APP_SECRET", valueFrom: { secretKeyRef: { name: d.jwt.name, key: d.jwt.key } } }], podAnnotations: derivedPodAnnotations(jitsiPodDerivations.prosody) }
        : { jwt: { existingSecretName: JITSI_SECRETS.jwt } }),
      resources: resourcesFor("jitsi-prosody", 0),
      ...apartFromOtherShards,
    },
    jicofo: { xmpp: { existingSecretName: JITSI_SECRETS.jicofo }, ...(d ? { podAnnotations: derivedPodAnnotations(jitsiPodDerivations.jicofo) } : {}), resources: resourcesFor("jitsi-jicofo", 0), ...apartFromOtherShards },
    jvb: {
      xmpp: { existingSecretName: JITSI_SECRETS.jvb },
      ...(d ? { podAnnotations: derivedPodAnnotations(jitsiPodDerivations.jvb) } : {}),
      UDPPort: 10000,
      useHostPort: true,
      useNodeIP: true,
      service: { enabled: false },
      nodeSelector: media,
      tolerations: mediaToleration,
      resources: resourcesFor("jitsi-jvb", 0),
    },
  };
}

/**
 * The release's secrets: the JWT secret (Prosody and the adapter) and the XMPP passwords of
 * Jicofo and the videobridge. Random, a Secret each (the default); or, with `derived`, derived
 * from the bundle's key, the JWT secret (and the adapter's OIDC client secret) in the bundle's
 * shared Secret, the XMPP passwords in their Secrets (read whole by the chart: `envFrom`),
 * annotated with their purposes.
 */
function jitsiSecrets(name: string, args: JitsiArgs, opts: pulumi.CustomResourceOptions): { jwtRef: SecretRef; secrets: pulumi.Input<pulumi.Resource>[] } {
  const d = args.derived;
  const xmpp = (id: "jicofo" | "jvb", keys: Record<string, pulumi.Input<string>>, passwordKey: string, password: pulumi.Input<string>) =>
    opaqueSecret(
      `${name}-${id}`,
      { name: JITSI_SECRETS[id], namespace: args.namespace, labels: args.labels, stringData: { ...keys, [passwordKey]: password }, ...(d ? { derived: { [passwordKey]: JITSI_PURPOSES[id] } } : {}) },
      opts,
    );
  if (!d) {
    const jwt = password(`${name}-jwt-secret`, { parent: opts.parent }, 48);
    const jicofo = password(`${name}-jicofo-password`, { parent: opts.parent });
    const jvb = password(`${name}-jvb-password`, { parent: opts.parent });
    const secrets = [
      opaqueSecret(`${name}-jwt`, { name: JITSI_SECRETS.jwt, namespace: args.namespace, labels: args.labels, stringData: { JWT_APP_SECRET: jwt.result } }, opts),
      xmpp("jicofo", {}, "JICOFO_AUTH_PASSWORD", jicofo.result),
      xmpp("jvb", { JVB_AUTH_USER: "jvb" }, "JVB_AUTH_PASSWORD", jvb.result),
    ];
    return { jwtRef: { name: JITSI_SECRETS.jwt, key: "JWT_APP_SECRET" }, secrets };
  }
  if (!args.auth.clientSecretPurpose) throw new Error(`${name}: derived secrets need the OIDC client secret's purpose label (auth.clientSecretPurpose)`);
  const held = d.secrets.appSecret(
    d.app,
    `${name}-secret`,
    {
      name: JITSI_DEDICATED_SECRET,
      namespace: args.namespace,
      labels: args.labels,
      stringData: { JWT_APP_SECRET: derivedSecret(d.key, JITSI_PURPOSES.jwt), [OIDC_SECRET_KEY]: d.oidcClientSecret },
      derived: { JWT_APP_SECRET: JITSI_PURPOSES.jwt, [OIDC_SECRET_KEY]: args.auth.clientSecretPurpose },
    },
    opts,
  );
  // The bundle registered the adapter's client with this very place (components/tenant/bundle.ts, the module's `derivedOidcSecret`).
  if (held.name !== args.auth.clientSecretName || held.key(OIDC_SECRET_KEY) !== (args.auth.clientSecretKey ?? OIDC_SECRET_KEY))
    throw new Error(`${name}: the bundle put the OIDC client secret in ${args.auth.clientSecretName}/${args.auth.clientSecretKey ?? OIDC_SECRET_KEY}, the release holds it in ${held.name}/${held.key(OIDC_SECRET_KEY)}`);
  const secrets = [
    held.ready,
    xmpp("jicofo", {}, "JICOFO_AUTH_PASSWORD", derivedSecret(d.key, JITSI_PURPOSES.jicofo)),
    xmpp("jvb", { JVB_AUTH_USER: "jvb" }, "JVB_AUTH_PASSWORD", derivedSecret(d.key, JITSI_PURPOSES.jvb)),
  ];
  return { jwtRef: { name: held.name, key: held.key("JWT_APP_SECRET") }, secrets };
}

export class JitsiMeet extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly release?: k8s.helm.v3.Release;
  /** Every shard's release, shard one first. */
  public readonly releases: k8s.helm.v3.Release[] = [];
  /** The shard router, with 2 shards or more. */
  public readonly router?: JitsiRouter;

  constructor(name: string, args: JitsiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:JitsiMeet", name, {}, opts);
    if (args.resolution > 720) throw new Error(`${name}: Jitsi resolution ${args.resolution} exceeds the offer's 720p cap`);
    const child = { parent: this, provider: args.provider };
    const objects = args.objects ?? ownResources();
    this.url = `https://${args.host}`;
    const { jwtRef, secrets } = jitsiSecrets(name, args, { ...child, dependsOn: args.dependsOn });
    if (args.enabled === false) {
      this.registerOutputs({ url: this.url });
      return;
    }
    const front = args.frontReplicas ?? 1;
    const shards = args.shards ?? 1;
    if (!Number.isInteger(shards) || shards < 1) throw new Error(`${name}: shards must be a positive integer, got ${shards}`);
    const shardNumbers = Array.from({ length: shards }, (_, i) => i + 1);
    // Each shard's web front: replicas spread over nodes, a budget per shard (shard one's keeps its name).
    for (const n of shardNumbers)
      podDisruptionBudget(
        n === 1 ? `${name}-web-pdb` : `${name}-shard-${n}-web-pdb`,
        { name: n === 1 ? "jitsi-web" : `${shardRelease(n)}-web`, namespace: args.namespace, replicas: front, matchLabels: jitsiSelector("web", shardRelease(n)), labels: args.labels },
        { ...child, dependsOn: args.dependsOn },
        objects,
      );
    // One Prosody, Jicofo and videobridge per shard: a budget across shards keeps one of each up through drains.
    for (const component of ["prosody", "jicofo", "jvb"])
      podDisruptionBudget(`${name}-${component}-pdb`, { name: `jitsi-${component}`, namespace: args.namespace, replicas: shards, matchLabels: allShards(component), labels: args.labels }, { ...child, dependsOn: args.dependsOn }, objects);
    if (shards >= 2)
      this.router = new JitsiRouter(
        `${name}-router`,
        { namespace: args.namespace, shards: shardNumbers.map((n) => ({ service: webServiceOf(shardRelease(n)), port: 80 })), labels: args.labels, provider: args.provider, dependsOn: args.dependsOn, objects },
        { parent: this },
      );
    podDisruptionBudget(
      `${name}-adapter-pdb`,
      { name: "jitsi-keycloak-adapter", namespace: args.namespace, replicas: front, matchLabels: { "app.kubernetes.io/name": "jitsi-keycloak-adapter", "app.kubernetes.io/instance": `${args.namespace}-jitsi-keycloak-adapter` }, labels: args.labels },
      { ...child, dependsOn: args.dependsOn },
      objects,
    );
    const labels = { ...args.labels, "app.kubernetes.io/component": "jitsi-keycloak-adapter" };
    const adapter = webApp(
      `${name}-adapter`,
      {
        name: "jitsi-keycloak-adapter",
        namespace: args.namespace,
        labels: { ...labels, "app.kubernetes.io/instance": `${args.namespace}-jitsi-keycloak-adapter` },
        image: `${IMAGES.jitsiKeycloakAdapter.repository}:${IMAGES.jitsiKeycloakAdapter.tag}`,
        containerPort: ADAPTER_PORT,
        replicas: args.frontReplicas ?? args.adapterReplicas ?? 1,
        resources: resourcesFor("jitsi-adapter", 0),
        probePath: "/health",
        nodeSelector: APPS_NODE_SELECTOR,
        objects,
        ...(args.auth.clientSecretPurpose
          ? { podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation({ OIDC_CLIENT_SECRET: args.auth.clientSecretPurpose, ...(args.derived ? { JWT_APP_SECRET: JITSI_PURPOSES.jwt } : {}) }) } }
          : {}),
        env: [
          { name: "KEYCLOAK_ORIGIN", value: args.auth.keycloakUrl },
          { name: "KEYCLOAK_ORIGIN_INTERNAL", value: args.auth.keycloakInternalUrl },
          { name: "KEYCLOAK_REALM", value: args.auth.realm },
          { name: "KEYCLOAK_CLIENT_ID", value: args.auth.clientId },
          { name: "KEYCLOAK_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: args.auth.clientSecretName, key: args.auth.clientSecretKey ?? OIDC_SECRET_KEY } } },
          { name: "JWT_APP_ID", value: JWT_APP_ID },
          { name: "JWT_APP_SECRET", valueFrom: { secretKeyRef: jwtRef } },
          // Kubernetes sets HOSTNAME to the pod name; the adapter binds to HOSTNAME.
          { name: "HOSTNAME", value: "0.0.0.0" },
          { name: "PORT", value: String(ADAPTER_PORT) },
          { name: "ALLOW_UNSECURE_CERT", value: "false" },
        ],
      },
      { ...child, dependsOn: secrets },
    );
    // `/oidc/` of the Jitsi host goes to the adapter: a Gateway API route beside the chart's
    // Ingress for `/` (Traefik ranks the HTTPRoute's path prefix above the Ingress router). The
    // chart's Ingress owns the certificate; this Gateway reuses its Secret. With shards, the
    // chart has no Ingress: the same route sends `/` to the shard router and its Gateway issues
    // the certificate (same Secret).
    const route = attachedRoute(
      `${name}-adapter`,
      {
        name: "jitsi-keycloak-adapter",
        namespace: args.namespace,
        host: args.host,
        labels,
        issueCertificate: !!this.router,
        rules: [
          { path: `${ADAPTER_PATH}/`, service: "jitsi-keycloak-adapter", port: 80 },
          ...(this.router ? [{ path: "/", service: JITSI_ROUTER, port: JITSI_ROUTER_SERVICE_PORT }] : []),
        ],
      },
      { ...child, dependsOn: [adapter.service, ...(this.router ? [this.router] : [])] },
      args.gateways,
      objects,
    );
    for (const n of shardNumbers) {
      const values = jitsiValues({ ...args, shard: n, derived: args.derived ? { jwt: jwtRef } : undefined });
      const releaseName = shardRelease(n);
      // Shard one's Ingress (single-shard layout) goes only once the router and its route serve
      // the host; each further shard waits for the one before it (Helm waits for its pods): a
      // chart bump restarts the shards one after the other, never all at once.
      const after = n === 1 ? (this.router ? [this.router, ...route] : []) : [this.releases[n - 2]];
      this.releases.push(
        helmRelease(n === 1 ? `${name}-release` : `${name}-shard-${n}-release`, CHARTS.jitsiMeet, { releaseName, namespace: args.namespace, values }, { ...child, dependsOn: [...secrets, ...after, ...objects.after()] }),
      );
    }
    this.release = this.releases[0];
    this.registerOutputs({ url: this.url, realm: args.auth.realm, clientId: args.auth.clientId });
  }
}

export const jitsiDedicatedModule: AppModule = {
  app: "jitsi-dedicated",
  workloads: ["jitsi-web", "jitsi-prosody", "jitsi-jicofo", "jitsi-adapter", "jitsi-jvb"],
  databases: [],
  // The bundle registers the adapter's client (`<slug>-jitsi-dedicated`, Secret `jitsi-dedicated-oidc`;
  // with derived bound secrets, entries of the bundle's shared Secret: `derivedOidcSecret`).
  oidc: true,
  derivedOidcSecret: JITSI_DEDICATED_SECRET,
  oidcPkce: false,
  redirectUris: (domain) => adapterRedirectUris(hostOf(HOST_PREFIXES.jitsi, domain)),
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const host = hostOf(HOST_PREFIXES.jitsi, ctx.domain);
    if (!ctx.oidc) throw new Error(`jitsi of ${ctx.slug}: the bundle registered no OIDC client for the Keycloak adapter`);
    // Derived bound secrets (the lean default): the JWT secret and XMPP passwords derive from the bundle's key too.
    const secrets = secretsOf(ctx);
    const derived = secrets.bound === "derived" && ctx.oidcClientSecret ? { key: ctx.secretKey, secrets, app: jitsiDedicatedModule.app, oidcClientSecret: ctx.oidcClientSecret } : undefined;
    const j = new JitsiMeet(
      `${ctx.slug}-jitsi`,
      {
        namespace: ctx.namespace,
        host,
        resolution: ctx.jitsi.resolution,
        maxBitratesVideo: ctx.jitsi.maxBitratesVideo,
        auth: {
          keycloakUrl: ctx.jitsi.keycloak.url,
          keycloakInternalUrl: ctx.jitsi.keycloak.internalUrl,
          realm: ctx.jitsi.keycloak.realm,
          clientId: ctx.oidc.clientId,
          clientSecretName: ctx.oidc.secretName,
          ...(ctx.oidc.secretKey ? { clientSecretKey: ctx.oidc.secretKey } : {}),
          clientSecretPurpose: oidcPurpose("jitsi-dedicated"),
        },
        labels: appLabels(ctx.slug, "jitsi"),
        provider: ctx.provider,
        enabled: ctx.state !== "decommissioned",
        adapterReplicas: replicasFor(ctx.state),
        gateways: ctx.gateways,
        objects: objectsOf(ctx),
        ...(derived ? { derived } : {}),
      },
      { parent },
    );
    return { urls: { jitsi: j.url }, hosts: [host] };
  },
};
