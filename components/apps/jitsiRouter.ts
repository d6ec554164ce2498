/**
 * The shard router of the shared Jitsi: HAProxy (official image, `IMAGES.haproxy`) between the
 * edge and the shards' web fronts, sending every request of one conference to one shard —
 * Jitsi's shard model: "every http request has a parameter room=roomName which is the rule for
 * load balancing so every http requests for the same room will land on the same shard"
 * (community.jitsi.org/t/21450, the Jitsi team; the same setup as hpi-schul-cloud/jitsi-deployment
 * and jitsi-contrib/jitsi-helm's architecture notes).
 *
 * Routing (`jitsiRouterConfig`):
 * - the room is the `room` query parameter of the XMPP connection (`/xmpp-websocket?room=<room>`,
 *   `/http-bind?room=<room>`: jitsi-meet adds it), else the first path segment of a conference
 *   page (`/<room>`), lower-cased (Jitsi's room names are);
 * - requests with a room: `balance hash` of the room with `hash-type consistent` (a shard that goes
 *   down moves only its own rooms, each to the next shard on the ring), and a stick table on the
 *   room (`stick on`, 8 h after the last request): a room that moved while its shard was down stays
 *   where it now runs when the shard returns, so late joiners reach the running conference. The
 *   table is shared between the HAProxy replicas (`peers`), so that both send a room to one shard
 *   and a restarted replica learns the table from the other;
 * - everything else (static files, `config.js`, colibri websockets `/colibri-ws/<jvb-id>/…`):
 *   round robin over the healthy shards. The colibri id is the videobridge's pod address
 *   (`JVB_WS_SERVER_ID` = `status.podIP` in jitsi-meet 2.22.2) and every shard's web proxies
 *   `/colibri-ws/<address>/` to `<address>:9090` (`ENABLE_COLIBRI_WEBSOCKET_UNSAFE_REGEX`,
 *   docker-jitsi-meet `meet.conf`), so any shard reaches the bridge of a conference;
 * - a shard is healthy when `GET /http-bind` through its web Service answers 200: its nginx and
 *   its Prosody's BOSH endpoint both answer (every 5 s, down after 2 failures).
 *
 * Objects: ConfigMap, StatefulSet (stable pod names, the peers' names) of `replicas` spread over
 * nodes with a budget, a Service per pod (the peers' addresses, `<POD>_SERVICE_HOST`), the Service
 * the edge routes to, a PodMonitor (HAProxy's Prometheus exporter on the health port).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ownResources, type BundleObjects } from "../kit/bundleObjects";
import { IMAGES } from "../versions";
import { ANNOTATIONS } from "../conventions";
import { HAPROXY_CONFIG_DIR, HAPROXY_CONFIG_KEY, HAPROXY_PEER_SYNC_SECONDS, clusterResolvers, peerService, renderHaproxyConfig, serverLine, serviceHost, statefulPeers, type HaproxySection } from "../kit/haproxy";
import { SHARED_REPLICAS, podDisruptionBudget, spreadOverNodes } from "../ops/availability";
import { APPS_NODE_SELECTOR } from "./common";
import { resourcesFor } from "./sizing";

/** Name of the router's objects (StatefulSet, Services, ConfigMap, budget). */
export const JITSI_ROUTER = "jitsi-haproxy";
/** Port of the Service the edge routes to. */
export const JITSI_ROUTER_SERVICE_PORT = 80;
/** Container ports: traffic, health (`/healthz`), stick-table peers. */
export const JITSI_ROUTER_PORTS = { http: 8080, health: 8404, peers: 10000 } as const;
/** Seconds a new replica waits before it is Ready: HAPROXY_PEER_SYNC_SECONDS (components/kit/haproxy.ts). */
export const JITSI_ROUTER_READY_AFTER_SECONDS = HAPROXY_PEER_SYNC_SECONDS;
/** Name of the backend whose servers are picked by room. */
export const ROOM_BACKEND = "rooms";
/** How long a room stays on its shard after its last request. */
export const ROOM_STICKINESS = "8h";

/** A shard as the router sees it: its web front's address. */
export interface RouterShard {
  /** Server name in the config (`shard-1`…), stable: its position in the hash ring is derived from `id`. */
  name: string;
  /** Stable server id (1, 2…): the consistent-hash ring and the stick table key servers by id. */
  id: number;
  host: string;
  port: number;
}

export interface RouterConfigArgs {
  shards: RouterShard[];
  /** Pod names of the replicas (the peers). */
  podNames: string[];
  /** Ports. Default JITSI_ROUTER_PORTS. */
  ports?: { http: number; health: number; peers: number };
  /** Health-check interval. Default `5s`. */
  checkInterval?: string;
  /** Resolve servers through the pod's DNS at run time (`resolvers cluster`). Default true. */
  clusterDns?: boolean;
}

