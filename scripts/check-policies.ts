/**
 * Runs the policy pack over an evaluation (offline, the same policy objects the real
 * analyzer runs). Filled in by the policy pack (policies/); until then no violations.
 */
import type { Evaluation } from "./harness";

export type PolicyLevel = "mandatory" | "advisory";

export interface Violation {
  /** Policy name, e.g. `storage-quota-per-user` (a contract: reports and exemptions use it). */
  policy: string;
  level: PolicyLevel;
  /** URN of the offending resource, or null for a stack-level violation. */
  urn: string | null;
  message: string;
  /** Slug of the tenant the resource belongs to, when it belongs to one. */
  tenant: string | null;
}

export async function checkPolicies(_evaluation: Evaluation): Promise<Violation[]> {
  return [];
}
