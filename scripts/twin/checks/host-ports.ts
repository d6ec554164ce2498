/**
 * Host ports: what Linux does when two processes of the same node bind the same port. A pod on
 * the host network binds in the node's own network namespace, so two such pods (or one and a
 * node process: the kubelet) that can land on the same node and bind the same port, protocol and
 * address collide: the later one's bind fails (EADDRINUSE) and it crash-loops. The scheduler only
 * sees the ports a pod *declares* (its NodePorts filter; with hostNetwork every containerPort is
 * a host port): it keeps two pods declaring the same host port off one node (the later stays
 * Pending), and knows nothing of what a pod binds without declaring it.
 *
 * What a pod binds, read from its (rendered) spec:
 * - every declared container port (hostNetwork: the containerPort; otherwise its hostPort, which
 *   the CNI's port mapping holds on the node);
 * - for Traefik, each entry point's `--entryPoints.<name>.address=[host]:port[/proto]` argument,
 *   shared with SO_REUSEPORT when `--entryPoints.<name>.reusePort=true` is set;
 * - listen flags of the usual shape (`--web.listen-address=`, `--metrics-bind-address=`,
 *   `--health-probe-bind-address=`, `--listen-address=`): node-exporter and controller-runtime
 *   managers;
 * - what k0s's own host-network pods and the kubelet bind (HOST_BINDS below), since they are
 *   not in the plan.
 *
 * The sharing model (SO_REUSEPORT, socket(7)): two binds of one port may coexist only if both
 * sockets set SO_REUSEPORT and the processes have the same effective UID (for TCP the kernel
 * refuses a second listener of another UID, whatever the options) — so both must state their
 * UID (`runAsUser` of the container or the pod; an image's default user is unknown here and
 * counts as different). Two pods that both declare the port never meet on a node (the
 * scheduler keeps them apart): not a collision here; `unique-host-port` (uniqueness.ts) counts
 * whether enough nodes remain for all of them. A specific address and the wildcard collide; two different
 * specific addresses do not.
 */
import { unfitReason } from "../kube";
import type { TwinCheck, TwinEstate, TwinFinding, Workload } from "../model";

export interface HostBind {
  port: number;
  protocol: string;
  /** Bound address; `0.0.0.0` for all. */
  ip: string;
  /** Set through SO_REUSEPORT. */
  reusePort: boolean;
  /** Effective UID of the process, when the spec states it. */
  uid?: number;
  /** Declared as a (host) port of the container: the scheduler accounts for it. */
  declared: boolean;
  /** Where the bind comes from: `container/name` or `kubelet`. */
  what: string;
}

/**
 * What the node binds itself on every kubelet node, and what k0s's own host-network pods bind
 * (twin normalise.ts models those pods without ports). k0s: kube-router's metrics on 8080
 * (`spec.network.kuberouter.metricsPort` default), its health on 20244 (kube-router
 * `--health-port` default); kube-proxy's metrics 10249 and health 10256 (its defaults); the
 * kubelet's API 10250 and health 10248 (loopback).
 */
export const HOST_BINDS: Record<string, Array<Omit<HostBind, "what" | "declared" | "reusePort">>> = {
  kubelet: [{ port: 10250, protocol: "TCP", ip: "0.0.0.0" }, { port: 10248, protocol: "TCP", ip: "127.0.0.1" }],
  "DaemonSet/kube-system/kube-router": [{ port: 8080, protocol: "TCP", ip: "0.0.0.0" }, { port: 20244, protocol: "TCP", ip: "0.0.0.0" }],
  "DaemonSet/kube-system/kube-proxy": [{ port: 10249, protocol: "TCP", ip: "0.0.0.0" }, { port: 10256, protocol: "TCP", ip: "0.0.0.0" }],
};

const LISTEN_FLAG = /^--?(?:web\.listen-address|metrics-bind-address|health-probe-bind-address|listen-address)=(.*)$/;

/** `[host]:port` or `host:port` or `:port`, with an optional `/tcp|/udp`. */
function parseAddress(a: string): { ip: string; port: number; protocol: string } | null {
  const m = /^(?:\[([^\]]*)\]|([^:/]*)):(\d+)(?:\/(tcp|udp))?$/i.exec(a.trim().replace(/^"|"$/g, ""));
  if (!m) return null;
  const host = m[1] ?? m[2] ?? "";
  return { ip: host === "" || host === "::" || host === "0.0.0.0" ? "0.0.0.0" : host, port: Number(m[3]), protocol: (m[4] ?? "tcp").toUpperCase() };
}

