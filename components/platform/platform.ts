/**
 * Platform: the cluster add-ons every app relies on, installed through the cluster's
 * provider: hcloud CCM + CSI, local volumes, monitoring, the edge (Traefik, the Gateway API
 * CRDs and Teapot's error pages) and cert-manager with the Let's Encrypt ClusterIssuers.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { CertManager } from "./cert-manager";
import { HcloudIntegration } from "./hcloud";
import { Edge } from "./edge";
import { LocalVolumes } from "./local-volumes";
import { Monitoring } from "./monitoring";
import { NodeReboots } from "../ops/reboots";

export interface PlatformArgs {
  estate: Estate;
  /** The cluster's provider (K0sCluster.provider). */
  provider: k8s.Provider;
  /** ID of the private network (HetznerCompute.network.networkId). */
  networkId: pulumi.Input<number>;
  /** hcloud API token. Default: secret config `hcloud:token` (required). */
  hcloudToken?: pulumi.Input<string>;
}

export class Platform extends pulumi.ComponentResource {
  readonly hcloud: HcloudIntegration;
  readonly localVolumes: LocalVolumes;
  readonly monitoring: Monitoring;
  readonly ingress: Edge;
  readonly certManager: CertManager;
  /** Depend on these before creating Ingresses, Certificates or PVCs (CRDs, classes, issuers). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:Platform", name, {}, opts);
    const { estate, provider } = args;
    const token = args.hcloudToken ?? new pulumi.Config("hcloud").requireSecret("token");
    this.hcloud = new HcloudIntegration(`${name}-hcloud`, { estate, provider, token, networkId: args.networkId }, { parent: this });
    this.localVolumes = new LocalVolumes(`${name}-local-volumes`, { provider }, { parent: this });
    this.monitoring = new Monitoring(`${name}-monitoring`, { estate, provider }, { parent: this, dependsOn: [this.hcloud] });
    // Traefik's ServiceMonitor needs the monitoring CRDs.
    this.ingress = new Edge(`${name}-ingress`, { estate, provider, dependsOn: [this.monitoring.stack] }, { parent: this });
    // cert-manager starts after the Gateway API CRDs (its Gateway API support needs them); its
    // issuers answer HTTP-01 through the platform Gateway.
    this.certManager = new CertManager(
      `${name}-cert-manager`,
      { email: estate.cluster.letsEncryptEmail, provider, crds: [this.ingress.gatewayApiCrds], dependsOn: [this.ingress.gateway] },
      { parent: this },
    );
    // Coordinated reboots after unattended upgrades (components/ops/reboots.ts); asks Prometheus first.
    new NodeReboots(`${name}-reboots`, { estate, provider }, { parent: this, dependsOn: [this.monitoring] });
    this.ready = [this.hcloud, this.localVolumes, this.ingress, this.certManager];
    this.registerOutputs({});
  }
}
