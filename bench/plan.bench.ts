/**
 * Benchmark of the offline evaluation at the scale the estate aims for: ~700 organisations,
 * 50,000 accounts (CONTEXT.md). Prints figures; asserts nothing.
 *
 *   npm run bench                       # prod, then synthetic estates of 200 and 700 organisations,
 *                                       # then the render of prod (bench/render.bench.ts)
 *   npm run bench -- --tenants 700      # one synthetic size only
 *
 * Each run happens in a fresh child process so that memory figures are not polluted by the
 * previous run (Pulumi keeps global state).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { RawConfig } from "../components/config";
import { checkPolicies } from "../scripts/check-policies";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { buildPlan } from "../scripts/plan-model";
import { render } from "../scripts/report";

/**
 * A synthetic estate: prod's platform, and `n` organisations shaped like prod's (about
 * half dedicated, the rest small ones on the shared instance), scaled to ~71 accounts per
 * organisation on average (50,000 / 700).
 */
export function syntheticEstate(n: number): RawConfig {
  const raw = readStackConfig(stackConfigFile("prod")) as Record<string, any>;
  const tenants: unknown[] = [];
  let users = 0;
  for (let i = 0; i < n; i++) {
    const dedicated = i % 2 === 0;
    const u = dedicated ? 40 + ((i * 37) % 220) : 2 + (i % 8);
    users += u;
    tenants.push({
      slug: `org-${String(i).padStart(4, "0")}`,
      name: `Organisation ${i}`,
      domain: `org-${i}.example.org`,
      plan: dedicated ? "dedicated" : "shared",
      users: u,
      ...(dedicated && i % 10 === 0 ? { apps: ["nextcloud", "onlyoffice", "matrix"] } : {}),
    });
  }
  raw.tenants = tenants;
  return raw;
}

async function measure(label: string, config: RawConfig): Promise<void> {
  const t0 = performance.now();
  const ev = await evaluate({ config, stack: "prod" });
  const t1 = performance.now();
  const violations = await checkPolicies(ev);
  const t2 = performance.now();
  const plan = buildPlan(ev, violations);
  const json = render(plan, "json");
  const t3 = performance.now();
  const mem = process.memoryUsage();
  const users = plan.tenants.reduce((a, t) => a + t.users, 0);
  console.log(
    JSON.stringify({
      run: label,
      tenants: plan.tenants.length,
      users,
      resources: plan.resources.length,
      evaluateSeconds: +((t1 - t0) / 1000).toFixed(2),
      policiesSeconds: +((t2 - t1) / 1000).toFixed(2),
      reportSeconds: +((t3 - t2) / 1000).toFixed(2),
      jsonMB: +(json.length / 1e6).toFixed(1),
      heapUsedMB: Math.round(mem.heapUsed / 1e6),
      rssMB: Math.round(mem.rss / 1e6),
      mandatoryViolations: plan.summary.mandatoryViolations,
    }),
  );
}

async function child(spec: string): Promise<void> {
  if (spec === "prod") return measure("prod", readStackConfig(stackConfigFile("prod")));
  const n = Number(spec);
  return measure(`synthetic-${n}`, syntheticEstate(n));
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    child(args[1]).catch((e) => {
      console.error(e);
      process.exit(1);
    });
    return;
  }
  const i = args.indexOf("--tenants");
  const runs = i >= 0 ? [args[i + 1]] : ["prod", "200", "700"];
  console.log(`node ${process.version}, ${require("node:os").cpus().length} cores`);
  for (const r of runs) {
    const res = spawnSync(process.execPath, [...process.execArgv, __filename, "--child", r], {
      stdio: "inherit",
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=8192`.trim() },
      cwd: path.resolve(__dirname, ".."),
    });
    if (res.status !== 0) process.exitCode = res.status ?? 1;
  }
  if (i < 0) {
    // the render step of prod (Helm), in its own process too
    const res = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, "render.bench.ts")], { stdio: "inherit", cwd: path.resolve(__dirname, "..") });
    if (res.status !== 0) process.exitCode = res.status ?? 1;
  }
}

main();
