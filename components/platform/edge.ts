/**
 * The edge: Traefik Proxy, the one entry point of every app (docs/ingress.md says why Traefik).
 * It serves both what the charts render (plain `networking.k8s.io/v1` Ingress objects, class
 * `PLATFORM.ingressClass`) and the program's own Gateway API routes (class
 * `PLATFORM.gatewayClass`, components/routes.ts).
 *
 * `cluster.ingressMode` (as with ingress-nginx before):
 * - `hostNetwork` (default): a DaemonSet bound to ports 80/443 of the nodes labelled
 *   `liiibre.org/ingress=true` (tainted for it). DNS points at those nodes' primary IPs, which
 *   survive a server replacement. No load balancer; the client's address reaches Traefik as is.
 * - `loadBalancer`: a Deployment behind the Hetzner Load Balancer created by HetznerCompute and
 *   adopted by the hcloud CCM (private network to the nodes, PROXY protocol to keep client
 *   addresses, trusted from the private network only). See docs/compute.md.
 *
 * What the edge does for every host, on its HTTPS entry point (Traefik's file provider, so it
 * exists as soon as Traefik starts): HSTS (headers middleware), compression, Teapot's pages for
 * upstream 502/503/504 (errors middleware). Plain HTTP: one redirect to HTTPS (an HTTPRoute on
 * the platform Gateway) except cert-manager's HTTP-01 challenge routes, which outrank it.
 * Admin surfaces: an `ipAllowList` middleware of `hetzner.adminCidrs`, which `adminOnly` names
 * (components/platform/access.ts).
 *
 * Host ports on the ingress nodes (hostNetwork): Traefik binds 80, 443 (entry points `web`,
 * `websecure`), 9000 (`traefik`: ping, the probes) and 9101 (`metrics`); node-exporter has 9100,
 * k0s's kube-router 8080 (the twin's `host-port-collision` check compares every host-network pod's
 * binds, docs/twin.md). During the move from ingress-nginx (`cluster.edgeMigration: bridge`,
 * docs/operations.md) a second Traefik, the bridge, binds EDGE_BRIDGE_PORTS on the same nodes.
 *
 * Why not both controllers on 80/443 with SO_REUSEPORT (ingress-nginx sets it by default, Traefik
 * has `entryPoints.<name>.reusePort`)? Linux only lets sockets of the same effective UID share a
 * TCP port: ingress-nginx runs as uid 101, Traefik as root here, and a non-root Traefik cannot bind
 * ports below 1024 on the host network (NET_BIND_SERVICE in the container's capabilities is lost
 * at exec for a non-root user without file capabilities on the binary, which the Traefik image
 * does not set; Traefik's chart EXAMPLES.md, traefik/traefik-library-image#51). And two pods
 * declaring the same host port are never placed on one node (the scheduler's NodePorts filter).
 * The bridge needs neither: each node's 80/443 are redirected (iptables REDIRECT, new connections
 * only; established ones keep their destination) to it while ingress-nginx drains and leaves.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../config";
import { LABELS, PLATFORM } from "../conventions";
import { ingressLoadBalancerName } from "../hetzner/compute";
import { GATEWAY_API_GROUP, GATEWAY_API_VERSION } from "../routes";
import { CHARTS, GATEWAY_API_CRDS } from "../versions";
import { adminAllowListMiddleware } from "./access";
import { PLATFORM_NAMESPACES, platformNamespace, release, tolerate } from "./common";
import { ERROR_PAGES_SERVICE, ErrorPages, UPSTREAM_ERROR_CODES } from "./error-pages";
import { SHARED_REPLICAS, budgetSpec, spreadOverNodes } from "../ops/availability";

/** The class ingress-nginx served, read by Traefik during the migration only (`cluster.edgeMigration`). */
export const LEGACY_NGINX_CLASS = "nginx";

/** Helm release name of Traefik (its objects are named after it). */
export const TRAEFIK_RELEASE = "traefik";
/** Labels the Traefik chart selects its pods by (`traefik.labelselector`: name, `<release>-<namespace>`). */
export const TRAEFIK_SELECTOR = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": `${TRAEFIK_RELEASE}-${PLATFORM.ingressNamespace}` };
/** Helm release of the migration bridge (`cluster.edgeMigration: bridge`). */
export const TRAEFIK_BRIDGE_RELEASE = "traefik-bridge";

/** Traefik's internal entry points on the ingress nodes (off 8080, kube-router's metrics on k0s, and 9100, node-exporter's). */
export const EDGE_INTERNAL_PORTS = { traefik: 9000, metrics: 9101 } as const;

