/**
 * Cross-field rules: what the schema alone cannot say (uniqueness, references between
 * sections, apps that need other apps, the offer's quota cap…). Each rule returns the
 * problems it finds; the loader runs them all so that one run reports everything.
 *
 * Add a rule by appending a function to `RULES`.
 */
import { APPS, APP_NAMES, type AppName } from "./apps";
import { describe, keyPath, type ConfigProblem } from "./errors";
import type { Estate, ParsedTenant } from "./schema";
import { hetznerRules } from "../hetzner/limits";

/** The estate as parsed by the schema, before tenants' quotas are resolved. */
export type ParsedEstate = Omit<Estate, "tenants"> & { tenants: ParsedTenant[] };

export type Rule = (estate: ParsedEstate) => ConfigProblem[];

/** Namespaces and slugs the platform uses itself; a tenant may not take them. */
export const RESERVED_SLUGS = [
  "default", "kube-system", "kube-public", "kube-node-lease", "platform", "traefik", "ingress-nginx", "cert-manager",
  "monitoring", "minio", "minio-operator", "keycloak", "jitsi", "k8up", "cnpg-system", "backup", "shared",
];

function duplicates<T>(items: T[], key: (t: T) => string, path: (i: number) => PropertyKey[], what: string): ConfigProblem[] {
  const seen = new Map<string, number>();
  const out: ConfigProblem[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else out.push({ path: keyPath(path(i)), message: `expected a unique ${what}, got ${describe(k)} (already used at ${keyPath(path(first))})` });
  });
  return out;
}

const tenantRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  out.push(...duplicates(e.tenants, (t) => t.slug, (i) => ["tenants", i, "slug"], "slug"));
  out.push(...duplicates(e.tenants, (t) => t.domain, (i) => ["tenants", i, "domain"], "domain"));
  const shared = e.sharedServices.sharedInstance;
  const reserved = new Set([...RESERVED_SLUGS, shared.slug]);
  const serviceDomains = new Map<string, string>([
    [shared.domain, "sharedServices.sharedInstance.domain"],
    [e.sharedServices.baseDomain, "sharedServices.baseDomain"],
  ]);
  const cap = e.offer.quotaPerUserGB;
  e.tenants.forEach((t, i) => {
    if (reserved.has(t.slug)) {
      out.push({ path: keyPath(["tenants", i, "slug"]), message: `expected a slug not reserved by the platform (${[...reserved].join(", ")}), got ${describe(t.slug)}` });
    }
    const clash = serviceDomains.get(t.domain);
    if (clash) out.push({ path: keyPath(["tenants", i, "domain"]), message: `expected a domain not used by the co-op's services, got ${describe(t.domain)} (liiibre:${clash})` });
    out.push(...appRules(t.apps, ["tenants", i, "apps"]));
    if (t.plan === "shared") {
      t.apps.forEach((a, j) => {
        if (!shared.apps.includes(a)) {
          out.push({
            path: keyPath(["tenants", i, "apps", j]),
            message: `expected an app of the shared instance (${shared.apps.join(" | ")}) for plan "shared", got ${describe(a)}; use plan "dedicated" for it`,
          });
        }
      });
      if (t.dedicatedRealm) out.push({ path: keyPath(["tenants", i, "dedicatedRealm"]), message: `expected false for plan "shared" (the shared instance lives in the estate realm), got true` });
    }
    if (t.quotaPerUserGB !== undefined && t.quotaPerUserGB > cap && !t.exemption) {
      out.push({
        path: keyPath(["tenants", i, "quotaPerUserGB"]),
        message: `expected at most ${cap} (the offer's per-user cap, liiibre:offer.quotaPerUserGB) unless the tenant has exemption.reason, got ${t.quotaPerUserGB}`,
      });
    }
    if (t.exemption && (t.quotaPerUserGB === undefined || t.quotaPerUserGB <= cap)) {
      out.push({
        path: keyPath(["tenants", i, "exemption"]),
        message: `expected only with a quotaPerUserGB above the offer's cap of ${cap}, got an exemption with quotaPerUserGB ${describe(t.quotaPerUserGB)}`,
      });
    }
  });
  return out;
};

