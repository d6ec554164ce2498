/**
 * Helpers shared by the policies: reading resource shapes (namespaces, Helm releases, custom
 * resources, hcloud objects) the way the real analyzer hands them over, and the conventions
 * (labels, annotations) the components write on resources.
 *
 * Everything here reads `props` through the analyzer's unknown-checking proxy: touching a value
 * unknown during preview throws `UnknownValueError`. Helpers never swallow it; each policy
 * decides (see `eachResource`).
 */
import type { ReportViolation, ResourceValidationArgs, StackValidationArgs, PolicyResource } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";
import { ANNOTATIONS, LABELS } from "../components/conventions";

export { ANNOTATIONS, LABELS };

export const TYPES = {
  namespace: "kubernetes:core/v1:Namespace",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  resourceQuota: "kubernetes:core/v1:ResourceQuota",
  limitRange: "kubernetes:core/v1:LimitRange",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  k8upSchedule: "kubernetes:k8up.io/v1:Schedule",
  cnpgCluster: "kubernetes:postgresql.cnpg.io/v1:Cluster",
  barmanObjectStore: "kubernetes:barmancloud.cnpg.io/v1:ObjectStore",
  bucket: "minio:index/s3Bucket:S3Bucket",
  bucketPolicy: "minio:index/s3BucketPolicy:S3BucketPolicy",
  bucketVersioning: "minio:index/s3BucketVersioning:S3BucketVersioning",
  hcloudServer: "hcloud:index/server:Server",
  hcloudVolume: "hcloud:index/volume:Volume",
  hcloudFirewall: "hcloud:index/firewall:Firewall",
  hcloudLoadBalancer: "hcloud:index/loadBalancer:LoadBalancer",
  hcloudStorageBox: "hcloud:index/storageBox:StorageBox",
  hcloudPrimaryIp: "hcloud:index/primaryIp:PrimaryIp",
  hcloudFloatingIp: "hcloud:index/floatingIp:FloatingIp",
} as const;

/** Kubernetes workload kinds whose pod template carries containers. */
export const WORKLOAD_TYPES = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:batch/v1:CronJob",
  "kubernetes:core/v1:Pod",
];

export type Props = Record<string, any>;

/** Policy config: the schema defaults, overridden by what the pack config sets. */
export function config<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  return { ...defaults, ...(args.getConfig<Partial<T>>() ?? {}) };
}

// ---------------------------------------------------------------------------------------
// Facts the offline runner knows and the real analyzer does not hand to policies
// ---------------------------------------------------------------------------------------

/**
 * The real analyzer (@pulumi/policy 1.21) unwraps secrets before a policy sees `props`, and its
 * `opts` has no `retainOnDelete`. The offline runner (scripts/check-policies.ts) knows both and
 * attaches them as `args.liiibreOffline`; policies use them when present and fall back to what
 * the analyzer shows otherwise (documented per policy in docs/policies.md).
 */
export interface OfflineFacts {
  retainOnDelete: boolean;
  /** Paths (`a.b.0.c`) of the input values that are secret (a secret object covers its children). */
  secretPaths: ReadonlySet<string>;
}
export function offlineFacts(args: object): OfflineFacts | undefined {
  return (args as { liiibreOffline?: OfflineFacts }).liiibreOffline;
}
export function isSecretPath(facts: OfflineFacts, path: Array<string | number>): boolean {
  for (let i = path.length; i > 0; i--) if (facts.secretPaths.has(path.slice(0, i).join("."))) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// Reading values
// ---------------------------------------------------------------------------------------

export const isObject = (v: unknown): v is Props => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads `obj.a.b.c` (undefined when a step is missing). Throws UnknownValueError on unknowns. */
export function get(obj: unknown, ...path: Array<string | number>): any {
  let cur: any = obj;
  for (const k of path) {
    if (cur === undefined || cur === null || typeof cur !== "object") return undefined;
    cur = cur[k];
  }
  return cur;
}

export interface Leaf {
  path: Array<string | number>;
  key: string | number;
  value: unknown;
}

/** Every scalar leaf of a value (depth first). Throws UnknownValueError on unknowns. */
export function leaves(value: unknown, path: Array<string | number> = []): Leaf[] {
  const out: Leaf[] = [];
  const walk = (v: unknown, p: Array<string | number>) => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], [...p, i]);
    } else if (isObject(v)) {
      for (const k of Object.keys(v)) walk(v[k], [...p, k]);
    } else {
      out.push({ path: p, key: p[p.length - 1] ?? "", value: v });
    }
  };
  walk(value, path);
  return out;
}

/** Every object node of a value, with its path (the value itself first). */
export function objects(value: unknown, path: Array<string | number> = []): Array<{ path: Array<string | number>; value: Props }> {
  const out: Array<{ path: Array<string | number>; value: Props }> = [];
  const walk = (v: unknown, p: Array<string | number>) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (isObject(v)) {
      out.push({ path: p, value: v });
      for (const k of Object.keys(v)) walk(v[k], [...p, k]);
    }
  };
  walk(value, path);
  return out;
}

/** Every string in a value, for searching embedded configuration (YAML, JS, shell). */
export const strings = (value: unknown): string[] => leaves(value).filter((l) => typeof l.value === "string").map((l) => l.value as string);

// ---------------------------------------------------------------------------------------
// Kubernetes shapes
// ---------------------------------------------------------------------------------------

export const metadata = (props: Props): Props => (isObject(props.metadata) ? props.metadata : {});
export const labels = (props: Props): Record<string, string> => (isObject(metadata(props).labels) ? metadata(props).labels : {});
export const annotations = (props: Props): Record<string, string> => (isObject(metadata(props).annotations) ? metadata(props).annotations : {});

