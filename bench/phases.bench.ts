/**
 * Where the offline plan's time goes, phase by phase (docs/scaling.md, "Where the time goes"):
 * the platform stack and a sample of tenant shards of the synthetic estate of bench/plan.bench.ts
 * evaluated one after the other in this one process (no workers), then the merge, the twin and
 * the JSON report over the merged plan of the sample. Prints figures; asserts nothing.
 *
 *   npx tsx bench/phases.bench.ts                  # 700 organisations, 8 shards
 *   npx tsx bench/phases.bench.ts --tenants 700 --shards 16
 *   npx tsx bench/phases.bench.ts --sdk            # + the SDK's floor per registered resource
 *
 * Each phase is reported as wall time and CPU time of this process (user + system; the CPU time
 * is what the machine's load changes least), per stack, per resource and per dedicated
 * organisation, so that the cost of an estate can be predicted from its resource count:
 *   evaluate  the program under the runtime mocks (scripts/harness.ts), resources recorded
 *   policies  the policy pack over the evaluation (scripts/check-policies.ts)
 *   plan      the stack's plan (scripts/plan-model.ts: attribution, estimate, secret keys)
 *   merge / twin / json   once, over the merged plan of the stacks measured
 * Worker start-up (loading the SDK, tsx, the program) is measured apart: a fresh process that
 * runs scripts/plan-worker-boot.cjs as the pool does and exits.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { parseEstate } from "../components/estate";
import { stackLayout } from "../components/layers/placement";
import main from "../index";
import { checkPolicies } from "../scripts/check-policies";
import { ORGANIZATION, PROJECT, evaluate } from "../scripts/harness";
import { buildPlan, mergePlans, type Plan } from "../scripts/plan-model";
import { render } from "../scripts/report";
import { attachTwin } from "../scripts/twin/plan-twin";
import { syntheticEstate } from "./synthetic";

type Phase = { wall: number; cpu: number };
const totals = new Map<string, Phase>();

async function timed<T>(phase: string, f: () => Promise<T> | T): Promise<T> {
  const w = performance.now();
  const c = process.cpuUsage();
  const out = await f();
  const d = process.cpuUsage(c);
  const t = totals.get(phase) ?? { wall: 0, cpu: 0 };
  t.wall += performance.now() - w;
  t.cpu += (d.user + d.system) / 1000;
  totals.set(phase, t);
  return out;
}

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

class Raw extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, unknown>) {
    super("kubernetes:core/v1:ConfigMap", name, props);
  }
}

/** The SDK's own cost per registered resource under the mocks: plain CustomResources with no program around them. */
async function sdkFloor(n: number, inputs: Record<string, unknown>): Promise<{ wall: number; cpu: number }> {
  const w = performance.now();
  const c = process.cpuUsage();
  await evaluate({
    config: syntheticEstate(0),
    stack: "sdk-floor",
    program: () => {
      for (let i = 0; i < n; i++) new Raw(`cm-${i}`, { ...inputs, metadata: { name: `cm-${i}`, namespace: "x" } });
    },
  });
  const d = process.cpuUsage(c);
  return { wall: performance.now() - w, cpu: (d.user + d.system) / 1000 };
}

