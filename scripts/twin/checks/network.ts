/**
 * Network paths: the connections each workload needs (components/connections.ts) evaluated
 * through the NetworkPolicies (netpol.ts, post-DNAT like kube-router) and the Hetzner firewalls
 * (public interfaces only: the private network is not filtered; a server with a firewall drops
 * every inbound packet no rule allows). Required connections must be allowed; tenant → other
 * tenant and Internet → administration ports must be denied.
 */
import { LABELS, PLATFORM } from "../../../components/conventions";
import { coopHosts } from "../../../components/config/hosts";
import { PLATFORM_NAMESPACES } from "../../../components/platform/common";
import { APP_CONNECTIONS, FORBIDDEN, PLATFORM_CONNECTIONS, type ConnectionTarget } from "../../../components/connections";
import { inCidr, intToIpv4, ipv4ToInt, matchesSelector, selectsPodsOf, unfitReason } from "../kube";
import type { TwinCheck, TwinEstate, TwinFinding, TwinNode, Workload } from "../model";
import { ref } from "../model";
import { NetworkModel, type Endpoint, type NetPod, type Verdict } from "../netpol";
import { routeBackends } from "../routes";
import { haproxyConfigs } from "./references";

/** A public address standing for "somewhere on the Internet" (TEST-NET-1, outside every allow-list of the estate). */
export const INTERNET_HOST = "192.0.2.77";
/** The Helsinki backup server as pods see it: a public address (its real one is allocated by Hetzner). */
export const HELSINKI_HOST = "192.0.2.200";

interface Net {
  model: NetworkModel;
  pods: Map<Workload, NetPod>;
  podOf(w: Workload): NetPod;
  /** A pod of the namespace with these labels: an existing template, or one standing for a chart's pods. */
  podLike(ns: string, labels: Record<string, string>): NetPod;
  ingressController: NetPod;
  ingressNodes: TwinNode[];
  apiAddresses: string[];
}

/** The workloads of a namespace, in the estate's order (indexed once per estate, not scanned per lookup). */
const workloadsByNs = new WeakMap<TwinEstate, Map<string, Workload[]>>();
function workloadsIn(e: TwinEstate, ns: string): Workload[] {
  let m = workloadsByNs.get(e);
  if (!m) {
    m = new Map();
    for (const w of e.workloads) {
      const list = m.get(w.namespace);
      if (list) list.push(w);
      else m.set(w.namespace, [w]);
    }
    workloadsByNs.set(e, m);
  }
  return m.get(ns) ?? [];
}

