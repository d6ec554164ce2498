/**
 * HetznerCompute under the harness, on the prod estate: network and subnets, firewalls,
 * placement groups, servers and their protections, primary IPs, reverse DNS, volumes, the
 * dedicated inventory as hosts, and the outputs.
 */
import { describe, expect, it, beforeAll } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../components/config";
import { HCLOUD_LABELS } from "../components/conventions";
import { HetznerCompute, cloudInitUserData, firewallPlan, ingressAddresses, nodesByRoleAndLocation, placementGroupOf } from "../components/hetzner";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";

const WORLD = ["0.0.0.0/0", "::/0"];
const prodConfig = () => readStackConfig(stackConfigFile("prod"));

function computeProgram(estate: Estate) {
  const compute = new HetznerCompute("estate", { estate });
  return {
    nodes: nodesByRoleAndLocation(compute.hosts),
    ingress: ingressAddresses(compute.hosts),
    nodeCidrs: compute.nodeCidrs,
    hostNames: compute.hosts.map((h) => `${h.kind}:${h.name}:${h.role}:${h.pool}`),
    dedicatedAddresses: pulumi.all(compute.hosts.filter((h) => h.kind === "dedicated").map((h) => h.publicIpv4)),
  };
}

const ofType = (ev: Evaluation, type: string) => ev.resources.filter((r) => r.type === type);
const byName = (ev: Evaluation, type: string, name: string) => ofType(ev, type).find((r) => r.name === name)!;

