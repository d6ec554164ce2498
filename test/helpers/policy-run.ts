/**
 * Runs a small program under the harness (dev config) and the offline policy runner: the
 * shared loader of the policy test files.
 */
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../../scripts/harness";
import { checkPolicies, type PolicyPackConfig, type Violation } from "../../scripts/check-policies";

const CONFIG = readStackConfig(stackConfigFile("dev"));

export async function runPolicies(program: () => void, packConfig: PolicyPackConfig = {}): Promise<{ evaluation: Evaluation; violations: Violation[] }> {
  const evaluation = await evaluate({ config: CONFIG, stack: "dev", program });
  return { evaluation, violations: await checkPolicies(evaluation, { config: packConfig }) };
}

/** Violations of one policy, keyed by resource name (the last URN segment). */
export function violationsByName(violations: Violation[], policy: string): Record<string, Violation[]> {
  const out: Record<string, Violation[]> = {};
  for (const v of violations.filter((x) => x.policy === policy)) {
    const name = v.urn ? v.urn.split("::").pop()! : "<stack>";
    (out[name] ??= []).push(v);
  }
  return out;
}
