/**
 * HAProxy configuration files as data: a config is a list of sections (`global`, `defaults`,
 * `resolvers`, `peers`, `frontend`, `backend`), each a keyword line and its body lines, rendered
 * to the text HAProxy reads (`haproxy.cfg`). Pure: tested with Debian's `haproxy -c`
 * (test/jitsi-router.test.ts, test/collabora-proxy.test.ts) and read back by the estate twin (`haproxyServerTargets`: which Services
 * a config sends traffic to).
 *
 * Conventions of every config the program writes:
 * - listeners on unprivileged ports (the official image runs as uid 99);
 * - backend servers are in-cluster Service names, resolved at run time through the pod's
 *   resolv.conf (`resolvers cluster`, `init-addr last,libc,none`), so HAProxy starts even while a
 *   Service is missing and follows a re-created one;
 * - environment variables (`"${POD_IP}"`) and conditional blocks (`.if streq(...)`, HAProxy ≥ 2.4)
 *   let one file serve every replica of a StatefulSet.
 */

/** The key of the config in its ConfigMap, and where the official image reads it. */
export const HAPROXY_CONFIG_KEY = "haproxy.cfg";
export const HAPROXY_CONFIG_DIR = "/usr/local/etc/haproxy";

/**
 * Seconds a new replica of a StatefulSet with `peers` waits before it is Ready (gets traffic):
 * long enough to connect to its peer and learn the stick table (milliseconds once connected;
 * HAProxy retries a peer within 5 s). A key asked of a replica that has not learned it would be
 * hashed afresh, and the new entry taught back to the peer.
 */
export const HAPROXY_PEER_SYNC_SECONDS = 6;

/** One section: its header (`backend shards`) and its body lines (indented on output; lines starting with `.` are conditional directives, kept at column 0). */
export interface HaproxySection {
  header: string;
  lines: string[];
}

/** The text of a config: sections separated by a blank line, body lines indented by two spaces. */
export function renderHaproxyConfig(sections: HaproxySection[]): string {
  return sections.map((s) => [s.header, ...s.lines.map((l) => (l.startsWith(".") ? l : `  ${l}`))].join("\n")).join("\n\n") + "\n";
}

/** `resolvers cluster`: the pod's own DNS (CoreDNS), re-resolving Service names every 10 s. */
export function clusterResolvers(name = "cluster"): HaproxySection {
  return { header: `resolvers ${name}`, lines: ["parse-resolv-conf", "hold valid 10s", "hold nx 10s"] };
}

/**
 * A `peers` section for the replicas of a StatefulSet (stick tables shared between them): the
 * local replica (the one whose `$HOSTNAME`, its pod name, is that peer) listens on its pod address
 * `$POD_IP`; the others are reached through their per-pod Service, whose ClusterIP Kubernetes
 * passes to every pod started after it as `<SERVICE>_SERVICE_HOST` (service links). No DNS name:
 * a peer address is resolved once at start-up, and a peer whose pod is away must not keep the
 * others from starting.
 */
export function statefulPeers(a: { name: string; podNames: string[]; port: number }): HaproxySection {
  const lines: string[] = [];
  for (const pod of a.podNames) {
    lines.push(`.if streq("\${HOSTNAME}",${pod})`, `peer ${pod} "\${POD_IP}:${a.port}"`, ".else", `peer ${pod} "\${${serviceHostEnv(pod)}}:${a.port}"`, ".endif");
  }
  return { header: `peers ${a.name}`, lines };
}

/**
 * The Service that gives one pod of a StatefulSet of `statefulPeers` a stable address (its
 * ClusterIP reaches the other pods as `<POD>_SERVICE_HOST`): the `peers` port, selected by the
 * pod-name label the StatefulSet controller sets. A Service's inputs (ServiceArgs).
 */
export function peerService(a: { pod: string; namespace: string; labels: Record<string, string>; port: number }) {
  return {
    metadata: { name: a.pod, namespace: a.namespace, labels: a.labels },
    spec: { type: "ClusterIP", selector: { "statefulset.kubernetes.io/pod-name": a.pod }, ports: [{ name: "peers", port: a.port, targetPort: "peers", protocol: "TCP" }] },
  };
}

/** The environment variable Kubernetes sets for a Service's ClusterIP (`my-svc` → `MY_SVC_SERVICE_HOST`). */
export const serviceHostEnv = (service: string): string => `${service.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_SERVICE_HOST`;

/** In-cluster DNS name of a Service. */
export const serviceHost = (service: string, namespace: string): string => `${service}.${namespace}.svc.cluster.local`;

/** A backend server line (`server <name> <host>:<port> id <id> …`). */
export function serverLine(s: { name: string; host: string; port: number; id: number; options?: string[] }): string {
  return [`server ${s.name} ${s.host}:${s.port}`, `id ${s.id}`, ...(s.options ?? [])].join(" ");
}

/** Where a config's backend servers point: every `server` line of a `backend`/`listen` section naming an in-cluster Service. */
export interface HaproxyTarget {
  backend: string;
  server: string;
  service: string;
  namespace: string;
  port: number;
}

/** The in-cluster Services a config's backends send traffic to (`<svc>.<ns>.svc[.cluster.local]:<port>`). */
export function haproxyServerTargets(cfg: string): HaproxyTarget[] {
  const out: HaproxyTarget[] = [];
  let section = "";
  for (const raw of cfg.split("\n")) {
    if (!raw.trim() || raw.trim().startsWith("#")) continue;
    if (!/^\s/.test(raw) && !raw.startsWith(".")) {
      section = raw.trim();
      continue;
    }
    const m = /^\s*server\s+(\S+)\s+([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)/.exec(raw);
    const [kind, name] = section.split(/\s+/);
    if (m && (kind === "backend" || kind === "listen")) out.push({ backend: name, server: m[1], service: m[2], namespace: m[3], port: Number(m[4]) });
  }
  return out;
}
