/**
 * Matrix: Synapse + Element Web from Element's `matrix-stack` chart (ess-helm, pinned).
 *
 * The offer's rules, in the values: end-to-end encryption off by default for new rooms
 * (`encryption_enabled_by_default_for_room_type: off`, and `io.element.e2ee.default: false`
 * in the client well-known), federation on (no `federation_domain_whitelist`; the server
 * well-known delegates federation to `matrix.<domain>:443`), media in the bundle's bucket
 * through synapse-s3-storage-provider, login through Keycloak (`oidc_providers`, the client
 * secret read from a mounted Secret with `client_secret_path`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify as toYaml } from "yaml";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS, IMAGES, SYNAPSE_S3_PROVIDER_LOCK } from "../versions";
import { PLATFORM } from "../conventions";
import { APPS_NODE_SELECTOR, appLabels, helmRelease, hostOf, opaqueSecret, password, replicasFor } from "./common";
import { resourcesFor } from "./sizing";
import type { AppContext, AppInstance, AppModule } from "./types";

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
export function s3ProviderInstallCommand(lock: typeof SYNAPSE_S3_PROVIDER_LOCK = SYNAPSE_S3_PROVIDER_LOCK): string[] {
  const hashed = lock.length > 0 && lock.every((p) => p.sha256);
  return [
    "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
    ...(hashed ? ["--require-hashes"] : []),
    "--target", "/s3-storage-provider", "-r", "/requirements/requirements.txt",
  ];
}

/** ConfigMap holding the provider's requirements file (mounted in the init container). */
export const S3_PROVIDER_REQUIREMENTS = "synapse-s3-provider-requirements";

/** Key id of the Synapse signing key (`ed25519 <id> <unpadded-compatible base64 seed>`). */
export const SIGNING_KEY_ID = "a_liiibre";

/** The `/.well-known/matrix/*` documents of a domain whose homeserver is `matrix.<domain>`. */
export function matrixWellKnown(domain: string): { client: Record<string, unknown>; server: Record<string, unknown> } {
  const hs = hostOf("matrix", domain);
  return {
    client: { "m.homeserver": { base_url: `https://${hs}` }, "io.element.e2ee": { default: false } },
    server: { "m.server": `${hs}:443` },
  };
}