const netCache = new WeakMap<TwinEstate, Net>();
function net(e: TwinEstate): Net {
  const known = netCache.get(e);
  if (known) return known;
  const podCIDR = e.input.estate.cluster.network.podCIDR;
  let next = (ipv4ToInt(podCIDR.split("/")[0]) ?? 0) + 10;
  const namespaces = (e.byKind.get("Namespace") ?? []).map((n) => ({ name: n.name, labels: (n.object.metadata?.labels ?? {}) as Record<string, string> }));
  const policies = (e.byKind.get("NetworkPolicy") ?? []).map((p) => ({ name: p.name, namespace: p.namespace!, spec: p.object.spec ?? {} }));
  const model = new NetworkModel(namespaces, policies);
  const pods = new Map<Workload, NetPod>();
  const nodeOf = (w: Workload) => e.nodes.find((n) => !unfitReason(w.spec, n, w.volumeTopology));
  const podOf = (w: Workload): NetPod => {
    let p = pods.get(w);
    if (!p) {
      const node = nodeOf(w);
      p = {
        namespace: w.namespace, name: w.name, labels: w.labels, ip: w.spec.hostNetwork ? (node?.privateIpv4 ?? "") : intToIpv4(next++),
        hostNetwork: !!w.spec.hostNetwork, nodeIp: node?.privateIpv4,
        ports: ((w.spec.containers ?? []) as any[]).flatMap((c) => (c.ports ?? []).map((x: any) => ({ name: x.name, containerPort: x.containerPort, protocol: x.protocol ?? "TCP" }))),
      };
      pods.set(w, p);
    }
    return p;
  };
  const podLike = (ns: string, labels: Record<string, string>): NetPod => {
    const w = workloadsIn(e, ns).find((x) => matchesSelector({ matchLabels: labels }, x.labels));
    return w ? podOf(w) : { namespace: ns, name: `(pods ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",")})`, labels, ip: intToIpv4(next++) };
  };
  const ingressNodes = e.nodes.filter((n) => n.kubelet && n.labels[LABELS.nodeIngress] === "true");
  const ingressNs = PLATFORM.ingressNamespace;
  // The controller: its hostNetwork pods, else (ingressMode loadBalancer) any pod of its namespace.
  const ctrlWorkload = e.workloads.find((w) => w.namespace === ingressNs && w.spec.hostNetwork) ?? e.workloads.find((w) => w.namespace === ingressNs && w.kind !== "Job");
  const ingressController = ctrlWorkload
    ? podOf(ctrlWorkload)
    : { namespace: ingressNs, name: "(ingress controller)", labels: {}, ip: ingressNodes[0]?.privateIpv4 ?? "", hostNetwork: e.input.estate.cluster.ingressMode === "hostNetwork", nodeIp: ingressNodes[0]?.privateIpv4 };
  // k0s: the API server advertises the controller's private address (k0sctl's privateAddress); kubernetes.default DNATs there on 6443.
  const apiAddresses = e.nodes.filter((n) => n.role !== "worker" && !n.reset).map((n) => n.privateIpv4).filter(Boolean);
  const out: Net = { model, pods, podOf, podLike, ingressController, ingressNodes, apiAddresses };
  netCache.set(e, out);
  return out;
}

/** The Service's backend pods and target port, or undefined when the Service is unknown. */
function serviceBackend(e: TwinEstate, n: Net, ns: string, name: string, port: number | string): { pods: NetPod[]; port: number; svc: string } | undefined {
  const svc = e.byRef.get(`Service/${ns}/${name}`);
  if (!svc) return undefined;
  const sp = ((svc.object.spec?.ports ?? []) as any[]).find((p) => p.port === port || p.name === port) ?? (svc.object.spec?.ports ?? [])[0];
  const sel = (svc.object.spec?.selector ?? {}) as Record<string, string>;
  const ws = Object.keys(sel).length ? workloadsIn(e, ns).filter((w) => selectsPodsOf(sel, w)) : [];
  const pods = ws.map((w) => n.podOf(w));
  const target = sp?.targetPort ?? sp?.port;
  let tp = typeof target === "number" ? target : Number(target);
  if (!Number.isFinite(tp)) {
    const named = pods.flatMap((p) => p.ports ?? []).find((p) => p.name === target);
    tp = named?.containerPort ?? NaN;
  }
  return { pods, port: tp, svc: ref(svc) };
}

/** The Ingress serving a host: its first backend. */
function ingressFor(e: TwinEstate, host: string): { ns: string; service: string; port: number | string; ingress: string } | undefined {
  for (const ing of e.byKind.get("Ingress") ?? [])
    for (const r of (ing.object.spec?.rules ?? []) as any[])
      if (r.host === host) {
        const b = r.http?.paths?.[0]?.backend?.service;
        if (b) return { ns: ing.namespace!, service: b.name, port: b.port?.number ?? b.port?.name, ingress: ref(ing) };
      }
  return undefined;
}

/** Hetzner firewalls: whether `server` accepts `proto/port` from `source` (true when no firewall applies). */
export function firewallAllows(e: TwinEstate, server: string, protocol: string, port: number, source: string): boolean {
  const fws = e.firewalls.filter((f) => f.appliesTo.includes(server));
  if (!fws.length) return true;
  return fws.some((f) =>
    f.rules.some((r) => {
      if (r.direction !== "in" || r.protocol !== protocol.toLowerCase()) return false;
      if (r.port) {
        const [lo, hi] = r.port.split("-").map(Number);
        if (port < lo || port > (hi ?? lo)) return false;
      }
      return r.sourceIps.some((c) => inCidr(source, c));
    }),
  );
}

