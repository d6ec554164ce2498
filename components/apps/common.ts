/**
 * Building blocks shared by the app modules: labels, pinned Helm releases, Secrets, and the
 * Deployment + Service + public route (Gateway API, components/routes.ts) of apps this project
 * deploys without a chart.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { LABELS, PLATFORM } from "../conventions";
import { bodyLimit, publicRoute, tlsSecretName, type RouteMiddleware } from "../routes";
import { chartArgs, type ChartPin } from "../versions";
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

/** A Helm release of a pinned chart. Release name = `releaseName` (stable, not auto-suffixed). */
export function helmRelease(
  name: string,
  pin: ChartPin,
  args: { releaseName: string; namespace: pulumi.Input<string>; values: pulumi.Input<Record<string, unknown>> },
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name: args.releaseName,
      namespace: args.namespace,
      ...chartArgs(pin),
      values: args.values,
      // Charts create their own objects; a failed upgrade is rolled back, never left half-applied.
      atomic: true,
      timeout: 900,
    },
    opts,
  );
}

/** A random password (a Pulumi secret: `result` is in the provider's secret outputs). */
export function password(name: string, opts: pulumi.CustomResourceOptions, length = 32): random.RandomPassword {
  return new random.RandomPassword(name, { length, special: false }, opts);
}

/** A Secret with `stringData` (values stay Pulumi secrets). */
export function opaqueSecret(
  name: string,
  args: { name: string; namespace: string; labels: Record<string, string>; stringData: Record<string, pulumi.Input<string>> },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const stringData: Record<string, pulumi.Output<string>> = {};
  for (const [k, v] of Object.entries(args.stringData)) stringData[k] = pulumi.secret(pulumi.output(v));
  return new k8s.core.v1.Secret(
    name,
    { metadata: { name: args.name, namespace: args.namespace, labels: args.labels }, type: "Opaque", stringData },
    opts,
  );
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
}

/** Deployment + ClusterIP Service (+ a public route with TLS when `host` is set). */
export function webApp(
  resourceName: string,
  a: WebAppArgs,
  opts: pulumi.CustomResourceOptions,
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service; route: k8s.apiextensions.CustomResource[] } {
  const selector = { "app.kubernetes.io/instance": a.labels["app.kubernetes.io/instance"], "app.kubernetes.io/name": a.name };
  const podLabels = { ...a.labels, ...selector };
  const deployment = new k8s.apps.v1.Deployment(
    `${resourceName}-deployment`,
    {
      metadata: { name: a.name, namespace: a.namespace, labels: podLabels },
      spec: {
        replicas: a.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: podLabels },
          spec: {
            automountServiceAccountToken: false,
            nodeSelector: a.nodeSelector,
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
  const service = new k8s.core.v1.Service(
    `${resourceName}-service`,
    {
      metadata: { name: a.name, namespace: a.namespace, labels: podLabels },
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    },
    opts,
  );
  let route: k8s.apiextensions.CustomResource[] = [];
  if (a.host) {
    const middlewares: RouteMiddleware[] = a.maxBodyBytes ? [bodyLimit(`${a.name}-body-limit`, a.maxBodyBytes)] : [];
    route = publicRoute(
      `${resourceName}-route`,
      { name: a.name, namespace: a.namespace, host: a.host, labels: podLabels, middlewares, rules: [{ service: a.name, port: 80 }] },
      { ...opts, dependsOn: [...(Array.isArray(opts.dependsOn) ? opts.dependsOn : opts.dependsOn ? [opts.dependsOn as pulumi.Input<pulumi.Resource>] : []), service] },
    );
  }
  return { deployment, service, route };
}

/** Replicas of an app's workloads for a bundle state (suspended: scaled to zero). */
export const replicasFor = (state: string, running = 1): number => (state === "active" ? running : 0);

/** Node selector of app workloads: the `apps` pool. */
export const APPS_NODE_SELECTOR = { [LABELS.nodeApps]: "true" };