/** Apps: no duplicates, only available ones, and each with the apps it needs. */
export function appRules(apps: AppName[], path: PropertyKey[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const available = APP_NAMES.filter((a) => APPS[a].available);
  apps.forEach((a, j) => {
    if (apps.indexOf(a) !== j) out.push({ path: keyPath([...path, j]), message: `expected each app once, got ${describe(a)} twice` });
    if (!APPS[a].available) {
      out.push({
        path: keyPath([...path, j]),
        message: `expected an app this project deploys (${available.join(" | ")}), got ${describe(a)}: ${APPS[a].title} is not available yet`,
      });
    }
    for (const need of APPS[a].requires) {
      if (!apps.includes(need)) {
        out.push({ path: keyPath([...path, j]), message: `expected ${describe(need)} in the same list (${APPS[a].title} needs it), got ${describe(a)} without it` });
      }
    }
  });
  return out;
}

const sharedInstanceRules: Rule = (e) => appRules(e.sharedServices.sharedInstance.apps, ["sharedServices", "sharedInstance", "apps"]);

const locationRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const allowed = e.hetzner.locations.allowed;
  const check = (loc: string | undefined, path: PropertyKey[]) => {
    if (loc !== undefined && !allowed.includes(loc as never)) {
      out.push({ path: keyPath(path), message: `expected one of the allowed locations (${allowed.join(" | ")}, liiibre:hetzner.locations.allowed), got ${describe(loc)}` });
    }
  };
  check(e.hetzner.locations.primary, ["hetzner", "locations", "primary"]);
  check(e.hetzner.locations.backup, ["hetzner", "locations", "backup"]);
  if (e.hetzner.locations.backup === e.hetzner.locations.primary) {
    out.push({ path: keyPath(["hetzner", "locations", "backup"]), message: `expected a location other than the primary (${e.hetzner.locations.primary}) so that backups are off-site, got ${describe(e.hetzner.locations.backup)}` });
  }
  e.nodePools.forEach((p, i) => check(p.cloud?.location, ["nodePools", i, "cloud", "location"]));
  e.dedicatedServers.forEach((d, i) => check(d.location, ["dedicatedServers", i, "location"]));
  return out;
};

const nodeRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  out.push(...duplicates(e.nodePools, (p) => p.name, (i) => ["nodePools", i, "name"], "pool name"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.name, (i) => ["dedicatedServers", i, "name"], "server name"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.publicIpv4, (i) => ["dedicatedServers", i, "publicIpv4"], "public address"));
  out.push(...duplicates(e.dedicatedServers, (d) => d.privateIpv4, (i) => ["dedicatedServers", i, "privateIpv4"], "private address"));
  const pools = e.nodePools.map((p) => p.name);
  e.dedicatedServers.forEach((d, i) => {
    if (!pools.includes(d.pool)) {
      out.push({ path: keyPath(["dedicatedServers", i, "pool"]), message: `expected one of the node pools (${pools.join(" | ")}), got ${describe(d.pool)}` });
    }
  });
  if (e.dedicatedServers.length > 0 && !e.hetzner.network.vswitch) {
    out.push({ path: keyPath(["hetzner", "network", "vswitch"]), message: "expected a vSwitch (id, subnet) because dedicatedServers are declared, got nothing" });
  }
  // Members of etcd: nodes marked `reset` (leaving) or `retired` (gone) do not count.
  const controllers =
    e.nodePools.filter((p) => p.role !== "worker").reduce((n, p) => n + (p.cloud ? p.cloud.count - new Set([...p.cloud.reset, ...p.cloud.retired].filter((s) => s <= p.cloud!.count)).size : 0), 0) +
    e.dedicatedServers.filter((d) => !d.reset && e.nodePools.find((p) => p.name === d.pool)?.role !== "worker" && pools.includes(d.pool)).length;
  if (controllers % 2 === 0) {
    out.push({ path: keyPath(["nodePools"]), message: `expected an odd number of controllers (1, 3, 5…) for etcd quorum, got ${controllers}` });
  }
  if (e.backup.server.kind === "dedicated") {
    const name = e.backup.server.name;
    const box = e.dedicatedServers.find((d) => d.name === name);
    if (!box) {
      out.push({ path: keyPath(["backup", "server", "name"]), message: `expected the name of a dedicatedServers entry, got ${describe(name)}` });
    } else if (box.location !== e.hetzner.locations.backup) {
      out.push({ path: keyPath(["backup", "server", "name"]), message: `expected a server in the backup location ${e.hetzner.locations.backup}, got ${describe(name)} in ${box.location}` });
    }
  }
  return out;
};