interface Leg {
  from: Endpoint;
  to: Endpoint;
  port: number;
  what: string;
}

/** The legs of a required connection (empty when its target is unknown to the twin: a chart not rendered). */
function legs(e: TwinEstate, n: Net, from: NetPod, to: ConnectionTarget, ns: string, domain: string): Leg[] | string {
  if ("kubernetesApi" in to) return n.apiAddresses.map((ip) => ({ from: { pod: from }, to: { ip, label: "Kubernetes API" }, port: 6443, what: `Kubernetes API (${ip}:6443 after DNAT)` }));
  if ("helsinki" in to) return [{ from: { pod: from }, to: { ip: HELSINKI_HOST, label: "Helsinki" }, port: 443, what: "Helsinki object store (443)" }];
  if ("internet" in to) return [{ from: { pod: from }, to: { ip: INTERNET_HOST, label: "Internet" }, port: to.internet, what: `the Internet on ${to.internet}` }];
  if ("database" in to) {
    // A declarative Database (postgresql.cnpg.io/v1: the lean layout's one cluster per organisation)
    // names its cluster; a per-app cluster is the one bootstrapped with the database.
    const declared = (e.byKind.get("Database") ?? []).find((d) => d.namespace === ns && d.object.apiVersion === "postgresql.cnpg.io/v1" && d.object.spec?.name === to.database);
    const cluster = (e.byKind.get("Cluster") ?? []).find((c) =>
      c.namespace === ns &&
      (declared
        ? c.name === declared.object.spec?.cluster?.name
        : c.object.spec?.bootstrap?.initdb?.database === to.database || c.object.spec?.bootstrap?.recovery?.database === to.database),
    );
    if (!cluster) return `no CloudNativePG Cluster of database ${to.database} in ${ns}`;
    const b = serviceBackend(e, n, ns, `${cluster.name}-rw`, 5432);
    if (!b || !b.pods.length) return `database ${to.database}: no instance pods`;
    return b.pods.map((p) => ({ from: { pod: from }, to: { pod: p }, port: b.port, what: `database ${to.database} (${b.svc})` }));
  }
  if ("service" in to) {
    const sns = to.namespace ?? ns;
    const b = serviceBackend(e, n, sns, to.service, to.port);
    if (!b) return `Service ${sns}/${to.service} does not exist`;
    if (!b.pods.length) return `Service ${sns}/${to.service} selects no pod`;
    return b.pods.map((p) => ({ from: { pod: from }, to: { pod: p }, port: b.port, what: `${b.svc} port ${to.port}` }));
  }
  const host = to.publicHost
    .replace("{domain}", domain)
    .replace("{s3}", e.input.estate.storage.s3Domain)
    .replace("{auth}", coopHosts(e.input.estate.sharedServices).keycloak);
  const out: Leg[] = n.ingressNodes.slice(0, 1).map((node) => ({ from: { pod: from }, to: { ip: node.publicIpv4, label: `ingress node ${node.name}` }, port: 443, what: `https://${host} (ingress node ${node.name}:443)` }));
  const ing = ingressFor(e, host);
  if (ing) {
    const b = serviceBackend(e, n, ing.ns, ing.service, ing.port);
    if (b) for (const p of b.pods) out.push({ from: { pod: n.ingressController }, to: { pod: p }, port: b.port, what: `ingress → ${b.svc} for https://${host}` });
  }
  return out;
}

const explain = (v: Verdict) =>
  `${v.deniedBy === "egress" ? "no egress rule of the source's NetworkPolicies allows it" : "no ingress rule of the destination's NetworkPolicies allows it"}${v.isolatedBy?.length ? `; isolated by ${v.isolatedBy.map((p) => `NetworkPolicy/${p}`).join(", ")}` : ""}`;

