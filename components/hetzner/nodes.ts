/**
 * The node inventory as pure data: which cloud servers the config asks for (one per pool
 * slot), which dedicated servers join, their k0s role, node labels and taints.
 *
 * Names never depend on the order of pools or tenants: a cloud node is
 * `<cluster>-<pool>-<NN>` (NN = 01, 02… inside its pool, up to `cloud.count`, minus the
 * `cloud.retired` slots), a dedicated node keeps its inventory name. Adding a server to a
 * pool appends a name; removing one retires its slot; nothing else moves.
 */
import type { DedicatedServer, Estate, Location, NodePool } from "../config";
import { LABELS } from "../conventions";
import { HETZNER_LIMITS } from "./catalog";

export type NodeRole = NodePool["role"];
export type Taint = NodePool["taints"][number];

/** Kubernetes node labels every node gets (besides its pool's labels). */
export const NODE_LABELS = {
  pool: LABELS.nodePool,
  kind: LABELS.nodeKind,
  region: "topology.kubernetes.io/region",
} as const;

/** A cloud server the config asks for. */
export interface CloudNodeSpec {
  name: string;
  pool: string;
  /** 1-based slot inside the pool. */
  slot: number;
  role: NodeRole;
  location: Location;
  serverType: string;
  image: string;
  volumeGB?: number;
  /** Marked for removal: k0sctl resets it, protection is lifted (docs/operations.md). */
  reset: boolean;
  /** Placement group of the pool this server belongs to (0-based, ≤ 10 servers each). */
  placementGroup: number;
  labels: Record<string, string>;
  taints: Taint[];
}

export const cloudNodeName = (cluster: string, pool: string, slot: number): string =>
  `${cluster}-${pool}-${String(slot).padStart(2, "0")}`;

/**
 * The slots of a cloud pool that have a server: 1..count without the retired ones (a retired
 * slot's server is deleted and never created again). Slots being reset still have theirs.
 * The one place every count of a pool's servers starts from (config rules, limits, cloudNodes).
 */
export function liveSlots(cloud: { count: number; retired?: readonly number[] }): number[] {
  const retired = new Set(cloud.retired ?? []);
  const out: number[] = [];
  for (let slot = 1; slot <= cloud.count; slot++) if (!retired.has(slot)) out.push(slot);
  return out;
}

/** Placement group index of the `slot`-th server (1-based) of a pool: groups of at most 10. */
export const placementGroupOf = (slot: number): number => Math.floor((slot - 1) / HETZNER_LIMITS.serversPerPlacementGroup);

/** Node labels of a pool's node (pool labels win over nothing: the generated keys are reserved). */
export function nodeLabels(pool: NodePool, kind: "cloud" | "dedicated", location: Location): Record<string, string> {
  const out: Record<string, string> = { ...pool.labels, [NODE_LABELS.pool]: pool.name, [NODE_LABELS.kind]: kind };
  // Cloud nodes get topology labels from the hcloud cloud-controller-manager; dedicated ones
  // set the region themselves (kubelets may self-assign topology.kubernetes.io/*).
  if (kind === "dedicated") out[NODE_LABELS.region] = location;
  return out;
}

/** Every cloud server of the estate, in a stable order (pool by pool, slot by slot). */
export function cloudNodes(estate: Pick<Estate, "nodePools" | "cluster" | "hetzner">): CloudNodeSpec[] {
  const out: CloudNodeSpec[] = [];
  for (const pool of estate.nodePools) {
    if (!pool.cloud) continue;
    const location = pool.cloud.location ?? estate.hetzner.locations.primary;
    const reset = new Set(pool.cloud.reset ?? []);
    for (const slot of liveSlots(pool.cloud)) {
      const name = cloudNodeName(estate.cluster.name, pool.name, slot);
      out.push({
        name,
        pool: pool.name,
        slot,
        role: pool.role,
        location,
        serverType: pool.cloud.serverType,
        image: pool.cloud.image,
        volumeGB: pool.cloud.volumeGB,
        reset: reset.has(slot),
        placementGroup: placementGroupOf(slot),
        labels: nodeLabels(pool, "cloud", location),
        taints: pool.taints,
      });
    }
  }
  return out;
}

/** A dedicated server with what its pool gives it. */
export interface DedicatedNodeSpec {
  server: DedicatedServer;
  name: string;
  pool: string;
  role: NodeRole;
  location: Location;
  reset: boolean;
  labels: Record<string, string>;
  taints: Taint[];
}

export function dedicatedNodes(estate: Pick<Estate, "nodePools" | "dedicatedServers">): DedicatedNodeSpec[] {
  return estate.dedicatedServers.map((server) => {
    const pool = estate.nodePools.find((p) => p.name === server.pool);
    if (!pool) throw new Error(`dedicated server ${server.name}: unknown pool ${server.pool} (config rules should have caught it)`);
    return {
      server,
      name: server.name,
      pool: pool.name,
      role: pool.role,
      location: server.location,
      reset: server.reset ?? false,
      labels: nodeLabels(pool, "dedicated", server.location),
      taints: pool.taints,
    };
  });
}

/** Placement groups a pool needs: ceil(count / 10). */
export const placementGroupCount = (count: number): number => Math.ceil(count / HETZNER_LIMITS.serversPerPlacementGroup);
