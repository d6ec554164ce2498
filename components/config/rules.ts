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
import { shardingRules } from "../layers/rules";
import { K0S_BACKUP_BUCKET, POSTGRES_BACKUP_BUCKET, k8upBucketName } from "../storage/settings";

/** The estate as parsed by the schema, before tenants' quotas are resolved. */
export type ParsedEstate = Omit<Estate, "tenants"> & { tenants: ParsedTenant[] };

export type Rule = (estate: ParsedEstate) => ConfigProblem[];

/**
 * Names a tenant slug (or the shared instance's slug) may not take: every namespace the platform
 * uses or may use (test/security.test.ts checks the plan's namespaces are all here), Keycloak's
 * and the estate's own names, and names apps treat specially (Nextcloud's `admin` group…).
 * Slugs become namespaces, bucket prefixes, Keycloak client ids and group names (`org-<slug>`).
 */
export const RESERVED_SLUGS = [
  "default", "kube-system", "kube-public", "kube-node-lease", "platform", "ingress-nginx", "cert-manager",
  "monitoring", "minio", "minio-operator", "keycloak", "jitsi", "k8up", "cnpg-system", "backup", "shared",
  // Node reboots (components/ops/reboots.ts KURED_NAMESPACE).
  "kured",
  // Ingress controllers and gateways (Traefik is the edge, docs/ingress.md; ingress-nginx lingers during its migration).
  "traefik", "gateway", "envoy-gateway-system", "gateway-system",
  // Names with a meaning in Keycloak, Nextcloud, Synapse or the estate.
  "admin", "admins", "administrator", "root", "master", "system", "liiibre", "everyone", "guest", "guests", "users", "org",
];
/** Prefixes no slug may start with (Kubernetes reserves `kube-`; `org-` is the group namespace). */
export const RESERVED_SLUG_PREFIXES = ["kube-", "org-", "liiibre-"];
export const isReservedSlug = (slug: string, extra: string[] = []): boolean =>
  RESERVED_SLUGS.includes(slug) || extra.includes(slug) || RESERVED_SLUG_PREFIXES.some((p) => slug.startsWith(p));

/** Whether `host` is `domain` or a name under it. */
export const within = (host: string, domain: string): boolean => host === domain || host.endsWith(`.${domain}`);

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
  const cap = e.offer.quotaPerUserGB;
  e.tenants.forEach((t, i) => {
    if (isReservedSlug(t.slug, [...reserved])) {
      out.push({ path: keyPath(["tenants", i, "slug"]), message: `expected a slug not reserved by the platform (${[...reserved].join(", ")}; nor starting with ${RESERVED_SLUG_PREFIXES.join(", ")}), got ${describe(t.slug)}` });
    }
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
    } else if (t.crossOrganisationSharing) {
      out.push({ path: keyPath(["tenants", i, "crossOrganisationSharing"]), message: `expected false for plan "dedicated" (only the shared instance's organisations share an instance), got true` });
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

const sharedInstanceRules: Rule = (e) => {
  const out = appRules(e.sharedServices.sharedInstance.apps, ["sharedServices", "sharedInstance", "apps"]);
  const slug = e.sharedServices.sharedInstance.slug;
  if (isReservedSlug(slug)) {
    out.push({ path: keyPath(["sharedServices", "sharedInstance", "slug"]), message: `expected a slug not reserved by the platform (${RESERVED_SLUGS.join(", ")}; nor starting with ${RESERVED_SLUG_PREFIXES.join(", ")}), got ${describe(slug)}` });
  }
  const realm = e.sharedServices.keycloak.realm;
  if (RESERVED_REALMS.includes(realm)) {
    out.push({ path: keyPath(["sharedServices", "keycloak", "realm"]), message: `expected a realm name other than ${RESERVED_REALMS.map((r) => describe(r)).join(", ")} (Keycloak's administration realm), got ${describe(realm)}` });
  }
  return out;
};

/** Realm names the estate realm may not take. */
export const RESERVED_REALMS = ["master", "admin"];

/**
 * Host names: every co-op host is outside every tenant domain, every tenant domain is outside
 * the co-op's domains and every other tenant's domain and hosts, and every host fits DNS (253).
 */
const hostRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const ss = e.sharedServices;
  // The co-op's hosts: a tenant domain may be neither one of them, under one, nor above one.
  // Under the base domain itself is allowed (temporary domains of a two-pass migration).
  const coop: Array<[string, string]> = [
    [ss.sharedInstance.domain, "sharedServices.sharedInstance.domain"],
    [ss.keycloak.host ?? `auth.${ss.baseDomain}`, "sharedServices.keycloak.host"],
    [ss.jitsi.host ?? `meet.${ss.baseDomain}`, "sharedServices.jitsi.host"],
    [`grafana.${ss.baseDomain}`, "sharedServices.baseDomain (Grafana)"],
    [e.storage.s3Domain, "storage.s3Domain"],
    [e.backup.s3Domain, "backup.s3Domain"],
    [e.cluster.apiDomain, "cluster.apiDomain"],
  ];
  const hostsOf = (domain: string, apps: AppName[]) => [...new Set(apps.flatMap((a) => APPS[a].hosts))].map((h) => `${h}.${domain}`);
  const tenantHosts = e.tenants.map((t) => (t.plan === "dedicated" ? hostsOf(t.domain, t.apps) : []));
  const sharedHosts = hostsOf(ss.sharedInstance.domain, ss.sharedInstance.apps);
  e.tenants.forEach((t, i) => {
    const at = keyPath(["tenants", i, "domain"]);
    const clash = coop.find(([d]) => within(t.domain, d) || within(d, t.domain)) ?? (within(ss.baseDomain, t.domain) ? [ss.baseDomain, "sharedServices.baseDomain"] : undefined);
    if (clash) {
      out.push({ path: at, message: `expected a domain disjoint from the co-op's hosts (neither equal to, under nor above ${clash[0]}, liiibre:${clash[1]}), got ${describe(t.domain)}` });
      return;
    }
    for (let j = 0; j < e.tenants.length; j++) {
      if (j === i) continue;
      const o = e.tenants[j];
      // Equal domains are the duplicate rule's (tenants[].domain unique); here: t inside o.
      if (t.domain === o.domain) continue;
      const hit = [o.domain, ...tenantHosts[j]].find((h) => within(t.domain, h));
      if (hit) {
        out.push({ path: at, message: `expected a domain disjoint from the other tenants' domains and hosts, got ${describe(t.domain)} (inside ${hit} of liiibre:tenants[${j}], ${o.slug})` });
        break;
      }
    }
    for (const h of tenantHosts[i]) {
      if (h.length > 253) out.push({ path: at, message: `expected a domain short enough for its app hosts (at most 253 characters), got ${describe(t.domain)} (host ${h.slice(0, 40)}… has ${h.length})` });
    }
  });
  for (const h of sharedHosts) {
    if (h.length > 253) out.push({ path: keyPath(["sharedServices", "sharedInstance", "domain"]), message: `expected a domain short enough for its app hosts (at most 253 characters), got a host of ${h.length}` });
  }
  return out;
};

/** Bucket names: each tenant's (`<slug>-<suffix>`, `<slug>-k8up`) and the platform's, all distinct. */
const bucketRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const owner = new Map<string, string>([
    [POSTGRES_BACKUP_BUCKET, "the platform"],
    [K0S_BACKUP_BUCKET, "the platform"],
    [k8upBucketName("keycloak"), "the platform"],
  ]);
  const claim = (names: string[], who: string, path: PropertyKey[]) => {
    for (const n of names) {
      const prev = owner.get(n);
      if (prev && prev !== who) out.push({ path: keyPath(path), message: `expected a slug whose buckets are its own, got bucket ${describe(n)} already used by ${prev}` });
      else owner.set(n, who);
    }
  };
  const bucketsOf = (slug: string, apps: AppName[]) => [...new Set(apps.flatMap((a) => APPS[a].buckets))].map((s) => `${slug}-${s}`).concat(k8upBucketName(slug));
  const si = e.sharedServices.sharedInstance;
  claim(bucketsOf(si.slug, si.apps), `the shared instance (${si.slug})`, ["sharedServices", "sharedInstance", "slug"]);
  e.tenants.forEach((t, i) => {
    if (t.plan === "dedicated") claim(bucketsOf(t.slug, t.apps), `tenant ${t.slug}`, ["tenants", i, "slug"]);
  });
  return out;
};

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
  const pods = range(e.cluster.network.podCIDR);
  const services = range(e.cluster.network.serviceCIDR);
  if (pods[0] <= services[1] && services[0] <= pods[1]) {
    out.push({ path: keyPath(["cluster", "network", "serviceCIDR"]), message: `expected a range disjoint from the pod CIDR ${e.cluster.network.podCIDR} (liiibre:cluster.network.podCIDR), got ${describe(e.cluster.network.serviceCIDR)}` });
  }
  const res = e.sharedServices.jitsi.resolution;
  if (res > 720) out.push({ path: keyPath(["sharedServices", "jitsi", "resolution"]), message: `expected at most 720 (the offer caps video at 720p), got ${res}` });
  return out;
};