function bundles(e: TwinEstate): Array<{ ns: string; domain: string; apps: string[] }> {
  // Bundles the plan holds (`--only` plans some shards only): their namespace is among the objects.
  const out = e.input.tenants
    .filter((t) => t.plan === "dedicated" && t.state !== "decommissioned" && e.byRef.has(`Namespace/${t.slug}`))
    .map((t) => ({ ns: t.slug, domain: t.domain, apps: t.apps }));
  const shared = e.input.estate.sharedServices.sharedInstance;
  if (shared && e.byRef.has(`Namespace/${shared.slug}`)) out.push({ ns: shared.slug, domain: shared.domain, apps: [...shared.apps] });
  return out;
}

const required: TwinCheck = {
  name: "network-required",
  family: "network",
  models: "NetworkPolicies (ingress and egress, post-DNAT) on every connection the apps and platform components declare they need",
  run(e) {
    const n = net(e);
    const out: TwinFinding[] = [];
    const check = (who: string, l: Leg, why: string) => {
      const v = n.model.evaluate({ from: l.from, to: l.to, port: l.port, protocol: "TCP" });
      if (!v.allowed) out.push({ check: this.name, level: "error", objects: [who], message: `${why}: connection to ${l.what} is dropped (${explain(v)})` });
    };
    for (const b of bundles(e))
      for (const app of b.apps)
        for (const need of APP_CONNECTIONS[app as keyof typeof APP_CONNECTIONS] ?? []) {
          if (need.ifPresent && !workloadsIn(e, b.ns).some((w) => matchesSelector({ matchLabels: need.from }, w.labels))) continue;
          const from = n.podLike(b.ns, need.from);
          const ls = legs(e, n, from, need.to, b.ns, b.domain);
          if (typeof ls === "string") {
            out.push({ check: this.name, level: "error", objects: [`${app} of ${b.ns}`], message: `${need.why}: ${ls}` });
            continue;
          }
          for (const l of ls) check(`${from.namespace}/${from.name}`, l, need.why);
        }
    // Platform components, instance by instance.
    for (const w of e.workloads.filter((x) => x.kind === "Cluster"))
      for (const need of PLATFORM_CONNECTIONS.postgresInstance) for (const l of legs(e, n, n.podOf(w), need.to, w.namespace, "") as Leg[]) check(w.id, l, need.why);
    for (const s of e.byKind.get("Schedule") ?? []) {
      const pod = n.podLike(s.namespace!, { k8upjob: "true", "k8up.io/type": "backup" });
      for (const need of PLATFORM_CONNECTIONS.k8upBackup) for (const l of legs(e, n, pod, need.to, s.namespace!, "") as Leg[]) check(ref(s), l, need.why);
    }
    // The ingress controller → every backend of every route it serves (Ingress and HTTPRoute).
    for (const rb of routeBackends(e)) {
      const b = serviceBackend(e, n, rb.namespace, rb.service, rb.port as number | string);
      if (b) for (const pod of b.pods) check(ref(rb.route), { from: { pod: n.ingressController }, to: { pod }, port: b.port, what: `${b.svc} (backend of https://${rb.host}${rb.path})` }, "the ingress controller serves this host");
    }
    // HAProxy (components/kit/haproxy.ts) → every Service its backends name, from the pods mounting the config.
    for (const { cm, targets } of haproxyConfigs(e)) {
      const users = workloadsIn(e, cm.namespace!).filter((w) => ((w.spec.volumes ?? []) as any[]).some((v) => v.configMap?.name === cm.name));
      for (const t of targets) {
        const b = serviceBackend(e, n, t.namespace, t.service, t.port);
        if (b) for (const w of users) for (const pod of b.pods) check(w.id, { from: { pod: n.podOf(w) }, to: { pod }, port: b.port, what: `${b.svc} (server ${t.server} of HAProxy backend ${t.backend})` }, "HAProxy forwards to this backend");
      }
    }
    // Prometheus → scrape targets: the declared ones, and every ServiceMonitor / PodMonitor of the estate.
    const prom = n.podLike(PLATFORM_NAMESPACES.monitoring, { "app.kubernetes.io/name": "prometheus" });
    for (const t of PLATFORM_CONNECTIONS.prometheus)
      for (const w of e.workloads.filter((x) => matchesSelector({ matchLabels: t.targetLabels }, x.labels)))
        check(w.id, { from: { pod: prom }, to: { pod: n.podOf(w) }, port: t.port, what: `${w.id} metrics port ${t.port}` }, t.why);
    const inNamespaces = (m: any, own: string) => (ns: string) =>
      m.spec?.namespaceSelector?.any === true ? true : ((m.spec?.namespaceSelector?.matchNames as string[] | undefined) ?? [own]).includes(ns);
    for (const sm of e.byKind.get("ServiceMonitor") ?? []) {
      const nsOk = inNamespaces(sm.object, sm.namespace!);
      for (const svc of (e.byKind.get("Service") ?? []).filter((x) => nsOk(x.namespace!) && matchesSelector(sm.object.spec?.selector ?? {}, (x.object.metadata?.labels ?? {}) as Record<string, string>)))
        for (const ep of (sm.object.spec?.endpoints ?? []) as any[]) {
          const port = ep.port ?? ep.targetPort;
          if (port === undefined) continue;
          const b = serviceBackend(e, n, svc.namespace!, svc.name, port);
          if (b) for (const pod of b.pods) check(ref(sm), { from: { pod: prom }, to: { pod }, port: b.port, what: `${b.svc} port ${port} (scraped)` }, "Prometheus scrapes this ServiceMonitor's endpoints");
        }
    }
    for (const pm of e.byKind.get("PodMonitor") ?? []) {
      const nsOk = inNamespaces(pm.object, pm.namespace!);
      for (const w of e.workloads.filter((x) => nsOk(x.namespace) && matchesSelector(pm.object.spec?.selector ?? {}, x.labels)))
        for (const ep of (pm.object.spec?.podMetricsEndpoints ?? []) as any[]) {
          const pod = n.podOf(w);
          const port = typeof ep.port === "string" ? pod.ports?.find((p) => p.name === ep.port)?.containerPort : Number(ep.port ?? ep.targetPort);
          if (port) check(ref(pm), { from: { pod: prom }, to: { pod }, port, what: `${w.id} port ${ep.port} (scraped)` }, "Prometheus scrapes this PodMonitor's pods");
        }
    }
    return out;
  },
};

