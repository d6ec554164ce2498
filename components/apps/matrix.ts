/**
 * Matrix: Synapse + Element Web from Element's `matrix-stack` chart (ess-helm, pinned).
 *
 * The offer's rules, in the values: end-to-end encryption off by default for new rooms
 * (`encryption_enabled_by_default_for_room_type: off`, and `io.element.e2ee.default: false`
 * in the client well-known), federation on (no `federation_domain_whitelist`; the server
 * well-known delegates federation to `matrix.<domain>:443`), media in the bundle's bucket
 * through synapse-s3-storage-provider, login through Keycloak (`oidc_providers`, the client
 * secret read from a mounted Secret with `client_secret_path`).
 *
 * Only what the chart's values schema accepts (matrix-stack ≥ 26.1: `extraInitContainers`,
 * `extraVolumes`, `extraVolumeMounts`; `extraEnv` entries are `name`/`value` only): the S3
 * credentials reach boto3 as a mounted shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
 * key `credentials` of the storage layer's Secret), never as values.
 */
import * as pulumi from "@pulumi/pulumi";
import { stringify as toYaml } from "yaml";
import * as k8s from "@pulumi/kubernetes";
import { IMAGES, SYNAPSE_S3_PROVIDER_LOCK, chartPin } from "../versions";
import { PLATFORM } from "../conventions";
import { HOST_PREFIXES } from "../config/hosts";
import { attachedRoute, type PublicRouteArgs } from "../routes";
import { S3_CREDENTIALS_FILE_KEY } from "../storage/contracts";
import { APPS_NODE_SELECTOR, appLabels, hostOf, replicasFor } from "./common";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedSecret, helmRelease, opaqueSecret } from "../kit";
import { resourcesFor } from "./sizing";
import { OIDC_SECRET_KEY, objectsOf, oidcPurpose, secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";
import { synapseEmailConfig } from "../ops/mail";
import { podDisruptionBudget, spreadOverNodes } from "../ops/availability";

/** Version of synapse-s3-storage-provider installed next to Synapse (PyPI, exact; versions.ts). */
export const S3_STORAGE_PROVIDER_VERSION = SYNAPSE_S3_PROVIDER_LOCK.find((p) => p.name === "synapse-s3-storage-provider")!.version;

/** The pip requirements file of the provider: one exact pin per line, with its hash when known. */
export function s3ProviderRequirements(lock: typeof SYNAPSE_S3_PROVIDER_LOCK = SYNAPSE_S3_PROVIDER_LOCK): string {
  return lock.map((p) => `${p.name}==${p.version}${p.sha256 ? ` --hash=sha256:${p.sha256}` : ""}`).join("\n") + "\n";
}

/**
 * The init container's pip command: exactly the lock's wheels (`--no-deps`: no resolver,
 * `--only-binary=:all:`: nothing built at pod start), hash-checked once every pin has a hash.
 */
export function s3ProviderInstallCommand(lock: typeof SYNAPSE_S3_PROVIDER_LOCK = SYNAPSE_S3_PROVIDER_LOCK, requirements = "/requirements/requirements.txt"): string[] {
  const hashed = lock.length > 0 && lock.every((p) => p.sha256);
  return [
    "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
    ...(hashed ? ["--require-hashes"] : []),
    "--target", "/s3-storage-provider", "-r", requirements,
  ];
}

/** Environment variable holding the requirements file when it is inline (lean bundles). */
export const S3_PROVIDER_REQUIREMENTS_ENV = "S3_PROVIDER_REQUIREMENTS";

/**
 * The same install with the requirements file inline (lean bundles: no ConfigMap): the file's
 * text in `S3_PROVIDER_REQUIREMENTS_ENV`, piped to pip, which reads `-r /dev/stdin` as a
 * requirements file (pins and `--hash` options alike; the pipeline's status is pip's).
 */
export function s3ProviderInlineInstall(lock: typeof SYNAPSE_S3_PROVIDER_LOCK = SYNAPSE_S3_PROVIDER_LOCK): { command: string[]; env: Array<{ name: string; value: string }> } {
  return {
    command: ["sh", "-c", `printf '%s' "$${S3_PROVIDER_REQUIREMENTS_ENV}" | ${s3ProviderInstallCommand(lock, "/dev/stdin").join(" ")}`],
    env: [{ name: S3_PROVIDER_REQUIREMENTS_ENV, value: s3ProviderRequirements(lock) }],
  };
}

/** Pod selector of the chart's Element Web Deployment (release `matrix`). */
export const ELEMENT_WEB_SELECTOR = { "app.kubernetes.io/instance": "matrix-element-web" };
/** Pod labels of the chart's HAProxy (in front of Synapse and the well-known documents). */
export const MATRIX_HAPROXY_SELECTOR = { "app.kubernetes.io/instance": "matrix-haproxy" };

/**
 * Synapse worker types the shared instance runs twice (matrix-stack 26.8.1: the types its
 * schema gives no `maximum: 1`, i.e. that Synapse lets run as several instances), those taking
 * the read and inbound load: `/sync`, client reads, inbound federation, federation reads. The
 * main process stays one (Synapse runs one main process), and so does the chart's Redis the
 * workers talk through (a single standalone Redis: two would split the replication stream).
 */
export const SYNAPSE_HA_WORKERS = ["synchrotron", "client-reader", "federation-inbound", "federation-reader"] as const;
/** Requests/limits of each worker pod (by default the chart gives them the main process's). */
export const SYNAPSE_WORKER_RESOURCES = { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1536Mi" } };
/** Pod labels of a Synapse worker type's StatefulSet (`<release>-synapse-<type>`). */
export const synapseWorkerSelector = (type: string) => ({ "app.kubernetes.io/instance": `${MATRIX_RELEASE}-synapse-${type}` });

/** Whether a bundle runs Synapse workers: the shared instance (it hosts groups) with 2 instances. */
export const runsSynapseWorkers = (ctx: Pick<AppContext, "groups" | "instances">): boolean => ctx.groups !== undefined && (ctx.instances ?? 1) >= 2;

/** The worker pods of a bundle (for its ResourceQuota, components/tenant/quota.ts): none unless runsSynapseWorkers. */
export function synapseWorkerPods(ctx: Pick<AppContext, "groups" | "instances">): Array<{ count: number; requests: { cpuM: number; memMiB: number }; limits: { cpuM: number; memMiB: number } }> {
  if (!runsSynapseWorkers(ctx)) return [];
  const n = (q: string) => parseInt(q, 10);
  const r = SYNAPSE_WORKER_RESOURCES;
  return [{ count: SYNAPSE_HA_WORKERS.length * 2, requests: { cpuM: n(r.requests.cpu), memMiB: n(r.requests.memory) }, limits: { cpuM: n(r.limits.cpu), memMiB: n(r.limits.memory) } }];
}

/** `synapse.workers` of the chart: each HA worker type twice, spread over nodes (DoNotSchedule). */
export function synapseWorkers(): Record<string, unknown> {
  return Object.fromEntries(
    SYNAPSE_HA_WORKERS.map((w) => [w, { enabled: true, replicas: 2, resources: SYNAPSE_WORKER_RESOURCES, topologySpreadConstraints: spreadOverNodes(synapseWorkerSelector(w)) }]),
  );
}

/** ConfigMap holding the provider's requirements file (mounted in the init container). */
export const S3_PROVIDER_REQUIREMENTS = "synapse-s3-provider-requirements";

/** The app's Secret: macaroon key, registration secret, signing key, form secret, OIDC client secret, mail section. */
export const SYNAPSE_SECRET = "synapse-liiibre";
/** Key id of the Synapse signing key (`ed25519 <id> <unpadded-compatible base64 seed>`). */
export const SIGNING_KEY_ID = "a_liiibre";

/** The `/.well-known/matrix/*` documents of a domain whose homeserver is `matrix.<domain>`. */
export function matrixWellKnown(domain: string): { client: Record<string, unknown>; server: Record<string, unknown> } {
  const hs = hostOf(HOST_PREFIXES.matrix, domain);
  return {
    client: { "m.homeserver": { base_url: `https://${hs}` }, "io.element.e2ee": { default: false } },
    server: { "m.server": `${hs}:443` },
  };
}

/** Synapse settings that carry no secret (rendered into the chart's `synapse.additional`). */
export function synapseConfig(ctx: Pick<AppContext, "s3" | "oidc">, bucket: string, prefix = ""): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    encryption_enabled_by_default_for_room_type: "off",
    enable_registration: false,
    media_storage_providers: [
      {
        module: "s3_storage_provider.S3StorageProviderBackend",
        store_local: true,
        store_remote: true,
        store_synchronous: true,
        // Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3 environment).
        // `prefix`: before every key (the organisation bucket's `matrix-media/`); it cannot change once media is stored.
        config: { bucket, region_name: ctx.s3.region, endpoint_url: ctx.s3.url, ...(prefix ? { prefix } : {}) },
      },
    ],
  };
  if (ctx.oidc) {
    cfg.oidc_providers = [
      {
        idp_id: "keycloak",
        idp_name: "Liiibre",
        issuer: ctx.oidc.issuer,
        client_id: ctx.oidc.clientId,
        client_secret_path: "/secrets/oidc/OIDC_CLIENT_SECRET",
        scopes: ["openid", "profile", "email"],
        allow_existing_users: true,
        backchannel_logout_enabled: true,
        // Defence in depth behind Keycloak's members-only flow: the bundle's access role.
        attribute_requirements: [{ attribute: ctx.oidc.accessClaim, value: ctx.oidc.accessRole }],
        user_mapping_provider: {
          config: {
            localpart_template: "{{ user.preferred_username }}",
            display_name_template: "{{ user.name }}",
            email_template: "{{ user.email }}",
          },
        },
      },
    ];
    cfg.password_config = { enabled: false };
  }
  return cfg;
}

