/**
 * The twin's input from a harness evaluation: the plan's resources and tenants, the estate, and
 * the key names (never the values) of each Secret the program declares.
 */
import { isSecretMarker, secretAwareInputs, type Evaluation } from "../harness";
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

export function twinInput(evaluation: Evaluation, plan: Pick<Plan, "resources" | "tenants">, rendered?: RenderedRelease[]): TwinInput {
  return { stack: evaluation.stack, estate: evaluation.estate, resources: plan.resources, tenants: plan.tenants, secretKeys: secretKeysOf(evaluation), rendered };
}