describe("HetznerCompute (prod)", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evaluate({ config: prodConfig(), program: computeProgram });
  });

  it("creates a protected private network with a cloud subnet and a vSwitch subnet", () => {
    const [net] = ofType(ev, "hcloud:index/network:Network");
    expect(net.inputs).toMatchObject({ ipRange: "10.0.0.0/16", deleteProtection: true, exposeRoutesToVswitch: true });
    expect(net.protect).toBe(true);
    const subnets = ofType(ev, "hcloud:index/networkSubnet:NetworkSubnet").map((s) => s.inputs);
    expect(subnets).toHaveLength(2);
    expect(subnets).toContainEqual(expect.objectContaining({ type: "cloud", networkZone: "eu-central", ipRange: "10.0.1.0/24" }));
    expect(subnets).toContainEqual(expect.objectContaining({ type: "vswitch", networkZone: "eu-central", ipRange: "10.0.2.0/24", vswitchId: 51842 }));
  });

  it("never opens SSH (22) or the Kubernetes API (6443) to the world; SSH only from the admin CIDRs", () => {
    const admin = ev.estate.hetzner.adminCidrs;
    const firewalls = ofType(ev, "hcloud:index/firewall:Firewall");
    expect(firewalls.map((f) => f.name).sort()).toEqual(["estate-base", "estate-controllers", "estate-ingress", "estate-media"]);
    let sshRules = 0;
    for (const fw of firewalls) {
      for (const rule of fw.inputs.rules as Array<Record<string, any>>) {
        expect(rule.direction).toBe("in");
        if (rule.protocol === "tcp" && (rule.port === "22" || rule.port === "6443")) {
          for (const src of rule.sourceIps) expect(WORLD).not.toContain(src);
        }
        if (rule.port === "22") {
          sshRules++;
          expect(rule.sourceIps).toEqual(admin);
        }
        // Every rule names a port (or is ICMP): no "any port" rule.
        if (rule.protocol !== "icmp") expect(rule.port).toMatch(/^\d+$/);
      }
    }
    expect(sshRules).toBe(1);
  });

  it("opens exactly 80/443 on ingress nodes and UDP 10000 on media nodes, to the world", () => {
    const ports = (name: string) => (byName(ev, "hcloud:index/firewall:Firewall", name).inputs.rules as any[]).map((r) => `${r.protocol}/${r.port ?? "-"}`);
    expect(ports("estate-base").sort()).toEqual(["icmp/-", "tcp/22"]);
    expect(ports("estate-ingress").sort()).toEqual(["tcp/443", "tcp/80"]);
    expect(ports("estate-media")).toEqual(["udp/10000"]);
    expect(ports("estate-controllers").sort()).toEqual(["tcp/6443", "tcp/6443", "tcp/8132", "tcp/9443"]);
    const ingress = byName(ev, "hcloud:index/firewall:Firewall", "estate-ingress").inputs;
    for (const r of ingress.rules as any[]) expect(r.sourceIps).toEqual(WORLD);
    expect(ingress.applyTos).toEqual([{ labelSelector: `${HCLOUD_LABELS.cluster}=ada-lovelace,${HCLOUD_LABELS.pool} in (ingress)` }]);
    expect(byName(ev, "hcloud:index/firewall:Firewall", "estate-media").inputs.applyTos).toEqual([{ labelSelector: `${HCLOUD_LABELS.cluster}=ada-lovelace,${HCLOUD_LABELS.pool} in (media)` }]);
    expect(byName(ev, "hcloud:index/firewall:Firewall", "estate-base").inputs.applyTos).toEqual([{ labelSelector: `${HCLOUD_LABELS.cluster}=ada-lovelace` }]);
  });

  it("lets every node, dedicated ones included, reach the controllers' k0s ports by its public /32 only", () => {
    const rules = byName(ev, "hcloud:index/firewall:Firewall", "estate-controllers").inputs.rules as any[];
    const k0s = rules.filter((r) => r.port !== "6443" || !r.sourceIps.includes(ev.estate.hetzner.adminCidrs[0]));
    const dedicated = ev.outputs.dedicatedAddresses as string[];
    expect(dedicated).toHaveLength(13);
    for (const r of k0s) {
      expect(r.sourceIps).toHaveLength(42); // 29 cloud servers + 13 dedicated
      for (const ip of dedicated) expect(r.sourceIps).toContain(`${ip}/32`);
      for (const src of r.sourceIps) expect(src).toMatch(/^\d+\.\d+\.\d+\.\d+\/32$/);
    }
    expect(ev.outputs.nodeCidrs).toEqual(expect.arrayContaining(dedicated.map((ip) => `${ip}/32`)));
  });

  it("puts every pool in spread placement groups of at most 10 servers", () => {
    const groups = ofType(ev, "hcloud:index/placementGroup:PlacementGroup");
    for (const g of groups) expect(g.inputs.type).toBe("spread");
    // general has 16 servers: two groups; every other cloud pool one.
    expect(groups.map((g) => g.name).sort()).toEqual(
      ["estate-controllers-1", "estate-general-1", "estate-general-2", "estate-ingress-1", "estate-media-1", "estate-monitoring-1"].sort(),
    );
    const members = new Map<unknown, number>();
    for (const s of ofType(ev, "hcloud:index/server:Server")) members.set(s.inputs.placementGroupId, (members.get(s.inputs.placementGroupId) ?? 0) + 1);
    expect(members.size).toBe(groups.length);
    for (const n of members.values()) expect(n).toBeLessThanOrEqual(10);
    expect(placementGroupOf(10)).toBe(0);
    expect(placementGroupOf(11)).toBe(1);
  });

  it("labels servers and turns on Hetzner's delete and rebuild protection; ignores drift that would replace them", () => {
    const servers = ofType(ev, "hcloud:index/server:Server");
    expect(servers).toHaveLength(29);
    for (const s of servers) {
      expect(s.inputs.deleteProtection).toBe(true);
      expect(s.inputs.rebuildProtection).toBe(true);
      expect(s.ignoreChanges).toEqual(expect.arrayContaining(["userData", "image", "sshKeys"]));
      expect(Object.keys(s.inputs.labels as object).sort()).toEqual(Object.values(HCLOUD_LABELS).sort());
      expect((s.inputs.publicNets as any[])[0]).toMatchObject({ ipv4Enabled: true, ipv6Enabled: true });
      expect((s.inputs.sshKeys as unknown[]).length).toBe(2);
    }
    const c1 = byName(ev, "hcloud:index/server:Server", "ada-lovelace-controllers-01");
    expect(c1.inputs).toMatchObject({ name: "ada-lovelace-controllers-01", serverType: "cpx31", image: "debian-12", location: "fsn1" });
    expect(c1.inputs.labels).toEqual({ [HCLOUD_LABELS.cluster]: "ada-lovelace", [HCLOUD_LABELS.role]: "controller", [HCLOUD_LABELS.pool]: "controllers", [HCLOUD_LABELS.location]: "fsn1" });
    expect(byName(ev, "hcloud:index/server:Server", "ada-lovelace-monitoring-01").inputs.location).toBe("nbg1");
  });

  it("protects servers holding data (controllers: etcd; pools with volumes) and not stateless ones", () => {
    const protectedNames = ofType(ev, "hcloud:index/server:Server").filter((s) => s.protect).map((s) => s.name);
    expect(protectedNames.filter((n) => n.includes("controllers"))).toHaveLength(3);
    expect(protectedNames.filter((n) => n.includes("general"))).toHaveLength(16);
    expect(protectedNames.filter((n) => n.includes("monitoring"))).toHaveLength(3);
    expect(protectedNames.filter((n) => n.includes("ingress") || n.includes("media"))).toHaveLength(0);
  });

  it("gives each server IPv4 and IPv6 primary IPs that outlive it, with reverse DNS", () => {
    const ips = ofType(ev, "hcloud:index/primaryIp:PrimaryIp");
    expect(ips).toHaveLength(58);
    for (const ip of ips) expect(ip.inputs).toMatchObject({ assigneeType: "server", autoDelete: false, deleteProtection: true });
    expect(byName(ev, "hcloud:index/primaryIp:PrimaryIp", "ada-lovelace-ingress-01-ipv6").inputs).toMatchObject({ type: "ipv6", location: "fsn1" });
    const rdns = ofType(ev, "hcloud:index/rdns:Rdns");
    expect(rdns).toHaveLength(58);
    expect(byName(ev, "hcloud:index/rdns:Rdns", "ada-lovelace-ingress-01-ipv4").inputs.dnsPtr).toBe("ada-lovelace-ingress-01.liiibre.coop");
    for (const r of rdns) expect(r.inputs.primaryIpId).toBeDefined();
  });

  it("attaches protected volumes to the servers of pools with cloud.volumeGB", () => {
    const volumes = ofType(ev, "hcloud:index/volume:Volume");
    expect(volumes).toHaveLength(19);
    for (const v of volumes) {
      expect(v.protect).toBe(true);
      expect(v.inputs.deleteProtection).toBe(true);
      expect(v.inputs.format).toBe("ext4");
    }
    expect(byName(ev, "hcloud:index/volume:Volume", "ada-lovelace-monitoring-02-data").inputs).toMatchObject({ size: 200, location: "nbg1" });
    expect(ofType(ev, "hcloud:index/volumeAttachment:VolumeAttachment")).toHaveLength(19);
    // Cloud-init of a volume pool mounts it; stateless pools get the plain document.
    expect(byName(ev, "hcloud:index/server:Server", "ada-lovelace-general-01").inputs.userData).toBe(cloudInitUserData({ dataVolume: true }));
    expect(byName(ev, "hcloud:index/server:Server", "ada-lovelace-ingress-01").inputs.userData).toBe(cloudInitUserData({ dataVolume: false }));
  });

  it("attaches every cloud server to the private network's cloud subnet", () => {
    expect(ofType(ev, "hcloud:index/serverNetwork:ServerNetwork")).toHaveLength(29);
  });

  it("exposes every node, cloud and dedicated, grouped by role and location, and the ingress addresses", () => {
    expect(ev.outputs.hostNames as string[]).toHaveLength(42);
    expect(ev.outputs.hostNames).toContain("dedicated:fsn-storage-04:worker:storage");
    const nodes = ev.outputs.nodes as Record<string, Record<string, Array<{ name: string; kind: string }>>>;
    expect(Object.keys(nodes).sort()).toEqual(["controller", "worker"]);
    expect(nodes.controller.fsn1).toHaveLength(3);
    expect(nodes.worker.nbg1.map((n) => n.name)).toEqual(["ada-lovelace-monitoring-01", "ada-lovelace-monitoring-02", "ada-lovelace-monitoring-03"]);
    expect(nodes.worker.fsn1.filter((n) => n.kind === "dedicated")).toHaveLength(13);
    const ingress = ev.outputs.ingress as { ipv4: string[]; ipv6: string[] };
    expect(ingress.ipv4).toHaveLength(2);
    expect(ingress.ipv6).toHaveLength(2);
  });
});

