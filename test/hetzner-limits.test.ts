/**
 * Hetzner's limits and the compute section's consistency fail at config time with the key
 * path, before anything is registered (exit 2 in the program and in `npm run plan`).
 */
import { describe, expect, it } from "vitest";
import { ConfigError, configProblems, parseEstate, type RawConfig } from "../components/estate";
import { cidrContains, cidrsOverlap, parseCidr } from "../components/hetzner/limits";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";

const prod = (): RawConfig => readStackConfig(stackConfigFile("prod"));

const problems = configProblems;

/** prod with one node pool changed. */
function withPool(name: string, change: (p: any) => any): RawConfig {
  const raw = prod();
  raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === name ? change(structuredClone(p)) : p));
  return raw;
}

describe("Hetzner limits", () => {
  it("prod and dev are within every limit", () => {
    expect(problems(prod())).toEqual([]);
    expect(problems(readStackConfig(stackConfigFile("dev")))).toEqual([]);
  });

  it("10 servers per spread placement group: a worker pool is split, a controller pool cannot be", () => {
    expect(problems(withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, count: 35 } })))).toEqual([]);
    const errs = problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 11 } })));
    expect(errs).toContainEqual(expect.stringMatching(/^liiibre:nodePools\[0\]\.cloud\.count: expected at most 10 servers in a controller pool .*got 11$/));
  });

  it("100 servers attached to one network", () => {
    // prod has 29 cloud servers, 16 of them in `general`: the 13 others + 88 makes 101.
    const errs = problems(withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, count: 88 } })));
    expect(errs).toEqual([expect.stringMatching(/^liiibre:nodePools: expected at most 100 cloud servers in total .*got 101$/)]);
    expect(problems(withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, count: 87 } })))).toEqual([]);
  });

  it("50 subnets per network (the cloud and vSwitch subnets count)", () => {
    const raw = prod();
    const extra = Array.from({ length: 49 }, (_, i) => `10.0.${10 + i}.0/24`);
    (raw.hetzner as any).network.extraSubnets = extra;
    expect(problems(raw)).toEqual([expect.stringMatching(/^liiibre:hetzner\.network\.extraSubnets: expected at most 50 subnets in the network .*got 51$/)]);
    (raw.hetzner as any).network.extraSubnets = extra.slice(0, 48);
    expect(problems(raw)).toEqual([]);
  });

  it("server type unknown, or not sold in the pool's location", () => {
    const unknown = problems(withPool("media", (p) => ({ ...p, cloud: { ...p.cloud, serverType: "cx99" } })));
    expect(unknown).toEqual([expect.stringMatching(/^liiibre:nodePools\[2\]\.cloud\.serverType: expected a Hetzner server type of components\/hetzner\/catalog\.json \(cx22 \| .*\), got "cx99"$/)]);
    // ARM (cax) servers are not sold in Ashburn.
    const raw = withPool("media", (p) => ({ ...p, cloud: { ...p.cloud, serverType: "cax21", location: "ash" } }));
    (raw.hetzner as any).locations.allowed = ["fsn1", "nbg1", "hel1", "ash"];
    const errs = problems(raw);
    expect(errs).toContainEqual(expect.stringMatching(/^liiibre:nodePools\[2\]\.cloud\.serverType: expected a server type sold in ash \(.*cpx11.*\), got "cax21" \(sold in fsn1, nbg1, hel1\)$/));
    // …and a server in another network zone cannot join the private network.
    expect(errs).toContainEqual('liiibre:nodePools[2].cloud.location: expected a location in network zone eu-central (liiibre:hetzner.networkZone) so the servers can join the private network, got "ash" (zone us-east)');
  });

  it("the backup server's type must be sold in the backup location", () => {
    const raw = prod();
    (raw.backup as any).server.serverType = "cx99";
    expect(problems(raw)).toEqual([expect.stringMatching(/^liiibre:backup\.server\.serverType: expected a Hetzner server type/)]);
  });

  it("fails before any resource is registered", async () => {
    const raw = withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 11 } }));
    await expect(evaluate({ config: raw })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("compute consistency", () => {
  it("subnets inside the network range and not overlapping", () => {
    const raw = prod();
    (raw.hetzner as any).network.cloudSubnet = "10.1.0.0/24";
    (raw.hetzner as any).network.extraSubnets = ["10.0.2.128/25"];
    const errs = problems(raw);
    expect(errs).toContain('liiibre:hetzner.network.cloudSubnet: expected a subnet inside liiibre:hetzner.network.ipRange (10.0.0.0/16), got "10.1.0.0/24"');
    expect(errs).toContain('liiibre:hetzner.network.extraSubnets[0]: expected a subnet not overlapping liiibre:hetzner.network.vswitch.subnet (10.0.2.0/24), got "10.0.2.128/25"');
  });

  it("a dedicated server's private address inside the vSwitch subnet", () => {
    const raw = prod();
    (raw.dedicatedServers as any[])[3].privateIpv4 = "10.0.3.14";
    expect(problems(raw)).toEqual(['liiibre:dedicatedServers[3].privateIpv4: expected an address inside the vSwitch subnet 10.0.2.0/24 (liiibre:hetzner.network.vswitch.subnet), got "10.0.3.14"']);
  });

  it("room for the cloud servers in the cloud subnet", () => {
    const raw = withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, count: 16 } })); // + the 13 others: 29
    (raw.hetzner as any).network.cloudSubnet = "10.0.1.0/27"; // 29 usable, 29 servers fit
    expect(problems(raw)).toEqual([]);
    (raw.hetzner as any).network.cloudSubnet = "10.0.1.0/28"; // 13 usable
    expect(problems(raw)).toEqual(['liiibre:hetzner.network.cloudSubnet: expected a subnet with room for the 29 cloud servers (13 usable addresses), got "10.0.1.0/28"']);
  });

  it("node names unique across cloud and dedicated servers", () => {
    const raw = prod();
    (raw.dedicatedServers as any[])[0].name = "ada-lovelace-general-03";
    expect(problems(raw)).toEqual(['liiibre:dedicatedServers[0].name: expected a name not taken by a cloud node of liiibre:nodePools[3], got "ada-lovelace-general-03"']);
  });

  it("reset slots exist in the pool; reset controllers leave the etcd count", () => {
    expect(problems(withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, reset: [17] } })))).toEqual([
      "liiibre:nodePools[3].cloud.reset[0]: expected a slot between 1 and the pool's count (16), got 17",
    ]);
    // 3 controllers, one reset: 2 members of etcd, an even number.
    expect(problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, reset: [3] } })))).toEqual([
      "liiibre:nodePools: expected an odd number of controllers (1, 3, 5…) for etcd quorum, got 2",
    ]);
    // Replacing a controller: 5 servers, the 2 old ones reset, 3 members.
    expect(problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 5, reset: [1, 2] } })))).toEqual([]);
  });

  it("retired slots leave the etcd count and the server count; a slot is either reset or retired", () => {
    // Replacing controllers-01: count 4 with slot 1 reset (3 members), then slot 1 retired.
    expect(problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 4, reset: [1] } })))).toEqual([]);
    expect(problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 4, retired: [1] } })))).toEqual([]);
    expect(problems(withPool("controllers", (p) => ({ ...p, cloud: { ...p.cloud, count: 4, reset: [1], retired: [1] } })))).toContain(
      "liiibre:nodePools[0].cloud.retired[0]: expected each slot once in reset and retired, got 1 twice",
    );
    // 101 slots of which one retired: 100 servers on the network.
    expect(problems(withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, count: 88, retired: [3] } })))).toEqual([]);
    // A retired slot's name may be taken by nothing else, but is free of the collision check.
    const raw = withPool("general", (p) => ({ ...p, cloud: { ...p.cloud, retired: [3] } }));
    (raw.dedicatedServers as any[])[0].name = "ada-lovelace-general-03";
    expect(problems(raw)).toEqual([]);
  });
});