/** Synapse settings that carry no secret (rendered into the chart's `synapse.additional`). */
export function synapseConfig(ctx: Pick<AppContext, "s3" | "oidc">, bucket: string): Record<string, unknown> {
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
        config: { bucket, region_name: ctx.s3.region, endpoint_url: ctx.s3.url },
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

export class Matrix extends pulumi.ComponentResource {
  public readonly homeserverUrl: string;
  public readonly elementUrl: string;
  public readonly hosts: string[];

  constructor(name: string, args: { ctx: AppContext }, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:Matrix", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "matrix");
    const hs = hostOf("matrix", ctx.domain);
    const chat = hostOf("chat", ctx.domain);
    this.hosts = [hs, chat];
    this.homeserverUrl = `https://${hs}`;
    this.elementUrl = `https://${chat}`;

    const macaroon = password(`${name}-macaroon`, { parent: this }, 64);
    const registration = password(`${name}-registration`, { parent: this }, 64);
    const form = password(`${name}-form-secret`, { parent: this }, 64);
    // The server's federation identity: other servers pin it. Protected; its Secret is kept
    // in every state.
    const signingSeed = new random.RandomBytes(`${name}-signing-key`, { length: 32 }, { parent: this, protect: true });
    const secret = opaqueSecret(
      `${name}-secrets`,
      {
        name: "synapse-liiibre",
        namespace: ctx.namespace,
        labels,
        stringData: {
          macaroon: macaroon.result,
          registration: registration.result,
          "signing.key": pulumi.interpolate`ed25519 ${SIGNING_KEY_ID} ${signingSeed.base64}`,
          "secrets.yaml": pulumi.interpolate`form_secret: "${form.result}"\n`,
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
    const requirements = new k8s.core.v1.ConfigMap(
      `${name}-s3-provider-requirements`,
      { metadata: { name: S3_PROVIDER_REQUIREMENTS, namespace: ctx.namespace, labels }, data: { "requirements.txt": s3ProviderRequirements() } },
      child,
    );
    const wk = matrixWellKnown(ctx.domain);
    const s3Env = [
      { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: ctx.storage.credentialsSecretName, key: "AWS_ACCESS_KEY_ID" } } },
      { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: ctx.storage.credentialsSecretName, key: "AWS_SECRET_ACCESS_KEY" } } },
      { name: "PYTHONPATH", value: "/s3-storage-provider" },
    ];
    const values = {
      serverName: ctx.domain,
      certManager: { clusterIssuer: PLATFORM.clusterIssuer },
      // No `controllerType`: its only value (`ingress-nginx`) adds nginx annotations; Synapse
      // enforces its own upload limit (media.maxUploadSize), Traefik sets none.
      ingress: { className: PLATFORM.ingressClass },
      // External pieces: CloudNativePG database, Keycloak (no MAS), the shared Jitsi.
      postgres: { enabled: false },
      matrixAuthenticationService: { enabled: false },
      matrixRTC: { enabled: false },
      elementAdmin: { enabled: false },
      synapse: {
        enabled: true,
        ingress: { host: hs },
        postgres: {
          host: db.host,
          port: db.port,
          user: "synapse",
          database: "synapse",
          sslMode: "prefer",
          password: { secret: db.appSecretName, secretKey: "password" },
        },
        macaroon: { secret: "synapse-liiibre", secretKey: "macaroon" },
        registrationSharedSecret: { secret: "synapse-liiibre", secretKey: "registration" },
        signingKey: { secret: "synapse-liiibre", secretKey: "signing.key" },
        additional: {
          "10-liiibre.yaml": { config: ctx.storage.buckets["matrix-media"].apply((bucket) => toYaml(synapseConfig(ctx, bucket))) },
          "20-liiibre-secrets.yaml": { configSecret: "synapse-liiibre", configSecretKey: "secrets.yaml" },
        },
        extraEnv: s3Env,
        extraInitContainers: [
          {
            name: "s3-storage-provider",
            image: `${IMAGES.python.repository}:${IMAGES.python.tag}`,
            command: s3ProviderInstallCommand(),
            volumeMounts: [
              { name: "s3-storage-provider", mountPath: "/s3-storage-provider" },
              { name: "s3-storage-provider-requirements", mountPath: "/requirements", readOnly: true },
            ],
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
          },
        ],
        extraVolumes: [
          { name: "s3-storage-provider", emptyDir: {} },
          { name: "s3-storage-provider-requirements", configMap: { name: S3_PROVIDER_REQUIREMENTS } },
          ...(ctx.oidc ? [{ name: "oidc", secret: { secretName: ctx.oidc.secretName } }] : []),
        ],
        extraVolumeMounts: [
          { name: "s3-storage-provider", mountPath: "/s3-storage-provider", readOnly: true },
          ...(ctx.oidc ? [{ name: "oidc", mountPath: "/secrets/oidc", readOnly: true }] : []),
        ],
        resources: resourcesFor("synapse", ctx.users),
        nodeSelector: APPS_NODE_SELECTOR,
      },
      elementWeb: {
        enabled: true,
        replicas: replicasFor(ctx.state),
        ingress: { host: chat },
        resources: resourcesFor("element-web", ctx.users),
        nodeSelector: APPS_NODE_SELECTOR,
      },
      haproxy: { resources: resourcesFor("matrix-haproxy", ctx.users), nodeSelector: APPS_NODE_SELECTOR },
      // Served on matrix.<domain>; the organisation publishes the same documents on its
      // apex domain (docs/dns.md) since its website lives there, not on the cluster.
      wellKnownDelegation: {
        enabled: true,
        ingress: { host: hs },
        resources: resourcesFor("matrix-wellknown", ctx.users),
        additional: { client: JSON.stringify(wk.client), server: JSON.stringify(wk.server) },
      },
    };
    helmRelease(`${name}-release`, CHARTS.matrixStack, { releaseName: "matrix", namespace: ctx.namespace, values }, { ...child, dependsOn: [secret, requirements] });
    this.registerOutputs({ homeserverUrl: this.homeserverUrl, elementUrl: this.elementUrl });
  }
}

export const matrixModule: AppModule = {
  app: "matrix",
  workloads: ["synapse", "element-web", "matrix-haproxy", "matrix-wellknown"],
  databases: ["synapse"],
  oidc: true,
  redirectUris: (domain) => [`https://${hostOf("matrix", domain)}/_synapse/client/oidc/callback`],
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const m = new Matrix(`${ctx.slug}-matrix`, { ctx }, { parent });
    return { urls: { matrix: m.homeserverUrl, element: m.elementUrl }, hosts: m.hosts };
  },
};
