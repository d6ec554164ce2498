/**
 * cert-manager and the Let's Encrypt ClusterIssuers (ACME HTTP-01 through ingress-nginx).
 * Apps request certificates with the annotation `cert-manager.io/cluster-issuer: letsencrypt`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../versions";
import { INGRESS_CLASS, PLATFORM_NAMESPACES, platformNamespace, release } from "./common";

/** Name of the production ClusterIssuer. */
export const CLUSTER_ISSUER = "letsencrypt";
/** Staging issuer (untrusted certificates, generous rate limits) for trials. */
export const CLUSTER_ISSUER_STAGING = "letsencrypt-staging";

export const ACME_SERVERS = {
  [CLUSTER_ISSUER]: "https://acme-v02.api.letsencrypt.org/directory",
  [CLUSTER_ISSUER_STAGING]: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** The ClusterIssuer manifest (cert-manager.io/v1). */
export function clusterIssuerManifest(name: keyof typeof ACME_SERVERS, email: string) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        server: ACME_SERVERS[name],
        email,
        privateKeySecretRef: { name: `${name}-account-key` },
        solvers: [{ http01: { ingress: { ingressClassName: INGRESS_CLASS } } }],
      },
    },
  };
}

export interface CertManagerArgs {
  /** Contact address of the ACME account (`cluster.letsEncryptEmail`). */
  email: string;
  provider: k8s.Provider;
  /** Resources the issuers need first (ingress-nginx answers the HTTP-01 challenges). */
  dependsOn?: pulumi.Resource[];
}

export class CertManager extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:CertManager", name, {}, opts);
    const { provider } = args;
    const ns = platformNamespace(PLATFORM_NAMESPACES.certManager, this, provider);
    this.release = release(
      "cert-manager",
      {
        pin: CHARTS.certManager,
        namespace: ns.metadata.name,
        values: {
          crds: { enabled: true, keep: true },
          prometheus: { enabled: true, servicemonitor: { enabled: false } },
        },
      },
      { parent: this, provider },
    );
    for (const issuer of [CLUSTER_ISSUER, CLUSTER_ISSUER_STAGING] as const) {
      const m = clusterIssuerManifest(issuer, args.email);
      new k8s.apiextensions.CustomResource(
        `${name}-${issuer}`,
        { apiVersion: m.apiVersion, kind: m.kind, metadata: m.metadata, spec: m.spec },
        { parent: this, provider, dependsOn: [this.release, ...(args.dependsOn ?? [])] },
      );
    }
    this.registerOutputs({});
  }
}
