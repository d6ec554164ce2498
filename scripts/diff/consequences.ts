/**
 * Who must be told, and what it costs: the consequences of a diff, computed from the two plans
 * only (so that a plan written by an older version of the program compares too).
 *
 * - DNS: the exact records each organisation must add and remove (plan `tenants[].dnsRecords`);
 * - machines: servers added, removed or resized (hcloud servers; dedicated hosts from the k0sctl
 *   document);
 * - €/month: Hetzner Cloud list prices from the pinned catalogue (components/hetzner/catalog.json)
 *   for the servers, volumes, primary IPs and load balancers in each plan — the same prices as
 *   components/hetzner/cost.ts; dedicated servers are invoiced apart and only counted;
 * - capacity: cores and memory of the cloud nodes (catalogue) against the requests the tenants'
 *   ResourceQuotas reserve;
 * - restarts: the organisations whose pods would restart (pod template changes, Helm release
 *   upgrades, replaced workloads).
 */
import { parse as parseYaml } from "yaml";
import { HCLOUD_LABELS } from "../../components/conventions";
import { CATALOG, monthlyPrice, serverTypeInfo } from "../../components/hetzner/catalog";
import type { DnsRecord, Plan, PlanResource } from "../plan-model";
import type { Change } from "./diff";

export interface Machine {
  name: string;
  kind: "cloud" | "dedicated";
  serverType?: string;
  location?: string;
}

export interface EstateFigures {
  cloudServers: number;
  dedicatedServers: number;
  /** Hetzner Cloud part, list prices (EUR/month excl. VAT). */
  cloudMonthlyEUR: number;
  cloudCores: number;
  cloudRamGB: number;
  /** Σ `requests.cpu` / `requests.memory` of the tenants' ResourceQuotas. */
  quotaCores: number;
  quotaRamGB: number;
}

export interface Consequences {
  dns: Array<{ tenant: string; domain: string; add: DnsRecord[]; remove: DnsRecord[] }>;
  tenants: { added: string[]; removed: string[]; changed: Array<{ slug: string; fields: Array<{ field: string; old: unknown; new: unknown }> }> };
  machines: { added: Machine[]; removed: Machine[]; resized: Array<{ name: string; old: string; new: string }> };
  figures: { base: EstateFigures; head: EstateFigures; pricedAt: string };
  /** Organisations (or "(platform)") whose pods restart, with the workloads concerned. */
  restarts: Array<{ tenant: string; workloads: string[] }>;
}

const ofType = (plan: Plan, type: string) => plan.resources.filter((r) => r.type === type);

function machines(plan: Plan): Machine[] {
  const out: Machine[] = ofType(plan, "hcloud:index/server:Server").map((r) => ({
    name: String(r.inputs.name ?? r.name),
    kind: "cloud" as const,
    serverType: String(r.inputs.serverType),
    location: String(r.inputs.location),
  }));
  for (const r of plan.resources) {
    const stdin = r.inputs.stdin;
    if (!r.name.endsWith("-apply") || typeof stdin !== "string" || !stdin.includes("k0sctl.k0sproject.io")) continue;
    try {
      const doc = parseYaml(stdin) as any;
      for (const h of doc?.spec?.hosts ?? []) {
        if ((h.installFlags ?? []).some((f: string) => f.includes("node-kind=dedicated"))) out.push({ name: String(h.hostname), kind: "dedicated" });
      }
    } catch {
      /* ignore */
    }
  }
  return out;
}

