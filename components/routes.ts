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
 * A bundle's routes share its Gateways instead (`BundleGateways`): one Gateway per organisation
 * with a listener per host (each listener keeps its host's certificate Secret, so cert-manager's
 * gateway-shim, which names each Certificate after its Secret, issues the same certificates), and
 * a second one, not annotated, for the hosts whose certificate a chart's Ingress already issues.
 * A Gateway holds at most 64 listeners (Gateway API CRD): a bundle has fewer than ten hosts. A
 * Gateway beside its routes needs no ReferenceGrant for the certificate Secrets.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PLATFORM } from "./conventions";
import { ownResources, type BundleObjects } from "./kit/bundleObjects";

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
  /**
   * Attach to this listener of a shared Gateway (a bundle's, `BundleGateways`) instead of creating
   * a Gateway of its own. Defaults to its own Gateway.
   */
  gateway?: GatewayRef;
}

/** A listener of a Gateway a route attaches to. */
export interface GatewayRef {
  name: string;
  sectionName: string;
}

/** One HTTPS listener of a shared Gateway: a host and its certificate Secret. */
export interface Listener {
  host: string;
  tlsSecret: string;
}

/** Name of a host's listener (a DNS label-like section name, unique per host). */
export const listenerName = (host: string): string => `https-${host.replace(/\./g, "-")}`.slice(0, 253);

type Manifest = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };

/** A Gateway of HTTPS listeners (pure), annotated for cert-manager's gateway-shim when it issues their certificates. */
function gateway(a: { name: string; namespace: string; labels?: Record<string, string>; issue: boolean; listeners: Array<Listener & { name: string }> }): Manifest {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "Gateway",
    metadata: {
      name: a.name,
      namespace: a.namespace,
      ...(a.labels ? { labels: a.labels } : {}),
      ...(a.issue ? { annotations: { [PLATFORM.clusterIssuerAnnotation]: PLATFORM.clusterIssuer } } : {}),
    },
    spec: {
      gatewayClassName: PLATFORM.gatewayClass,
      listeners: a.listeners.map((l) => ({
        name: l.name,
        protocol: "HTTPS",
        port: PLATFORM.edgePorts.https,
        hostname: l.host,
        tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: l.tlsSecret }] },
        allowedRoutes: { namespaces: { from: "Same" } },
      })),
    },
  };
}

/** A Gateway with one HTTPS listener per host (pure); annotated for cert-manager when it issues the certificates. */
export function sharedGatewayManifest(a: { name: string; namespace: string; labels?: Record<string, string>; issue: boolean; listeners: Listener[] }): Manifest {
  if (a.listeners.length > 64) throw new Error(`Gateway ${a.namespace}/${a.name}: ${a.listeners.length} listeners, a Gateway holds at most 64`);
  return gateway({ ...a, listeners: a.listeners.map((l) => ({ ...l, name: listenerName(l.host) })) });
}

/** The Gateway of one public host (pure). */
export function gatewayManifest(a: PublicRouteArgs): Manifest {
  return gateway({
    name: a.name,
    namespace: a.namespace,
    labels: a.labels,
    issue: a.issueCertificate ?? true,
    listeners: [{ name: HTTPS_LISTENER, host: a.host, tlsSecret: a.tlsSecret ?? tlsSecretName(a.host) }],
  });
}