/** The router's haproxy.cfg (pure). */
export function jitsiRouterConfig(a: RouterConfigArgs): string {
  if (a.shards.length < 1) throw new Error("jitsi router: at least one shard");
  if (new Set(a.shards.map((s) => s.id)).size !== a.shards.length) throw new Error("jitsi router: shard ids must be unique");
  const ports = a.ports ?? JITSI_ROUTER_PORTS;
  const dns = a.clusterDns !== false;
  const resolve = dns ? ["resolvers cluster", "init-addr last,libc,none", "resolve-prefer ipv4"] : [];
  const sections: HaproxySection[] = [
    // 8,000 connections per replica (a participant holds two websockets: XMPP and colibri).
    { header: "global", lines: ["log stdout format raw local0 info", "maxconn 8000", 'localpeer "${HOSTNAME}"'] },
    {
      header: "defaults",
      lines: [
        "mode http",
        "log global",
        "option httplog",
        "option dontlognull",
        // A request to a shard that went down is sent again to another one (its room with it).
        "option redispatch",
        "retries 2",
        "timeout connect 5s",
        // BOSH long-polls: jitsi-meet waits up to 60 s, Prosody allows 120 s (bosh_max_wait).
        "timeout client 130s",
        "timeout server 130s",
        "timeout http-request 10s",
        "timeout http-keep-alive 10s",
        // XMPP and colibri websockets: jitsi-meet pings far more often than this.
        "timeout tunnel 1h",
      ],
    },
    ...(dns ? [clusterResolvers()] : []),
    statefulPeers({ name: "jitsi", podNames: a.podNames, port: ports.peers }),
    {
      header: "frontend health",
      // Ready as soon as HAProxy runs, shards or not (a first install creates the router before
      // the shards; with every shard down the router answers 503 and the edge shows its page).
      // `/metrics`: HAProxy's Prometheus exporter (built into Debian's and the official image), per shard server.
      lines: [`bind :${ports.health}`, "monitor-uri /healthz", "http-request use-service prometheus-exporter if { path /metrics }"],
    },
    {
      header: "frontend jitsi",
      lines: [
        `bind :${ports.http}`,
        "option forwardfor if-none",
        "http-request set-var(txn.room) url_param(room),lower if { url_param(room) -m found }",
        "http-request set-var(txn.room) path,field(2,/),lower if !{ var(txn.room) -m found } { path_reg ^/[^/.]+$ }",
        `use_backend ${ROOM_BACKEND} if { var(txn.room) -m found }`,
        "default_backend any",
      ],
    },
    {
      header: `backend ${ROOM_BACKEND}`,
      lines: [
        "balance hash var(txn.room)",
        "hash-type consistent",
        `stick-table type string len 128 size 50k expire ${ROOM_STICKINESS} peers jitsi`,
        "stick on var(txn.room)",
        "option httpchk",
        "http-check send meth GET uri /http-bind",
        "http-check expect status 200",
        `default-server check inter ${a.checkInterval ?? "5s"} fall 2 rise 2 ${resolve.join(" ")}`.trimEnd(),
        ...a.shards.map((s) => serverLine({ name: s.name, host: s.host, port: s.port, id: s.id })),
      ],
    },
    {
      header: "backend any",
      lines: [
        "balance roundrobin",
        ...(dns ? [`default-server ${resolve.join(" ")}`] : []),
        ...a.shards.map((s) => serverLine({ name: s.name, host: s.host, port: s.port, id: s.id, options: [`track ${ROOM_BACKEND}/${s.name}`] })),
      ],
    },
  ];
  return renderHaproxyConfig(sections);
}

export interface JitsiRouterArgs {
  namespace: string;
  /** The shards' web Services (same namespace), in shard order. */
  shards: Array<{ service: string; port: number }>;
  labels: Record<string, string>;
  provider: k8s.Provider;
  /** Replicas. Default SHARED_REPLICAS (2). */
  replicas?: number;
  /** A bundle's objects (components/kit/bundleObjects.ts). Defaults to resources of their own. */
  objects?: BundleObjects;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Pod labels of the router. */
export const JITSI_ROUTER_SELECTOR = { "app.kubernetes.io/name": JITSI_ROUTER, "app.kubernetes.io/instance": JITSI_ROUTER };

export class JitsiRouter extends pulumi.ComponentResource {
  /** The Service the edge routes to (port JITSI_ROUTER_SERVICE_PORT). */
  public readonly service: pulumi.CustomResource;
  public readonly serviceName = JITSI_ROUTER;