/** Every host bind of a workload's pod (pure). */
export function hostBinds(w: Pick<Workload, "id" | "spec">): HostBind[] {
  const spec = w.spec ?? {};
  const hostNetwork = spec.hostNetwork === true;
  const out: HostBind[] = [];
  for (const c of [...((spec.initContainers ?? []) as any[]).filter((i) => i.restartPolicy === "Always"), ...((spec.containers ?? []) as any[])]) {
    const uid: number | undefined = c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
    const what = `${w.id}/${c.name}`;
    const add = (b: Omit<HostBind, "what" | "uid">) => {
      const same = out.find((x) => x.what === what && x.port === b.port && x.protocol === b.protocol && x.ip === b.ip);
      if (same) {
        same.declared ||= b.declared;
        same.reusePort ||= b.reusePort;
      } else out.push({ ...b, uid, what });
    };
    for (const p of (c.ports ?? []) as any[]) {
      const port = p.hostPort ?? (hostNetwork ? p.containerPort : undefined);
      if (port) add({ port: Number(port), protocol: String(p.protocol ?? "TCP").toUpperCase(), ip: p.hostIP || "0.0.0.0", reusePort: false, declared: true });
    }
    if (!hostNetwork) continue;
    const args: string[] = [...(c.command ?? []), ...(c.args ?? [])].map(String);
    const reuse = new Set(args.map((a) => /^--entryPoints\.([^.=]+)\.reusePort(?:=true)?$/i.exec(a)?.[1]).filter((x): x is string => !!x));
    for (const a of args) {
      const ep = /^--entryPoints\.([^.=]+)\.address=(.*)$/i.exec(a);
      const flag = LISTEN_FLAG.exec(a);
      const addr = ep ? parseAddress(ep[2]) : flag ? parseAddress(flag[1]) : null;
      if (addr) add({ ...addr, reusePort: !!ep && reuse.has(ep[1]), declared: false });
    }
  }
  for (const b of HOST_BINDS[w.id] ?? []) out.push({ ...b, reusePort: false, declared: false, what: w.id });
  return out;
}

const overlaps = (a: HostBind, b: HostBind) => a.port === b.port && a.protocol === b.protocol && (a.ip === "0.0.0.0" || b.ip === "0.0.0.0" || a.ip === b.ip);

/** Why two binds of one port on one node cannot coexist, or "" when SO_REUSEPORT lets them share (pure). */
export function collision(a: HostBind, b: HostBind): string {
  // Both declare it: the scheduler never places the two pods on one node (NodePorts), so they never
  // bind side by side; whether enough nodes remain for all of them is unique-host-port's count.
  if (a.declared && b.declared) return "";
  if (!a.reusePort || !b.reusePort) return `${a.reusePort ? b.what : a.what} binds it without SO_REUSEPORT: the later bind fails (EADDRINUSE) and its pod crash-loops`;
  if (a.uid === undefined || b.uid === undefined || a.uid !== b.uid)
    return `SO_REUSEPORT shares a TCP/UDP port only between sockets of the same effective UID (${a.uid ?? "image default"} vs ${b.uid ?? "image default"}): the later bind fails (EADDRINUSE)`;
  // One of them declares it, the other not: the scheduler places both, and the kernel lets them share.
  return "";
}

const hostPortCollision: TwinCheck = {
  name: "host-port-collision",
  family: "host-ports",
  models: "Linux's bind rules on a node: two host-network pods (or hostPorts, or the kubelet) that can share a node — one of them binding the port without declaring it, so the scheduler does not keep them apart — and bind one port/protocol/address collide unless both use SO_REUSEPORT with the same effective UID",
  run(e: TwinEstate) {
    const candidates = e.workloads
      .filter((w) => w.replicas !== 0)
      .map((w) => ({ w, binds: hostBinds(w), nodes: new Set(e.nodes.filter((n) => !unfitReason(w.spec, n, w.volumeTopology)).map((n) => n.name)) }))
      .filter((c) => c.binds.length && c.nodes.size);
    const kubelet = { w: { id: "kubelet" } as Workload, binds: (HOST_BINDS.kubelet ?? []).map((b) => ({ ...b, reusePort: false, declared: false, what: "kubelet" })), nodes: new Set(e.nodes.filter((n) => n.kubelet).map((n) => n.name)) };
    const all = [kubelet, ...candidates];
    const out: TwinFinding[] = [];
    for (let i = 0; i < all.length; i++)
      for (let j = i; j < all.length; j++) {
        const a = all[i];
        const b = all[j];
        // One workload with itself: only several replicas of a non-DaemonSet can meet on a node.
        if (i === j && (a.w.replicas < 0 || a.w.replicas <= 1 || a.w.id === "kubelet")) continue;
        const shared = [...a.nodes].filter((n) => b.nodes.has(n));
        if (!shared.length) continue;
        for (const x of a.binds)
          for (const y of b.binds) {
            if (i === j && x !== y) continue;
            if (!overlaps(x, y)) continue;
            // Two replicas declaring the port are spread by the scheduler (unique-host-port counts them).
            const why = i === j ? (x.declared ? "" : `${x.what} binds it undeclared: two of its ${a.w.replicas} replicas may be placed on one node, the second crash-loops`) : collision(x, y);
            if (!why) continue;
            out.push({
              check: this.name,
              level: "error",
              objects: [...new Set([x.what, y.what])],
              message: `host port ${x.port}/${x.protocol}${x.ip !== "0.0.0.0" || y.ip !== "0.0.0.0" ? ` (${x.ip} and ${y.ip})` : ""} on ${shared.length} node(s) (${shared.slice(0, 3).join(", ")}${shared.length > 3 ? ", …" : ""}): ${why}`,
            });
          }
      }
    return out;
  },
};

export const HOST_PORT_CHECKS: TwinCheck[] = [hostPortCollision];
