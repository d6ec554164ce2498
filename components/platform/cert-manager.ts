/**
 * cert-manager and the Let's Encrypt ClusterIssuers. Certificates are requested by the
 * annotation `cert-manager.io/cluster-issuer: letsencrypt` on a chart's Ingress (ingress-shim)
 * or on one of the program's Gateways (gateway-shim, needs `enableGatewayAPI`). Either way the
 * ACME HTTP-01 challenge is answered through the edge with the Gateway API solver: cert-manager
 * attaches an HTTPRoute for `/.well-known/acme-challenge/<token>` to the platform Gateway's HTTP
 * listener, where it outranks the redirect to HTTPS (docs/ingress.md, "Certificates").
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM } from "../conventions";
import { GATEWAY_API_GROUP } from "../routes";
import { CHARTS } from "../versions";
import { PLATFORM_NAMESPACES, platformNamespace, release } from "./common";

/** Name of the production ClusterIssuer (one home: conventions.ts). */
export const CLUSTER_ISSUER = PLATFORM.clusterIssuer;
/** Staging issuer (untrusted certificates, generous rate limits) for trials. */
export const CLUSTER_ISSUER_STAGING = PLATFORM.clusterIssuerStaging;

/**
 * The HTTP-01 solver: HTTPRoutes on the platform Gateway's plain-HTTP listener. The solver pods'
 * Service is a ClusterIP one (cert-manager's default is NodePort, which would open a port on
 * every node for nothing: Traefik reaches the pods through the Service's endpoints).
 */
export const HTTP01_SOLVER = {
  http01: {
    gatewayHTTPRoute: {
      serviceType: "ClusterIP",
      parentRefs: [
        { group: GATEWAY_API_GROUP, kind: "Gateway", name: PLATFORM.gateway, namespace: PLATFORM.ingressNamespace, sectionName: PLATFORM.gatewayHttpListener },
      ],
    },
  },
} as const;

/** Helm values of cert-manager (pure). */
export function certManagerValues(): Record<string, unknown> {
  return {
    crds: { enabled: true, keep: true },
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
    // The Gateway API solver and gateway-shim are off unless the controller config says so
    // (cert-manager >= 1.15; the Gateway API CRDs must exist before cert-manager starts).
    config: { apiVersion: "controller.config.cert-manager.io/v1alpha1", kind: "ControllerConfiguration", enableGatewayAPI: true },
  };
}

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
        solvers: [HTTP01_SOLVER],
      },
    },
  };
}

export interface CertManagerArgs {
  /** Contact address of the ACME account (`cluster.letsEncryptEmail`). */
  email: string;
  provider: k8s.Provider;
  /** Resources cert-manager needs first (the Gateway API CRDs). */
  crds?: pulumi.Resource[];
  /** Resources the issuers need first (the edge, whose Gateway the HTTP-01 routes attach to). */
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
        values: certManagerValues(),
      },
      { parent: this, provider, dependsOn: args.crds },
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
