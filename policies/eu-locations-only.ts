/**
 * `eu-locations-only` (mandatory): servers, volumes, load balancers, IPs and storage boxes only in
 * the allowed Hetzner locations (default fsn1, nbg1, hel1). A server without a location or
 * datacenter is a violation too: Hetzner would pick one.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, config } from "./lib";

export interface EuLocationsConfig {
  /** Hetzner locations resources may be placed in. Default ["fsn1", "nbg1", "hel1"]. */
  allowedLocations: string[];
}
export const EU_LOCATIONS_DEFAULTS: EuLocationsConfig = { allowedLocations: ["fsn1", "nbg1", "hel1"] };

/** Property holding the location, per resource type ("datacenter" values look like fsn1-dc14). */
const LOCATED: Record<string, { keys: string[]; required: boolean }> = {
  [TYPES.hcloudServer]: { keys: ["location", "datacenter"], required: true },
  [TYPES.hcloudVolume]: { keys: ["location"], required: false },
  [TYPES.hcloudLoadBalancer]: { keys: ["location", "networkZone"], required: true },
  [TYPES.hcloudPrimaryIp]: { keys: ["location", "datacenter"], required: false },
  [TYPES.hcloudFloatingIp]: { keys: ["homeLocation"], required: false },
  [TYPES.hcloudStorageBox]: { keys: ["location"], required: true },
};

const ZONES: Record<string, string[]> = { "eu-central": ["fsn1", "nbg1", "hel1"] };

export const euLocationsOnly: ResourceValidationPolicy = {
  name: "eu-locations-only",
  description: "Servers, volumes, load balancers, IPs and storage boxes are only placed in the allowed Hetzner locations.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedLocations: { type: "array", items: { type: "string" }, minItems: 1, default: EU_LOCATIONS_DEFAULTS.allowedLocations },
    },
  },
  validateResource: (args, report) => {
    const spec = LOCATED[args.type];
    if (!spec) return;
    const { allowedLocations } = config(args, EU_LOCATIONS_DEFAULTS);
    const allowed = allowedLocations.join(", ");
    let found = false;
    for (const key of spec.keys) {
      const v = args.props[key];
      if (typeof v !== "string" || !v) continue;
      found = true;
      if (key === "networkZone") {
        const locs = ZONES[v];
        if (!locs || locs.some((l) => !allowedLocations.includes(l))) report(`${key} "${v}" may place it outside the allowed locations (${allowed}); set a location`);
        continue;
      }
      const loc = key === "datacenter" ? v.split("-")[0] : v;
      if (!allowedLocations.includes(loc)) report(`${key} "${v}" is not an allowed location (${allowed})`);
    }
    // A volume attached to a server inherits its location; other types must say where they go.
    if (!found && spec.required) report(`no ${spec.keys.join(" or ")} set: Hetzner would choose one; set one of ${allowed}`);
  },
};
