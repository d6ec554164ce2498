/**
 * Benchmark of `npm run plan -- --diff`: the diff of two prod-sized plans, beyond the two
 * evaluations (measured apart). Prints figures; asserts nothing.
 *
 *   npx tsx bench/diff.bench.ts
 *
 * Pairs: prod against prod with a typical merge request (one organisation added, one grown, a
 * pool resized), and a worst case (every organisation grown and the cluster's API address
 * changed: every Kubernetes object replaced, thousands of changed paths).
 */
import { performance } from "node:perf_hooks";
import type { RawConfig } from "../components/config";
import { checkPolicies } from "../scripts/check-policies";
import { diffPlans } from "../scripts/diff/diff";
import { renderDiff } from "../scripts/diff/render";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { buildPlan, type Plan } from "../scripts/plan-model";

const prod = (): any => structuredClone(readStackConfig(stackConfigFile("prod")));

async function plan(config: RawConfig): Promise<{ plan: Plan; seconds: number }> {
  const t0 = performance.now();
  const ev = await evaluate({ config, stack: "prod" });
  const p = buildPlan(ev, await checkPolicies(ev));
  return { plan: p, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${require("node:os").cpus().length} cores`);
  const base = await plan(prod());
  const typical = prod();
  typical.tenants.push({ slug: "bench-nouvelle", name: "Nouvelle", domain: "nouvelle.example.org", plan: "dedicated", users: 120 });
  typical.tenants[0].users += 100;
  typical.nodePools.find((p: any) => p.name === "general").cloud.serverType = "cpx51";
  const worst = prod();
  for (const t of worst.tenants) t.users += 50;
  worst.cluster.apiDomain = "api.bench.liiibre.coop";
  for (const [label, config] of [["typical", typical], ["worst", worst]] as const) {
    const head = await plan(config);
    const t0 = performance.now();
    const d = diffPlans(base.plan, head.plan);
    const t1 = performance.now();
    const sizes = (["text", "markdown", "json"] as const).map((f) => renderDiff(d, f).length);
    const t2 = performance.now();
    const paths = d.changes.reduce((n, c) => n + c.properties.length, 0);
    console.log(
      JSON.stringify({
        pair: label,
        resources: [base.plan.resources.length, head.plan.resources.length],
        evaluateSeconds: [+base.seconds.toFixed(2), +head.seconds.toFixed(2)],
        changes: d.changeSummary,
        changedPaths: paths,
        diffSeconds: +((t1 - t0) / 1000).toFixed(3),
        renderSeconds: +((t2 - t1) / 1000).toFixed(3),
        outputChars: { text: sizes[0], markdown: sizes[1], json: sizes[2] },
      }),
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
