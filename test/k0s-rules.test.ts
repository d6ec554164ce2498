/**
 * The cluster's config rules (components/k0s/rules.ts): pod and service ranges disjoint from
 * each other and from the nodes' network.
 */
import { describe, expect, it } from "vitest";
import { configProblems } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";

/** dev (nodes' network 10.0.0.0/16 by default) with the cluster's ranges set. */
function dev(network: { podCIDR?: string; serviceCIDR?: string }, ipRange?: string): any {
  const c: any = structuredClone(readStackConfig(stackConfigFile("dev")));
  c.cluster.network = { ...(c.cluster.network ?? {}), ...network };
  if (ipRange) c.hetzner = { ...c.hetzner, network: { ...(c.hetzner?.network ?? {}), ipRange } };
  return c;
}

describe("cluster network rules", () => {
  it("the defaults (pods 10.244/16, services 10.96/12, nodes 10.0/16) are disjoint", () => {
    expect(configProblems(dev({}))).toEqual([]);
  });

  it("a pod range overlapping the nodes' network is refused, one touching it is not", () => {
    expect(configProblems(dev({ podCIDR: "10.0.0.0/8" }))).toEqual([
      `liiibre:cluster.network.podCIDR: expected a range disjoint from the nodes' network 10.0.0.0/16 (liiibre:hetzner.network.ipRange), got "10.0.0.0/8"`,
      // 10.0.0.0/8 also holds the service range 10.96.0.0/12.
      `liiibre:cluster.network.serviceCIDR: expected a range disjoint from the pod CIDR 10.0.0.0/8 (liiibre:cluster.network.podCIDR), got "10.96.0.0/12"`,
    ]);
    expect(configProblems(dev({ podCIDR: "10.1.0.0/16" }))).toEqual([]);
  });

  it("a service range inside the nodes' network, and pods and services sharing addresses", () => {
    expect(configProblems(dev({ serviceCIDR: "10.0.255.0/24" }))).toEqual([
      `liiibre:cluster.network.serviceCIDR: expected a range disjoint from the nodes' network 10.0.0.0/16 (liiibre:hetzner.network.ipRange), got "10.0.255.0/24"`,
    ]);
    expect(configProblems(dev({ podCIDR: "10.96.0.0/16" }))).toEqual([
      `liiibre:cluster.network.serviceCIDR: expected a range disjoint from the pod CIDR 10.96.0.0/16 (liiibre:cluster.network.podCIDR), got "10.96.0.0/12"`,
    ]);
  });

  it("problems keep the estate's order: tenants' bundle rules, then the cluster's ranges, then the video cap", () => {
    const c = dev({ podCIDR: "10.0.128.0/17" });
    c.sharedServices = { ...c.sharedServices, jitsi: { ...(c.sharedServices?.jitsi ?? {}), resolution: 1080 } };
    const t = c.tenants.find((x: any) => x.plan !== "shared") ?? c.tenants[0];
    t.slug = "master";
    t.dedicatedRealm = true;
    const paths = configProblems(c).map((p) => p.split(":").slice(0, 2).join(":"));
    const at = (p: string) => paths.findIndex((x) => x.startsWith(p));
    expect(at(`liiibre:tenants[${c.tenants.indexOf(t)}].slug`)).toBeGreaterThanOrEqual(0);
    expect(at("liiibre:cluster.network.podCIDR")).toBeGreaterThan(paths.lastIndexOf(`liiibre:tenants[${c.tenants.indexOf(t)}].slug`));
    expect(at("liiibre:sharedServices.jitsi.resolution")).toBeGreaterThan(at("liiibre:cluster.network.podCIDR"));
  });
});
