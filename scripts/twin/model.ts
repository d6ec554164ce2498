/**
 * The estate twin's data model (docs/twin.md). Everything here is plain data: the twin's input
 * is the plan (resources with inputs, tenants), the validated configuration and, optionally,
 * the objects real Helm renders of each release (scripts/render/model.ts). `normalise` turns
 * both sources into one list of Kubernetes objects, so that every check works on either.
 */
import type { Estate } from "../../components/config";
import type { RenderedRelease } from "../render/model";
import type { PlanResource, PlanTenant } from "../plan-model";

export type TwinLevel = "error" | "warning";

/** One finding of the twin: what would happen at run time, and to which objects. */
export interface TwinFinding {
  /** Check name, e.g. `storage-class-exists` (docs/twin.md lists them). */
  check: string;
  level: TwinLevel;
  /** The objects concerned: `Kind/namespace/name` (or `Kind/name` when cluster-scoped), node names, MinIO users… */
  objects: string[];
  /** What would happen at run time. */
  message: string;
}

export interface TwinInput {
  stack: string;
  /** The validated configuration (node pools, dedicated servers, tenants, networks). */
  estate: Estate;
  /** The plan's resources (scripts/plan-model.ts): the program's own objects. */
  resources: Array<Omit<PlanResource, "tenant"> & { tenant?: string | null }>;
  /** The plan's tenants (their DNS records). */
  tenants: PlanTenant[];
  /**
   * Key names of each Secret the program declares (URN → keys of `data`/`stringData`): the
   * plan redacts the whole map, the key names are not secret and references need them.
   */
  secretKeys?: Record<string, string[]>;
  /**
   * The estate's stacks (a sharded estate: the platform, then tenant shards, each applied by its
   * own `pulumi up`, platform first). Absent: one stack.
   */
  stacks?: Array<{ name: string; layer: string }>;
  /** Objects rendered from the Helm releases (`npm run plan -- --render`); absent: chart facts from values. */
  rendered?: RenderedRelease[];
}

/** A Kubernetes object of the estate, from the program or from a chart. */
export interface KObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** null for cluster-scoped kinds. */
  namespace: string | null;
  object: Record<string, any>;
  /** URN of the program's resource, or `release:<namespace>/<name>` for a chart's object (a bundled object's too). */
  source: string;
  /** Release that installs it (chart and bundled objects). */
  release?: string;
  /** URNs this object's resource depends on (the program's objects: dependsOn; chart and bundled objects: their release's). */
  dependsOn: string[];
  /**
   * `program` (a resource of its own), `bundled` (an entry of a bundle's objects release, read
   * from its `values.objects`: exactly what Kubernetes receives), `rendered` (helm template;
   * a bundle's objects too under `--render`), `values` (implied by chart values, no render).
   */
  origin: "program" | "bundled" | "rendered" | "values";
  /**
   * A bundle's object (components/kit/objects.ts): its stable identity, `bundledObjectUrn` of
   * its release. Set whether it comes from values or from the render.
   */
  bundle?: string;
  /** The organisation it belongs to (components/attribution.ts; a bundled object: its release's), null for the platform. */
  tenant?: string | null;
}

export const ref = (o: { kind: string; namespace: string | null; name: string }): string =>
  o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`;

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** A Kubernetes node (or pure controller) of the estate. */
export interface TwinNode {
  name: string;
  pool: string;
  kind: "cloud" | "dedicated";
  role: "controller" | "worker" | "controller+worker";
  location: string;
  country: string;
  serverType?: string;
  cores: number;
  ramGB: number;
  /** Public IPv4 (k0sctl SSH address), private address. */
  publicIpv4: string;
  privateIpv4: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** Filesystems under /mnt/disks (local-storage PVs the node offers), sizes in GiB. */
  localDisksGB: number[];
  /** Bought on Hetzner's server auction (second-hand). */
  secondHand: boolean;
  /** Runs a kubelet (pure controllers do not). */
  kubelet: boolean;
  reset: boolean;
}

/** A pod template of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, CNPG instance, MinIO pool). */
export interface Workload {
  /** `Kind/namespace/name` of the owning object. */
  id: string;
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  /** Pod labels. */
  labels: Record<string, string>;
  spec: Record<string, any>;
  /** Volume claims the pods make: claim templates (StatefulSet, CNPG, MinIO) as PVC specs. */
  claims: Array<{ name: string; storageClassName?: string | null; sizeGiB: number }>;
  owner: KObject;
  /** Node labels its volumes require (hcloud volumes attach to cloud nodes only), set by normalise. */
  volumeTopology?: Record<string, string>;
}

export interface FirewallRule {
  direction: "in" | "out";
  protocol: string;
  port?: string;
  sourceIps: string[];
}

export interface TwinFirewall {
  name: string;
  rules: FirewallRule[];
  /** Servers (node names, or the backup server) it applies to. */
  appliesTo: string[];
}

export interface MinioUser {
  server: "primary" | "backup";
  name: string;
  policies: Array<{ name: string; document: Record<string, any> }>;
  /** URN of the IamUser resource. */
  urn: string;
  tenant: string | null;
}

export interface HelmRelease {
  urn: string;
  name: string;
  namespace: string;
  chart: string;
  version: string;
  values: Record<string, any>;
  dependsOn: string[];
  /** A bundle's objects release (components/kit/objects.ts `isObjectsRelease`): its objects come from its values. */
  bundle?: boolean;
}

/** The estate as the twin sees it. */
export interface TwinEstate {
  input: TwinInput;
  objects: KObject[];
  /** `kind` → objects. */
  byKind: Map<string, KObject[]>;
  /** `Kind/namespace/name` → object. */
  byRef: Map<string, KObject>;
  workloads: Workload[];
  nodes: TwinNode[];
  firewalls: TwinFirewall[];
  /** The backup server (Helsinki): name, public address, location. */
  backupServer: { name: string; publicIpv4: string; location: string; country: string } | null;
  minioUsers: MinioUser[];
  buckets: Array<{ server: "primary" | "backup"; name: string; urn: string; tenant: string | null }>;
  /** Bucket policies (what MinIO decides anonymous requests with), by server and bucket. */
  bucketPolicies: Array<{ server: "primary" | "backup"; bucket: string; document: Record<string, any>; urn: string }>;
  releases: HelmRelease[];
  /** The k0sctl document (hosts) as the program hands it to k0sctl. */
  k0sctl: { hosts: Array<{ role: string; hostname: string; ssh: { address: string }; privateAddress?: string; installFlags?: string[] }> } | null;
  keycloakClients: Array<{ realm: string; clientId: string; urn: string }>;
}

/** One check of the twin. */
export interface TwinCheck {
  name: string;
  /** Family (one file each under scripts/twin/checks/). */
  family: string;
  /** What it models, one sentence (docs/twin.md, report). */
  models: string;
  run(e: TwinEstate): TwinFinding[] | Promise<TwinFinding[]>;
}
