/**
 * HetznerCompute: everything the cluster runs on. The private network, SSH keys, spread
 * placement groups (pools split in groups of ≤ 10 servers), the cloud servers of every pool,
 * the firewalls, and the dedicated (Robot) servers declared in `dedicatedServers`, which
 * Pulumi does not create but which join the cluster, the firewall rules and the outputs.
 *
 * Exposes `hosts`: every node, cloud or dedicated, for K0sCluster.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { HCLOUD_LABELS, LABELS } from "../conventions";
import { CloudServer } from "./cloud-server";
import { firewallPlan, type RuleSpec } from "./firewall-rules";
import type { Host } from "./hosts";
import { cloudNodes, dedicatedNodes, placementGroupCount } from "./nodes";
import { PrivateNetwork } from "./network";

export interface HetznerComputeArgs {
  /** The validated estate. */
  estate: Estate;
  /** Domain of the servers' reverse DNS names (`<node>.<rdnsDomain>`). Default `sharedServices.baseDomain`. */
  rdnsDomain?: string;
}

/** Name of the ingress load balancer (read by the edge Service's `load-balancer.hetzner.cloud/name` annotation). */
export const ingressLoadBalancerName = (cluster: string): string => `${cluster}-ingress`;

/** Pools whose nodes carry a given Kubernetes label set to "true". */
const poolsLabelled = (estate: Estate, label: string): string[] =>
  estate.nodePools.filter((p) => p.labels[label] === "true").map((p) => p.name);

export class HetznerCompute extends pulumi.ComponentResource {
  /** Every node of the cluster, cloud then dedicated, in config order. */
  readonly hosts: Host[];
  readonly network: PrivateNetwork;
  /** Cloud servers by node name. */
  readonly cloudServers: Record<string, CloudServer>;
  readonly firewalls: Record<string, hcloud.Firewall>;
  /** Public IPv4 of every node as /32 CIDRs (for allow-lists of other services, e.g. the backup server). */
  readonly nodeCidrs: pulumi.Output<string[]>;
  /** IDs of the `hcloud.SshKey`s of `hetzner.sshKeys` (for servers created elsewhere, e.g. the backup server). */
  readonly sshKeyIds: pulumi.Output<string>[];
  /**
   * The ingress load balancer (`cluster.ingressMode: loadBalancer` only). Created here so that
   * its addresses are known to DNS and outputs; the hcloud CCM adopts it by name (annotation
   * `load-balancer.hetzner.cloud/name` on the ingress Service) and manages its targets and services.
   */
  readonly ingressLoadBalancer?: hcloud.LoadBalancer;

