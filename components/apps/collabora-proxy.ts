/**
 * Collabora's hashing proxy: with `ha` a bundle runs two Collabora pods, and every request of one
 * document must reach the pod that holds it (co-editing and the clipboard live in that pod,
 * CollaboraOnline/online kubernetes/helm/collabora-online/README.md). Traefik cannot key on a query
 * parameter (docs/operations.md), so its route goes to two HAProxy pods that hash the document key.
 *
 * The key: every request of a document carries it as the `WOPISrc` query parameter, the websocket
 * included — `/cool/<encoded document URI + access token>/ws?WOPISrc=<encoded document URI>&compat=/ws…`
 * (wsd/RequestDetails.hpp; the browser builds HTTP and websocket URLs with `makeDocAndWopiSrcUrl`,
 * browser/js/global.js). The path segment before `/ws` holds the user's access token, so it differs
 * between co-editors; the query parameter does not. HAProxy's `balance url_param WOPISrc` hashes that
 * parameter (HAProxy 3.4 configuration manual, "balance": "looked up in the query string of each
 * HTTP GET request", the first `?` — the path's own `?` is percent-encoded), `check_post` also looks
 * into a POST body without one (Collabora's chart README uses the same two lines); requests without
 * it (discovery, static files) are balanced round robin. `hash-type consistent`: a pod that goes
 * moves only its documents. A stick table remembers where each document went, so a pod that comes
 * back does not take back documents still open on the other one (see docs/operations.md); the
 * proxy replicas share it (`peers`, a StatefulSet like the Jitsi router: components/kit/haproxy.ts).
 *
 * Pods are found through a headless Service (`collabora-pods`) resolved by HAProxy at run time
 * (`server-template`, the pod's resolv.conf), health-checked on `/hosting/discovery`.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import { IMAGES } from "../versions";
import { ANNOTATIONS } from "../conventions";
import { APPS_NODE_SELECTOR } from "./common";
import { resourcesFor } from "./sizing";
import { podDisruptionBudget, spreadOverNodes } from "../ops/availability";
import { HAPROXY_CONFIG_DIR, HAPROXY_CONFIG_KEY, HAPROXY_PEER_SYNC_SECONDS, peerService, renderHaproxyConfig, serviceHost, statefulPeers, type HaproxySection } from "../kit/haproxy";

/** Name of the proxy's StatefulSet, Service, ConfigMap and budget (its pods and their peer Services: `collabora-haproxy-0`, `-1`…). */
export const COLLABORA_PROXY = "collabora-haproxy";
/** Headless Service listing Collabora's pods (HAProxy resolves it). */
export const COLLABORA_PODS_SERVICE = "collabora-pods";
/** Collabora's container port (coolwsd). */
export const COLLABORA_PORT = 9980;
/** The proxy's HTTP port (the image runs as uid 99: no port below 1024). */
export const COLLABORA_PROXY_PORT = 8080;
/** Path HAProxy answers itself (probes), never forwarded. */
export const PROXY_HEALTH_PATH = "/haproxy-health";
/** The document key Collabora puts on every request of a document. */
export const DOCUMENT_KEY_PARAM = "WOPISrc";

/** HAProxy's HTTP log format (configuration manual 8.2.3) less `%r`/`%HU`/`%HP`/`%HQ`: no path, no query. */
export const PROXY_LOG_FORMAT = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %HM";

/** Port on which the proxy replicas exchange their stick table (`peers`). */
export const COLLABORA_PROXY_PEERS_PORT = 10000;
/** Name of the `peers` section (and of the stick table's `peers` option). */
export const COLLABORA_PROXY_PEERS = "collabora";
/** Pod names of the proxy's StatefulSet (the peers): `collabora-haproxy-0`, `-1`… */
export const collaboraProxyPodNames = (replicas: number): string[] => Array.from({ length: replicas }, (_, i) => `${COLLABORA_PROXY}-${i}`);

export interface HaproxyConfigInput {
  namespace: string;
  /** Collabora replicas (one server slot each). */
  replicas: number;
  /** Pod names of the proxy replicas sharing the stick table. Default `collaboraProxyPodNames(2)`. */
  podNames?: string[];
  /** Port of the stick-table peers. Default COLLABORA_PROXY_PEERS_PORT. */
  peersPort?: number;
}