describe("HetznerCompute: pools larger than a placement group and nodes being reset", () => {
  it("splits a 25-server pool into groups of 10, 10 and 5", async () => {
    const raw = prodConfig();
    raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === "general" ? { ...p, cloud: { ...p.cloud, count: 25 } } : p));
    const ev = await evaluate({ config: raw, program: computeProgram });
    const general = ofType(ev, "hcloud:index/server:Server").filter((s) => s.name.includes("-general-"));
    const sizes = new Map<unknown, number>();
    for (const s of general) sizes.set(s.inputs.placementGroupId, (sizes.get(s.inputs.placementGroupId) ?? 0) + 1);
    expect([...sizes.values()].sort((a, b) => a - b)).toEqual([5, 10, 10]);
    expect(ofType(ev, "hcloud:index/placementGroup:PlacementGroup").filter((g) => g.name.startsWith("estate-general-"))).toHaveLength(3);
  });

  it("lifts protection of a node marked reset (so that it can be removed next), but keeps its volume protected", async () => {
    const raw = prodConfig();
    raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === "general" ? { ...p, cloud: { ...p.cloud, reset: [12] } } : p));
    const ev = await evaluate({ config: raw, program: computeProgram });
    const s = byName(ev, "hcloud:index/server:Server", "ada-lovelace-general-12");
    expect(s.protect).toBe(false);
    expect(s.inputs).toMatchObject({ deleteProtection: false, rebuildProtection: false });
    const v = byName(ev, "hcloud:index/volume:Volume", "ada-lovelace-general-12-data");
    expect(v.protect).toBe(true);
    expect(v.inputs.deleteProtection).toBe(true);
    // A leaving node is no longer allowed to reach the controllers.
    const rules = byName(ev, "hcloud:index/firewall:Firewall", "estate-controllers").inputs.rules as any[];
    expect(rules[1].sourceIps).toHaveLength(41);
  });
});