/**
 * Operations (issue 12): every alert route names a configured receiver, the e-mail receiver
 * needs the mail relay, and a shared organisation cannot ask for `ha` (the shared instance's
 * availability is the estate's, not one member's).
 */
const operationsRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const a = e.monitoring.alerting;
  for (const sev of ["critical", "warning", "info"] as const) {
    (a.routes[sev] ?? []).forEach((r, j) => {
      if (!a.receivers[r]) {
        out.push({ path: keyPath(["monitoring", "alerting", "routes", sev, j]), message: `expected a receiver configured under liiibre:monitoring.alerting.receivers (${Object.keys(a.receivers).filter((k) => a.receivers[k as "email"]).join(" | ") || "none configured"}), got ${describe(r)}` });
      }
    });
  }
  if (a.receivers.email && !e.mail) {
    out.push({ path: keyPath(["monitoring", "alerting", "receivers", "email"]), message: "expected the mail relay liiibre:mail to be configured for e-mail alerts, got no liiibre:mail" });
  }
  e.tenants.forEach((t, i) => {
    if (t.plan === "shared" && t.ha !== undefined) {
      out.push({ path: keyPath(["tenants", i, "ha"]), message: `expected no ha for plan "shared" (the shared instance always runs 2 instances), got ${describe(t.ha)}` });
    }
  });
  return out;
};

/**
 * The edge migration's bridge (issue 13) redirects each ingress node's own ports 80/443: it only
 * exists with the edge on the nodes' host network (behind the load balancer, the switch is the
 * load balancer's targets, docs/operations.md).
 */
const edgeRules: Rule = (e) =>
  e.cluster.edgeMigration === "bridge" && e.cluster.ingressMode !== "hostNetwork"
    ? [{ path: keyPath(["cluster", "edgeMigration"]), message: `expected off | serve-nginx with cluster.ingressMode ${describe(e.cluster.ingressMode)} (bridge redirects the ingress nodes' own ports: hostNetwork only), got "bridge"` }]
    : [];

export const RULES: Rule[] = [tenantRules, sharedInstanceRules, locationRules, nodeRules, hetznerRules, storageRules, bundleRules, hostRules, bucketRules, operationsRules, shardingRules, edgeRules];
