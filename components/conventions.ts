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
  /** Kubernetes node labels selecting pools. */
  nodeStorage: `${PREFIX}/storage`,
  nodeMedia: `${PREFIX}/media`,
  nodeIngress: `${PREFIX}/ingress`,
  nodeApps: `${PREFIX}/apps`,
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
} as const;

/** Hetzner Cloud label keys (hcloud labels accept the same prefixed keys). */
export const HCLOUD_LABELS = {
  role: `${PREFIX}/role`,
  pool: `${PREFIX}/pool`,
  location: `${PREFIX}/location`,
  cluster: `${PREFIX}/cluster`,
} as const;

/** The namespace of a tenant (dedicated bundle or the shared instance). */
export const tenantNamespace = (slug: string): string => slug;

/** The bucket of a tenant's app: `<slug>-<suffix>` (suffixes in components/config/apps.ts). */
export const bucketName = (slug: string, suffix: string): string => `${slug}-${suffix}`;

/**
 * Platform objects other layers refer to by name (the platform layer creates them; tenant
 * bundles and shared services only reference them).
 */
export const PLATFORM = {
  /** cert-manager ClusterIssuer every Ingress uses (`cert-manager.io/cluster-issuer`). */
  clusterIssuer: "letsencrypt",
  /** IngressClass of ingress-nginx. */
  ingressClass: "nginx",
  /** Namespace of the ingress controller (tenant NetworkPolicies admit traffic from it). */
  ingressNamespace: "ingress-nginx",
  /** Namespace of the primary MinIO (tenant NetworkPolicies allow egress to it). */
  minioNamespace: "minio",
  /** Namespace of the shared Keycloak. */
  keycloakNamespace: "keycloak",
  /** Namespace of the shared Jitsi Meet. */
  jitsiNamespace: "jitsi",
} as const;