/** haproxy.cfg of the proxy (pure; checked by `haproxy -c` in test/collabora-proxy.test.ts). */
export function collaboraHaproxyConfig(i: HaproxyConfigInput): string {
  const fqdn = serviceHost(COLLABORA_PODS_SERVICE, i.namespace);
  const sections: HaproxySection[] = [
    { header: "global", lines: ["log stdout format raw local0 info", 'localpeer "${HOSTNAME}"'] },
    {
      header: "defaults",
      lines: [
        "mode http",
        "log global",
        // httplog's format without the request line: Collabora's paths carry the user's access token
        // (`/cool/<document + access_token>/ws`), which must not reach the logs. Method, status, timings only.
        `log-format "${PROXY_LOG_FORMAT}"`,
        "option dontlognull",
        "option redispatch",
        "retries 2",
        "timeout connect 5s",
        "timeout http-request 10s",
        "timeout client 60s",
        // Inactivity while Collabora answers (a slow export or conversion); Traefik sets no upstream timeout either.
        "timeout server 5m",
        // An editing session is one websocket: kept up to an hour idle (Collabora's chart README: timeout-tunnel 3600s).
        "timeout tunnel 1h",
      ],
    },
    { header: "resolvers cluster", lines: ["parse-resolv-conf", "resolve_retries 3", "timeout resolve 1s", "timeout retry 1s", "hold valid 10s", "hold obsolete 10s"] },
    // Both replicas keep one table: a document that moved stays where it runs through either proxy.
    statefulPeers({ name: COLLABORA_PROXY_PEERS, podNames: i.podNames ?? collaboraProxyPodNames(2), port: i.peersPort ?? COLLABORA_PROXY_PEERS_PORT }),
    { header: "frontend collabora", lines: [`bind :${COLLABORA_PROXY_PORT}`, `monitor-uri ${PROXY_HEALTH_PATH}`, "default_backend collabora"] },
    {
      header: "backend collabora",
      lines: [
        `balance url_param ${DOCUMENT_KEY_PARAM} check_post`,
        "hash-type consistent",
        // Where each open document went: kept while it is used (a working day), so that a pod coming back does not split it.
        `stick-table type string len 512 size 20k expire 8h peers ${COLLABORA_PROXY_PEERS}`,
        `stick on url_param(${DOCUMENT_KEY_PARAM})`,
        "option httpchk",
        "http-check send meth GET uri /hosting/discovery ver HTTP/1.1 hdr Host localhost",
        "http-check expect status 200",
        "default-server check inter 5s fall 3 rise 2 resolvers cluster resolve-prefer ipv4 init-addr none",
        `server-template collabora ${i.replicas} ${fqdn}:${COLLABORA_PORT}`,
      ],
    },
  ];
  return renderHaproxyConfig(sections);
}

export interface CollaboraProxyArgs {
  namespace: string;
  /** Labels of the bundle's Collabora objects (the proxy's pods get their own `app.kubernetes.io/name`). */
  labels: Record<string, string>;
  /** Selector of Collabora's pods (the headless Service's). */
  collaboraSelector: Record<string, string>;
  /** Collabora replicas behind the proxy. */
  collaboraReplicas: number;
  /** Proxy replicas (spread over nodes, with a budget). */
  replicas: number;
  /** Accounts of the bundle (sizing). */
  users: number;
  provider: k8s.Provider;
  /** The bundle's objects (components/kit/bundleObjects.ts). Default: resources of their own. */
  objects?: BundleObjects;
}

/** Selector of the proxy's pods in a bundle. */
export const proxySelector = (instance: string) => ({ "app.kubernetes.io/instance": instance, "app.kubernetes.io/name": COLLABORA_PROXY });

export class CollaboraProxy extends pulumi.ComponentResource {
  /** The Service the public route points at (port 80). */
  public readonly serviceName = COLLABORA_PROXY;