describe("HetznerCompute: retired slots", () => {
  it("does not create a retired slot's server and leaves every other URN as it was", async () => {
    const base = await evaluate({ config: prodConfig(), program: computeProgram });
    const raw = prodConfig();
    raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === "general" ? { ...p, cloud: { ...p.cloud, retired: [5] } } : p));
    const ev = await evaluate({ config: raw, program: computeProgram });
    const gone = base.resources.filter((r) => !ev.resources.some((x) => x.urn === r.urn)).map((r) => r.name);
    expect(gone.sort()).toEqual(
      ["ada-lovelace-general-05", "ada-lovelace-general-05", "ada-lovelace-general-05-data", "ada-lovelace-general-05-data", "ada-lovelace-general-05-ipv4", "ada-lovelace-general-05-ipv4", "ada-lovelace-general-05-ipv6", "ada-lovelace-general-05-ipv6", "ada-lovelace-general-05-private"].sort(),
    );
    expect(ev.resources.length).toBe(base.resources.length - gone.length);
  });
});

describe("HetznerCompute: loadBalancer ingress mode", () => {
  it("creates a protected load balancer on the private network, publishes its addresses, and closes 80/443 on the nodes", async () => {
    const raw = prodConfig();
    (raw.cluster as any).ingressMode = "loadBalancer";
    const ev = await evaluate({
      config: raw,
      program: (estate) => {
        const compute = new HetznerCompute("estate", { estate });
        return { ingress: ingressAddresses(compute.hosts, compute.ingressLoadBalancer) };
      },
    });
    const [lb] = ofType(ev, "hcloud:index/loadBalancer:LoadBalancer");
    expect(lb.inputs).toMatchObject({ name: "ada-lovelace-ingress", location: "fsn1", deleteProtection: true });
    expect(lb.ignoreChanges).toContain("targets");
    expect(ofType(ev, "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork")).toHaveLength(1);
    expect(ofType(ev, "hcloud:index/firewall:Firewall").map((f) => f.name)).not.toContain("estate-ingress");
    const ingress = ev.outputs.ingress as { ipv4: string[]; ipv6: string[] };
    expect(ingress.ipv4).toHaveLength(1);
    expect(ingress.ipv6).toHaveLength(1);
  });
});

describe("firewallPlan", () => {
  it("keeps admin ports to the given CIDRs whatever the node list", () => {
    const plan = firewallPlan(["192.0.2.0/24"], ["198.51.100.7/32"]);
    const all: Array<{ port?: string; sourceIps: unknown[] }> = [...plan.base, ...plan.controllers, ...plan.ingress, ...plan.media];
    for (const r of all.filter((r) => r.port === "22")) expect(r.sourceIps).toEqual(["192.0.2.0/24"]);
    expect(plan.controllers.find((r) => r.port === "6443" && r.sourceIps.includes("192.0.2.0/24"))).toBeDefined();
  });
});