describe("CIDR helpers", () => {
  it("compute containment and overlap", () => {
    expect(parseCidr("10.0.1.7/24")).toEqual({ start: 10 * 2 ** 24 + 256, size: 256 });
    expect(cidrContains("10.0.0.0/16", "10.0.255.255")).toBe(true);
    expect(cidrContains("10.0.0.0/16", "10.1.0.0")).toBe(false);
    expect(cidrsOverlap("10.0.2.0/24", "10.0.2.128/25")).toBe(true);
    expect(cidrsOverlap("10.0.1.0/24", "10.0.2.0/24")).toBe(false);
  });
});

describe("monthly cost estimate (catalog.json)", () => {
  it("adds cloud servers at the location's list price, IPv4s, volumes, dedicated invoices and the backup server", async () => {
    const { estimateMonthlyCost } = await import("../components/hetzner/cost");
    const est = estimateMonthlyCost(parseEstate(prod()));
    const line = (prefix: string) => est.lines.find((l) => l.item.startsWith(prefix))!;
    // 3 × cpx31 (13.10), 2 × cpx21 (7.55), 5 × ccx23 (24.49), 16 × cpx51 (54.90), 3 × cpx31 in nbg1 (13.10)
    expect(line("cloud controllers").monthlyEUR).toBe(39.3);
    expect(line("cloud general: cpx51").monthlyEUR).toBe(878.4);
    expect(line("cloud general: volumes").monthlyEUR).toBe(70.4); // 16 × 100 GB × 0.044
    expect(line("primary IPv4").quantity).toBe(29);
    // Dedicated: 4 × 39.5 + 4 × 46 (apps-06..09) + 1 × 39.5 (apps-05) … as invoiced in prod.
    const dedicated = est.lines.filter((l) => l.item.startsWith("dedicated")).reduce((s, l) => s + l.monthlyEUR, 0);
    expect(dedicated).toBe(5 * 39.5 + 4 * 46 + 4 * 62);
    expect(line("backup server: volumes").monthlyEUR).toBe(901.12); // 2 × 10240 GB × 0.044
    const sum = est.lines.reduce((s, l) => s + l.monthlyEUR, 0);
    expect(est.totalEUR).toBeCloseTo(sum, 2);
    expect(Number.isFinite(est.totalEUR)).toBe(true);
  });
});
