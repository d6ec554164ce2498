/** The synthetic estate of the benchmarks (bench/plan.bench.ts, bench/phases.bench.ts). */
import type { RawConfig } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";

/**
 * A synthetic estate: prod's platform, and `n` organisations shaped like prod's (about half
 * dedicated, the rest small ones on the shared instance), scaled to ~71 accounts per
 * organisation on average (50,000 / 700). No sharding settings: the default placement applies.
 */
export function syntheticEstate(n: number): RawConfig {
  const raw = readStackConfig(stackConfigFile("prod")) as Record<string, any>;
  delete raw.sharding;
  const tenants: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const dedicated = i % 2 === 0;
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
