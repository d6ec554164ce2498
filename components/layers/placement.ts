/**
 * Which stack each organisation lives in (docs/scaling.md).
 *
 * An estate (`Pulumi.<estate>.yaml`) is deployed as a platform stack named `<estate>` and one
 * tenant-shard stack `<estate>-<shard>` per shard that holds at least one dedicated
 * organisation; with `liiibre:sharding.enabled: false` everything stays in the one stack
 * `<estate>` (dev). Organisations on the shared instance live where the shared instance is:
 * the platform stack.
 *
 * A dedicated organisation's shard is its `shard:` when set, else the shard with the highest
 * hash of (shard name, slug) — rendezvous hashing. That depends only on the organisation's own
 * slug and the set of shard names: adding, removing or reordering other organisations never
 * moves it, and reordering the shard list does not either. Adding a shard name moves only the
 * organisations whose highest score becomes the new shard (about 1/N of them): pin them with
 * `shard:` first (docs/scaling.md).
 *
 * Pure: no Pulumi, used by the program, the config rules, the plan and the tests.
 */
import { createHash } from "node:crypto";

/** The parts of the estate placement reads (a parsed `Estate` fits). */
export interface PlacementInput {
  sharding: { enabled: boolean; shards: string[] };
  tenants: ReadonlyArray<{ slug: string; plan: "shared" | "dedicated"; shard?: string }>;
}

export type StackLayer = "platform" | "shard" | "single";

export interface LayoutStack {
  /** Stack name: `<estate>` for the platform (or single) stack, `<estate>-<shard>` for a shard. */
  name: string;
  layer: StackLayer;
  /** Shard name, null for the platform or single stack. */
  shard: string | null;
  /** Slugs of the organisations whose resources this stack holds, in config order. */
  tenants: string[];
}

/** Score of a shard for a slug: the first 48 bits of SHA-256 over `<shard>/<slug>`. */
function score(shard: string, slug: string): number {
  return parseInt(createHash("sha256").update(`${shard}/${slug}`).digest("hex").slice(0, 12), 16);
}

/**
 * Default shards already computed, by shard list then slug: a pure function of both, asked for
 * every organisation by each shard program, the cost model and the rules, i.e. once per shard and
 * organisation (64 × 700 SHA-256s per stack of the synthetic estate) without this (docs/scaling.md).
 */
const placed = new Map<string, Map<string, string>>();

/** The default shard of a slug among `shards` (rendezvous hashing; ties, which SHA-256 makes unlikely, go to the smaller name). */
export function defaultShard(slug: string, shards: readonly string[]): string {
  const key = shards.join("\n");
  let bySlug = placed.get(key);
  if (!bySlug) placed.set(key, (bySlug = new Map()));
  let shard = bySlug.get(slug);
  if (shard === undefined) bySlug.set(slug, (shard = rendezvous(slug, shards)));
  return shard;
}

function rendezvous(slug: string, shards: readonly string[]): string {
  let best = "";
  let bestScore = -1;
  for (const s of [...shards].sort()) {
    const v = score(s, slug);
    if (v > bestScore) [best, bestScore] = [s, v];
  }
  return best;
}

/** The shard of a dedicated organisation: its `shard:` or its default one. */
export const shardOf = (t: PlacementInput["tenants"][number], shards: readonly string[]): string => t.shard ?? defaultShard(t.slug, shards);

/** Stack name of a shard of an estate. */
export const shardStackName = (estate: string, shard: string): string => `${estate}-${shard}`;

/** Every stack of the estate, platform first, then shards by name (only shards holding organisations). */
export function stackLayout(estate: string, e: PlacementInput): LayoutStack[] {
  if (!e.sharding.enabled) return [{ name: estate, layer: "single", shard: null, tenants: e.tenants.map((t) => t.slug) }];
  const platform: LayoutStack = { name: estate, layer: "platform", shard: null, tenants: [] };
  const shards = new Map<string, LayoutStack>();
  for (const t of e.tenants) {
    if (t.plan !== "dedicated") {
      platform.tenants.push(t.slug);
      continue;
    }
    const s = shardOf(t, e.sharding.shards);
    if (!shards.has(s)) shards.set(s, { name: shardStackName(estate, s), layer: "shard", shard: s, tenants: [] });
    shards.get(s)!.tenants.push(t.slug);
  }
  return [platform, ...[...shards.values()].sort((a, b) => a.name.localeCompare(b.name))];
}

/**
 * What a stack name means for an estate: the platform (or single) stack when it is the
 * estate's name, a shard when it is `<estate>-<shard>` with `<shard>` one of the shard names.
 * Undefined otherwise.
 */
export function stackRole(estate: string, stack: string, e: Pick<PlacementInput, "sharding">): { layer: StackLayer; shard: string | null } | undefined {
  if (stack === estate) return { layer: e.sharding.enabled ? "platform" : "single", shard: null };
  if (!e.sharding.enabled || !stack.startsWith(`${estate}-`)) return undefined;
  const shard = stack.slice(estate.length + 1);
  return e.sharding.shards.includes(shard) ? { layer: "shard", shard } : undefined;
}
