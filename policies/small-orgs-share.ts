/**
 * `small-orgs-share` (advisory): an organisation with a dedicated bundle and fewer users than the
 * threshold (default 10) should join the shared instance.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, config, tenantNamespace } from "./lib";

export interface SmallOrgsShareConfig {
  /** Organisations with fewer users than this belong on the shared instance. Default 10. */
  threshold: number;
}
export const SMALL_ORGS_DEFAULTS: SmallOrgsShareConfig = { threshold: 10 };

export const smallOrgsShare: ResourceValidationPolicy = {
  name: "small-orgs-share",
  description: "Organisations under the threshold (10 users) join the shared instance instead of a dedicated bundle.",
  enforcementLevel: "advisory",
  configSchema: { properties: { threshold: { type: "integer", minimum: 1, default: SMALL_ORGS_DEFAULTS.threshold } } },
  validateResource: (args, report) => {
    if (args.type !== TYPES.namespace) return;
    const ns = tenantNamespace(args.urn, args.props);
    if (!ns || ns.plan !== "dedicated" || ns.users === undefined) return;
    const { threshold } = config(args, SMALL_ORGS_DEFAULTS);
    if (ns.users < threshold) {
      report(`${ns.tenant} has a dedicated bundle for ${ns.users} user${ns.users === 1 ? "" : "s"} (< ${threshold}): suggest the shared instance (plan: shared)`);
    }
  },
};
