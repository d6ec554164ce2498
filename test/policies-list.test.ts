/**
 * The policy list is data (policies/list.ts): the pack is built from it, the offline runner runs
 * it, and docs/policies.md describes exactly it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";

const built: Array<{ name: string; args: any }> = [];
vi.mock("@pulumi/policy", async (orig) => {
  const real = (await orig()) as Record<string, unknown>;
  // Record the pack instead of starting the analyzer server.
  class PolicyPack {
    constructor(name: string, args: unknown) {
      built.push({ name, args });
    }
  }
  return { ...real, PolicyPack };
});

const ROOT = path.resolve(__dirname, "..");

describe("the policy list", () => {
  it("policies/index.ts builds the pack from POLICIES, same objects, same order, with PACK's settings", async () => {
    const { PACK, POLICIES } = await import("../policies/list");
    await import("../policies/index");
    expect(built).toHaveLength(1);
    expect(built[0].name).toBe(PACK.name);
    expect(built[0].args.enforcementLevel).toBe("mandatory");
    expect(built[0].args.description).toBe(PACK.description);
    expect(built[0].args.policies).toHaveLength(POLICIES.length);
    built[0].args.policies.forEach((p: unknown, i: number) => expect(p).toBe(POLICIES[i]));
  });

  it("the offline runner runs the very same objects", async () => {
    const { POLICIES } = await import("../policies/list");
    const { packPolicies } = await import("../scripts/check-policies");
    const run = await packPolicies();
    expect(run.map((p) => p.name)).toEqual(POLICIES.map((p) => p.name));
    run.forEach((p, i) => expect(p).toBe(POLICIES[i]));
  });

  it("POLICY_LIST is plain data: names unique, levels resolved (the pack's when a policy sets none), JSON round-trips", async () => {
    const { POLICY_LIST, POLICIES } = await import("../policies/list");
    expect(new Set(POLICY_LIST.map((p) => p.name)).size).toBe(POLICY_LIST.length);
    expect(JSON.parse(JSON.stringify(POLICY_LIST))).toEqual(POLICY_LIST);
    for (const [i, e] of POLICY_LIST.entries()) {
      expect(e.enforcementLevel, e.name).toBe(POLICIES[i].enforcementLevel ?? "mandatory");
      expect(e.description.length, e.name).toBeGreaterThan(20);
      expect(e.configSchema, e.name).toBe(POLICIES[i].configSchema);
    }
  });

  it("docs/policies.md's table lists every policy of the list with its level, and no other", async () => {
    const { POLICY_LIST } = await import("../policies/list");
    const doc = fs.readFileSync(path.join(ROOT, "docs/policies.md"), "utf8");
    const table = doc.slice(doc.indexOf("## The policies"));
    const rows = [...table.matchAll(/^\| `([a-z0-9-]+)` \| (mandatory|advisory) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(rows).toEqual(POLICY_LIST.map((p) => `${p.name} ${p.enforcementLevel}`).sort());
  });
});