/** Namespace a Kubernetes object or Helm release is in (`default` when unset, like kubectl). */
export function namespaceOf(type: string, props: Props): string {
  if (type === TYPES.helmRelease) return typeof props.namespace === "string" ? props.namespace : "default";
  if (type === TYPES.namespace) return metadata(props).name;
  return typeof metadata(props).namespace === "string" ? metadata(props).namespace : "default";
}

/** The facts a tenant namespace carries (components/conventions.ts). */
export interface TenantNamespace {
  urn: string;
  name: string;
  tenant: string;
  layer: string | undefined;
  plan: string | undefined;
  users: number | undefined;
  quotaPerUserGB: number | undefined;
  exemption: string | undefined;
  stateful: boolean;
}

const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** Reads a Namespace's tenant facts; undefined when it is not a tenant namespace. */
export function tenantNamespace(urn: string, props: Props): TenantNamespace | undefined {
  const l = labels(props);
  const tenant = l[LABELS.tenant];
  if (!tenant) return undefined;
  const a = annotations(props);
  return {
    urn,
    name: metadata(props).name ?? tenant,
    tenant,
    layer: l[LABELS.layer],
    plan: a[ANNOTATIONS.plan],
    users: num(a[ANNOTATIONS.users]),
    quotaPerUserGB: num(a[ANNOTATIONS.quotaPerUserGB]),
    exemption: typeof a[ANNOTATIONS.quotaExemption] === "string" && a[ANNOTATIONS.quotaExemption].trim() ? a[ANNOTATIONS.quotaExemption].trim() : undefined,
    stateful: l[LABELS.stateful] === "true",
  };
}

/** Helm chart name of a release (`repo/chart` or an OCI/URL reference reduced to its last segment). */
export function chartName(props: Props): string {
  const chart = typeof props.chart === "string" ? props.chart : "";
  return chart.split("/").pop()!.replace(/\.tgz$/, "");
}

/** Containers of a workload object, whatever its kind (pod, template, cron job template). */
export function containers(props: Props): Props[] {
  const podSpecs = [get(props, "spec"), get(props, "spec", "template", "spec"), get(props, "spec", "jobTemplate", "spec", "template", "spec")];
  const out: Props[] = [];
  for (const spec of podSpecs) {
    if (!isObject(spec)) continue;
    for (const key of ["containers", "initContainers"]) {
      const list = spec[key];
      if (Array.isArray(list)) for (const c of list) if (isObject(c)) out.push(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Sizes and locations
// ---------------------------------------------------------------------------------------

const UNIT: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Parses a Nextcloud-style size ("10 GB", "10GB", "10 GiB", "512 MB", "10737418240") into bytes,
 * the way Nextcloud's computerFileSize does (binary multiples). "none"/"unlimited" → Infinity.
 */
export function parseSize(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === "none" || t === "unlimited" || t === "default") return t === "default" ? undefined : Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtp])?(?:i?b)?$/.exec(t);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT[m[2] ?? "b"]);
}

export const formatGB = (bytes: number): string => (bytes === Infinity ? "unlimited" : `${+(bytes / 1024 ** 3).toFixed(3)} GB`);

/** Hostname of a URL or host[:port] string. */
export function hostOf(endpoint: string): string {
  const s = endpoint.trim();
  try {
    return new URL(s.includes("://") ? s : `https://${s}`).hostname.toLowerCase();
  } catch {
    return s.toLowerCase();
  }
}

/**
 * Where an S3 endpoint lives: an explicit `endpointLocations` entry (host → location) wins;
 * otherwise a host label equal to a location hint (`hel` or `hel1` → hel1).
 */
export function endpointLocation(endpoint: string, explicit: Record<string, string>, hints: Record<string, string[]>): string | undefined {
  const host = hostOf(endpoint);
  if (explicit[host]) return explicit[host];
  const parts = host.split(/[.-]/);
  for (const [loc, words] of Object.entries(hints)) if (parts.some((p) => p === loc || words.includes(p))) return loc;
  return undefined;
}

export const DEFAULT_LOCATION_HINTS: Record<string, string[]> = {
  fsn1: ["fsn", "falkenstein"],
  nbg1: ["nbg", "nuremberg", "nuernberg"],
  hel1: ["hel", "helsinki"],
};

// ---------------------------------------------------------------------------------------
// Stack policies: one resource's unknown value must not blind the whole check
// ---------------------------------------------------------------------------------------

/**
 * Runs `fn` for one resource of a stack policy. A value unknown during preview makes the real
 * analyzer drop the whole stack policy to one advisory line; here only that resource is
 * skipped, with an advisory violation naming the unknown value.
 */
export function eachResource<T>(
  report: ReportViolation,
  resources: PolicyResource[],
  fn: (r: PolicyResource) => T,
): Array<T | undefined> {
  return resources.map((r) => {
    try {
      return fn(r);
    } catch (e) {
      if (e instanceof UnknownValueError) {
        report({ message: `not checked during preview: ${(e as Error).message}`, enforcementLevel: "advisory", urn: r.urn } as never, r.urn);
        return undefined;
      }
      throw e;
    }
  });
}

export type { ReportViolation, ResourceValidationArgs, StackValidationArgs, PolicyResource };

// Bundled objects (policies/bundled.ts): `bundleOf(args)` is set when what a policy judges is an
// entry of an objects release rather than a resource of its own.
export { bundleOf, type BundleFacts } from "./bundled";
