/**
 * ingress-nginx, the one entry point of every app, with Teapot as its default backend.
 *
 * `cluster.ingressMode`:
 * - `hostNetwork` (default): a DaemonSet bound to ports 80/443 of the nodes labelled
 *   `liiibre.org/ingress=true` (tainted for it). DNS points at those nodes' primary IPs, which
 *   survive a server replacement. No load balancer to pay for or to route through; the
 *   client's address reaches the apps unchanged. Failover is DNS-level (several A records).
 * - `loadBalancer`: a Deployment behind a Hetzner Load Balancer created by the hcloud CCM
 *   (private network to the nodes, PROXY protocol to keep client addresses). Health-checked
 *   failover, at the price of one more billed resource. See docs/compute.md.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { LABELS } from "../conventions";
import { ingressLoadBalancerName } from "../hetzner/compute";
import { CHARTS, IMAGES } from "../versions";
import { INGRESS_CLASS, PLATFORM_NAMESPACES, platformNamespace, release, tolerate } from "./common";
import { ERROR_CODES, ERROR_PAGES_CONFIGMAP, ErrorPages } from "./error-pages";

export interface IngressNginxArgs {
  estate: Estate;
  provider: k8s.Provider;
  /** Resources that must exist first (the monitoring CRDs for the ServiceMonitor). */
  dependsOn?: pulumi.Resource[];
}

/** Helm values of ingress-nginx for the estate (pure, tested directly). */
export function ingressNginxValues(estate: Estate): Record<string, unknown> {
  const hostNetwork = estate.cluster.ingressMode === "hostNetwork";
  const [registry, ...rest] = IMAGES.nginxErrors.repository.split("/");
  const controller: Record<string, unknown> = {
    ingressClassResource: { name: INGRESS_CLASS, enabled: true, default: true },
    nodeSelector: { [LABELS.nodeIngress]: "true" },
    tolerations: [tolerate(LABELS.nodeIngress)],
    config: {
      "custom-http-errors": ERROR_CODES.join(","),
      "allow-snippet-annotations": "false",
      "use-gzip": "true",
      "hsts-max-age": "31536000",
    },
    metrics: { enabled: true, serviceMonitor: { enabled: true } },
    resources: { requests: { cpu: "100m", memory: "128Mi" } },
  };
  if (hostNetwork) {
    Object.assign(controller, {
      kind: "DaemonSet",
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      service: { enabled: true, type: "ClusterIP" },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
    });
  } else {
    Object.assign(controller, {
      kind: "Deployment",
      replicaCount: 2,
      service: {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        annotations: {
          "load-balancer.hetzner.cloud/name": ingressLoadBalancerName(estate.cluster.name),
          "load-balancer.hetzner.cloud/location": estate.hetzner.locations.primary,
          "load-balancer.hetzner.cloud/use-private-ip": "true",
          "load-balancer.hetzner.cloud/uses-proxyprotocol": "true",
        },
      },
    });
    (controller.config as Record<string, string>)["use-proxy-protocol"] = "true";
  }
  return {
    controller,
    defaultBackend: {
      enabled: true,
      replicaCount: 2,
      image: { registry, image: rest.join("/"), tag: IMAGES.nginxErrors.tag },
      extraVolumes: [{ name: "error-pages", configMap: { name: ERROR_PAGES_CONFIGMAP } }],
      extraVolumeMounts: [{ name: "error-pages", mountPath: "/www" }],
    },
  };
}

export class IngressNginx extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: IngressNginxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:IngressNginx", name, {}, opts);
    const { provider, estate } = args;
    const ns = platformNamespace(PLATFORM_NAMESPACES.ingress, this, provider);
    const pages = new ErrorPages(`${name}-teapot`, { namespace: ns.metadata.name, contact: estate.cluster.letsEncryptEmail, provider }, { parent: this });
    this.release = release(
      "ingress-nginx",
      { pin: CHARTS.ingressNginx, namespace: ns.metadata.name, values: ingressNginxValues(estate) },
      { parent: this, provider, dependsOn: [pages.configMap, ...(args.dependsOn ?? [])] },
    );
    this.registerOutputs({});
  }
}