/**
 * Host ports of the bridge: 10080/10443 take the redirected 80/443 (above 1024, so the bridge
 * runs as non-root without any capability), 9002/9102 its own ping and metrics, beside the
 * main Traefik's 9000/9101 (both run on every ingress node while the addresses move), and clear
 * of ingress-nginx's host ports (80, 443, 8443 webhook, 10254 metrics/health, 8181 default
 * server, 10245–10247 on the loopback) and node-exporter's 9100. The Hetzner firewall opens
 * only 80/443 to the Internet: the bridge's ports are reached through the redirect only.
 */
export const EDGE_BRIDGE_PORTS = { http: 10080, https: 10443, traefik: 9002, metrics: 9102 } as const;

/** Whether Traefik reads the `nginx` class in this phase of `cluster.edgeMigration`. */
export const servesNginxClass = (estate: Estate): boolean => estate.cluster.edgeMigration !== "off";

/** Middlewares of Traefik's file provider (`<name>@file`), defined in `edgeDynamicConfig`. */
export const EDGE_MIDDLEWARES = {
  hsts: "hsts",
  errors: "teapot-errors",
  compress: "compress",
} as const;
/** Reference to a file-provider middleware from an Ingress annotation or an entry point. */
export const fileMiddleware = (name: string): string => `${name}@file`;

/** HSTS as ingress-nginx sent it (max-age one year, subdomains included, no preload). */
export const HSTS_SECONDS = 31536000;

/**
 * Time Traefik allows for reading one whole request, body included (its default, 60 s, would cut
 * uploads slower than that: a 10 MiB Nextcloud chunk on a 1 Mbit/s uplink takes 80 s). Upgraded
 * connections (websockets) are not bound by it; idle keep-alive connections close after
 * Traefik's default 180 s.
 */
export const REQUEST_READ_TIMEOUT = "3600s";

/** Traefik's dynamic configuration from the file provider (pure). */
export function edgeDynamicConfig(estate: Estate): Record<string, unknown> {
  const admin = adminAllowListMiddleware(estate.hetzner.adminCidrs);
  return {
    http: {
      middlewares: {
        [EDGE_MIDDLEWARES.hsts]: { headers: { stsSeconds: HSTS_SECONDS, stsIncludeSubdomains: true } },
        [EDGE_MIDDLEWARES.errors]: {
          errors: {
            status: [`${Math.min(...UPSTREAM_ERROR_CODES)}-${Math.max(...UPSTREAM_ERROR_CODES)}`],
            service: ERROR_PAGES_SERVICE,
            query: "/{status}.html",
          },
        },
        [EDGE_MIDDLEWARES.compress]: { compress: {} },
        // The admin surfaces' allow-list (adminOnly, components/platform/access.ts).
        [admin.name]: admin.config,
      },
      services: {
        [ERROR_PAGES_SERVICE]: { loadBalancer: { servers: [{ url: `http://${ERROR_PAGES_SERVICE}.${PLATFORM.ingressNamespace}.svc.cluster.local` }] } },
      },
    },
  };
}

