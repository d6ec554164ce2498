/**
 * Names, labels and annotations shared by every component and read by the policy pack.
 *
 * Policies only see resources (never component arguments), so every fact a rule needs
 * about a tenant (its users, its per-user quota, its exemption, whether it holds data) is
 * written on real resources with these keys. Change a key here and the policies follow.
 */

/** Label/annotation prefix of the estate. */
export const PREFIX = "liiibre.org";

export const LABELS = {
  /** Tenant slug, on the tenant's namespace and every Kubernetes object of the tenant. */
  tenant: `${PREFIX}/tenant`,
  /** App name (`nextcloud`, `matrix`…) on an app's objects. */
  app: `${PREFIX}/app`,
  /** "true" on namespaces holding persistent data (PVCs, databases): they need a k8up Schedule. */
  stateful: `${PREFIX}/stateful`,
  /** "tenant" | "shared" | "platform": which layer a namespace belongs to. */
  layer: `${PREFIX}/layer`,
  /** "canary" | "stable" on a tenant namespace: its upgrade wave (components/versions.ts CANARY). */
  channel: `${PREFIX}/channel`,
  /** "active" | "suspended" | "decommissioned" on a tenant namespace: its lifecycle (the pool alert skips decommissioned ones). */
  state: `${PREFIX}/state`,
  /** Kubernetes node labels every node gets: its pool and its kind (`cloud` | `dedicated`). */
  nodePool: `${PREFIX}/pool`,
  nodeKind: `${PREFIX}/node-kind`,
  /** Kubernetes node labels selecting pools. */
  nodeStorage: `${PREFIX}/storage`,
  nodeMedia: `${PREFIX}/media`,
  nodeIngress: `${PREFIX}/ingress`,
  nodeApps: `${PREFIX}/apps`,
  /** The pool(s) monitoring runs on (components/platform/monitoring.ts); none: anywhere. */
  nodeMonitoring: `${PREFIX}/monitoring`,
  /** On a bundle's pods that may reach the Kubernetes API (a stateless Nextcloud's upgrade Job; components/tenant/networkPolicies.ts). */
  kubernetesApi: `${PREFIX}/kubernetes-api`,
} as const;

export const ANNOTATIONS = {
  /** Number of accounts of the organisation (on the tenant namespace). */
  users: `${PREFIX}/users`,
  /** Per-user quota in GB (binary, components/units.ts) (on the tenant namespace). */
  quotaPerUserGB: `${PREFIX}/quota-per-user-gb`,
  /** Reason of a quota exemption, when the tenant has one (on the tenant namespace). */
  quotaExemption: `${PREFIX}/quota-exemption`,
  /** Tenant plan: "dedicated" | "shared" (on the tenant namespace). */
  plan: `${PREFIX}/plan`,
  /** Which keys of a Secret are derived, and from which purpose label (on the Secret and the pods reading it; components/kit/secrets.ts). */
  derivedSecretKeys: `${PREFIX}/derived-secret-keys`,
  /** Digest of the config file a pod reads from a ConfigMap (on its pod template: a new config rolls the pods). */
  configSha256: `${PREFIX}/config-sha256`,
  /**
   * The primary MinIO user whose credentials (`AWS_ACCESS_KEY_ID`…) a Secret holds when that
   * Secret is not the user's own (a lean bundle's shared Secret): the estate twin's S3 checks
   * follow it (scripts/twin/checks/s3.ts).
   */
  s3User: `${PREFIX}/s3-user`,
  /**
   * On a Secret holding several apps' values (a lean bundle's shared Secret,
   * components/kit/bundleSecrets.ts): "true". Each reader must take single keys; the estate twin
   * refuses a pod or an operator reading it whole (scripts/twin/checks/references.ts).
   */
  sharedSecret: `${PREFIX}/shared-by-apps`,
  /** Digest of a configuration a pod reads at start (on the pod template: a new one rolls the pods). */
  configDigest: `${PREFIX}/config-sha256`,
} as const;

/** Hetzner Cloud label keys (hcloud labels accept the same prefixed keys). */
export const HCLOUD_LABELS = {
  role: `${PREFIX}/role`,
  /** The same key as the node label `LABELS.nodePool`. */
  pool: `${PREFIX}/pool`,
  location: `${PREFIX}/location`,
  cluster: `${PREFIX}/cluster`,
} as const;

/** The namespace of a tenant (dedicated bundle or the shared instance). */
export const tenantNamespace = (slug: string): string => slug;

/** The bucket of a tenant's app: `<slug>-<suffix>` (suffixes in components/config/apps.ts). */
export const bucketName = (slug: string, suffix: string): string => `${slug}-${suffix}`;

/**
 * Every namespace the platform layer creates or uses, by owner: the one home of these names.
 * Tenant slugs may not take any of them (`RESERVED_SLUGS` below); the modules that create them
 * (components/platform/common.ts, components/storage/settings.ts, components/ops/reboots.ts,
 * components/shared) read them from here.
 */