const forbidden: TwinCheck = {
  name: "network-forbidden",
  family: "network",
  models: "NetworkPolicies on connections that must never exist: a tenant's pods to another tenant's pods and database",
  run(e) {
    const n = net(e);
    const out: TwinFinding[] = [];
    // Every tenant-layer namespace: dedicated bundles and the shared instance.
    const bs = (e.byKind.get("Namespace") ?? []).filter((x) => x.object.metadata?.labels?.[LABELS.layer] === "tenant").map((x) => ({ ns: x.name }));
    // Pairs to test: every bundle against its next SAMPLE bundles (a broad rule — an open
    // namespaceSelector, an ipBlock over the pod range — shows on any pair), plus every pair a
    // namespaceSelector of some policy names (a rule aimed at one tenant shows on that pair).
    const SAMPLE = 12;
    const names = bs.map((b) => b.ns).sort();
    const pairs = new Map<string, Set<string>>(names.map((a, i) => [a, new Set(Array.from({ length: Math.min(SAMPLE, names.length - 1) }, (_, k) => names[(i + 1 + k) % names.length]))]));
    const nsLabels = new Map((e.byKind.get("Namespace") ?? []).map((x) => [x.name, { ...(x.object.metadata?.labels ?? {}), "kubernetes.io/metadata.name": x.name } as Record<string, string>]));
    for (const pol of e.byKind.get("NetworkPolicy") ?? []) {
      const own = pol.namespace!;
      if (!pairs.has(own)) continue;
      const peersIn = ((pol.object.spec?.ingress ?? []) as any[]).flatMap((r) => r.from ?? []);
      const peersOut = ((pol.object.spec?.egress ?? []) as any[]).flatMap((r) => r.to ?? []);
      for (const [peers, dir] of [[peersIn, "in"], [peersOut, "out"]] as const)
        for (const peer of peers as any[]) {
          if (!peer.namespaceSelector) continue;
          for (const other of names)
            if (other !== own && matchesSelector(peer.namespaceSelector, nsLabels.get(other) ?? {})) (dir === "out" ? pairs.get(own)! : pairs.get(other)!).add(dir === "out" ? other : own);
        }
    }
    const podsIn = { get: (ns: string) => workloadsIn(e, ns) };
    for (const a of bs) {
      // One source per set of egress policies isolating it: the egress verdict depends on those
      // policies only, and another tenant's ingress rules never match by pod labels alone.
      const candidates = [n.podLike(a.ns, { "app.kubernetes.io/name": "nextcloud" }), ...(podsIn.get(a.ns) ?? []).map((w) => n.podOf(w))];
      const sources = [...new Map(candidates.map((p) => [n.model.policyKey(p, "Egress"), p])).values()];
      for (const b of bs) {
        if (a.ns === b.ns || !pairs.get(a.ns)!.has(b.ns)) continue;
        for (const w of podsIn.get(b.ns) ?? []) {
          const to = n.podOf(w);
          const ports = [...new Set([...(to.ports ?? []).map((p) => p.containerPort), ...FORBIDDEN.crossTenantPorts])];
          found: for (const from of sources)
            for (const port of ports) {
              const v = n.model.evaluate({ from: { pod: from }, to: { pod: to }, port, protocol: "TCP", stopAtFirstDenial: true });
              if (v.allowed) {
                out.push({ check: this.name, level: "error", objects: [`Namespace/${a.ns}`, w.id], message: `pods of ${a.ns} (${from.name}) can open ${w.id} on port ${port} (allowed by ${[...v.egressAllowedBy, ...v.ingressAllowedBy].join(", ") || "no policy"}): tenants are not isolated` });
                break found;
              }
            }
        }
      }
    }
    return out;
  },
};

