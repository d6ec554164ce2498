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
import type { Estate, RawConfig } from "../components/config";
import type { LayoutStack } from "../components/layers/placement";
import main from "../index";
import { checkPolicies } from "./check-policies";
import { ORGANIZATION, PROJECT, evaluate } from "./harness";
import { estimateStacks } from "../components/layers/cost";
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
  // The workers start now, so that their start-up (tsx, loading the program, the SDK and the
  // policy pack: ~1–2 s each) overlaps the platform's evaluation instead of following it. One
  // shard (`--only`) is evaluated here instead: a worker would only add its start-up.
  const inProcess = shards.length === 1 && !o.workers;
  const pool = shards.length && !inProcess ? startPool(o.workers ?? Math.min(shards.length, Math.max(1, os.availableParallelism?.() ?? os.cpus().length)), o.stats) : undefined;
  try {
    const t0 = performance.now();
    const evaluation = await evaluate({ config: o.config, estate: o.estate, stack: first.name, program: (estate) => main(estate, { layer } as { layer: "single" | "platform" }) });
    const platformPlan = async () => {
      const plan = buildPlan(evaluation, await policies(evaluation), { estateName: o.estateName, layer });
      o.stats?.push(processStats(first.name, t0));
      return plan;
    };
    if (!shards.length) return await platformPlan();
    const stackOutputs = { [`${ORGANIZATION}/${PROJECT}/${o.estateName}`]: evaluation.outputs };
    const jobs: ShardJob[] = shards.map((s) => ({ config: o.config, estateName: o.estateName, shard: s.shard!, stack: s.name, stackOutputs }));
    if (!pool) {
      // One shard (`--only`): after the platform (the harness gives each evaluation a fresh runtime).
      const platform = await platformPlan();
      const t1 = performance.now();
      const plan = await planShard({ ...jobs[0] }, o.estate);
      o.stats?.push(processStats(jobs[0].stack, t1));
      return mergePlans(o.estateName, o.estate, [platform, plan]);
    }
    // Largest shards first (by the cost model's estimate), so that no large shard is left for
    // the end while the other workers idle; the merge keeps the stacks' order whatever the order
    // they finish in. The shards need only the platform's outputs: they go to the workers now,
    // and the platform's policies and plan are made here meanwhile.
    const estimate = new Map(estimateStacks(o.estateName, o.estate).map((s) => [s.name, s.resources]));
    const order = [...jobs].sort((a, b) => (estimate.get(b.stack) ?? 0) - (estimate.get(a.stack) ?? 0));
    const running = pool.run(order);
    running.catch(() => undefined); // awaited below; a failure while the platform's policies run is not unhandled
    const platform = await platformPlan();
    const plans = await running;
    return mergePlans(o.estateName, o.estate, [platform, ...shards.map((s) => plans.get(s.name)!)]);
  } finally {
    pool?.stop();
  }
}

/**
 * How a worker's Node.js starts (docs/scaling.md, "What changed"):
 * - scripts/plan-worker-boot.cjs: the SDK and the providers loaded before tsx's hooks, then tsx's
 *   CommonJS hooks only — everything a worker loads is required (no `import()`), and the ESM
 *   hooks ran on a thread of their own that every require consulted;
 * - a young generation of 128–256 MB per semi-space instead of V8's default (which stays near
 *   16 MB here): an evaluation allocates Outputs and promises that live until their resource's
 *   registration completes, a few MB later, so most of them survived each small scavenge and were
 *   copied twice; with the larger space they die first (scavenges 220 → 44 over 10 shards, ~12 %
 *   of a worker's CPU). Peak RSS stays under 1.3 GB per worker.
 * The workers also share V8's compile cache (NODE_COMPILE_CACHE, in the temporary directory
 * unless set): the second and later runs skip compiling the program's and the SDK's code.
 * Profiling flags of the main process (`node --cpu-prof …`) carry over to the workers.
 */
const WORKER_NODE_FLAGS = ["--min-semi-space-size=128", "--max-semi-space-size=256"];

interface Pool {
  /** Runs the jobs (each worker takes the next one when it is done); resolves when all are done. */
  run(jobs: ShardJob[]): Promise<Map<string, Plan>>;
  /** Lets every worker exit (they exit when their channel closes). */
  stop(): void;
}

/** Starts `n` worker processes; they load everything they need while they wait for jobs. */
function startPool(n: number, stats?: StackStats[]): Pool {
  const workers: ChildProcess[] = [];
  const idle: ChildProcess[] = [];
  let queue: ShardJob[] = [];
  const done = new Map<string, Plan>();
  let total = -1;
  let settle: { resolve: (m: Map<string, Plan>) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const stopAll = () => workers.forEach((w) => w.connected && w.disconnect());
  const fail = (err: Error) => {
    if (failure) return;
    failure = err;
    stopAll();
    settle?.reject(err);
  };
  const next = (w: ChildProcess) => {
    if (failure) return;
    const job = queue.shift();
    if (job) w.send(job);
    else idle.push(w);
    if (done.size === total) settle?.resolve(done);
  };
  for (let i = 0; i < n; i++) {
    const w = fork(path.join(__dirname, "plan-worker-boot.cjs"), [], {
      execArgv: [...WORKER_NODE_FLAGS, ...process.execArgv.filter((a) => a.startsWith("--cpu-prof") || a.startsWith("--heap-prof"))],
      env: { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(os.tmpdir(), "node-compile-cache") },
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    workers.push(w);
    idle.push(w);
    w.on("error", (err) => fail(err));
    w.on("message", (m: WorkerReply) => {
      if ("error" in m) return fail(new Error(`stack ${m.stack}: ${m.error}`));
      done.set(m.stack, m.plan);
      stats?.push(m.stats);
      next(w);
    });
    w.on("exit", (code) => {
      if (code && (total < 0 || done.size < total)) fail(new Error(`a plan worker exited with code ${code}`));
    });
  }
  return {
    run(jobs) {
      queue = [...jobs];
      total = jobs.length;
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        settle = { resolve, reject };
        for (const w of idle.splice(0)) next(w);
      });
    },
    stop: stopAll,
  };
}