/** Release name of the chart in a bundle's namespace (its objects are `matrix-*`). */
export const MATRIX_RELEASE = "matrix";
/** Where Synapse's containers mount the S3 credentials file. */
export const S3_CREDENTIALS_MOUNT = "/secrets/s3";
/**
 * Objects the chart names after the release: the Service of its well-known server (HAProxy,
 * port `haproxy-wkd`) and the TLS Secret cert-manager fills for the Synapse host.
 */
export const WELL_KNOWN_SERVICE = `${MATRIX_RELEASE}-well-known`;
export const SYNAPSE_TLS_SECRET = `${MATRIX_RELEASE}-synapse-certmanager-tls`;

/** What the `matrix-stack` values of a bundle are computed from (plain data). */
export interface MatrixValuesInput {
  ctx: Pick<AppContext, "domain" | "users" | "state" | "s3" | "oidc" | "mail" | "instances"> & Partial<Pick<AppContext, "groups">>;
  database: { host: string; port: number; appSecretName: string };
  /** The bundle's media bucket. */
  bucket: string;
  /** Where the media go in it ("" or a prefix ending with "/"). Default "": the bucket's root. */
  prefix?: string;
  /** The storage layer's credentials Secret (has `S3_CREDENTIALS_FILE_KEY`). */
  credentialsSecretName: string;
  /** Lean bundles: the provider's requirements inline in its init container (no ConfigMap). Default false. */
  inlineRequirements?: boolean;
  /**
   * Keys of the app's Secret derived from the bundle's key → purpose (`DERIVED_ANNOTATION` on the
   * Synapse pods): a change of derivation restarts them, as every other reader. Default none.
   */
  derived?: Record<string, string>;
}

