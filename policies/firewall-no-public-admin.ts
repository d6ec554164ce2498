/**
 * `firewall-no-public-admin` (mandatory): no Hetzner firewall rule opens SSH or the Kubernetes
 * API to more than a small part of the Internet. The policy measures the address space a rule's
 * sources cover (components/cidr.ts: the union of the blocks, overlaps counted once, IPv4 and
 * IPv6 apart, IPv4-mapped IPv6 counted as IPv4) and fails above the configured size: the world
 * split in two halves (`0.0.0.0/1` + `128.0.0.0/1`) is the world. A source that is not a CIDR
 * block counts as the whole Internet.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { addressSpace, blockSize } from "../components/cidr";
import { TYPES, config } from "./lib";

export interface FirewallNoPublicAdminConfig {
  /** Administrative TCP ports that must never be world-open. Default [22, 6443]. */
  adminPorts: number[];
  /** A rule's IPv4 sources may cover at most as many addresses as one block of this prefix. Default 16 (65,536 addresses). */
  minIpv4Prefix: number;
  /** A rule's IPv6 sources may cover at most as many addresses as one block of this prefix. Default 48 (one site). */
  minIpv6Prefix: number;
}
export const FIREWALL_DEFAULTS: FirewallNoPublicAdminConfig = { adminPorts: [22, 6443], minIpv4Prefix: 16, minIpv6Prefix: 48 };

/** True when an hcloud rule's `port` ("22", "1-1024", "any", unset) covers `port`. */
export function portCovers(spec: unknown, port: number): boolean {
  if (spec === undefined || spec === null || spec === "" || spec === "any") return true;
  const s = String(spec).trim();
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(s);
  if (range) return Number(range[1]) <= port && port <= Number(range[2]);
  return Number(s) === port;
}

/**
 * Why a list of sources is too wide (undefined when it is not): the addresses it covers per
 * family against the limits. Shared with `admin-surfaces-restricted` (the same limit applies to
 * Ingress allow-lists).
 */
export function tooWide(sources: readonly string[], limits: { minIpv4Prefix: number; minIpv6Prefix: number }): string | undefined {
  const space = addressSpace(sources);
  const reasons: string[] = [];
  if (space.invalid.length) reasons.push(`${space.invalid.map((s) => JSON.stringify(s)).join(", ")} not a CIDR block (counted as the whole Internet)`);
  const max4 = blockSize(32, limits.minIpv4Prefix);
  const max6 = blockSize(128, limits.minIpv6Prefix);
  if (space.ipv4 > max4) reasons.push(`${space.ipv4} IPv4 addresses${space.ipv4 === 1n << 32n ? " (all of IPv4)" : ""}, more than a /${limits.minIpv4Prefix}`);
  if (space.ipv6 > max6) reasons.push(`2^${log2(space.ipv6)} IPv6 addresses${space.ipv6 === 1n << 128n ? " (all of IPv6)" : ""}, more than a /${limits.minIpv6Prefix}`);
  return reasons.length ? reasons.join("; ") : undefined;
}
const log2 = (n: bigint): string => {
  const bits = n.toString(2).length - 1;
  return (1n << BigInt(bits)) === n ? String(bits) : `~${bits}`;
};

export const firewallNoPublicAdmin: ResourceValidationPolicy = {
  name: "firewall-no-public-admin",
  description: "SSH and the Kubernetes API are open only to a bounded address space (the admin CIDRs), never to the whole Internet however its blocks are written.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      adminPorts: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, default: FIREWALL_DEFAULTS.adminPorts },
      minIpv4Prefix: { type: "integer", minimum: 0, maximum: 32, default: FIREWALL_DEFAULTS.minIpv4Prefix },
      minIpv6Prefix: { type: "integer", minimum: 0, maximum: 128, default: FIREWALL_DEFAULTS.minIpv6Prefix },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== TYPES.hcloudFirewall) return;
    const cfg = config(args, FIREWALL_DEFAULTS);
    const rules: any[] = Array.isArray(args.props.rules) ? args.props.rules : [];
    rules.forEach((rule, i) => {
      if ((rule.direction ?? "in") !== "in") return;
      if (rule.protocol !== "tcp") return;
      const ports = cfg.adminPorts.filter((p) => portCovers(rule.port, p));
      if (!ports.length) return;
      const sources: string[] = (Array.isArray(rule.sourceIps) ? rule.sourceIps : []).map((ip: unknown) => String(ip));
      const why = tooWide(sources, cfg);
      if (why) {
        report(
          `rules[${i}] opens tcp port ${rule.port ?? "any"} (admin port${ports.length > 1 ? "s" : ""} ${ports.join(", ")}) to ${sources.join(", ")}: ${why}; allow only the admin CIDRs (liiibre:hetzner.adminCidrs)`,
        );
      }
    });
  },
};
