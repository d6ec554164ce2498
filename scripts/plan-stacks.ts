/**
 * The offline plan of a sharded estate (docs/plan.md, docs/scaling.md): the platform stack is
 * evaluated here, then every tenant shard in a pool of worker processes (scripts/plan-worker.ts;
 * the Pulumi runtime is global, so parallel evaluations need processes), each shard's
 * StackReference answered by the platform's evaluated outputs. The stacks' plans are merged into
 * one, platform first, then shards by name.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Estate, RawConfig } from "../components/config";
import type { LayoutStack } from "../components/layers/placement";
import main from "../index";
import { checkPolicies } from "./check-policies";
import { ORGANIZATION, PROJECT, evaluate } from "./harness";
import { buildPlan, mergePlans, type Plan } from "./plan-model";
import { planShard, processStats, type ShardJob, type StackStats, type WorkerReply } from "./plan-worker";
import { performance } from "node:perf_hooks";

export interface StacksPlanOptions {
  config: RawConfig;
  estate: Estate;
  estateName: string;
  /** The stacks to plan: the platform (or single) stack first. */
  stacks: LayoutStack[];
  policies?: typeof checkPolicies;
  /** Worker processes. Default: the machine's available parallelism, at most the number of shards. */
  workers?: number;
  /** Receives each stack's time and its process's peak memory (the bench prints them). */
  stats?: StackStats[];
}

export async function planStacks(o: StacksPlanOptions): Promise<Plan> {
  const [first, ...shards] = o.stacks;
  const policies = o.policies ?? checkPolicies;
  const layer = first.layer;
  const t0 = performance.now();
  const evaluation = await evaluate({ config: o.config, estate: o.estate, stack: first.name, program: (estate) => main(estate, { layer } as { layer: "single" | "platform" }) });
  const platform = buildPlan(evaluation, await policies(evaluation), { estateName: o.estateName, layer });
  o.stats?.push(processStats(first.name, t0));
  if (!shards.length) return platform;
  const stackOutputs = { [`${ORGANIZATION}/${PROJECT}/${o.estateName}`]: evaluation.outputs };
  const jobs: ShardJob[] = shards.map((s) => ({ config: o.config, estateName: o.estateName, shard: s.shard!, stack: s.name, stackOutputs }));
  if (jobs.length === 1 && !o.workers) {
    // One shard (`--only`): a worker would only add its start-up; evaluate it here, after the
    // platform (the harness gives each evaluation a fresh runtime).
    const t1 = performance.now();
    const plan = await planShard({ ...jobs[0] }, o.estate);
    o.stats?.push(processStats(jobs[0].stack, t1));
    return mergePlans(o.estateName, o.estate, [platform, plan]);
  }
  const plans = await runPool(jobs, o.workers ?? Math.min(jobs.length, Math.max(1, os.availableParallelism?.() ?? os.cpus().length)), o.stats);
  return mergePlans(o.estateName, o.estate, [platform, ...shards.map((s) => plans.get(s.name)!)]);
}

/** Runs the jobs on `n` worker processes (each takes the next job when it is done). */
function runPool(jobs: ShardJob[], n: number, stats?: StackStats[]): Promise<Map<string, Plan>> {
  const queue = [...jobs];
  const done = new Map<string, Plan>();
  const workers: ChildProcess[] = [];
  return new Promise((resolve, reject) => {
    let failed = false;
    const stopAll = () => workers.forEach((w) => w.connected && w.disconnect());
    const next = (w: ChildProcess) => {
      const job = queue.shift();
      if (job) w.send(job);
      else if (w.connected) w.disconnect();
      if (done.size === jobs.length) {
        stopAll();
        resolve(done);
      }
    };
    for (let i = 0; i < n; i++) {
      const w = fork(path.join(__dirname, "plan-worker.ts"), [], {
        // tsx's loader (CommonJS and ESM: the policy pack is loaded with import()).
        // Profiling flags of the main process (`node --cpu-prof …`, docs/scaling.md) carry over to the workers.
        execArgv: ["--import", pathToFileURL(path.join(path.dirname(require.resolve("tsx/package.json")), "dist", "loader.mjs")).href, ...process.execArgv.filter((a) => a.startsWith("--cpu-prof") || a.startsWith("--heap-prof"))],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      workers.push(w);
      w.on("error", (err) => {
        if (failed) return;
        failed = true;
        stopAll();
        reject(err);
      });
      w.on("message", (m: WorkerReply) => {
        if ("error" in m) {
          failed = true;
          stopAll();
          reject(new Error(`stack ${m.stack}: ${m.error}`));
          return;
        }
        done.set(m.stack, m.plan);
        stats?.push(m.stats);
        next(w);
      });
      w.on("exit", (code) => {
        if (!failed && code && done.size < jobs.length) {
          failed = true;
          stopAll();
          reject(new Error(`a plan worker exited with code ${code}`));
        }
      });
      next(w);
    }
  });
}