/** The `matrix-stack` chart values of a bundle. */
export function matrixValues(i: MatrixValuesInput): Record<string, unknown> {
  const { ctx } = i;
  const hs = hostOf(HOST_PREFIXES.matrix, ctx.domain);
  const wk = matrixWellKnown(ctx.domain);
  const webReplicas = ctx.instances ?? 1;
  return {
    serverName: ctx.domain,
    certManager: { clusterIssuer: PLATFORM.clusterIssuer },
    // No `controllerType`: its only value (`ingress-nginx`) adds nginx annotations; Synapse
    // enforces its own upload limit (media.maxUploadSize), Traefik sets none.
    ingress: { className: PLATFORM.ingressClass },
    // No chart Job talking to the Kubernetes API from the tenant namespace: its NetworkPolicies
    // give no egress to the API server (the pre-install hooks would fail and the release roll
    // back), and every secret the chart could generate comes from @pulumi/random
    // (Secret synapse-liiibre) — initSecrets would only add an expiry config for keys it made
    // itself. The deployment markers guard value transitions of MAS, which is off.
    initSecrets: { enabled: false },
    deploymentMarkers: { enabled: false },
    // External pieces: CloudNativePG database, Keycloak (no MAS), the shared Jitsi.
    postgres: { enabled: false },
    matrixAuthenticationService: { enabled: false },
    matrixRTC: { enabled: false },
    elementAdmin: { enabled: false },
    synapse: {
      enabled: true,
      // Synapse reads its Secret's values at start only (the OIDC client secret from a file):
      // matrix-stack 26.8 puts `synapse.annotations` on the StatefulSets and their pod templates,
      // and its own secret hash covers only the secrets given as values, none here.
      ...(i.derived && Object.keys(i.derived).length ? { annotations: { [DERIVED_ANNOTATION]: derivedAnnotation(i.derived) } } : {}),
      ingress: { host: hs },
      postgres: {
        host: i.database.host,
        port: i.database.port,
        user: "synapse",
        database: "synapse",
        sslMode: "prefer",
        password: { secret: i.database.appSecretName, secretKey: "password" },
      },
      macaroon: { secret: SYNAPSE_SECRET, secretKey: "macaroon" },
      registrationSharedSecret: { secret: SYNAPSE_SECRET, secretKey: "registration" },
      signingKey: { secret: SYNAPSE_SECRET, secretKey: "signing.key" },
      additional: {
        "10-liiibre.yaml": { config: toYaml(synapseConfig(ctx, i.bucket, i.prefix)) },
        "20-liiibre-secrets.yaml": { configSecret: SYNAPSE_SECRET, configSecretKey: "secrets.yaml" },
        // Notifications through the relay (liiibre:mail): the section holds smtp_pass, so a Secret key.
        ...(ctx.mail ? { "30-liiibre-mail.yaml": { configSecret: SYNAPSE_SECRET, configSecretKey: "mail.yaml" } } : {}),
      },
      extraEnv: [
        // boto3 reads the credentials from this file (its default chain); the chart takes no secretKeyRef env.
        { name: "AWS_SHARED_CREDENTIALS_FILE", value: `${S3_CREDENTIALS_MOUNT}/${S3_CREDENTIALS_FILE_KEY}` },
        { name: "PYTHONPATH", value: "/s3-storage-provider" },
      ],
      extraInitContainers: [
        {
          name: "s3-storage-provider",
          image: `${IMAGES.python.repository}:${IMAGES.python.tag}`,
          ...(i.inlineRequirements
            ? { ...s3ProviderInlineInstall(), volumeMounts: [{ name: "s3-storage-provider", mountPath: "/s3-storage-provider" }] }
            : {
                command: s3ProviderInstallCommand(),
                volumeMounts: [
                  { name: "s3-storage-provider", mountPath: "/s3-storage-provider" },
                  { name: "s3-storage-provider-requirements", mountPath: "/requirements", readOnly: true },
                ],
              }),
          resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        },
      ],
      extraVolumes: [
        { name: "s3-storage-provider", emptyDir: {} },
        ...(i.inlineRequirements ? [] : [{ name: "s3-storage-provider-requirements", configMap: { name: S3_PROVIDER_REQUIREMENTS } }]),
        { name: "s3-credentials", secret: { secretName: i.credentialsSecretName, items: [{ key: S3_CREDENTIALS_FILE_KEY, path: S3_CREDENTIALS_FILE_KEY }] } },
        // Only the client secret of the app's Secret (its other keys reach Synapse through the chart).
        ...(ctx.oidc ? [{ name: "oidc", secret: { secretName: ctx.oidc.secretName, items: [{ key: ctx.oidc.secretKey ?? OIDC_SECRET_KEY, path: OIDC_SECRET_KEY }] } }] : []),
      ],
      extraVolumeMounts: [
        { name: "s3-storage-provider", mountPath: "/s3-storage-provider", readOnly: true },
        { name: "s3-credentials", mountPath: S3_CREDENTIALS_MOUNT, readOnly: true },
        ...(ctx.oidc ? [{ name: "oidc", mountPath: "/secrets/oidc", readOnly: true }] : []),
      ],
      resources: resourcesFor("synapse", ctx.users),
      nodeSelector: APPS_NODE_SELECTOR,
      ...(runsSynapseWorkers(ctx) && ctx.state === "active" ? { workers: synapseWorkers() } : {}),
    },
    elementWeb: {
      enabled: true,
      // Stateless: with `ha`, two replicas spread over nodes, with a budget (Matrix); suspended: 0.
      replicas: replicasFor(ctx.state, webReplicas),
      ...(webReplicas >= 2 ? { topologySpreadConstraints: spreadOverNodes(ELEMENT_WEB_SELECTOR) } : {}),
      ingress: { host: hostOf(HOST_PREFIXES.element, ctx.domain) },
      resources: resourcesFor("element-web", ctx.users),
      nodeSelector: APPS_NODE_SELECTOR,
    },
    // HAProxy also serves the well-known documents (no pod of their own).
    // With `ha`: twice (stateless), spread, with a budget (Matrix); it routes every Synapse request.
    haproxy: {
      replicas: replicasFor(ctx.state, webReplicas),
      ...(webReplicas >= 2 ? { topologySpreadConstraints: spreadOverNodes(MATRIX_HAPROXY_SELECTOR) } : {}),
      resources: resourcesFor("matrix-haproxy", ctx.users),
      nodeSelector: APPS_NODE_SELECTOR,
    },
    // The chart's well-known Ingress is on the server name: the organisation's apex, where its
    // website lives, not on the cluster. So no certificate there (cert-manager could never
    // validate it) and no redirect of its "/" to Element; the organisation serves or redirects
    // the documents (docs/dns.md), and `matrixWellKnownRoute` also serves them on matrix.<domain>.
    wellKnownDelegation: {
      enabled: true,
      ingress: { tlsEnabled: false },
      baseDomainRedirect: { enabled: false },
      additional: { client: JSON.stringify(wk.client), server: JSON.stringify(wk.server) },
    },
  };
}

