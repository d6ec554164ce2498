/**
 * Pairs of estates for diff tests: the dev stack's config, mutated, evaluated by the one
 * harness into plans (scripts/plan-model.ts) with the real policy pack.
 */
import { checkPolicies } from "../../scripts/check-policies";
import { evaluate, readStackConfig, stackConfigFile } from "../../scripts/harness";
import { buildPlan, type Plan } from "../../scripts/plan-model";

export const devConfig = (): any => structuredClone(readStackConfig(stackConfigFile("dev")));

/** The plan of the dev stack after `mutate` (a fresh copy of its config each time). */
export async function devPlan(mutate: (c: any) => void = () => {}): Promise<Plan> {
  const config = devConfig();
  mutate(config);
  const evaluation = await evaluate({ config, stack: "dev" });
  return buildPlan(evaluation, await checkPolicies(evaluation));
}