async function run(): Promise<void> {
  const n = arg("--tenants", 700);
  const sample = arg("--shards", 8);
  const config = syntheticEstate(n);
  const estateName = "synthetic";
  const estate = await timed("validate", () => parseEstate(config));
  const layout = stackLayout(estateName, estate);
  // An even sample of the shards (every k-th), so that the figures stand for the whole estate.
  const shards = layout.slice(1).filter((_, i, all) => i % Math.max(1, Math.floor(all.length / sample)) === 0).slice(0, sample);
  const rows: Array<{ stack: string; resources: number; dedicated: number; phases: Record<string, Phase> }> = [];
  const plans: Plan[] = [];
  let outputs: Record<string, unknown> = {};
  for (const s of [layout[0], ...shards]) {
    const before = new Map([...totals].map(([k, v]) => [k, { ...v }]));
    const ev = await timed("evaluate", () =>
      evaluate({
        config,
        estate,
        stack: s.name,
        stackOutputs: { [`${ORGANIZATION}/${PROJECT}/${estateName}`]: outputs },
        program: (e) => main(e, s.layer === "shard" ? { layer: "shard", estateName, shard: s.shard! } : ({ layer: s.layer } as { layer: "platform" })),
      }),
    );
    if (s.layer !== "shard") outputs = ev.outputs;
    const violations = await timed("policies", () => checkPolicies(ev));
    plans.push(await timed("plan", () => buildPlan(ev, violations, { estateName, layer: s.layer })));
    const phases: Record<string, Phase> = {};
    for (const k of ["evaluate", "policies", "plan"]) {
      const a = totals.get(k)!;
      const b = before.get(k) ?? { wall: 0, cpu: 0 };
      phases[k] = { wall: a.wall - b.wall, cpu: a.cpu - b.cpu };
    }
    rows.push({ stack: s.name, resources: ev.resources.length, dedicated: s.layer === "shard" ? s.tenants.length : 0, phases });
  }
  const merged = await timed("merge", () => mergePlans(estateName, estate, plans));
  await timed("twin", () => attachTwin(merged, estate));
  const json = await timed("json", () => render(merged, "json"));

  const f = (x: number) => Math.round(x);
  for (const r of rows) {
    console.log(JSON.stringify({ stack: r.stack, resources: r.resources, tenants: r.dedicated, ...Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [`${k}Ms`, `${f(v.wall)} wall / ${f(v.cpu)} cpu`])) }));
  }
  const shardRows = rows.slice(1);
  const shardResources = shardRows.reduce((a, r) => a + r.resources, 0);
  const shardTenants = shardRows.reduce((a, r) => a + r.dedicated, 0);
  const perShard = (k: string) => shardRows.reduce((a, r) => a + r.phases[k].cpu, 0);
  const allShards = layout.length - 1;
  const cpuShards = perShard("evaluate") + perShard("policies") + perShard("plan");
  console.log(
    JSON.stringify({
      sampleShards: shardRows.length,
      sampleResources: shardResources,
      sampleDedicatedOrgs: shardTenants,
      evaluateCpuUsPerResource: f((1000 * perShard("evaluate")) / shardResources),
      policiesCpuUsPerResource: f((1000 * perShard("policies")) / shardResources),
      planCpuUsPerResource: f((1000 * perShard("plan")) / shardResources),
      shardCpuMsPerDedicatedOrg: +(cpuShards / shardTenants).toFixed(1),
      mergedResources: merged.resources.length,
      twinCpuUsPerResource: f((1000 * totals.get("twin")!.cpu) / merged.resources.length),
      jsonCpuUsPerResource: f((1000 * totals.get("json")!.cpu) / merged.resources.length),
      jsonMB: +(json.length / 1e6).toFixed(1),
      // Extrapolated to every shard of the estate: CPU seconds of the shard phases, to share between the workers.
      estateShards: allShards,
      estimatedShardCpuSeconds: +((cpuShards / shardRows.length) * allShards / 1000).toFixed(1),
      totalsMs: Object.fromEntries([...totals].map(([k, v]) => [k, `${f(v.wall)} wall / ${f(v.cpu)} cpu`])),
    }),
  );

  // Start-up of one worker process: tsx, the program's modules, the SDK (what each worker pays once).
  const w = performance.now();
  // As the pool starts one (scripts/plan-stacks.ts): plain Node.js on scripts/plan-worker-boot.cjs, the compile cache shared.
  const res = spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "plan-worker-boot.cjs")], {
    stdio: "inherit",
    env: { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(require("node:os").tmpdir(), "node-compile-cache") },
  });
  console.log(JSON.stringify({ workerStartupMs: f(performance.now() - w), status: res.status }));

  if (process.argv.includes("--sdk")) {
    // The floor: what the SDK and its mock monitor cost per resource, whatever the program does.
    const sample = (merged.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap")?.inputs ?? {}) as Record<string, unknown>;
    for (const count of [2000]) {
      const empty = await sdkFloor(count, {});
      const typical = await sdkFloor(count, sample);
      console.log(JSON.stringify({ sdkFloorResources: count, emptyCpuUsPerResource: f((1000 * empty.cpu) / count), emptyWallUsPerResource: f((1000 * empty.wall) / count), configMapCpuUsPerResource: f((1000 * typical.cpu) / count) }));
    }
  }
}

run().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
