/**
 * The twin in the plan (docs/plan.md): `twin[]` (findings), `capacity[]` (per pool),
 * `footprint` and `summary.twin` ({ errors, warnings }). Every plan carries them; with
 * `--render` the twin also sees the rendered chart objects. A twin error makes the plan exit 1.
 */
import type { Estate } from "../../components/config";
import type { Plan } from "../plan-model";
import type { RenderedRelease } from "../render/model";
import { capacityTable } from "./checks/capacity";
import { footprint } from "./footprint";
import { twinInput } from "./from-evaluation";
import { runTwinOn } from "./index";
import { normalise } from "./normalise";

/** The rendered releases carried by the plan's resources (`--render`). */
export function renderedReleases(plan: Pick<Plan, "resources">): RenderedRelease[] | undefined {
  const out: RenderedRelease[] = [];
  for (const r of plan.resources)
    if (r.rendered) out.push({ urn: r.urn, release: String(r.inputs.name ?? r.name), namespace: String(r.inputs.namespace ?? "default"), chart: r.rendered.chart, version: r.rendered.version, objects: r.rendered.objects });
  return out.length ? out : undefined;
}

export async function attachTwin(plan: Plan, estateConfig: Estate): Promise<void> {
  const estate = normalise(twinInput(estateConfig, plan, renderedReleases(plan)));
  const report = await runTwinOn(estate);
  plan.twin = report.findings;
  plan.capacity = capacityTable(estate);
  plan.footprint = footprint(estate);
  plan.summary.twin = { errors: report.errors, warnings: report.warnings, rendered: !!estate.input.rendered };
}
