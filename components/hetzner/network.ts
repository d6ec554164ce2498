/**
 * The estate's private network: one `hcloud.Network`, a `cloud` subnet for cloud servers in
 * the configured network zone and, when dedicated servers exist, a `vswitch` subnet bound to
 * the Robot vSwitch so that the dedicated boxes and the cloud servers share one private
 * address space (k0s `privateAddress` of every node lives in it).
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { HCLOUD_LABELS } from "../conventions";

export interface PrivateNetworkArgs {
  /** The validated estate (`hetzner.network`, `hetzner.networkZone`, `cluster.name`). */
  estate: Estate;
}

export class PrivateNetwork extends pulumi.ComponentResource {
  readonly network: hcloud.Network;
  readonly networkId: pulumi.Output<number>;
  /** The subnet cloud servers attach to. */
  readonly cloudSubnet: hcloud.NetworkSubnet;
  /** The subnet routed to the Robot vSwitch, when configured. */
  readonly vswitchSubnet?: hcloud.NetworkSubnet;

  constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:hetzner:PrivateNetwork", name, {}, opts);
    const { hetzner, cluster } = args.estate;
    const labels = { [HCLOUD_LABELS.cluster]: cluster.name };

    // The network carries every node's private address: deleting it cuts the cluster in two.
    this.network = new hcloud.Network(
      name,
      {
        name: `${cluster.name}`,
        ipRange: hetzner.network.ipRange,
        deleteProtection: true,
        // Dedicated servers on the vSwitch learn the cloud network's routes.
        exposeRoutesToVswitch: hetzner.network.vswitch !== undefined,
        labels,
      },
      { parent: this, protect: true },
    );
    this.networkId = this.network.id.apply(Number);

    this.cloudSubnet = new hcloud.NetworkSubnet(
      `${name}-cloud`,
      { networkId: this.networkId, type: "cloud", networkZone: hetzner.networkZone, ipRange: hetzner.network.cloudSubnet },
      { parent: this },
    );
    if (hetzner.network.vswitch) {
      this.vswitchSubnet = new hcloud.NetworkSubnet(
        `${name}-vswitch`,
        {
          networkId: this.networkId,
          type: "vswitch",
          networkZone: hetzner.networkZone,
          ipRange: hetzner.network.vswitch.subnet,
          vswitchId: hetzner.network.vswitch.id,
        },
        { parent: this },
      );
    }
    for (const range of hetzner.network.extraSubnets) {
      new hcloud.NetworkSubnet(
        `${name}-extra-${range.replace(/[./]/g, "-")}`,
        { networkId: this.networkId, type: "cloud", networkZone: hetzner.networkZone, ipRange: range },
        { parent: this },
      );
    }
    this.registerOutputs({ networkId: this.networkId });
  }
}
