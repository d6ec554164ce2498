/**
 * The routes the program declares itself, as Gateway API objects served by the edge
 * (Traefik, docs/ingress.md). Charts keep their own Ingress objects (IngressClass
 * `PLATFORM.ingressClass`); everything the program routes is here.
 *
 * Shape of one public route (`publicRoute`), all in the route's namespace:
 * - a `Gateway` of class `PLATFORM.gatewayClass` with one HTTPS listener for the host, its
 *   certificate in Secret `tlsSecretName(host)` (or `tlsSecret`). cert-manager's gateway-shim issues it from the
 *   Gateway's `cert-manager.io/cluster-issuer` annotation, unless another object already issues
 *   that Secret (`issueCertificate: false`, e.g. a chart's Ingress for the same host);
 * - an `HTTPRoute` with the host's rules, each rule's filters pointing at Traefik `Middleware`
 *   objects (ExtensionRef, same namespace) created beside it (body limits, allow-lists);
 * - for an HTTPS backend, a `BackendTLSPolicy` (the CA and the name to verify).
 * Plain HTTP (port 80) is the platform Gateway's business: one redirect to HTTPS for every host,
 * and cert-manager's HTTP-01 solver routes (components/platform/edge.ts).
 *
 * Why one Gateway per host: a Gateway holds at most 64 listeners (Gateway API CRD) and each
 * HTTPS host needs its own listener and certificate; a Gateway beside its route also needs no
 * ReferenceGrant for the certificate Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PLATFORM } from "./conventions";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";
export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
/** Traefik's CRD group (Middleware, ServersTransport…), shipped in the Traefik chart's `crds/`. */
export const TRAEFIK_API_VERSION = "traefik.io/v1alpha1";
/** Name of the HTTPS listener of a route's Gateway. */
export const HTTPS_LISTENER = "https";

/** Name of the TLS Secret cert-manager fills for a host. */
export const tlsSecretName = (host: string): string => `${host.replace(/\./g, "-")}-tls`.slice(0, 253);

/** A Traefik middleware created beside a route: its name and its `spec` (one middleware kind). */
export interface RouteMiddleware {
  name: string;
  spec: Record<string, unknown>;
}

export interface RouteRule {
  /** Path matched. Default `/`. */
  path?: string;
  /** Default `PathPrefix`. */
  pathType?: "PathPrefix" | "Exact";
  /** Backend Service (same namespace) and port number. */
  service: string;
  port: number;
  /** Names of middlewares (from `PublicRouteArgs.middlewares`) applied to this rule. Default all of them. */
  middlewares?: string[];
}

export interface PublicRouteArgs {
  /** Name of the Gateway and HTTPRoute (and prefix of the other objects). */
  name: string;
  namespace: string;
  host: string;
  labels?: Record<string, string>;
  rules: RouteRule[];
  /** Middlewares created beside the route (Traefik `Middleware` objects). Default none. */
  middlewares?: RouteMiddleware[];
  /** TLS Secret of the host's certificate. Default `tlsSecretName(host)`. */
  tlsSecret?: string;
  /**
   * Whether cert-manager issues the host's certificate from this Gateway. Default true; false
   * when another object (e.g. a chart's Ingress for the same host) already issues `tlsSecret`.
   */
  issueCertificate?: boolean;
  /** The backend speaks HTTPS: verify it with this CA (a ConfigMap key `ca.crt`) and name. Default plain HTTP. */
  backendTls?: { service: string; caConfigMap: string; hostname: string };
}

type Manifest = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };

/** The Gateway of one public host (pure). */
export function gatewayManifest(a: PublicRouteArgs): Manifest {
  const issue = a.issueCertificate ?? true;
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "Gateway",
    metadata: {
      name: a.name,
      namespace: a.namespace,
      ...(a.labels ? { labels: a.labels } : {}),
      ...(issue ? { annotations: { [PLATFORM.clusterIssuerAnnotation]: PLATFORM.clusterIssuer } } : {}),
    },
    spec: {
      gatewayClassName: PLATFORM.gatewayClass,
      listeners: [
        {
          name: HTTPS_LISTENER,
          protocol: "HTTPS",
          port: PLATFORM.edgePorts.https,
          hostname: a.host,
          tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: a.tlsSecret ?? tlsSecretName(a.host) }] },
          allowedRoutes: { namespaces: { from: "Same" } },
        },
      ],
    },
  };
}

