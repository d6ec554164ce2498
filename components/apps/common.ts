/**
 * Building blocks shared by the app modules: labels, ingress annotations, and the
 * Deployment + Service + public route (Gateway API, components/routes.ts) of apps this project
 * deploys without a chart. Helm releases, passwords and Secrets: the kit (components/kit).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LABELS, PLATFORM } from "../conventions";
import { attachedRoute, bodyLimit, tlsSecretName, type RouteAttacher, type RouteMiddleware } from "../routes";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import type { Resources } from "./sizing";

export { tlsSecretName };

/** Labels of every object of an app in a bundle. */
export function appLabels(slug: string, app: string): Record<string, string> {
  return {
    [LABELS.tenant]: slug,
    [LABELS.app]: app,
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/instance": `${slug}-${app}`,
    "app.kubernetes.io/part-of": "liiibre",
  };
}

/** `<prefix>.<domain>`. */
export { hostOf } from "../config/hosts";

/**
 * Annotations of every chart-rendered Ingress: TLS certificate from cert-manager. Traefik needs
 * nothing else: the Ingress routers attach to the HTTPS entry point (its default), with TLS, HSTS
 * and the error pages set there (components/platform/edge.ts).
 */
export function ingressAnnotations(extra: Record<string, string> = {}): Record<string, string> {
  return { [PLATFORM.clusterIssuerAnnotation]: PLATFORM.clusterIssuer, ...extra };
}

export interface WebAppArgs {
  /** Kubernetes object name (Deployment, Service, Ingress). */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  image: string;
  containerPort: number;
  replicas: number;
  resources: Resources;
  env?: k8s.types.input.core.v1.EnvVar[];
  /** Public host (a Gateway API route); omit for an internal-only service. */
  host?: string;
  /** Largest request body the edge accepts, in bytes. Default no limit (the app enforces its own). */
  maxBodyBytes?: number;
  /** HTTP path probed for readiness/liveness. */
  probePath: string;
  volumes?: k8s.types.input.core.v1.Volume[];
  volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  /** Node selector (e.g. apps pool). */
  nodeSelector?: Record<string, string>;
  /**
   * Pod annotations, e.g. `DERIVED_ANNOTATION` (components/kit/secrets.ts) naming the derived
   * secrets the pods read: a change of derivation restarts them. Defaults to none.
   */
  podAnnotations?: Record<string, string>;
  /** The bundle's Gateways the public route attaches to (`AppContext.gateways`). Defaults to a Gateway of its own. */
  gateways?: RouteAttacher;
  /** Spread of the pods over nodes (components/ops/availability.ts `spreadOverNodes`). Defaults to none. */
  topologySpreadConstraints?: k8s.types.input.core.v1.TopologySpreadConstraint[];
  /** Seconds a pod has to stop after SIGTERM. Defaults to Kubernetes' 30. */
  terminationGracePeriodSeconds?: number;
  /** The Service (same namespace, port 80) the public route sends to, e.g. a proxy in front of the app. Defaults to the app's own. */
  routeService?: string;
  /** The bundle's objects (`AppContext.objects`, components/kit/bundleObjects.ts). Defaults to resources of their own. */
  objects?: BundleObjects;
}

/** Deployment + ClusterIP Service (+ a public route with TLS when `host` is set). */
export function webApp(
  resourceName: string,
  a: WebAppArgs,
  opts: pulumi.CustomResourceOptions,
): { deployment: pulumi.CustomResource; service: pulumi.CustomResource; route: pulumi.CustomResource[] } {
  const objects = a.objects ?? ownResources();
  const selector = { "app.kubernetes.io/instance": a.labels["app.kubernetes.io/instance"], "app.kubernetes.io/name": a.name };
  const podLabels = { ...a.labels, ...selector };
  const deployment = objects.add(
    k8s.apps.v1.Deployment,
    `${resourceName}-deployment`,
    {
      metadata: { name: a.name, namespace: a.namespace, labels: podLabels },
      spec: {
        replicas: a.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: podLabels, ...(a.podAnnotations ? { annotations: a.podAnnotations } : {}) },
          spec: {
            automountServiceAccountToken: false,
            nodeSelector: a.nodeSelector,
            ...(a.topologySpreadConstraints ? { topologySpreadConstraints: a.topologySpreadConstraints } : {}),
            ...(a.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: a.terminationGracePeriodSeconds } : {}),
            containers: [
              {
                name: a.name,
                image: a.image,
                ports: [{ name: "http", containerPort: a.containerPort, protocol: "TCP" }],
                env: a.env,
                resources: a.resources,
                readinessProbe: { httpGet: { path: a.probePath, port: "http" }, periodSeconds: 10, failureThreshold: 6 },
                livenessProbe: { httpGet: { path: a.probePath, port: "http" }, initialDelaySeconds: 60, periodSeconds: 20, failureThreshold: 6 },
                volumeMounts: a.volumeMounts,
              },
            ],
            volumes: a.volumes,
          },
        },
      },
    },
    opts,
  );
  const service = objects.add(
    k8s.core.v1.Service,
    `${resourceName}-service`,
    {
      metadata: { name: a.name, namespace: a.namespace, labels: podLabels },
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    },
    opts,
  );
  let route: pulumi.CustomResource[] = [];
  if (a.host) {
    const middlewares: RouteMiddleware[] = a.maxBodyBytes ? [bodyLimit(`${a.name}-body-limit`, a.maxBodyBytes)] : [];
    route = attachedRoute(
      `${resourceName}-route`,
      { name: a.name, namespace: a.namespace, host: a.host, labels: podLabels, middlewares, rules: [{ service: a.routeService ?? a.name, port: 80 }] },
      { ...opts, dependsOn: [...(Array.isArray(opts.dependsOn) ? opts.dependsOn : opts.dependsOn ? [opts.dependsOn as pulumi.Input<pulumi.Resource>] : []), service] },
      a.gateways,
      objects,
    );
  }
  return { deployment, service, route };
}

/** Replicas of an app's workloads for a bundle state (suspended: scaled to zero). */
export const replicasFor = (state: string, running = 1): number => (state === "active" ? running : 0);

/** Node selector of app workloads: the `apps` pool. */
export const APPS_NODE_SELECTOR = { [LABELS.nodeApps]: "true" };
