/**
 * Platform: the cluster add-ons every app relies on, installed through the cluster's
 * provider: hcloud CCM + CSI, local volumes, monitoring, ingress-nginx (with Teapot error
 * pages) and cert-manager with the Let's Encrypt ClusterIssuers.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { CertManager } from "./cert-manager";
import { HcloudIntegration } from "./hcloud";
import { IngressNginx } from "./ingress";
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
  readonly ingress: IngressNginx;
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
    // The ServiceMonitor of ingress-nginx needs the monitoring CRDs.
    this.ingress = new IngressNginx(`${name}-ingress`, { estate, provider, dependsOn: [this.monitoring.stack] }, { parent: this });
    this.certManager = new CertManager(`${name}-cert-manager`, { email: estate.cluster.letsEncryptEmail, provider, dependsOn: [this.ingress.release] }, { parent: this });
    // Coordinated reboots after unattended upgrades (components/ops/reboots.ts); asks Prometheus first.
    new NodeReboots(`${name}-reboots`, { estate, provider }, { parent: this, dependsOn: [this.monitoring] });
    this.ready = [this.hcloud, this.localVolumes, this.ingress, this.certManager];
    this.registerOutputs({});
  }
}
