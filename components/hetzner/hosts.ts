/**
 * `Host`: one member of the cluster, cloud or dedicated, as the k0s layer and the outputs
 * see it. HetznerCompute produces the list; K0sCluster turns it into the k0sctl document.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Location } from "../config";
import type { NodeRole, Taint } from "./nodes";

export interface Host {
  /** Node name (hostname): `<cluster>-<pool>-NN` for cloud servers, the inventory name for dedicated ones. */
  name: string;
  kind: "cloud" | "dedicated";
  /** k0s role. */
  role: NodeRole;
  pool: string;
  location: Location;
  /** Public IPv4 (SSH target of k0sctl). */
  publicIpv4: pulumi.Output<string>;
  /** Public IPv6, when the node has one (cloud servers). */
  publicIpv6?: pulumi.Output<string>;
  /** Address on the private network (cloud subnet or vSwitch): k0s `privateAddress`. */
  privateIpv4: pulumi.Output<string>;
  /** Kubernetes node labels. */
  labels: Record<string, string>;
  /** Kubernetes node taints. */
  taints: Taint[];
  /** Marked for removal: k0sctl resets it on the next apply. */
  reset: boolean;
  /** Resources that must exist before k0sctl connects (cloud: server, network attachment, volume). */
  dependencies: pulumi.Resource[];
}
