/**
 * The primary object store in Falkenstein: a MinIO Operator `Tenant` (minio.min.io/v2) on the
 * `storage`-labelled nodes (their taints tolerated), one pool of `storage.minio.servers`
 * servers × `drivesPerServer` drives of `driveSizeGB` GB (binary, so "Gi"), erasure-coded
 * across servers (one server per node: required pod anti-affinity). TLS inside the cluster
 * by the operator's auto-certificate; public TLS at the edge (a Gateway API route for `storage.s3Domain`,
 * Let's Encrypt). Prometheus metrics (v3 cluster usage, components/ops/minio-metrics.ts) without a bearer token.
 *
 * Root credentials: random, in the Secret `minio-env` (`config.env`, as the operator wants
 * it). A `@pulumi/minio` provider is configured against `storage.s3Domain` with them.
 * The namespace and the Tenant are protected and retained (their PVCs are the data).
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Estate } from "../config";
import { LABELS } from "../conventions";
import { publicRoute } from "../routes";
import { IMAGES } from "../versions";
import { adminOnlyMiddleware } from "../platform/access";
import { MINIO_TENANT_NAME, S3_REGION, STORAGE_NAMESPACE } from "./settings";

export interface PrimaryObjectStoreArgs {
  estate: Estate;
  provider: k8s.Provider;
  /** The MinIO Operator release (the Tenant CRD comes with it). */
  operator: pulumi.Resource;
}

export const PRIMARY_ROOT_USER = "liiibre-admin";
/** Secret holding `config.env` (root credentials) for the Tenant. */
export const MINIO_ENV_SECRET = "minio-env";
/** Service the operator creates for the Tenant's S3 API (443 with auto-cert TLS). */
export const MINIO_SERVICE = "minio";
/**
 * The primary MinIO from inside the cluster (the operator's certificate, signed by the cluster
 * CA, names this Service). In-cluster admin clients (the replication Jobs) use it: the public
 * host serves the admin API to the admin CIDRs only.
 */
export const MINIO_INTERNAL_HOST = `${MINIO_SERVICE}.${STORAGE_NAMESPACE}.svc.cluster.local`;
export const MINIO_INTERNAL_URL = `https://${MINIO_INTERNAL_HOST}`;
/** Paths of MinIO's admin API and metrics on the public S3 host (restricted to the admin CIDRs). */
export const MINIO_ADMIN_PATHS = ["/minio/admin", "/minio/v2/metrics", "/minio/metrics"];

