/**
 * `firewall-no-public-admin` (mandatory): no Hetzner firewall rule opens SSH or the Kubernetes
 * API to the whole Internet (0.0.0.0/0 or ::/0, or any prefix of length 0).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, config } from "./lib";

export interface FirewallNoPublicAdminConfig {
  /** Administrative TCP ports that must never be world-open. Default [22, 6443]. */
  adminPorts: number[];
}
export const FIREWALL_DEFAULTS: FirewallNoPublicAdminConfig = { adminPorts: [22, 6443] };

const WORLD = /^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)\/0$/;

/** True when an hcloud rule's `port` ("22", "1-1024", "any", unset) covers `port`. */
export function portCovers(spec: unknown, port: number): boolean {
  if (spec === undefined || spec === null || spec === "" || spec === "any") return true;
  const s = String(spec).trim();
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(s);
  if (range) return Number(range[1]) <= port && port <= Number(range[2]);
  return Number(s) === port;
}

export const firewallNoPublicAdmin: ResourceValidationPolicy = {
  name: "firewall-no-public-admin",
  description: "SSH and the Kubernetes API are never open to the whole Internet (0.0.0.0/0 or ::/0).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      adminPorts: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, default: FIREWALL_DEFAULTS.adminPorts },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== TYPES.hcloudFirewall) return;
    const { adminPorts } = config(args, FIREWALL_DEFAULTS);
    const rules: any[] = Array.isArray(args.props.rules) ? args.props.rules : [];
    rules.forEach((rule, i) => {
      if ((rule.direction ?? "in") !== "in") return;
      if (rule.protocol !== "tcp") return;
      const world = (Array.isArray(rule.sourceIps) ? rule.sourceIps : []).filter((ip: unknown) => typeof ip === "string" && WORLD.test(ip.trim()));
      if (!world.length) return;
      const ports = adminPorts.filter((p) => portCovers(rule.port, p));
      if (ports.length) {
        report(`rules[${i}] opens tcp port ${rule.port ?? "any"} (admin port${ports.length > 1 ? "s" : ""} ${ports.join(", ")}) to ${world.join(", ")}; allow only the admin CIDRs (liiibre:hetzner.adminCidrs)`);
      }
    });
  },
};
