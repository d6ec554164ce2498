/**
 * A worker process of the offline plan (scripts/plan-stacks.ts): evaluates tenant-shard stacks
 * one after the other, each on a fresh Pulumi runtime (the harness resets the mocks, config and
 * root stack per evaluation), with the platform's evaluated outputs answering the shard's
 * StackReference, checks the policy pack and sends the stack's plan back.
 *
 * Messages in: `ShardJob`; out: `{ stack, plan }` or `{ stack, error }`. Nothing secret travels:
 * the platform outputs of an offline evaluation hold only the harness's fake secrets.
 */
import { parseEstate, type Estate, type RawConfig } from "../components/estate";
import { performance } from "node:perf_hooks";
import main from "../index";
import { checkPolicies, packPolicies } from "./check-policies";
import { evaluate } from "./harness";
import { buildPlan, type Plan } from "./plan-model";

export interface ShardJob {
  config: RawConfig;
  estateName: string;
  shard: string;
  stack: string;
  /** The referenced stack's outputs, by its full name (`<org>/<project>/<stack>`). */
  stackOutputs: Record<string, Record<string, unknown>>;
}

/** How long a stack took and the worker's peak memory so far (bench/plan.bench.ts prints them). */
export interface StackStats {
  stack: string;
  seconds: number;
  /** Peak resident set of the process that planned it, MB. */
  maxRssMB: number;
  pid: number;
  /** CPU time (user + system) of that process so far, seconds: what the machine's load changes least. */
  cpuSeconds?: number;
}

export type WorkerReply = { stack: string; plan: Plan; stats: StackStats } | { stack: string; error: string };

export const processStats = (stack: string, t0: number): StackStats => ({
  stack,
  seconds: +((performance.now() - t0) / 1000).toFixed(2),
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  pid: process.pid,
  cpuSeconds: +((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(2),
});

/** The estate of the last config seen: a worker plans many shards of one estate, validated once. */
let parsed: { key: string; estate: Estate } | undefined;
function estateOf(config: RawConfig): Estate {
  const key = JSON.stringify(config);
  if (parsed?.key !== key) parsed = { key, estate: parseEstate(config) };
  return parsed.estate;
}

export async function planShard(job: ShardJob, estate: Estate = estateOf(job.config)): Promise<Plan> {
  const evaluation = await evaluate({
    config: job.config,
    estate,
    stack: job.stack,
    stackOutputs: job.stackOutputs,
    program: (estate) => main(estate, { layer: "shard", estateName: job.estateName, shard: job.shard }),
  });
  return buildPlan(evaluation, await checkPolicies(evaluation), { estateName: job.estateName, layer: "shard" });
}

/** Answers the parent's jobs (scripts/plan-worker-boot.cjs, the worker's entry, calls it). */
export function serveWorker(): void {
  if (!process.send) throw new Error("scripts/plan-worker.ts: not a worker process (no IPC channel)");
  // Load the policy pack while the platform is being evaluated (the program is loaded already).
  void packPolicies().catch(() => undefined);
  process.on("message", (job: ShardJob) => {
    const t0 = performance.now();
    planShard(job).then(
      (plan) => process.send!({ stack: job.stack, plan, stats: processStats(job.stack, t0) } satisfies WorkerReply),
      (err) => process.send!({ stack: job.stack, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
    );
  });
  process.on("disconnect", () => process.exit(0));
}

if (require.main === module && process.send) serveWorker();
