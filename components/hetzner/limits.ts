/**
 * Config-time checks of Hetzner's limits and of the compute section's consistency, run by
 * the config loader (components/estate.ts assembles them with the other domains' rules) before
 * any resource is registered, so that a plan fails with exit 2 and a key path instead of an
 * apply failing halfway.
 *
 * What is split automatically is not an error: a pool of 25 servers gets 3 spread placement
 * groups. What cannot be split is: a controller pool above 10 (etcd members must sit in ONE
 * spread group to be on distinct hosts), more than 100 cloud servers on the one private
 * network, more than 50 subnets in it, a server type not sold in the pool's location.
 */
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import type { ParsedEstate, Rule } from "../config/rules";
import { CATALOG, HETZNER_LIMITS, locationsOf, serverTypeInfo } from "./catalog";
import { cloudNodeName, liveSlots } from "./nodes";

/** "10.0.1.0/24" → [first address as uint32, size]. */
export function parseCidr(cidr: string): { start: number; size: number } {
  const [ip, bits] = cidr.split("/");
  const start = ipToInt(ip);
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { start: start - (start % size), size };
}
export const ipToInt = (ip: string): number => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
export const cidrContains = (outer: string, inner: string): boolean => {
  const o = parseCidr(outer);
  const i = inner.includes("/") ? parseCidr(inner) : { start: ipToInt(inner), size: 1 };
  return i.start >= o.start && i.start + i.size <= o.start + o.size;
};
export const cidrsOverlap = (a: string, b: string): boolean => {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.start < y.start + y.size && y.start < x.start + x.size;
};

const typeList = (): string => Object.keys(CATALOG.serverTypes).join(" | ");

function checkServerType(type: string, location: string, path: PropertyKey[]): ConfigProblem[] {
  if (!serverTypeInfo(type)) {
    return [{ path: keyPath(path), message: `expected a Hetzner server type of components/hetzner/catalog.json (${typeList()}), got ${describe(type)}` }];
  }
  const where = locationsOf(type);
  if (!where.includes(location)) {
    const here = Object.keys(CATALOG.serverTypes).filter((t) => locationsOf(t).includes(location));
    return [{ path: keyPath(path), message: `expected a server type sold in ${location} (${here.join(" | ")}), got ${describe(type)} (sold in ${where.join(", ")})` }];
  }
  return [];
}

