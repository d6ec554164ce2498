/**
 * Building blocks shared by the app modules: labels, pinned Helm releases, Secrets, and the
 * Deployment + Service + Ingress of apps this project deploys without a chart.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { LABELS, PLATFORM } from "../conventions";
import { chartArgs, type ChartPin } from "../versions";
import type { Resources } from "./sizing";

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
export const hostOf = (prefix: string, domain: string): string => `${prefix}.${domain}`;

/** Annotations of every Ingress: TLS certificate from cert-manager. */
export function ingressAnnotations(extra: Record<string, string> = {}): Record<string, string> {
  return { "cert-manager.io/cluster-issuer": PLATFORM.clusterIssuer, ...extra };
}

/** Name of the TLS Secret cert-manager fills for a host. */
export const tlsSecretName = (host: string): string => `${host.replace(/\./g, "-")}-tls`.slice(0, 253);

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
  /** Public host; omit for an internal-only service. */
  host?: string;
  ingressAnnotations?: Record<string, string>;
  /** HTTP path probed for readiness/liveness. */
  probePath: string;
  volumes?: k8s.types.input.core.v1.Volume[];
  volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  /** Node selector (e.g. apps pool). */
  nodeSelector?: Record<string, string>;
}

/** Deployment + ClusterIP Service (+ Ingress with TLS when `host` is set). */
export function webApp(
  resourceName: string,
  a: WebAppArgs,
  opts: pulumi.CustomResourceOptions,
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service; ingress?: k8s.networking.v1.Ingress } {
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
  let ingress: k8s.networking.v1.Ingress | undefined;
  if (a.host) {
    ingress = new k8s.networking.v1.Ingress(
      `${resourceName}-ingress`,
      {
        metadata: { name: a.name, namespace: a.namespace, labels: podLabels, annotations: ingressAnnotations(a.ingressAnnotations) },
        spec: {
          ingressClassName: PLATFORM.ingressClass,
          tls: [{ hosts: [a.host], secretName: tlsSecretName(a.host) }],
          rules: [
            {
              host: a.host,
              http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: a.name, port: { name: "http" } } } }] },
            },
          ],
        },
      },
      opts,
    );
  }
  return { deployment, service, ingress };
}

/** Replicas of an app's workloads for a bundle state (suspended: scaled to zero). */
export const replicasFor = (state: string, running = 1): number => (state === "active" ? running : 0);

/** Node selector of app workloads: the `apps` pool. */
export const APPS_NODE_SELECTOR = { [LABELS.nodeApps]: "true" };
