/**
 * The twin's input from a harness evaluation: the plan's resources and tenants, the estate, and
 * the key names (never the values) of each Secret the program declares.
 */
import { isSecretMarker, secretAwareInputs, type Evaluation } from "../harness";
import type { Estate } from "../../components/config";
import type { Plan } from "../plan-model";
import type { RenderedRelease } from "../render/model";
import type { TwinInput } from "./model";

export function secretKeysOf(evaluation: Evaluation): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of evaluation.resources) {
    if (r.type !== "kubernetes:core/v1:Secret") continue;
    const raw = secretAwareInputs(r);
    const keys: string[] = [];
    for (const field of ["stringData", "data"]) {
      let v = raw[field];
      while (isSecretMarker(v)) v = v.value;
      if (v && typeof v === "object") keys.push(...Object.keys(v as object));
    }
    out[r.urn] = [...new Set(keys)];
  }
  return out;
}

/**
 * The twin's input from a plan (one stack or a sharded estate's merged plan): its resources and
 * tenants, the Secrets' key names the plan carries (`secretKeys`), the estate.
 */
export function twinInput(estate: Estate, plan: Pick<Plan, "resources" | "tenants"> & { stack?: string; stacks?: Plan["stacks"] }, rendered?: RenderedRelease[]): TwinInput {
  const secretKeys: Record<string, string[]> = {};
  for (const r of plan.resources) if (r.secretKeys) secretKeys[r.urn] = r.secretKeys;
  return { stack: plan.stack ?? "", estate, resources: plan.resources, tenants: plan.tenants, secretKeys, rendered, stacks: plan.stacks?.map((s) => ({ name: s.name, layer: s.layer })) };
}