export const hetznerRules: Rule = (e: ParsedEstate) => {
  const out: ConfigProblem[] = [];
  const net = e.hetzner.network;
  const primary = e.hetzner.locations.primary;

  // Server types known for their location, locations in the network's zone.
  e.nodePools.forEach((p, i) => {
    if (!p.cloud) return;
    const loc = p.cloud.location ?? primary;
    out.push(...checkServerType(p.cloud.serverType, loc, ["nodePools", i, "cloud", "serverType"]));
    const zone = CATALOG.locations[loc]?.networkZone;
    // A location outside `hetzner.locations.allowed` is already reported by the location rule.
    if (zone && zone !== e.hetzner.networkZone && e.hetzner.locations.allowed.includes(loc)) {
      out.push({
        path: keyPath(["nodePools", i, "cloud", "location"]),
        message: `expected a location in network zone ${e.hetzner.networkZone} (liiibre:hetzner.networkZone) so the servers can join the private network, got ${describe(loc)} (zone ${zone})`,
      });
    }
  });
  if (e.backup.server.kind === "cloud") {
    out.push(...checkServerType(e.backup.server.serverType, e.hetzner.locations.backup, ["backup", "server", "serverType"]));
  }

  // Placement groups: pools split in groups of 10, except controllers (one group, distinct hosts).
  e.nodePools.forEach((p, i) => {
    if (p.cloud && p.role !== "worker" && p.cloud.count > HETZNER_LIMITS.serversPerPlacementGroup) {
      out.push({
        path: keyPath(["nodePools", i, "cloud", "count"]),
        message: `expected at most ${HETZNER_LIMITS.serversPerPlacementGroup} servers in a ${p.role} pool (etcd members share one spread placement group, Hetzner allows ${HETZNER_LIMITS.serversPerPlacementGroup} servers per group), got ${p.cloud.count}`,
      });
    }
  });

  // Servers attached to the one private network.
  const cloudServers = e.nodePools.reduce((n, p) => n + (p.cloud ? liveSlots(p.cloud).length : 0), 0);
  if (cloudServers > HETZNER_LIMITS.serversPerNetwork) {
    out.push({
      path: keyPath(["nodePools"]),
      message: `expected at most ${HETZNER_LIMITS.serversPerNetwork} cloud servers in total (Hetzner attaches at most ${HETZNER_LIMITS.serversPerNetwork} servers to one network; move workloads to dedicated servers or a second cluster), got ${cloudServers}`,
    });
  }

  // Subnets of the network.
  const subnets: Array<{ cidr: string; path: PropertyKey[] }> = [
    { cidr: net.cloudSubnet, path: ["hetzner", "network", "cloudSubnet"] },
    ...(net.vswitch ? [{ cidr: net.vswitch.subnet, path: ["hetzner", "network", "vswitch", "subnet"] }] : []),
    ...net.extraSubnets.map((cidr, j) => ({ cidr, path: ["hetzner", "network", "extraSubnets", j] as PropertyKey[] })),
  ];
  if (subnets.length > HETZNER_LIMITS.subnetsPerNetwork) {
    out.push({
      path: keyPath(["hetzner", "network", "extraSubnets"]),
      message: `expected at most ${HETZNER_LIMITS.subnetsPerNetwork} subnets in the network (Hetzner limit; the cloud${net.vswitch ? " and vSwitch subnets count" : " subnet counts"} too), got ${subnets.length}`,
    });
  }
  subnets.forEach((s, j) => {
    if (!cidrContains(net.ipRange, s.cidr)) {
      out.push({ path: keyPath(s.path), message: `expected a subnet inside liiibre:hetzner.network.ipRange (${net.ipRange}), got ${describe(s.cidr)}` });
    }
    for (let k = 0; k < j; k++) {
      if (cidrsOverlap(subnets[k].cidr, s.cidr)) {
        out.push({ path: keyPath(s.path), message: `expected a subnet not overlapping ${keyPath(subnets[k].path)} (${subnets[k].cidr}), got ${describe(s.cidr)}` });
      }
    }
  });
  // Hetzner keeps the network address, the gateway (.1) and the broadcast address.
  const usable = parseCidr(net.cloudSubnet).size - 3;
  if (cloudServers > usable) {
    out.push({ path: keyPath(["hetzner", "network", "cloudSubnet"]), message: `expected a subnet with room for the ${cloudServers} cloud servers (${usable} usable addresses), got ${describe(net.cloudSubnet)}` });
  }
  if (net.vswitch) {
    const vs = net.vswitch.subnet;
    e.dedicatedServers.forEach((d, i) => {
      if (!cidrContains(vs, d.privateIpv4)) {
        out.push({ path: keyPath(["dedicatedServers", i, "privateIpv4"]), message: `expected an address inside the vSwitch subnet ${vs} (liiibre:hetzner.network.vswitch.subnet), got ${describe(d.privateIpv4)}` });
      }
    });
  }

  // Node names: unique across cloud and dedicated, valid DNS labels; reset slots exist.
  const cloudNames = new Map<string, number>();
  e.nodePools.forEach((p, i) => {
    if (!p.cloud) return;
    const longest = cloudNodeName(e.cluster.name, p.name, Math.max(p.cloud.count, 1));
    if (longest.length > 63) {
      out.push({ path: keyPath(["nodePools", i, "name"]), message: `expected a pool name short enough for node names (<cluster>-<pool>-NN) of at most 63 characters, got ${describe(p.name)} (${longest.length} characters)` });
    }
    for (const slot of liveSlots(p.cloud)) cloudNames.set(cloudNodeName(e.cluster.name, p.name, slot), i);
    const seen = new Set<number>();
    for (const key of ["reset", "retired"] as const) {
      p.cloud[key].forEach((slot, j) => {
        const at = keyPath(["nodePools", i, "cloud", key, j]);
        if (slot > p.cloud!.count) out.push({ path: at, message: `expected a slot between 1 and the pool's count (${p.cloud!.count}), got ${slot}` });
        if (seen.has(slot)) out.push({ path: at, message: `expected each slot once in reset and retired, got ${slot} twice` });
        seen.add(slot);
      });
    }
  });
  e.dedicatedServers.forEach((d, i) => {
    const pool = cloudNames.get(d.name);
    if (pool !== undefined) {
      out.push({ path: keyPath(["dedicatedServers", i, "name"]), message: `expected a name not taken by a cloud node of liiibre:nodePools[${pool}], got ${describe(d.name)}` });
    }
  });
  return out;
};