/** The HTTPRoute of one public host (pure). */
export function httpRouteManifest(a: PublicRouteArgs): Manifest {
  const all = (a.middlewares ?? []).map((m) => m.name);
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "HTTPRoute",
    metadata: { name: a.name, namespace: a.namespace, ...(a.labels ? { labels: a.labels } : {}) },
    spec: {
      parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", name: a.name, sectionName: HTTPS_LISTENER }],
      hostnames: [a.host],
      rules: a.rules.map((r) => {
        const names = r.middlewares ?? all;
        for (const n of names) if (!all.includes(n)) throw new Error(`route ${a.namespace}/${a.name}: unknown middleware ${n}`);
        return {
          matches: [{ path: { type: r.pathType ?? "PathPrefix", value: r.path ?? "/" } }],
          ...(names.length
            ? { filters: names.map((name) => ({ type: "ExtensionRef", extensionRef: { group: "traefik.io", kind: "Middleware", name } })) }
            : {}),
          backendRefs: [{ group: "", kind: "Service", name: r.service, port: r.port }],
        };
      }),
    },
  };
}

/** A Traefik Middleware (pure). */
export function middlewareManifest(namespace: string, m: RouteMiddleware, labels?: Record<string, string>): Manifest {
  return { apiVersion: TRAEFIK_API_VERSION, kind: "Middleware", metadata: { name: m.name, namespace, ...(labels ? { labels } : {}) }, spec: m.spec };
}

/** The BackendTLSPolicy of an HTTPS backend (pure). */
export function backendTlsPolicyManifest(a: PublicRouteArgs): Manifest | undefined {
  if (!a.backendTls) return undefined;
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "BackendTLSPolicy",
    metadata: { name: a.backendTls.service, namespace: a.namespace, ...(a.labels ? { labels: a.labels } : {}) },
    spec: {
      targetRefs: [{ group: "", kind: "Service", name: a.backendTls.service }],
      validation: {
        caCertificateRefs: [{ group: "", kind: "ConfigMap", name: a.backendTls.caConfigMap }],
        hostname: a.backendTls.hostname,
      },
    },
  };
}

/** Every object of one public route (pure), Middlewares first. */
export function publicRouteManifests(a: PublicRouteArgs): Manifest[] {
  const tls = backendTlsPolicyManifest(a);
  return [
    ...(a.middlewares ?? []).map((m) => middlewareManifest(a.namespace, m, a.labels)),
    ...(tls ? [tls] : []),
    gatewayManifest(a),
    httpRouteManifest(a),
  ];
}

/**
 * A Traefik `buffering` middleware limiting request bodies (the edge sets no limit otherwise).
 * Traefik buffers the body to enforce it, as nginx did by default.
 */
export const bodyLimit = (name: string, maxBytes: number): RouteMiddleware => ({
  name,
  spec: { buffering: { maxRequestBodyBytes: maxBytes, memRequestBodyBytes: 2 * 1024 ** 2 } },
});

/**
 * Registers one public route's objects (custom resources: the Gateway API CRDs and Traefik's
 * CRDs must exist, i.e. `opts.dependsOn` holds the platform's `ready`). Resource names derive
 * from `resourceName` and the object kind.
 */
export function publicRoute(resourceName: string, a: PublicRouteArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource[] {
  const suffix: Record<string, (m: Manifest) => string> = {
    Middleware: (m) => `mw-${(m.metadata as { name: string }).name}`,
    BackendTLSPolicy: () => "backend-tls",
    Gateway: () => "gateway",
    HTTPRoute: () => "route",
  };
  const out: k8s.apiextensions.CustomResource[] = [];
  for (const m of publicRouteManifests(a)) {
    out.push(
      new k8s.apiextensions.CustomResource(
        `${resourceName}-${suffix[m.kind](m)}`,
        { apiVersion: m.apiVersion, kind: m.kind, metadata: m.metadata, spec: m.spec },
        // The route waits for its middlewares and its Gateway (Traefik rejects a dangling reference).
        m.kind === "HTTPRoute" ? { ...opts, dependsOn: [...toArray(opts.dependsOn), ...out] } : opts,
      ),
    );
  }
  return out;
}

function toArray(d: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (!d) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