/** Port of the chart's well-known Service (`<release>-well-known`, port `haproxy-wkd`). */
export const WELL_KNOWN_PORT = 8010;

/**
 * The route serving `/.well-known/matrix/*` on the homeserver host from the chart's well-known
 * server, for organisations that redirect their apex's documents there (a Gateway API route of
 * the program, ranked by Traefik above the chart's Synapse Ingress for `/`). It reuses the
 * certificate of the chart's Synapse Ingress (same host): its Gateway asks cert-manager for
 * none, or two Certificates would fight over one Secret.
 */
export function matrixWellKnownRoute(domain: string, namespace: string, labels: Record<string, string>): PublicRouteArgs {
  return {
    name: `${MATRIX_RELEASE}-well-known-homeserver`,
    namespace,
    host: hostOf(HOST_PREFIXES.matrix, domain),
    labels,
    tlsSecret: SYNAPSE_TLS_SECRET,
    issueCertificate: false,
    rules: [{ path: "/.well-known/matrix", service: WELL_KNOWN_SERVICE, port: WELL_KNOWN_PORT }],
  };
}

export class Matrix extends pulumi.ComponentResource {
  public readonly homeserverUrl: string;
  public readonly elementUrl: string;
  public readonly hosts: string[];

  constructor(name: string, args: { ctx: AppContext }, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:Matrix", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "matrix");
    const hs = hostOf(HOST_PREFIXES.matrix, ctx.domain);
    const chat = hostOf(HOST_PREFIXES.element, ctx.domain);
    this.hosts = [hs, chat];
    this.homeserverUrl = `https://${hs}`;
    this.elementUrl = `https://${chat}`;

    // Bound: the macaroon key signs access tokens (a new one logs everyone out). Rotatable, so
    // derived from the bundle's key: the admin registration secret, the consent forms' HMAC key
    // and the OIDC client secret (Keycloak and this Secret change together).
    // Bound ones are each their own protected resource, or (a lean bundle created so) derived
    // from the bundle's key (components/kit/bundleSecrets.ts).
    const secrets = secretsOf(ctx);
    const macaroon = secrets.boundPassword("matrix/macaroon", `${name}-macaroon`, { parent: this }, 64);
    const registration = derivedSecret(ctx.secretKey, "matrix/registration");
    const form = derivedSecret(ctx.secretKey, "matrix/form-secret");
    const derived: Record<string, string> = { registration: "matrix/registration", "secrets.yaml": "matrix/form-secret" };
    if (ctx.oidcClientSecret) derived[OIDC_SECRET_KEY] = oidcPurpose("matrix");
    // The server's federation identity: other servers pin it. Protected; its Secret is kept
    // in every state.
    // Derived: the HMAC's 32 bytes are the ed25519 seed (any 32 bytes are one), unpadded base64.
    const signingSeed = secrets.boundSeed("matrix/signing-key", `${name}-signing-key`, { parent: this });
    if (macaroon.derived) derived.macaroon = macaroon.derived;
    if (signingSeed.derived) derived["signing.key"] = signingSeed.derived;
    // Its own Secret in every layout: matrix-stack mounts every Secret it is given whole, so a
    // shared one would show Synapse the other apps' values.
    const secret = opaqueSecret(
      `${name}-secrets`,
      {
        name: SYNAPSE_SECRET,
        namespace: ctx.namespace,
        labels,
        derived,
        stringData: {
          macaroon: macaroon.value,
          registration,
          "signing.key": pulumi.interpolate`ed25519 ${SIGNING_KEY_ID} ${signingSeed.value}`,
          "secrets.yaml": pulumi.interpolate`form_secret: "${form}"\n`,
          ...(ctx.oidcClientSecret ? { [OIDC_SECRET_KEY]: ctx.oidcClientSecret } : {}),
          // Notifications through the relay (liiibre:mail): the section holds smtp_pass.
          ...(ctx.mail && ctx.mailPassword ? { "mail.yaml": ctx.mailPassword.apply((p) => toYaml(synapseEmailConfig(ctx.mail!, p))) } : {}),
        },
      },
      child,
    );
    const db = ctx.databases.synapse;
    if (!db) throw new Error(`matrix of ${ctx.slug}: the bundle did not create the "synapse" database`);
    if (ctx.state === "decommissioned") {
      this.registerOutputs({ homeserverUrl: this.homeserverUrl });
      return;
    }
    // Lean bundles inline the requirements in the init container (no ConfigMap).
    const inlineRequirements = ctx.dataLayout === "lean";
    const objects = objectsOf(ctx);
    const requirements = inlineRequirements
      ? undefined
      : objects.add(
          k8s.core.v1.ConfigMap,
          `${name}-s3-provider-requirements`,
          { metadata: { name: S3_PROVIDER_REQUIREMENTS, namespace: ctx.namespace, labels }, data: { "requirements.txt": s3ProviderRequirements() } },
          child,
        );
    const values = pulumi
      .all([db.host, db.appSecretName, ctx.storage.buckets["matrix-media"], ctx.storage.credentialsSecretName])
      .apply(([host, appSecretName, bucket, credentialsSecretName]) =>
        matrixValues({ ctx, database: { host, port: db.port, appSecretName }, bucket, prefix: ctx.storage.prefixes["matrix-media"] ?? "", credentialsSecretName, derived, ...(inlineRequirements ? { inlineRequirements } : {}) }),
      );
    const webReplicas = ctx.instances ?? 1;
    if (ctx.state === "active") {
      podDisruptionBudget(`${name}-element-web-pdb`, { name: "element-web", namespace: ctx.namespace, replicas: webReplicas, matchLabels: ELEMENT_WEB_SELECTOR, labels }, child, objects);
      podDisruptionBudget(`${name}-haproxy-pdb`, { name: "matrix-haproxy", namespace: ctx.namespace, replicas: webReplicas, matchLabels: MATRIX_HAPROXY_SELECTOR, labels }, child, objects);
      if (runsSynapseWorkers(ctx))
        for (const w of SYNAPSE_HA_WORKERS)
          podDisruptionBudget(`${name}-synapse-${w}-pdb`, { name: `synapse-${w}`, namespace: ctx.namespace, replicas: 2, matchLabels: synapseWorkerSelector(w), labels }, child, objects);
    }
    // After the bundle's objects (its quota, limit range and NetworkPolicies) when they are one release.
    const release = helmRelease(
      `${name}-release`,
      chartPin("matrixStack", ctx.channel),
      { releaseName: MATRIX_RELEASE, namespace: ctx.namespace, values },
      { ...child, dependsOn: [...(requirements ? [secret, requirements] : [secret]), ...objects.after()] },
    );
    // Bundled, the route is an entry of the objects release, which the chart's release waits for:
    // it cannot wait for the chart in turn (a cycle). Gateway API accepts a route whose backend
    // Service does not exist yet (ResolvedRefs false) and serves it once the chart creates it.
    attachedRoute(`${name}-well-known`, matrixWellKnownRoute(ctx.domain, ctx.namespace, labels), { ...child, dependsOn: objects.bundled ? [] : [release] }, ctx.gateways, objects);
    this.registerOutputs({ homeserverUrl: this.homeserverUrl, elementUrl: this.elementUrl });
  }
}

export const matrixModule: AppModule = {
  app: "matrix",
  workloads: ["synapse", "element-web", "matrix-haproxy"],
  // With `ha`: Element Web and the chart's HAProxy twice, each full size (matrixValues).
  replicated: { "element-web": "full", "matrix-haproxy": "full" },
  databases: ["synapse"],
  oidc: true,
  oidcSecret: SYNAPSE_SECRET,
  // matrix-stack mounts its Secrets whole: never the bundle's shared one.
  ownSecret: true,
  redirectUris: (domain) => [`https://${hostOf(HOST_PREFIXES.matrix, domain)}/_synapse/client/oidc/callback`],
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const m = new Matrix(`${ctx.slug}-matrix`, { ctx }, { parent });
    return { urls: { matrix: m.homeserverUrl, element: m.elementUrl }, hosts: m.hosts };
  },
};