/** Tolerations for every taint of the pools whose nodes carry the storage label. */
export function storageTolerations(estate: Estate): Array<{ key: string; operator: string; value?: string; effect: string }> {
  const seen = new Set<string>();
  const out: Array<{ key: string; operator: string; value?: string; effect: string }> = [];
  for (const pool of estate.nodePools) {
    if (pool.labels[LABELS.nodeStorage] !== "true") continue;
    for (const t of pool.taints) {
      const k = `${t.key}=${t.value}:${t.effect}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(t.value ? { key: t.key, operator: "Equal", value: t.value, effect: t.effect } : { key: t.key, operator: "Exists", effect: t.effect });
    }
  }
  return out;
}

export class PrimaryObjectStore extends pulumi.ComponentResource {
  public readonly provider: minio.Provider;
  public readonly rootPassword: pulumi.Output<string>;
  /** The arguments of `provider` (the platform contract carries them to tenant shards). */
  public readonly providerArgs: { minioServer: string; minioSsl: boolean; minioRegion: string; minioUser: string; minioPassword: pulumi.Output<string> };
  public readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: PrimaryObjectStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:PrimaryObjectStore", name, {}, opts);
    const { estate } = args;
    const m = estate.storage.minio;
    const o = { parent: this, provider: args.provider };

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      // Not labelled stateful: MinIO's drives are not backed up by k8up (a file copy of live erasure
      // shards is useless); every bucket is replicated to Helsinki instead.
      { metadata: { name: STORAGE_NAMESPACE, labels: { [LABELS.layer]: "platform" } } },
      { ...o, protect: true, retainOnDelete: true },
    );
    const password = new random.RandomPassword(`${name}-root-password`, { length: 48, special: false }, { parent: this, protect: true });
    this.rootPassword = pulumi.secret(password.result);
    const envSecret = new k8s.core.v1.Secret(
      `${name}-env`,
      {
        metadata: { name: MINIO_ENV_SECRET, namespace: STORAGE_NAMESPACE },
        type: "Opaque",
        stringData: pulumi.secret(
          password.result.apply((p) => ({
            "config.env": `export MINIO_ROOT_USER="${PRIMARY_ROOT_USER}"\nexport MINIO_ROOT_PASSWORD="${p}"\n`,
          })),
        ),
      },
      { ...o, dependsOn: [this.namespace] },
    );

    const podLabels = { "v1.min.io/tenant": MINIO_TENANT_NAME };
    const tenant = new k8s.apiextensions.CustomResource(
      `${name}-tenant`,
      {
        apiVersion: "minio.min.io/v2",
        kind: "Tenant",
        metadata: { name: MINIO_TENANT_NAME, namespace: STORAGE_NAMESPACE, labels: { [LABELS.layer]: "platform" } },
        spec: {
          image: `${IMAGES.minio.repository}:${IMAGES.minio.tag}`,
          configuration: { name: MINIO_ENV_SECRET },
          requestAutoCert: true,
          mountPath: "/export",
          podManagementPolicy: "Parallel",
          env: [
            { name: "MINIO_PROMETHEUS_AUTH_TYPE", value: "public" },
            { name: "MINIO_SITE_REGION", value: S3_REGION },
            { name: "MINIO_BROWSER", value: "off" },
          ],
          pools: [
            {
              name: "pool-0",
              servers: m.servers,
              volumesPerServer: m.drivesPerServer,
              volumeClaimTemplate: {
                metadata: { name: "data" },
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  storageClassName: m.storageClass,
                  resources: { requests: { storage: `${m.driveSizeGB}Gi` } },
                },
              },
              nodeSelector: { [LABELS.nodeStorage]: "true" },
              tolerations: storageTolerations(estate),
              affinity: {
                podAntiAffinity: m.spreadAcrossNodes
                  ? { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: podLabels }, topologyKey: "kubernetes.io/hostname" }] }
                  : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: podLabels }, topologyKey: "kubernetes.io/hostname" } }] },
              },
            },
          ],
        },
      },
      { ...o, dependsOn: [args.operator, envSecret], protect: true, retainOnDelete: true },
    );

    const host = estate.storage.s3Domain;
    // Public S3 through the edge (Gateway API). Bodies of any size, streamed unbuffered (Traefik's
    // defaults); the backend is HTTPS with the operator's certificate, which chains to the
    // cluster CA (`kube-root-ca.crt`, in every namespace) for the Service's cluster DNS name.
    // MinIO's admin API (users, policies, replication: the minio provider below and `mc admin`)
    // and its metrics share the host: rules of their own (longer prefixes than `/`: Gateway API
    // routes the longest match) with the admin CIDRs' allow-list (policy
    // admin-surfaces-restricted); the cluster's Prometheus scrapes the Service directly.
    const admin = adminOnlyMiddleware(estate.hetzner.adminCidrs, "s3-admin-allowlist");
    const route = publicRoute(
      `${name}-s3`,
      {
        name: "s3",
        namespace: STORAGE_NAMESPACE,
        host,
        middlewares: [admin],
        rules: [
          ...MINIO_ADMIN_PATHS.map((path) => ({ path, service: MINIO_SERVICE, port: 443, middlewares: [admin.name] })),
          { service: MINIO_SERVICE, port: 443, middlewares: [] },
        ],
        backendTls: { service: MINIO_SERVICE, caConfigMap: "kube-root-ca.crt", hostname: MINIO_INTERNAL_HOST },
      },
      { ...o, dependsOn: [tenant] },
    );

    this.providerArgs = { minioServer: `${host}:443`, minioSsl: true, minioRegion: S3_REGION, minioUser: PRIMARY_ROOT_USER, minioPassword: this.rootPassword };
    this.provider = new minio.Provider(
      `${name}-minio`,
      this.providerArgs,
      { parent: this, dependsOn: [tenant, ...route] },
    );
    this.registerOutputs({});
  }
}