  constructor(name: string, args: JitsiRouterArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:JitsiRouter", name, {}, opts);
    const replicas = args.replicas ?? SHARED_REPLICAS;
    const child = { parent: this, provider: args.provider };
    const podNames = Array.from({ length: replicas }, (_, i) => `${JITSI_ROUTER}-${i}`);
    const cfg = jitsiRouterConfig({
      shards: args.shards.map((s, i) => ({ name: `shard-${i + 1}`, id: i + 1, host: serviceHost(s.service, args.namespace), port: s.port })),
      podNames,
    });
    const labels = { ...args.labels, ...JITSI_ROUTER_SELECTOR };
    // Bundled, Helm creates the Services before the StatefulSet (a release's objects are applied kind by kind, Services first).
    const objects = args.objects ?? ownResources();
    const config = objects.add(k8s.core.v1.ConfigMap, `${name}-config`, { metadata: { name: JITSI_ROUTER, namespace: args.namespace, labels }, data: { [HAPROXY_CONFIG_KEY]: cfg } }, { ...child, dependsOn: args.dependsOn });
    // One Service per pod: the peers' addresses (their ClusterIPs reach the pods as `<POD>_SERVICE_HOST`).
    const peers = podNames.map(
      (pod) =>
        objects.add(
          k8s.core.v1.Service,
          `${name}-peer-${pod.slice(JITSI_ROUTER.length + 1)}`,
          peerService({ pod, namespace: args.namespace, labels, port: JITSI_ROUTER_PORTS.peers }),
          { ...child, dependsOn: args.dependsOn },
        ),
    );
    this.service = objects.add(
      k8s.core.v1.Service,
      `${name}-service`,
      {
        metadata: { name: JITSI_ROUTER, namespace: args.namespace, labels },
        spec: { type: "ClusterIP", selector: JITSI_ROUTER_SELECTOR, ports: [{ name: "http", port: JITSI_ROUTER_SERVICE_PORT, targetPort: "http", protocol: "TCP" }] },
      },
      { ...child, dependsOn: args.dependsOn },
    );
    podDisruptionBudget(`${name}-pdb`, { name: JITSI_ROUTER, namespace: args.namespace, replicas, matchLabels: JITSI_ROUTER_SELECTOR, labels }, { ...child, dependsOn: args.dependsOn }, objects);
    objects.add(
      k8s.apps.v1.StatefulSet,
      `${name}-statefulset`,
      {
        metadata: { name: JITSI_ROUTER, namespace: args.namespace, labels },
        spec: {
          replicas,
          serviceName: JITSI_ROUTER,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: JITSI_ROUTER_SELECTOR },
          template: {
            metadata: { labels, annotations: { [ANNOTATIONS.configSha256]: createHash("sha256").update(cfg).digest("hex") } },
            spec: {
              automountServiceAccountToken: false,
              // The peers' addresses come from service links.
              enableServiceLinks: true,
              nodeSelector: APPS_NODE_SELECTOR,
              topologySpreadConstraints: spreadOverNodes(JITSI_ROUTER_SELECTOR),
              securityContext: { runAsNonRoot: true, runAsUser: 99, runAsGroup: 99, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "haproxy",
                  image: `${IMAGES.haproxy.repository}:${IMAGES.haproxy.tag}`,
                  env: [
                    { name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                  ],
                  ports: [
                    { name: "http", containerPort: JITSI_ROUTER_PORTS.http, protocol: "TCP" },
                    { name: "health", containerPort: JITSI_ROUTER_PORTS.health, protocol: "TCP" },
                    { name: "peers", containerPort: JITSI_ROUTER_PORTS.peers, protocol: "TCP" },
                  ],
                  // Ready and alive while HAProxy answers on its health port.
                  readinessProbe: { httpGet: { path: "/healthz", port: "health" }, initialDelaySeconds: JITSI_ROUTER_READY_AFTER_SECONDS, periodSeconds: 5, failureThreshold: 2 },
                  livenessProbe: { tcpSocket: { port: "health" }, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 },
                  resources: resourcesFor("jitsi-haproxy", 0),
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                  volumeMounts: [{ name: "config", mountPath: HAPROXY_CONFIG_DIR, readOnly: true }],
                },
              ],
              volumes: [{ name: "config", configMap: { name: JITSI_ROUTER } }],
            },
          },
        },
      },
      // After the peers' Services: their ClusterIPs are in the pods' environment only if they exist first.
      { ...child, dependsOn: [config, ...peers] },
    );
    // Prometheus scrapes each replica: requests, errors and each shard's state (`haproxy_server_status`).
    objects.add(
      k8s.apiextensions.CustomResource,
      `${name}-podmonitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { name: JITSI_ROUTER, namespace: args.namespace, labels },
        spec: { selector: { matchLabels: JITSI_ROUTER_SELECTOR }, podMetricsEndpoints: [{ port: "health", path: "/metrics" }] },
      },
      { ...child, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ service: JITSI_ROUTER });
  }
}
