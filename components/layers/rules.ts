/**
 * Config rules of the stack layout (components/config/rules.ts assembles them): shard names are
 * unique, a tenant's `shard` is one of them and only dedicated organisations take one, and no
 * stack would exceed `liiibre:sharding.maxResourcesPerStack` (estimated by ./cost.ts).
 */
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import type { ParsedEstate, Rule } from "../config/rules";
import { SHARED_MEMBER_COST, estimateStacks } from "./cost";

/** Placeholder estate name in messages: the rule does not know which file it reads. */
const ESTATE = "<estate>";

export const shardingRules: Rule = (e: ParsedEstate) => {
  const out: ConfigProblem[] = [];
  const { shards, enabled, maxResourcesPerStack: max } = e.sharding;
  const seen = new Set<string>();
  shards.forEach((s, i) => {
    if (seen.has(s)) out.push({ path: keyPath(["sharding", "shards", i]), message: `expected unique shard names, got ${describe(s)} twice` });
    seen.add(s);
  });
  e.tenants.forEach((t, i) => {
    if (t.shard === undefined) return;
    if (t.plan !== "dedicated") out.push({ path: keyPath(["tenants", i, "shard"]), message: `only dedicated organisations live in a shard; a "${t.plan}" one lives on the shared instance (remove the key)` });
    else if (!shards.includes(t.shard)) out.push({ path: keyPath(["tenants", i, "shard"]), message: `expected one of liiibre:sharding.shards (${shards.join(", ")}), got ${describe(t.shard)}` });
  });
  if (out.length) return out;
  // `ha` as the estate resolves it (components/config/index.ts): it adds resources (HA_APP_COST).
  const tenants = e.tenants.map((t) => ({ ...t, ha: t.ha ?? t.users > e.operations.haAboveUsers }));
  for (const s of estimateStacks(ESTATE, { ...e, tenants })) {
    if (s.resources <= max) continue;
    const what = s.layer === "shard" ? `shard "${s.shard}" (stack ${s.name})` : s.layer === "platform" ? `the platform stack` : `the estate's one stack (sharding disabled)`;
    // Shards take dedicated organisations only: the platform stack's load (the shared instance's
    // organisations, whose Keycloak objects live with the estate realm) cannot move to a shard.
    const fix =
      s.layer === "platform"
        ? `the shared instance's organisations (about ${SHARED_MEMBER_COST} resources each) stay in the platform stack and no shard can take them: give some of them plan: dedicated, or split the estate (docs/scaling.md#limits-as-rules)`
        : enabled
          ? "add shard names to liiibre:sharding.shards or move organisations with tenants[].shard"
          : "enable liiibre:sharding";
    out.push({
      path: keyPath(["sharding", "maxResourcesPerStack"]),
      message: `${what} would hold about ${s.resources} resources (${s.tenants.length} organisations), above the limit of ${max}: ${fix}`,
    });
  }
  return out;
};
