/**
 * `npm run plan -- --render`: the rendered objects join the plan (docs/plan.md): each Helm
 * release resource gets `rendered: { chart, version, objects }`, the plan gets
 * `render: { problems, warnings }` and `summary.render` the counts.
 */
import type { Plan } from "../plan-model";
import { renderPlan, type RenderOptions, type RenderResult } from "./render";

export async function attachRender(plan: Plan, options: RenderOptions = {}): Promise<RenderResult> {
  const result = await renderPlan(plan.resources, options);
  const byUrn = new Map(result.releases.map((r) => [r.urn, r]));
  for (const r of plan.resources) {
    const rel = byUrn.get(r.urn);
    if (rel) r.rendered = { chart: rel.chart, version: rel.version, objects: rel.objects };
  }
  const { releases, distinctRenders, objects, problemsByCheck } = result.stats;
  plan.summary.render = { releases, distinctRenders, objects, problems: result.problems.length, warnings: result.warnings.length, problemsByCheck };
  plan.render = { problems: result.problems, warnings: result.warnings };
  return result;
}