/** Kubernetes quantities: "1500m" → 1.5, "2Gi" → 2 (GiB), "512Mi" → 0.5. */
export function quantity(q: unknown, unit: "cores" | "GiB"): number {
  const s = String(q ?? "0");
  const m = s.match(/^([0-9.]+)([a-zA-Z]*)$/);
  if (!m) return 0;
  const n = Number(m[1]);
  if (unit === "cores") return m[2] === "m" ? n / 1000 : n;
  const f: Record<string, number> = { Ki: 1 / 1024 ** 2, Mi: 1 / 1024, Gi: 1, Ti: 1024, k: 1e3 / 1024 ** 3, M: 1e6 / 1024 ** 3, G: 1e9 / 1024 ** 3, "": 1 / 1024 ** 3 };
  return n * (f[m[2]] ?? 0);
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export function figures(plan: Plan): EstateFigures {
  const servers = ofType(plan, "hcloud:index/server:Server");
  let eur = 0;
  let cores = 0;
  let ram = 0;
  for (const s of servers) {
    eur += monthlyPrice(String(s.inputs.serverType), String(s.inputs.location)) ?? 0;
    const info = serverTypeInfo(String(s.inputs.serverType));
    const labels = (s.inputs.labels ?? {}) as Record<string, string>;
    // Capacity for workloads: cluster nodes only (not the backup server).
    if (info && labels[HCLOUD_LABELS.cluster] && labels[HCLOUD_LABELS.role]) {
      cores += info.cores;
      ram += info.ramGB;
    }
  }
  for (const v of ofType(plan, "hcloud:index/volume:Volume")) eur += Number(v.inputs.size ?? 0) * CATALOG.extras.volumeGBMonthlyEUR;
  for (const ip of ofType(plan, "hcloud:index/primaryIp:PrimaryIp")) eur += ip.inputs.type === "ipv6" ? CATALOG.extras.primaryIpv6MonthlyEUR : CATALOG.extras.primaryIpv4MonthlyEUR;
  eur += ofType(plan, "hcloud:index/loadBalancer:LoadBalancer").length * CATALOG.extras.loadBalancerLb11MonthlyEUR;
  let qc = 0;
  let qm = 0;
  for (const q of ofType(plan, "kubernetes:core/v1:ResourceQuota")) {
    const hard = ((q.inputs.spec as any)?.hard ?? {}) as Record<string, unknown>;
    qc += quantity(hard["requests.cpu"], "cores");
    qm += quantity(hard["requests.memory"], "GiB");
  }
  return {
    cloudServers: servers.length,
    dedicatedServers: machines(plan).filter((m) => m.kind === "dedicated").length,
    cloudMonthlyEUR: round(eur),
    cloudCores: cores,
    cloudRamGB: ram,
    quotaCores: round(qc),
    quotaRamGB: round(qm),
  };
}

const dnsKey = (d: DnsRecord) => `${d.name} ${d.type} ${d.value}`;

const WORKLOADS = new Set(["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:postgresql.cnpg.io/v1:Cluster", "kubernetes:minio.min.io/v2:Tenant"]);

function restarts(changes: Change[]): Consequences["restarts"] {
  const by = new Map<string, Set<string>>();
  for (const c of changes) {
    let restarts = false;
    if (c.action === "replace" && (WORKLOADS.has(c.type) || c.type === "kubernetes:helm.sh/v3:Release")) restarts = true;
    if (c.action === "update" && WORKLOADS.has(c.type) && c.properties.some((p) => p.path.startsWith("spec.template") || (c.type !== "kubernetes:apps/v1:Deployment" && c.type !== "kubernetes:apps/v1:StatefulSet" && c.type !== "kubernetes:apps/v1:DaemonSet"))) restarts = true;
    // A Helm upgrade re-renders the chart: any values or version change may roll its pods.
    // (An objects release's objects say exactly which workloads change: below.)
    if (c.action === "update" && c.type === "kubernetes:helm.sh/v3:Release" && !c.objects && c.properties.some((p) => /^(values|version|chart)\b/.test(p.path))) restarts = true;
    const key = c.tenant ?? "(platform)";
    // A bundle's objects release: its changed workloads, object by object (a pod template change rolls them).
    for (const o of c.objects ?? []) {
      if (o.action === "update" && WORKLOADS.has(o.type) && o.properties.some((p) => p.path.startsWith("spec.template") || !["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"].includes(o.type)))
        by.set(key, (by.get(key) ?? new Set()).add(`${c.name}: ${o.kind}/${o.name}`));
    }
    if (!restarts) continue;
    by.set(key, (by.get(key) ?? new Set()).add(c.name));
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tenant, w]) => ({ tenant, workloads: [...w].sort() }));
}

export function consequences(base: Plan, head: Plan, changes: Change[]): Consequences {
  const baseT = new Map(base.tenants.map((t) => [t.slug, t]));
  const headT = new Map(head.tenants.map((t) => [t.slug, t]));
  const dns: Consequences["dns"] = [];
  for (const slug of new Set([...baseT.keys(), ...headT.keys()])) {
    const a = baseT.get(slug)?.dnsRecords ?? [];
    const b = headT.get(slug)?.dnsRecords ?? [];
    const ak = new Set(a.map(dnsKey));
    const bk = new Set(b.map(dnsKey));
    const add = b.filter((d) => !ak.has(dnsKey(d)));
    const remove = a.filter((d) => !bk.has(dnsKey(d)));
    if (add.length || remove.length) dns.push({ tenant: slug, domain: (headT.get(slug) ?? baseT.get(slug))!.domain, add, remove });
  }
  const changed: Consequences["tenants"]["changed"] = [];
  for (const [slug, b] of headT) {
    const a = baseT.get(slug);
    if (!a) continue;
    const fields = (["name", "domain", "plan", "state", "users", "quotaPerUserGB", "storagePoolGB", "apps", "exemption"] as const)
      .filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]))
      .map((f) => ({ field: f, old: a[f], new: b[f] }));
    if (fields.length) changed.push({ slug, fields });
  }
  const bm = new Map(machines(base).map((m) => [m.name, m]));
  const hm = new Map(machines(head).map((m) => [m.name, m]));
  const resized: Consequences["machines"]["resized"] = [];
  for (const [name, m] of hm) {
    const o = bm.get(name);
    if (o && o.serverType && m.serverType && o.serverType !== m.serverType) resized.push({ name, old: o.serverType, new: m.serverType });
  }
  return {
    dns: dns.sort((x, y) => x.tenant.localeCompare(y.tenant)),
    tenants: { added: [...headT.keys()].filter((s) => !baseT.has(s)), removed: [...baseT.keys()].filter((s) => !headT.has(s)), changed },
    machines: { added: [...hm.values()].filter((m) => !bm.has(m.name)), removed: [...bm.values()].filter((m) => !hm.has(m.name)), resized },
    figures: { base: figures(base), head: figures(head), pricedAt: CATALOG.pricedAt },
    restarts: restarts(changes),
  };
}