/** Helm values of Traefik for the estate (pure, tested directly and rendered by Helm). */
export function traefikValues(estate: Estate): Record<string, unknown> {
  const hostNetwork = estate.cluster.ingressMode === "hostNetwork";
  // Behind the load balancer, connections come from its private address with a PROXY header.
  const proxyProtocol = hostNetwork ? {} : { proxyProtocol: { trustedIPs: [estate.hetzner.network.ipRange] } };
  return {
    deployment: hostNetwork ? { kind: "DaemonSet", dnsPolicy: "ClusterFirstWithHostNet" } : { kind: "Deployment", replicas: SHARED_REPLICAS },
    // Behind the load balancer: the replicas spread over the ingress nodes, with a budget (a
    // drain evicts one at a time). A DaemonSet needs neither: drains skip its pods, and kured
    // reboots one node at a time (components/ops/reboots.ts, docs/operations.md).
    ...(hostNetwork
      ? {}
      : {
          topologySpreadConstraints: spreadOverNodes(TRAEFIK_SELECTOR),
          // The chart's budget selects `traefik.labelselector` (TRAEFIK_SELECTOR); minAvailable as budgetSpec's.
          podDisruptionBudget: { enabled: true, minAvailable: budgetSpec(SHARED_REPLICAS, TRAEFIK_SELECTOR)?.minAvailable },
        }),
    // A DaemonSet on host ports cannot surge: replace one node's pod at a time.
    updateStrategy: hostNetwork ? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    hostNetwork,
    nodeSelector: { [LABELS.nodeIngress]: "true" },
    tolerations: [tolerate(LABELS.nodeIngress)],
    resources: { requests: { cpu: "100m", memory: "128Mi" } },
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    // No dashboard: nothing to expose on the nodes.
    api: { dashboard: false },
    ingressClass: { enabled: true, isDefaultClass: true, name: PLATFORM.ingressClass },
    gatewayClass: { enabled: true, name: PLATFORM.gatewayClass },
    // The program declares its Gateways itself (the platform one below, one per routed host).
    gateway: { enabled: false },
    providers: {
      kubernetesIngress: { enabled: true },
      kubernetesGateway: { enabled: true },
      // Traefik Middlewares that HTTPRoutes reference (ExtensionRef, same namespace).
      kubernetesCRD: { enabled: true },
      file: { enabled: true, watch: true, content: edgeDynamicConfig(estate) },
      // During the move from ingress-nginx only: the Ingresses still on class `nginx` are served
      // too, their nginx annotations translated (docs/operations.md).
      ...(servesNginxClass(estate) ? { kubernetesIngressNGINX: { enabled: true, ingressClass: LEGACY_NGINX_CLASS } } : {}),
    },
    ports: {
      // Internal entry points moved off ports the nodes already use on the host network
      // (8080: kube-router metrics on k0s; 9100: node-exporter).
      traefik: { port: EDGE_INTERNAL_PORTS.traefik },
      metrics: { port: EDGE_INTERNAL_PORTS.metrics },
      web: { port: PLATFORM.edgePorts.http, exposedPort: PLATFORM.edgePorts.http, ...proxyProtocol },
      websecure: {
        port: PLATFORM.edgePorts.https,
        exposedPort: PLATFORM.edgePorts.https,
        // Routers that name no entry point (every Ingress) serve HTTPS only; HTTP is redirected.
        asDefault: true,
        http: {
          tls: { enabled: true },
          middlewares: [EDGE_MIDDLEWARES.errors, EDGE_MIDDLEWARES.hsts, EDGE_MIDDLEWARES.compress].map(fileMiddleware),
        },
        transport: { respondingTimeouts: { readTimeout: REQUEST_READ_TIMEOUT } },
        ...proxyProtocol,
      },
    },
    // Ports 80/443 in both modes (the Gateway listeners' ports): binding them needs
    // NET_BIND_SERVICE, which only takes effect for uid 0 (no ambient capabilities). Every other
    // capability is dropped, the root filesystem is read-only, no privilege escalation.
    podSecurityContext: { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } },
    service: hostNetwork
      ? { spec: { type: "ClusterIP" } }
      : {
          annotations: {
            "load-balancer.hetzner.cloud/name": ingressLoadBalancerName(estate.cluster.name),
            "load-balancer.hetzner.cloud/location": estate.hetzner.locations.primary,
            "load-balancer.hetzner.cloud/use-private-ip": "true",
            "load-balancer.hetzner.cloud/uses-proxyprotocol": "true",
          },
          spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
        },
    // The ServiceMonitor CRD exists before Traefik installs (the release depends on the monitoring
    // stack); the chart's own check only looks at the API server's discovery at render time. (The
    // render step passes the estate's CRD API versions to capability-gated charts, but not to
    // charts that define CRDs themselves, as Traefik does.)
    metrics: { prometheus: { service: { enabled: true }, serviceMonitor: { enabled: true }, disableAPICheck: true } },
  };
}

/**
 * Helm values of the migration bridge (pure): a Traefik DaemonSet on the ingress nodes' host
 * network at EDGE_BRIDGE_PORTS that serves what ingress-nginx served (the `nginx`-class Ingresses
 * with their annotations, through Traefik's ingress-nginx provider) with the edge's HTTPS
 * middlewares (HSTS, Teapot's 5xx pages, compression). It creates no IngressClass nor
 * GatewayClass (the main release owns them), no Service (nothing routes to it but each node's
 * redirect), and reads no Gateway API routes: the addresses move back to the main Traefik before
 * any host's routes become Gateway API objects (docs/operations.md, steps 5–7).
 */
export function traefikBridgeValues(estate: Estate): Record<string, unknown> {
  const main = traefikValues(estate) as Record<string, any>;
  const websecure = main.ports.websecure as Record<string, unknown>;
  return {
    ...main,
    ingressClass: { enabled: false },
    gatewayClass: { enabled: false },
    providers: {
      kubernetesIngress: { enabled: false },
      kubernetesGateway: { enabled: false },
      kubernetesCRD: { enabled: false },
      file: main.providers.file,
      kubernetesIngressNGINX: { enabled: true, ingressClass: LEGACY_NGINX_CLASS },
    },
    ports: {
      traefik: { port: EDGE_BRIDGE_PORTS.traefik },
      metrics: { port: EDGE_BRIDGE_PORTS.metrics },
      web: { port: EDGE_BRIDGE_PORTS.http, exposedPort: PLATFORM.edgePorts.http },
      websecure: { ...websecure, port: EDGE_BRIDGE_PORTS.https, exposedPort: PLATFORM.edgePorts.https },
    },
    // Ports above 1024: the chart's non-root user (65532), no capability at all.
    podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    service: { enabled: false },
    metrics: { prometheus: { service: { enabled: false }, serviceMonitor: { enabled: false } } },
  };
}

