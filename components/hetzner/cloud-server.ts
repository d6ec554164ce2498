/**
 * One Hetzner Cloud node: the server, its primary IPv4/IPv6 (which outlive a server
 * replacement, so DNS and allow-lists keep working), reverse DNS, its attachment to the
 * private network and, for stateful pools, a protected data volume.
 *
 * No input that makes Hetzner replace the server depends on the k0s version or on the other
 * nodes: serverType/location/image come from the pool, user data from the pool's volume flag.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { HCLOUD_LABELS } from "../conventions";
import { cloudInitUserData } from "./cloud-init";
import type { CloudNodeSpec } from "./nodes";

export interface CloudServerArgs {
  /** What the config asks for (components/hetzner/nodes.ts). */
  spec: CloudNodeSpec;
  /** Cluster name (hcloud label). */
  cluster: string;
  /** IDs of the `hcloud.SshKey`s installed at creation. */
  sshKeyIds: pulumi.Input<string>[];
  /** Spread placement group of the server's slot. */
  placementGroupId: pulumi.Input<number>;
  /** Cloud subnet of the private network (`<networkId>-<ipRange>`). */
  subnetId: pulumi.Input<string>;
  /** Domain under which reverse DNS names are set: `<name>.<rdnsDomain>`. */
  rdnsDomain: string;
}

/** hcloud label values allow only `[A-Za-z0-9._-]`: `controller+worker` becomes `controller-worker`. */
export const hcloudLabelValue = (v: string): string => v.replace(/[^A-Za-z0-9._-]/g, "-");

export class CloudServer extends pulumi.ComponentResource {
  readonly server: hcloud.Server;
  readonly ipv4: hcloud.PrimaryIp;
  readonly ipv6: hcloud.PrimaryIp;
  readonly publicIpv4: pulumi.Output<string>;
  readonly publicIpv6: pulumi.Output<string>;
  readonly privateIpv4: pulumi.Output<string>;
  readonly volume?: hcloud.Volume;
  /** What k0sctl needs in place before it connects: the server, its private address, its volume. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: CloudServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:hetzner:CloudServer", name, {}, opts);
    const { spec } = args;
    const labels = {
      [HCLOUD_LABELS.cluster]: args.cluster,
      [HCLOUD_LABELS.role]: hcloudLabelValue(spec.role),
      [HCLOUD_LABELS.pool]: spec.pool,
      [HCLOUD_LABELS.location]: spec.location,
    };
    // Protection stays on until the node is marked `reset` (docs/operations.md, node removal).
    const guarded = !spec.reset;
    // Controllers hold etcd, volume pools hold data: Pulumi refuses to delete or replace them.
    const holdsData = spec.role !== "worker" || spec.volumeGB !== undefined;

    const primaryIp = (family: "ipv4" | "ipv6") =>
      new hcloud.PrimaryIp(
        `${name}-${family}`,
        {
          name: `${spec.name}-${family}`,
          type: family,
          location: spec.location,
          assigneeType: "server",
          // Survives the server: a replaced server gets the same addresses back.
          autoDelete: false,
          deleteProtection: guarded,
          labels,
        },
        { parent: this },
      );
    this.ipv4 = primaryIp("ipv4");
    this.ipv6 = primaryIp("ipv6");

    this.server = new hcloud.Server(
      name,
      {
        name: spec.name,
        serverType: spec.serverType,
        image: spec.image,
        location: spec.location,
        labels,
        sshKeys: args.sshKeyIds,
        userData: cloudInitUserData({ dataVolume: spec.volumeGB !== undefined }),
        placementGroupId: args.placementGroupId,
        publicNets: [
          {
            ipv4Enabled: true,
            ipv4: this.ipv4.id.apply(Number),
            ipv6Enabled: true,
            ipv6: this.ipv6.id.apply(Number),
          },
        ],
        deleteProtection: guarded,
        rebuildProtection: guarded,
        shutdownBeforeDeletion: true,
      },
      {
        parent: this,
        protect: guarded && holdsData,
        // Hetzner replaces a server when these change. They only matter at creation: user data
        // runs once, the image is only the first OS (Debian then upgrades in place), SSH keys
        // are only injected at first boot (k0sctl's key is managed on the hosts). Drift in any
        // of them must never destroy a node; a deliberate rebuild is a `pulumi up --replace`.
        ignoreChanges: ["userData", "image", "sshKeys"],
      },
    );
    const serverId = this.server.id.apply(Number);

    const ptr = `${spec.name}.${args.rdnsDomain}`;
    new hcloud.Rdns(`${name}-ipv4`, { primaryIpId: this.ipv4.id.apply(Number), ipAddress: this.ipv4.ipAddress, dnsPtr: ptr }, { parent: this });
    // A /64 is routed to the server; the PTR is set on its ::1 address (the one the server uses).
    new hcloud.Rdns(
      `${name}-ipv6`,
      { primaryIpId: this.ipv6.id.apply(Number), ipAddress: this.ipv6.ipAddress.apply((a) => a.replace(/::(\/\d+)?$/, "::1").replace(/\/\d+$/, "")), dnsPtr: ptr },
      { parent: this },
    );

    const attachment = new hcloud.ServerNetwork(`${name}-private`, { serverId, subnetId: args.subnetId }, { parent: this });
    this.ready = [this.server, attachment];

    if (spec.volumeGB !== undefined) {
      this.volume = new hcloud.Volume(
        `${name}-data`,
        { name: `${spec.name}-data`, size: spec.volumeGB, location: spec.location, format: "ext4", deleteProtection: true, labels },
        // The data outlives the node: removing it is a deliberate `pulumi state unprotect`.
        { parent: this, protect: true },
      );
      this.ready.push(new hcloud.VolumeAttachment(`${name}-data`, { serverId, volumeId: this.volume.id.apply(Number), automount: false }, { parent: this }));
    }

    this.publicIpv4 = this.ipv4.ipAddress;
    this.publicIpv6 = this.ipv6.ipAddress;
    this.privateIpv4 = attachment.ip.apply((ip) => ip ?? "");
    this.registerOutputs({ publicIpv4: this.publicIpv4, publicIpv6: this.publicIpv6, privateIpv4: this.privateIpv4 });
  }
}
