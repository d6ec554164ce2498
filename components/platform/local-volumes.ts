/**
 * Local persistent volumes from the nodes' own disks: every filesystem mounted under
 * /mnt/disks/<name> on a node becomes a `local-storage` PersistentVolume bound to that node
 * (sig-storage local static provisioner). Dedicated servers: their data disks (the MinIO
 * drives on `storage` nodes), mounted by the operator (docs/compute.md). Cloud nodes of pools
 * with `cloud.volumeGB`: the protected Hetzner volume, mounted there by cloud-init.
 * Reclaim policy Retain: releasing a claim never wipes a disk.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NODE_LABELS } from "../hetzner/nodes";
import { CHARTS } from "../versions";
import { PLATFORM_NAMESPACES, platformNamespace, release, TOLERATE_ALL } from "./common";

export const LOCAL_STORAGE_CLASS = "local-storage";
export const LOCAL_DISKS_DIR = "/mnt/disks";

export function localVolumeValues(): Record<string, unknown> {
  return {
    classes: [
      {
        name: LOCAL_STORAGE_CLASS,
        hostDir: LOCAL_DISKS_DIR,
        volumeMode: "Filesystem",
        fsType: "ext4",
        namePattern: "*",
        storageClass: { reclaimPolicy: "Retain", isDefaultClass: false },
      },
    ],
    tolerations: TOLERATE_ALL,
    // Copied onto each PV: where the disk is.
    nodeLabels: [NODE_LABELS.region, NODE_LABELS.pool],
  };
}

export interface LocalVolumesArgs {
  provider: k8s.Provider;
}

export class LocalVolumes extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  constructor(name: string, args: LocalVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:LocalVolumes", name, {}, opts);
    const ns = platformNamespace(PLATFORM_NAMESPACES.platform, this, args.provider);
    this.release = release("local-volumes", { pin: CHARTS.localStaticProvisioner, namespace: ns.metadata.name, values: localVolumeValues() }, { parent: this, provider: args.provider });
    this.registerOutputs({});
  }
}
