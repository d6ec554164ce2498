/**
 * Hetzner Cloud integration inside the cluster: the `hcloud` Secret (API token + network ID),
 * the cloud-controller-manager (initialises cloud nodes: private InternalIP, topology labels;
 * Load Balancers in `loadBalancer` ingress mode) and the CSI driver (`hcloud-volumes`
 * PersistentVolumes, cloud nodes only: a dedicated server cannot attach a cloud volume).
 *
 * Dedicated nodes carry a non-hcloud provider ID (components/k0s/k0sctl-config.ts) so the CCM
 * never deletes them (hcloud-cloud-controller-manager#7, #753).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { NODE_LABELS } from "../hetzner/nodes";
import { CHARTS } from "../versions";
import { PLATFORM_NAMESPACES, release, TOLERATE_ALL } from "./common";
import { opaqueSecret } from "../kit";

/** k0s keeps the kubelet's state here, not in /var/lib/kubelet. */
export const K0S_KUBELET_DIR = "/var/lib/k0s/kubelet";
export const HCLOUD_SECRET = "hcloud";
export const HCLOUD_STORAGE_CLASS = "hcloud-volumes";

export interface HcloudIntegrationArgs {
  estate: Estate;
  provider: k8s.Provider;
  /** hcloud API token (secret; `hcloud:token`). */
  token: pulumi.Input<string>;
  /** ID of the private network (HetznerCompute.network.networkId). */
  networkId: pulumi.Input<number>;
}

const cloudNodesOnly = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_LABELS.kind, operator: "In", values: ["cloud"] }] }],
    },
  },
};

export function hcloudCcmValues(estate: Estate): Record<string, unknown> {
  return {
    networking: { enabled: true, clusterCIDR: estate.cluster.network.podCIDR },
    env: {
      // Pod routes are kube-router's job (k0s), not the CCM's.
      HCLOUD_NETWORK_ROUTES_ENABLED: { value: "false" },
      HCLOUD_LOAD_BALANCERS_LOCATION: { value: estate.hetzner.locations.primary },
      HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP: { value: "true" },
    },
  };
}

export function hcloudCsiValues(): Record<string, unknown> {
  return {
    controller: { hcloudToken: { existingSecret: { name: HCLOUD_SECRET, key: "token" } }, affinity: cloudNodesOnly },
    node: { kubeletDir: K0S_KUBELET_DIR, affinity: cloudNodesOnly, tolerations: TOLERATE_ALL },
    // Retain: deleting a PVC never deletes the Hetzner volume behind it. The default class: claims
    // naming none (CloudNativePG volumes, charts' PVCs) would otherwise stay Pending; volumes
    // attach to cloud nodes only, which the scheduler honours (WaitForFirstConsumer + CSI topology).
    storageClasses: [{ name: HCLOUD_STORAGE_CLASS, defaultStorageClass: true, reclaimPolicy: "Retain" }],
  };
}

export class HcloudIntegration extends pulumi.ComponentResource {
  readonly ccm: k8s.helm.v3.Release;
  readonly csi: k8s.helm.v3.Release;

  constructor(name: string, args: HcloudIntegrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:HcloudIntegration", name, {}, opts);
    const { provider, estate } = args;
    const secret = opaqueSecret(
      `${name}-token`,
      { name: HCLOUD_SECRET, namespace: PLATFORM_NAMESPACES.system, stringData: { token: args.token, network: pulumi.output(args.networkId).apply(String) } },
      { parent: this, provider },
    );
    this.ccm = release("hcloud-ccm", { pin: CHARTS.hcloudCcm, namespace: PLATFORM_NAMESPACES.system, values: hcloudCcmValues(estate) }, { parent: this, provider, dependsOn: [secret] });
    this.csi = release("hcloud-csi", { pin: CHARTS.hcloudCsi, namespace: PLATFORM_NAMESPACES.system, values: hcloudCsiValues() }, { parent: this, provider, dependsOn: [secret, this.ccm] });
    this.registerOutputs({});
  }
}