const firewalls: TwinCheck = {
  name: "firewall-legs",
  family: "network",
  models: "Hetzner Cloud firewalls on the public legs: workers → controllers (join, API, konnectivity), nodes → Helsinki, Internet → ingress; Internet → administration ports denied",
  run(e) {
    const out: TwinFinding[] = [];
    const cloud = e.nodes.filter((x) => x.kind === "cloud");
    const controllers = cloud.filter((x) => x.role !== "worker");
    const workers = e.nodes.filter((x) => x.kubelet);
    for (const c of controllers)
      for (const port of [6443, 8132, 9443])
        for (const w of workers)
          if (w.publicIpv4 && !firewallAllows(e, c.name, "tcp", port, w.publicIpv4))
            out.push({ check: this.name, level: "error", objects: [c.name, w.name], message: `${w.name} (${w.publicIpv4}) cannot reach controller ${c.name} on ${port}: the worker cannot join or reach the API through the public address` });
    const backup = e.backupServer?.name;
    if (backup)
      for (const w of workers)
        if (w.publicIpv4 && !firewallAllows(e, backup, "tcp", 443, w.publicIpv4))
          out.push({ check: this.name, level: "error", objects: [backup, w.name], message: `${w.name} (${w.publicIpv4}) cannot reach the Helsinki backup server on 443: WAL archiving and k8up backups from pods on that node fail` });
    for (const node of cloud.filter((x) => x.labels[LABELS.nodeIngress] === "true"))
      for (const port of [80, 443])
        if (!firewallAllows(e, node.name, "tcp", port, INTERNET_HOST))
          out.push({ check: this.name, level: "error", objects: [node.name], message: `the Internet cannot reach ingress node ${node.name} on ${port}: the sites are unreachable (and HTTP-01 fails)` });
    for (const node of cloud)
      for (const port of FORBIDDEN.adminPorts)
        if (firewallAllows(e, node.name, "tcp", port, INTERNET_HOST))
          out.push({ check: this.name, level: "error", objects: [node.name], message: `the Internet reaches ${node.name} on administration port ${port}` });
    return out;
  },
};

export const NETWORK_CHECKS: TwinCheck[] = [required, forbidden, firewalls];