export const NAMESPACES = {
  /** The edge controller (Traefik) and its error pages. */
  ingress: "traefik",
  certManager: "cert-manager",
  monitoring: "monitoring",
  /** Cluster-wide helpers without their own namespace (local volume provisioner). */
  platform: "platform",
  /** Kubernetes' own (hcloud CCM and CSI, CoreDNS). */
  system: "kube-system",
  /** The primary MinIO tenant. */
  minio: "minio",
  minioOperator: "minio-operator",
  k8up: "k8up",
  /** CloudNativePG's operator. */
  cnpg: "cnpg-system",
  /** The shared Keycloak. */
  keycloak: "keycloak",
  /** The shared Jitsi Meet. */
  jitsi: "jitsi",
  /** Node reboots (kured). */
  kured: "kured",
} as const;

/**
 * Names a tenant slug (or the shared instance's slug) may not take: every namespace the platform
 * uses or may use (test/security-plan.test.ts checks the plan's namespaces are all here), Keycloak's
 * and the estate's own names, and names apps treat specially (Nextcloud's `admin` group…).
 * Slugs become namespaces, bucket prefixes, Keycloak client ids and group names (`org-<slug>`).
 * The order is the one the config error lists them in.
 */
export const RESERVED_SLUGS: string[] = [
  "default", NAMESPACES.system, "kube-public", "kube-node-lease", NAMESPACES.platform, "ingress-nginx", NAMESPACES.certManager,
  NAMESPACES.monitoring, NAMESPACES.minio, NAMESPACES.minioOperator, NAMESPACES.keycloak, NAMESPACES.jitsi, NAMESPACES.k8up, NAMESPACES.cnpg, "backup", "shared",
  NAMESPACES.kured,
  // Ingress controllers and gateways (Traefik is the edge, docs/ingress.md; ingress-nginx lingers during its migration).
  NAMESPACES.ingress, "gateway", "envoy-gateway-system", "gateway-system",
  // Names with a meaning in Keycloak, Nextcloud, Synapse or the estate.
  "admin", "admins", "administrator", "root", "master", "system", "liiibre", "everyone", "guest", "guests", "users", "org",
];
/** Prefixes no slug may start with (Kubernetes reserves `kube-`; `org-` is the group namespace). */
export const RESERVED_SLUG_PREFIXES = ["kube-", "org-", "liiibre-"];
export const isReservedSlug = (slug: string, extra: string[] = []): boolean =>
  RESERVED_SLUGS.includes(slug) || extra.includes(slug) || RESERVED_SLUG_PREFIXES.some((p) => slug.startsWith(p));

/**
 * Platform objects other layers refer to by name (the platform layer creates them; tenant
 * bundles and shared services only reference them). The edge is Traefik (docs/ingress.md):
 * charts' Ingress objects use the IngressClass, the program's own routes are Gateway API
 * HTTPRoutes on Gateways of the GatewayClass; cert-manager's HTTP-01 solver attaches its
 * HTTPRoutes to the platform Gateway's HTTP listener.
 */
export const PLATFORM = {
  /** cert-manager ClusterIssuer every certificate uses (`cert-manager.io/cluster-issuer`). */
  clusterIssuer: "letsencrypt",
  /** The annotation naming an object's ClusterIssuer (cert-manager's ingress- and gateway-shim read it). */
  clusterIssuerAnnotation: "cert-manager.io/cluster-issuer",
  /** Staging ClusterIssuer (untrusted certificates, generous rate limits) for trials. */
  clusterIssuerStaging: "letsencrypt-staging",
  /** IngressClass of the edge controller (Traefik), for the Ingress objects charts render. */
  ingressClass: "traefik",
  /** GatewayClass of the edge controller (Traefik's Gateway API provider), for the program's own routes. */
  gatewayClass: "traefik",
  /** Namespace of the edge controller (tenant NetworkPolicies admit traffic from it). */
  ingressNamespace: NAMESPACES.ingress,
  /** The platform Gateway (in `ingressNamespace`): HTTP listener for the HTTPS redirect and ACME HTTP-01. */
  gateway: "edge",
  /** Name of that Gateway's plain-HTTP listener (cert-manager's solver routes attach to it). */
  gatewayHttpListener: "web",
  /**
   * Ports of the edge's entry points, which are also the Gateway listeners' ports (Traefik maps
   * a listener to the entry point of the same port): 80 and 443 in both ingress modes.
   */
  edgePorts: { http: 80, https: 443 },
  /** Namespace of the primary MinIO (tenant NetworkPolicies allow egress to it). */
  minioNamespace: NAMESPACES.minio,
  /** Namespace of the shared Keycloak. */
  keycloakNamespace: NAMESPACES.keycloak,
  /** Namespace of the shared Jitsi Meet. */
  jitsiNamespace: NAMESPACES.jitsi,
} as const;
