/** The synthetic estate of the benchmarks (bench/plan.bench.ts, bench/phases.bench.ts). */
import type { RawConfig } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";

/**
 * A synthetic estate: prod's platform, and `n` organisations shaped like prod's (about half
 * dedicated — 364 of 700 —, the rest small ones on the shared instance), scaled to ~71 accounts per
 * organisation on average (50,000 / 700). No sharding settings: the default placement applies.
 */
export function syntheticEstate(n: number): RawConfig {
  const raw = readStackConfig(stackConfigFile("prod")) as Record<string, any>;
  delete raw.sharding;
  const tenants: unknown[] = [];
  for (let i = 0; i < n; i++) {
    // Every 50th odd one dedicated too: 336 shared organisations of 700. The platform stack holds
    // the shared ones' Keycloak objects (4 each, SHARED_MEMBER_COST) and tops out at ~348 under the
    // 2,000-resource limit (docs/scaling.md).
    const dedicated = i % 2 === 0 || i % 50 === 1;
    const u = dedicated ? 40 + ((i * 37) % 220) : 2 + (i % 8);
    tenants.push({
      // `org-` is a reserved slug prefix (the organisation groups' namespace).
      slug: `co-${String(i).padStart(4, "0")}`,
      name: `Organisation ${i}`,
      domain: `co-${i}.example.org`,
      plan: dedicated ? "dedicated" : "shared",
      users: u,
      ...(dedicated && i % 10 === 0 ? { apps: ["nextcloud", "onlyoffice", "matrix"] } : {}),
    });
  }
  raw.tenants = tenants;
  return raw;
}
