/**
 * Benchmark of the offline plan at the scale the estate aims for: ~700 organisations, 50,000
 * accounts (CONTEXT.md), as `npm run plan` runs it: the platform stack, then every tenant shard in
 * parallel worker processes (scripts/plan-stacks.ts), policies included. Prints figures; asserts
 * nothing.
 *
 *   npm run bench                       # prod, a synthetic 700-organisation estate, --only one of its
 *                                       # organisations, then the render of prod (bench/render.bench.ts)
 *   npm run bench -- --tenants 200      # one synthetic size only
 *   npm run bench -- --one-stack 700    # the same estate evaluated as ONE stack (slow: minutes, GBs)
 *
 * Each run happens in a fresh child process so that memory figures are not polluted by the
 * previous run (Pulumi keeps global state). Figures per run: stacks, largest stack's resources,
 * resources per dedicated organisation, wall time, peak RSS of the main process and of the
 * largest worker.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseEstate, type RawConfig } from "../components/estate";
import { stackLayout } from "../components/layers/placement";
import { checkPolicies } from "../scripts/check-policies";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { buildPlan, type Plan } from "../scripts/plan-model";
import { planStacks } from "../scripts/plan-stacks";
import type { StackStats } from "../scripts/plan-worker";
import { render } from "../scripts/report";
import { attachTwin } from "../scripts/twin/plan-twin";
import { syntheticEstate } from "./synthetic";

export { syntheticEstate };

function report(label: string, plan: Plan, seconds: number, stats: StackStats[], jsonMB: number, twinSeconds?: number): void {
  const dedicated = plan.tenants.filter((t) => t.plan === "dedicated");
  const slugs = new Set(dedicated.map((t) => t.slug));
  const ofDedicated = plan.resources.filter((r) => r.tenant && slugs.has(r.tenant));
  const perDedicated = dedicated.length ? ofDedicated.length / dedicated.length : 0;
  // Without the components: what the providers create, read and diff (issue 14's ≤ 60).
  const customPerDedicated = dedicated.length ? ofDedicated.filter((r) => r.custom).length / dedicated.length : 0;
  const largest = [...plan.stacks].sort((a, b) => b.resourceCount - a.resourceCount)[0];
  const byPid = new Map<number, number>();
  for (const s of stats) byPid.set(s.pid, Math.max(byPid.get(s.pid) ?? 0, s.maxRssMB));
  const workers = [...byPid.entries()].filter(([pid]) => pid !== process.pid).map(([, mb]) => mb);
  const cpuByPid = new Map<number, number>();
  for (const s of stats) if (s.pid !== process.pid) cpuByPid.set(s.pid, Math.max(cpuByPid.get(s.pid) ?? 0, s.cpuSeconds ?? 0));
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      run: label,
      tenants: plan.tenants.length,
      users: plan.summary.userCount,
      resources: plan.resources.length,
      stacks: plan.stacks.length,
      largestStack: `${largest.name} (${largest.resourceCount})`,
      resourcesPerDedicatedOrg: +perDedicated.toFixed(1),
      customResourcesPerDedicatedOrg: +customPerDedicated.toFixed(1),
      bundledObjects: plan.summary.bundledObjects ?? 0,
      wallSeconds: +seconds.toFixed(2),
      platformSeconds: stats.find((s) => s.pid === process.pid)?.seconds,
      workers: workers.length,
      mainPeakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      workerPeakRssMB: workers.length ? Math.max(...workers) : null,
      jsonMB,
      // The estate twin over every stack's resources (docs/twin.md), without --render: normalisation, checks, capacity, footprint.
      twinSeconds: twinSeconds !== undefined ? +twinSeconds.toFixed(2) : undefined,
      twinErrors: plan.summary.twin?.errors,
      mandatoryViolations: plan.summary.mandatoryViolations,
      // CPU time (user + system), seconds: this process (platform, merge, twin, JSON) and all
      // workers together (start-up included, up to their last shard). Less sensitive to the
      // machine's load than wall time: on n idle cores the wall is about max(main, workers / n).
      mainCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      workersCpuSeconds: cpuByPid.size ? +[...cpuByPid.values()].reduce((a, b) => a + b, 0).toFixed(1) : null,
    }),
  );
}

async function sharded(label: string, config: RawConfig, estateName: string, only?: string): Promise<void> {
  const t0 = performance.now();
  const estate = parseEstate(config);
  let stacks = stackLayout(estateName, estate);
  if (only) stacks = [stacks[0], ...stacks.slice(1).filter((s) => s.tenants.includes(only))];
  const stats: StackStats[] = [];
  const plan = await planStacks({ config, estate, estateName, stacks, stats });
  const tw = performance.now();
  await attachTwin(plan, estate);
  const twinSeconds = (performance.now() - tw) / 1000;
  const json = render(plan, "json");
  report(label, plan, (performance.now() - t0) / 1000, stats, +(json.length / 1e6).toFixed(1), twinSeconds);
}

async function oneStack(label: string, config: RawConfig): Promise<void> {
  const t0 = performance.now();
  const ev = await evaluate({ config, stack: "prod" });
  const plan = buildPlan(ev, await checkPolicies(ev));
  const tw = performance.now();
  await attachTwin(plan, ev.estate);
  const twinSeconds = (performance.now() - tw) / 1000;
  const json = render(plan, "json");
  report(label, plan, (performance.now() - t0) / 1000, [{ stack: "prod", seconds: (performance.now() - t0) / 1000, maxRssMB: 0, pid: process.pid }], +(json.length / 1e6).toFixed(1), twinSeconds);
}

async function child(spec: string): Promise<void> {
  const [kind, arg] = spec.split(":");
  if (kind === "prod") return sharded("prod", readStackConfig(stackConfigFile("prod")), "prod");
  if (kind === "only") return sharded(`synthetic-${arg} --only co-0002`, syntheticEstate(Number(arg)), "synthetic", "co-0002");
  if (kind === "one") return oneStack(`synthetic-${arg} as one stack`, syntheticEstate(Number(arg)));
  return sharded(`synthetic-${arg}`, syntheticEstate(Number(arg)), "synthetic");
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    child(args[1]).then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
    return;
  }
  const i = args.indexOf("--tenants");
  const j = args.indexOf("--one-stack");
  const runs = i >= 0 ? [`synthetic:${args[i + 1]}`] : j >= 0 ? [`one:${args[j + 1]}`] : ["prod", "synthetic:700", "only:700"];
  console.log(`node ${process.version}, ${require("node:os").availableParallelism?.() ?? require("node:os").cpus().length} cores`);
  for (const r of runs) {
    const res = spawnSync(process.execPath, [...process.execArgv, __filename, "--child", r], {
      stdio: "inherit",
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=8192`.trim() },
      cwd: path.resolve(__dirname, ".."),
    });
    if (res.status !== 0) process.exitCode = res.status ?? 1;
  }
  if (i < 0 && j < 0) {
    // the render step of prod (Helm), in its own process too
    const res = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, "render.bench.ts")], { stdio: "inherit", cwd: path.resolve(__dirname, "..") });
    if (res.status !== 0) process.exitCode = res.status ?? 1;
  }
}

main();