  constructor(name: string, args: HetznerComputeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:hetzner:HetznerCompute", name, {}, opts);
    const { estate } = args;
    const cluster = estate.cluster.name;
    const clusterLabel = { [HCLOUD_LABELS.cluster]: cluster };

    this.network = new PrivateNetwork(`${name}-network`, { estate }, { parent: this });

    const sshKeys = estate.hetzner.sshKeys.map(
      (k) => new hcloud.SshKey(`${name}-${k.name}`, { name: `${cluster}-${k.name}`, publicKey: k.publicKey, labels: clusterLabel }, { parent: this }),
    );
    const sshKeyIds = sshKeys.map((k) => k.id);
    this.sshKeyIds = sshKeyIds;

    // Spread placement groups: ⌈count/10⌉ per pool, named by pool and index (stable).
    const specs = cloudNodes(estate);
    const groups = new Map<string, hcloud.PlacementGroup>();
    for (const pool of estate.nodePools) {
      if (!pool.cloud) continue;
      for (let g = 0; g < placementGroupCount(pool.cloud.count); g++) {
        const key = `${pool.name}-${g + 1}`;
        groups.set(
          key,
          new hcloud.PlacementGroup(
            `${name}-${key}`,
            { name: `${cluster}-${key}`, type: "spread", labels: { ...clusterLabel, [HCLOUD_LABELS.pool]: pool.name } },
            { parent: this },
          ),
        );
      }
    }

    const rdnsDomain = args.rdnsDomain ?? estate.sharedServices.baseDomain;
    this.cloudServers = {};
    const hosts: Host[] = [];
    for (const spec of specs) {
      const group = groups.get(`${spec.pool}-${spec.placementGroup + 1}`)!;
      const server = new CloudServer(
        spec.name,
        {
          spec,
          cluster,
          sshKeyIds,
          placementGroupId: group.id.apply(Number),
          subnetId: this.network.cloudSubnet.id,
          rdnsDomain,
        },
        { parent: this },
      );
      this.cloudServers[spec.name] = server;
      hosts.push({
        name: spec.name,
        kind: "cloud",
        role: spec.role,
        pool: spec.pool,
        location: spec.location,
        publicIpv4: server.publicIpv4,
        publicIpv6: server.publicIpv6,
        privateIpv4: server.privateIpv4,
        labels: spec.labels,
        taints: spec.taints,
        reset: spec.reset,
        dependencies: server.ready,
      });
    }
    for (const d of dedicatedNodes(estate)) {
      hosts.push({
        name: d.name,
        kind: "dedicated",
        role: d.role,
        pool: d.pool,
        location: d.location,
        publicIpv4: pulumi.output(d.server.publicIpv4),
        privateIpv4: pulumi.output(d.server.privateIpv4),
        labels: d.labels,
        taints: d.taints,
        reset: d.reset,
        dependencies: [],
      });
    }
    this.hosts = hosts;

    // Firewalls. Node addresses: every member (cloud and dedicated) still in the cluster.
    const members = hosts.filter((h) => !h.reset);
    this.nodeCidrs = pulumi.all(members.map((h) => h.publicIpv4)).apply((ips) => ips.map((ip) => `${ip}/32`));
    const plan = firewallPlan(estate.hetzner.adminCidrs, members.map((h) => pulumi.interpolate`${h.publicIpv4}/32`));
    const selector = (extra?: string) => `${HCLOUD_LABELS.cluster}=${cluster}${extra ? `,${extra}` : ""}`;
    const poolSelector = (pools: string[]) => selector(`${HCLOUD_LABELS.pool} in (${pools.join(",")})`);
    const controllerPools = estate.nodePools.filter((p) => p.role !== "worker").map((p) => p.name);
    const targets: Record<keyof typeof plan, string | undefined> = {
      base: selector(),
      controllers: controllerPools.length ? poolSelector(controllerPools) : undefined,
      // Behind a load balancer (private network) the ingress nodes need no public 80/443.
      ingress:
        estate.cluster.ingressMode === "hostNetwork" && poolsLabelled(estate, LABELS.nodeIngress).length
          ? poolSelector(poolsLabelled(estate, LABELS.nodeIngress))
          : undefined,
      media: poolsLabelled(estate, LABELS.nodeMedia).length ? poolSelector(poolsLabelled(estate, LABELS.nodeMedia)) : undefined,
    };
    this.firewalls = {};
    for (const [fw, rules] of Object.entries(plan) as Array<[keyof typeof plan, RuleSpec[]]>) {
      const labelSelector = targets[fw];
      if (!labelSelector) continue;
      this.firewalls[fw] = new hcloud.Firewall(
        `${name}-${fw}`,
        {
          name: `${cluster}-${fw}`,
          labels: clusterLabel,
          rules: rules.map((r) => ({ ...r })),
          applyTos: [{ labelSelector }],
        },
        { parent: this },
      );
    }

    if (estate.cluster.ingressMode === "loadBalancer") {
      this.ingressLoadBalancer = new hcloud.LoadBalancer(
        `${name}-ingress`,
        {
          name: ingressLoadBalancerName(cluster),
          loadBalancerType: "lb11",
          location: estate.hetzner.locations.primary,
          deleteProtection: true,
          labels: clusterLabel,
        },
        // The CCM adds targets and services; they are not Pulumi's to reset.
        { parent: this, ignoreChanges: ["targets", "algorithm"] },
      );
      new hcloud.LoadBalancerNetwork(
        `${name}-ingress`,
        { loadBalancerId: this.ingressLoadBalancer.id.apply(Number), subnetId: this.network.cloudSubnet.id },
        { parent: this },
      );
    }

    this.registerOutputs({ networkId: this.network.networkId, nodeCidrs: this.nodeCidrs });
  }
}