/** The platform Gateway: the plain-HTTP listener every host shares (pure). */
export function edgeGatewayManifest() {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "Gateway",
    metadata: { name: PLATFORM.gateway, namespace: PLATFORM.ingressNamespace, labels: { [LABELS.layer]: "platform" } },
    spec: {
      gatewayClassName: PLATFORM.gatewayClass,
      listeners: [
        // Any namespace: cert-manager creates its HTTP-01 routes in the Certificate's namespace.
        { name: PLATFORM.gatewayHttpListener, protocol: "HTTP", port: PLATFORM.edgePorts.http, allowedRoutes: { namespaces: { from: "All" } } },
      ],
    },
  };
}

/** Every plain-HTTP request to HTTPS (pure). ACME challenge routes (exact path, host) rank above it. */
export function httpsRedirectManifest() {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "HTTPRoute",
    metadata: { name: "https-redirect", namespace: PLATFORM.ingressNamespace, labels: { [LABELS.layer]: "platform" } },
    spec: {
      parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", name: PLATFORM.gateway, sectionName: PLATFORM.gatewayHttpListener }],
      rules: [
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }],
        },
      ],
    },
  };
}

export interface EdgeArgs {
  estate: Estate;
  provider: k8s.Provider;
  /** Resources that must exist first (the monitoring CRDs for the ServiceMonitor). */
  dependsOn?: pulumi.Resource[];
}

export class Edge extends pulumi.ComponentResource {
  /** The Gateway API CRDs (standard channel, GATEWAY_API_CRDS). */
  readonly gatewayApiCrds: k8s.yaml.v2.ConfigFile;
  readonly release: k8s.helm.v3.Release;
  /** The migration bridge (`cluster.edgeMigration: bridge` only). */
  readonly bridge?: k8s.helm.v3.Release;
  readonly gateway: k8s.apiextensions.CustomResource;
  /** Depend on these before creating routes or certificates. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    // This component was `IngressNginx` (same name): its URN and its children's are kept.
    super("liiibre:platform:Edge", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: "liiibre:platform:IngressNginx" }] });
    const { provider, estate } = args;
    const ns = platformNamespace(PLATFORM_NAMESPACES.ingress, this, provider);
    this.gatewayApiCrds = new k8s.yaml.v2.ConfigFile(`${name}-gateway-api-crds`, { file: GATEWAY_API_CRDS.url }, { parent: this, provider });
    new ErrorPages(
      `${name}-teapot`,
      { namespace: ns.metadata.name, contact: estate.cluster.letsEncryptEmail, provider, nodeSelector: { [LABELS.nodeIngress]: "true" }, tolerations: [tolerate(LABELS.nodeIngress)] },
      { parent: this },
    );
    this.release = release(
      TRAEFIK_RELEASE,
      { pin: CHARTS.traefik, namespace: ns.metadata.name, values: traefikValues(estate) },
      // Not after Teapot: Traefik serves without it (the errors middleware answers plain errors
      // meanwhile), and during the switch from ingress-nginx every second before Traefik binds counts.
      { parent: this, provider, dependsOn: [this.gatewayApiCrds, ...(args.dependsOn ?? [])] },
    );
    // Depends on nothing but its namespace: `pulumi up --target` installs it alone, before the
    // rest of the new version (docs/operations.md, step 3).
    if (estate.cluster.edgeMigration === "bridge")
      this.bridge = release(TRAEFIK_BRIDGE_RELEASE, { pin: CHARTS.traefik, namespace: ns.metadata.name, values: traefikBridgeValues(estate) }, { parent: this, provider });
    const gw = edgeGatewayManifest();
    this.gateway = new k8s.apiextensions.CustomResource(
      `${name}-gateway`,
      { apiVersion: gw.apiVersion, kind: gw.kind, metadata: gw.metadata, spec: gw.spec },
      { parent: this, provider, dependsOn: [this.release] },
    );
    const rd = httpsRedirectManifest();
    const redirect = new k8s.apiextensions.CustomResource(
      `${name}-https-redirect`,
      { apiVersion: rd.apiVersion, kind: rd.kind, metadata: rd.metadata, spec: rd.spec },
      { parent: this, provider, dependsOn: [this.gateway] },
    );
    this.ready = [this.gatewayApiCrds, this.release, this.gateway, redirect];
    this.registerOutputs({});
  }
}