  constructor(name: string, a: CollaboraProxyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:CollaboraProxy", name, {}, opts);
    const child = { parent: this, provider: a.provider };
    const selector = proxySelector(a.labels["app.kubernetes.io/instance"]);
    const labels = { ...a.labels, ...selector, "app.kubernetes.io/component": "proxy" };
    const podNames = collaboraProxyPodNames(a.replicas);
    const cfg = collaboraHaproxyConfig({ namespace: a.namespace, replicas: a.collaboraReplicas, podNames });
    // Bundled, Helm creates the Services before the StatefulSet (it applies a release's objects kind by kind, Services first).
    const objects = a.objects ?? ownResources();
    objects.add(
      k8s.core.v1.Service,
      `${name}-pods`,
      {
        metadata: { name: COLLABORA_PODS_SERVICE, namespace: a.namespace, labels: a.labels },
        // Headless: DNS answers the ready pods' addresses, which HAProxy's resolvers follow.
        spec: { clusterIP: "None", selector: a.collaboraSelector, ports: [{ name: "http", port: COLLABORA_PORT, targetPort: "http", protocol: "TCP" }] },
      },
      child,
    );
    const config = objects.add(k8s.core.v1.ConfigMap, `${name}-config`, { metadata: { name: COLLABORA_PROXY, namespace: a.namespace, labels }, data: { [HAPROXY_CONFIG_KEY]: cfg } }, child);
    // One Service per pod: the peers' addresses (their ClusterIPs reach the pods as `<POD>_SERVICE_HOST`).
    const peers = podNames.map(
      (pod) =>
        objects.add(
          k8s.core.v1.Service,
          `${name}-peer-${pod.slice(COLLABORA_PROXY.length + 1)}`,
          peerService({ pod, namespace: a.namespace, labels, port: COLLABORA_PROXY_PEERS_PORT }),
          child,
        ),
    );
    // A StatefulSet (was a Deployment, `${name}-deployment`: replaced once, the proxy keeps no state
    // of its own): stable pod names are the peers' names.
    objects.add(
      k8s.apps.v1.StatefulSet,
      `${name}-statefulset`,
      {
        metadata: { name: COLLABORA_PROXY, namespace: a.namespace, labels },
        spec: {
          replicas: a.replicas,
          serviceName: COLLABORA_PROXY,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          template: {
            // A new configuration rolls the pods (HAProxy reads it at start).
            metadata: { labels, annotations: { [ANNOTATIONS.configDigest]: createHash("sha256").update(cfg).digest("hex").slice(0, 16) } },
            spec: {
              automountServiceAccountToken: false,
              // The peers' addresses come from service links.
              enableServiceLinks: true,
              nodeSelector: APPS_NODE_SELECTOR,
              topologySpreadConstraints: spreadOverNodes(selector),
              containers: [
                {
                  name: "haproxy",
                  image: `${IMAGES.haproxy.repository}:${IMAGES.haproxy.tag}`,
                  args: ["-f", `${HAPROXY_CONFIG_DIR}/${HAPROXY_CONFIG_KEY}`],
                  env: [
                    { name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                  ],
                  ports: [
                    { name: "http", containerPort: COLLABORA_PROXY_PORT, protocol: "TCP" },
                    { name: "peers", containerPort: COLLABORA_PROXY_PEERS_PORT, protocol: "TCP" },
                  ],
                  resources: resourcesFor("collabora-haproxy", a.users),
                  // Ready once it could learn the stick table from its peer.
                  readinessProbe: { httpGet: { path: PROXY_HEALTH_PATH, port: "http" }, initialDelaySeconds: HAPROXY_PEER_SYNC_SECONDS, periodSeconds: 5 },
                  livenessProbe: { httpGet: { path: PROXY_HEALTH_PATH, port: "http" }, initialDelaySeconds: 10, periodSeconds: 20 },
                  // The image's user `haproxy` (uid/gid 99), numeric so that the kubelet can check runAsNonRoot.
                  securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 99, runAsGroup: 99, capabilities: { drop: ["ALL"] } },
                  volumeMounts: [{ name: "config", mountPath: HAPROXY_CONFIG_DIR, readOnly: true }],
                },
              ],
              volumes: [{ name: "config", configMap: { name: COLLABORA_PROXY } }],
            },
          },
        },
      },
      // After the peers' Services: their ClusterIPs are in the pods' environment only if they exist first.
      { ...child, dependsOn: [config, ...peers] },
    );
    objects.add(
      k8s.core.v1.Service,
      `${name}-service`,
      { metadata: { name: COLLABORA_PROXY, namespace: a.namespace, labels }, spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] } },
      child,
    );
    podDisruptionBudget(`${name}-pdb`, { name: COLLABORA_PROXY, namespace: a.namespace, replicas: a.replicas, matchLabels: selector, labels }, child, objects);
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