/** The HTTPRoute of one public host (pure). */
export function httpRouteManifest(a: PublicRouteArgs): Manifest {
  const all = (a.middlewares ?? []).map((m) => m.name);
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "HTTPRoute",
    metadata: { name: a.name, namespace: a.namespace, ...(a.labels ? { labels: a.labels } : {}) },
    spec: {
      parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", name: a.gateway?.name ?? a.name, sectionName: a.gateway?.sectionName ?? HTTPS_LISTENER }],
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
    ...(a.gateway ? [] : [gatewayManifest(a)]),
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
export function publicRoute(resourceName: string, a: PublicRouteArgs, opts: pulumi.CustomResourceOptions, objects: BundleObjects = ownResources()): pulumi.CustomResource[] {
  const suffix: Record<string, (m: Manifest) => string> = {
    Middleware: (m) => `mw-${(m.metadata as { name: string }).name}`,
    BackendTLSPolicy: () => "backend-tls",
    Gateway: () => "gateway",
    HTTPRoute: () => "route",
  };
  const out: pulumi.CustomResource[] = [];
  for (const m of publicRouteManifests(a)) {
    out.push(
      objects.add(
        k8s.apiextensions.CustomResource,
        `${resourceName}-${suffix[m.kind](m)}`,
        { apiVersion: m.apiVersion, kind: m.kind, metadata: m.metadata, spec: m.spec },
        // The route waits for its middlewares and its Gateway (Traefik rejects a dangling reference).
        m.kind === "HTTPRoute" ? { ...opts, dependsOn: [...toArray(opts.dependsOn), ...out] } : opts,
      ),
    );
  }
  return out;
}

/**
 * `publicRoute` on a shared Gateway when `attacher` is given (a bundle's: the route's listener is
 * added to it and the route waits for it), else with a Gateway of its own.
 */
export function attachedRoute(resourceName: string, a: PublicRouteArgs, opts: pulumi.CustomResourceOptions, attacher?: RouteAttacher, objects?: BundleObjects): pulumi.CustomResource[] {
  if (!attacher) return publicRoute(resourceName, a, opts, objects);
  const at = attacher.attach(a);
  return publicRoute(resourceName, { ...a, gateway: at.gateway }, { ...opts, dependsOn: [...toArray(opts.dependsOn), at.ready] }, objects);
}

function toArray(d: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (!d) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}

/** A route attached to a shared Gateway: its listener, and what the route waits for (that Gateway). */
export interface Attachment {
  gateway: GatewayRef;
  ready: Promise<pulumi.Resource>;
}

/** Something routes attach to instead of creating their own Gateway (a bundle's `BundleGateways`). */
export interface RouteAttacher {
  attach(a: Pick<PublicRouteArgs, "host" | "tlsSecret" | "issueCertificate">): Attachment;
}

type Kind = "issue" | "reuse";

/**
 * The Gateways of one bundle: routes attach to a listener (`attach`) while the apps deploy;
 * `register` then creates the Gateways with every listener asked for, and releases the routes
 * waiting for them (each route's `dependsOn` holds its Gateway's promise). Two Gateways at most:
 * `<name>` (annotated: cert-manager issues each listener's certificate) and `<name>-chart-tls`
 * (hosts whose certificate a chart's Ingress issues: no annotation, or two Certificates would
 * fight over one Secret).
 */
export class BundleGateways implements RouteAttacher {
  private readonly listeners: Record<Kind, Map<string, Listener>> = { issue: new Map(), reuse: new Map() };
  private readonly resolvers = {} as Record<Kind, (r: pulumi.Resource) => void>;
  private readonly ready: Record<Kind, Promise<pulumi.Resource>>;
  private registered = false;

  constructor(
    /** Kubernetes name of the issuing Gateway (the other one is `<name>-chart-tls`). */
    public readonly name: string,
    public readonly namespace: string,
    public readonly labels: Record<string, string>,
  ) {
    this.ready = {
      issue: new Promise((r) => (this.resolvers.issue = r)),
      reuse: new Promise((r) => (this.resolvers.reuse = r)),
    };
  }

  private gatewayName = (k: Kind) => (k === "issue" ? this.name : `${this.name}-chart-tls`);

  /** The listener of `host` (added if new: routes for the same host share it). */
  attach(a: Pick<PublicRouteArgs, "host" | "tlsSecret" | "issueCertificate">): Attachment {
    if (this.registered) throw new Error(`Gateways of ${this.namespace}: route for ${a.host} attached after they were registered`);
    const kind: Kind = (a.issueCertificate ?? true) ? "issue" : "reuse";
    const l = { host: a.host, tlsSecret: a.tlsSecret ?? tlsSecretName(a.host) };
    if (this.listeners[kind === "issue" ? "reuse" : "issue"].has(a.host)) throw new Error(`Gateways of ${this.namespace}: host ${a.host} both issues its certificate and reuses a chart's`);
    const had = this.listeners[kind].get(a.host);
    if (had && had.tlsSecret !== l.tlsSecret) throw new Error(`Gateways of ${this.namespace}: host ${a.host} with two certificate Secrets (${had.tlsSecret}, ${l.tlsSecret})`);
    this.listeners[kind].set(a.host, l);
    return { gateway: { name: this.gatewayName(kind), sectionName: listenerName(a.host) }, ready: this.ready[kind] };
  }

  /** The Gateway manifests (pure), listeners sorted by host (the order routes attach in does not matter). */
  manifests(): Manifest[] {
    return (["issue", "reuse"] as const)
      .filter((k) => this.listeners[k].size)
      .map((k) =>
        sharedGatewayManifest({
          name: this.gatewayName(k),
          namespace: this.namespace,
          labels: this.labels,
          issue: k === "issue",
          listeners: [...this.listeners[k].values()].sort((x, y) => x.host.localeCompare(y.host)),
        }),
      );
  }

  /**
   * Creates the Gateways (`<resourceName>`, `<resourceName>-chart-tls`) through the bundle's
   * `objects` (its own resources, or entries of its objects release) and releases the routes
   * waiting for them.
   */
  register(resourceName: string, opts: pulumi.CustomResourceOptions, objects: BundleObjects = ownResources()): pulumi.CustomResource[] {
    this.registered = true;
    return this.manifests().map((m) => {
      const kind: Kind = m.metadata.name === this.name ? "issue" : "reuse";
      const gw = objects.add(k8s.apiextensions.CustomResource, kind === "issue" ? resourceName : `${resourceName}-chart-tls`, { apiVersion: m.apiVersion, kind: m.kind, metadata: m.metadata, spec: m.spec }, opts);
      this.resolvers[kind](gw);
      return gw;
    });
  }
}