/**
 * Storage: the primary MinIO puts one server per storage node (required anti-affinity), so
 * `storage.minio.servers` cannot exceed the nodes labelled `liiibre.org/storage: "true"`.
 */
const storageRules: Rule = (e) => {
  const storagePools = e.nodePools.filter((p) => p.labels["liiibre.org/storage"] === "true");
  const names = storagePools.map((p) => p.name);
  const nodes = storagePools.reduce((n, p) => n + (p.cloud?.count ?? 0), 0) + e.dedicatedServers.filter((d) => names.includes(d.pool)).length;
  const servers = e.storage.minio.servers;
  const out: ConfigProblem[] = [];
  const recovery = e.backup.databaseRecovery;
  if (recovery.restoring && recovery.generation < 1) {
    out.push({
      path: keyPath(["backup", "databaseRecovery", "generation"]),
      message: "expected a generation >= 1 while restoring (the restored clusters archive under a new name, never into the backups they read), got 0",
    });
  }
  if (e.storage.minio.spreadAcrossNodes && servers > nodes) {
    out.push({
      path: keyPath(["storage", "minio", "servers"]),
      message: `expected at most the number of storage nodes (${nodes}: nodes of pools labelled liiibre.org/storage: "true"${names.length ? `, ${names.join(", ")}` : ""}) while storage.minio.spreadAcrossNodes is true, got ${servers}`,
    });
  }
  return out;
};

/** Every cross-field rule, run in this order. */
/**
 * Tenant bundles and identity (components/tenant, components/shared): a dedicated realm is
 * named after the slug, so it may not take Keycloak's `master` or the estate realm's name;
 * the shared instance has one per-user quota (the offer's), so an exemption needs `dedicated`.
 */
const bundleRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const taken = ["master", e.sharedServices.keycloak.realm];
  e.tenants.forEach((t, i) => {
    if (t.dedicatedRealm && taken.includes(t.slug)) {
      out.push({ path: keyPath(["tenants", i, "slug"]), message: `expected a slug other than ${taken.map((x) => describe(x)).join(" and ")} for a tenant with dedicatedRealm (its realm takes the slug's name), got ${describe(t.slug)}` });
    }
    if (t.plan === "shared" && t.exemption) {
      out.push({ path: keyPath(["tenants", i, "exemption"]), message: `expected no exemption for plan "shared" (the shared instance applies the offer's per-user quota); use plan "dedicated", got an exemption` });
    }
  });
  // Tenant NetworkPolicies admit the nodes' range (hostNetwork ingress): it must hold no pod or service.
  const range = (c: string): [number, number] => {
    const [a, bits] = c.split("/");
    const n = a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return [Math.floor(n / size) * size, Math.floor(n / size) * size + size - 1];
  };
  const nodes = range(e.hetzner.network.ipRange);
  for (const k of ["podCIDR", "serviceCIDR"] as const) {
    const r = range(e.cluster.network[k]);
    if (r[0] <= nodes[1] && nodes[0] <= r[1]) {
      out.push({ path: keyPath(["cluster", "network", k]), message: `expected a range disjoint from the nodes' network ${e.hetzner.network.ipRange} (liiibre:hetzner.network.ipRange), got ${describe(e.cluster.network[k])}` });
    }
  }
  const res = e.sharedServices.jitsi.resolution;
  if (res > 720) out.push({ path: keyPath(["sharedServices", "jitsi", "resolution"]), message: `expected at most 720 (the offer caps video at 720p), got ${res}` });
  return out;
};

export const RULES: Rule[] = [tenantRules, sharedInstanceRules, locationRules, nodeRules, hetznerRules, storageRules, bundleRules];
