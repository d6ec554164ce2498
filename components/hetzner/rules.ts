/**
 * Config rules of the compute section (components/hetzner): allowed locations (`locationRules`),
 * node pools, dedicated servers, etcd quorum and the backup server (`nodeRules`). Hetzner's own
 * limits are `hetznerRules` (./limits.ts). Assembled by components/estate.ts.
 */
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import { duplicates, type Rule } from "../config/rules";
import { liveSlots } from "./nodes";

export const locationRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const allowed = e.hetzner.locations.allowed;
  const check = (loc: string | undefined, path: PropertyKey[]) => {
    if (loc !== undefined && !allowed.includes(loc as never)) {
      out.push({ path: keyPath(path), message: `expected one of the allowed locations (${allowed.join(" | ")}, liiibre:hetzner.locations.allowed), got ${describe(loc)}` });
    }
  };
  check(e.hetzner.locations.primary, ["hetzner", "locations", "primary"]);
  check(e.hetzner.locations.backup, ["hetzner", "locations", "backup"]);
  if (e.hetzner.locations.backup === e.hetzner.locations.primary) {
    out.push({ path: keyPath(["hetzner", "locations", "backup"]), message: `expected a location other than the primary (${e.hetzner.locations.primary}) so that backups are off-site, got ${describe(e.hetzner.locations.backup)}` });
  }
  e.nodePools.forEach((p, i) => check(p.cloud?.location, ["nodePools", i, "cloud", "location"]));
  e.dedicatedServers.forEach((d, i) => check(d.location, ["dedicatedServers", i, "location"]));
  return out;
};

export const nodeRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  out.push(...duplicates(e.nodePools, (p) => p.name, (i) => ["nodePools", i, "name"], "pool name"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.name, (i) => ["dedicatedServers", i, "name"], "server name"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.publicIpv4, (i) => ["dedicatedServers", i, "publicIpv4"], "public address"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.privateIpv4, (i) => ["dedicatedServers", i, "privateIpv4"], "private address"));
  const pools = e.nodePools.map((p) => p.name);
  e.dedicatedServers.forEach((d, i) => {
    if (!pools.includes(d.pool)) {
      out.push({ path: keyPath(["dedicatedServers", i, "pool"]), message: `expected one of the node pools (${pools.join(" | ")}), got ${describe(d.pool)}` });
    }
  });
  if (e.dedicatedServers.length > 0 && !e.hetzner.network.vswitch) {
    out.push({ path: keyPath(["hetzner", "network", "vswitch"]), message: "expected a vSwitch (id, subnet) because dedicatedServers are declared, got nothing" });
  }
  // Members of etcd: nodes marked `reset` (leaving) or `retired` (gone) do not count.
  const controllers =
    e.nodePools.filter((p) => p.role !== "worker").reduce((n, p) => n + (p.cloud ? liveSlots(p.cloud).filter((s) => !p.cloud!.reset.includes(s)).length : 0), 0) +
    e.dedicatedServers.filter((d) => !d.reset && e.nodePools.find((p) => p.name === d.pool)?.role !== "worker" && pools.includes(d.pool)).length;
  if (controllers % 2 === 0) {
    out.push({ path: keyPath(["nodePools"]), message: `expected an odd number of controllers (1, 3, 5…) for etcd quorum, got ${controllers}` });
  }
  if (e.backup.server.kind === "dedicated") {
    const name = e.backup.server.name;
    const box = e.dedicatedServers.find((d) => d.name === name);
    if (!box) {
      out.push({ path: keyPath(["backup", "server", "name"]), message: `expected the name of a dedicatedServers entry, got ${describe(name)}` });
    } else if (box.location !== e.hetzner.locations.backup) {
      out.push({ path: keyPath(["backup", "server", "name"]), message: `expected a server in the backup location ${e.hetzner.locations.backup}, got ${describe(name)} in ${box.location}` });
    }
  }
  return out;
};
