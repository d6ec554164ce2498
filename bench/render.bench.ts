/**
 * Benchmark of the render step (`npm run render`) on prod: every Helm release through the
 * project's Helm, 2 `helm template` processes at a time, then the checks. Prints figures;
 * asserts nothing. Run by `npm run bench` (after the plan benchmark), or alone:
 *
 *   npx tsx bench/render.bench.ts
 */
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { ensureHelm } from "../scripts/render/helm";
import { renderPlan } from "../scripts/render/render";

async function main(): Promise<void> {
  const helm = ensureHelm(); // first use fetches it: not part of the figure
  const t0 = performance.now();
  const ev = await evaluate({ config: readStackConfig(stackConfigFile("prod")), stack: "prod" });
  const t1 = performance.now();
  const result = await renderPlan(ev.resources, { helm, concurrency: 2 });
  const t2 = performance.now();
  console.log(
    JSON.stringify({
      run: "render-prod",
      cores: os.cpus().length,
      concurrency: 2,
      releases: result.stats.releases,
      distinctRenders: result.stats.distinctRenders,
      objects: result.stats.objects,
      problems: result.problems.length,
      problemsByCheck: result.stats.problemsByCheck,
      evaluateSeconds: +((t1 - t0) / 1000).toFixed(2),
      renderSeconds: +((t2 - t1) / 1000).toFixed(2),
      helmPhaseSeconds: result.stats.helmSeconds,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
