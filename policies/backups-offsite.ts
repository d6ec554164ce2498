/**
 * `backups-offsite` (mandatory): nothing is kept only in the primary location.
 * - Every primary bucket of a tenant has a twin (same name) in the backup location (Helsinki)
 *   and a replication towards it: a Job/CronJob/Command running `mc replicate add` that names
 *   the bucket and an endpoint in that location.
 * - Every stateful namespace (label `liiibre.org/stateful: "true"`, and every tenant namespace)
 *   has a k8up `Schedule` (k8up.io/v1) with a backup schedule and an S3 backend off-site.
 * - Every CloudNativePG `Cluster` has a backup target off-site: the Barman Cloud plugin
 *   (`spec.plugins[].parameters.barmanObjectName` → an `ObjectStore` of barmancloud.cnpg.io/v1 in
 *   the same namespace) or the deprecated in-tree `spec.backup.barmanObjectStore`.
 * "Off-site" means an endpoint whose location (endpointLocations, or a host-name hint such as
 * `hel`) is known and differs from the primary location.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { LABELS } from "../components/conventions";
import { TYPES, WORKLOAD_TYPES, config, eachResource, endpointLocation, get, hostOf, leaves, metadata, namespaceOf, strings } from "./lib";
import { SITE_DEFAULTS, SITE_SCHEMA, bucketLocation, tenantNamespaces, tenantOfBucket, type SiteConfig } from "./tenants";

export interface BackupsOffsiteConfig extends SiteConfig {
  /** Where bucket copies must go (the Helsinki backup site). Default hel1; "" accepts any off-site location. */
  backupLocation: string;
  /** Treat every tenant namespace as stateful (needing a k8up Schedule). Default true. */
  tenantNamespacesAreStateful: boolean;
  /** Require primary tenant buckets to be replicated off-site. Default true. */
  requireBucketReplication: boolean;
}
export const BACKUPS_DEFAULTS: BackupsOffsiteConfig = { ...SITE_DEFAULTS, backupLocation: "hel1", tenantNamespacesAreStateful: true, requireBucketReplication: true };

const CNPG_BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io";
const REPLICATORS: string[] = [...WORKLOAD_TYPES, "command:local:Command", "command:remote:Command"];

export const backupsOffsite: StackValidationPolicy = {
  name: "backups-offsite",
  description: "Tenant buckets are replicated off-site, stateful namespaces have a k8up schedule and PostgreSQL clusters a backup target, all in a location other than the primary.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      ...SITE_SCHEMA,
      backupLocation: { type: "string", default: BACKUPS_DEFAULTS.backupLocation },
      tenantNamespacesAreStateful: { type: "boolean", default: BACKUPS_DEFAULTS.tenantNamespacesAreStateful },
      requireBucketReplication: { type: "boolean", default: BACKUPS_DEFAULTS.requireBucketReplication },
    },
  },
  validateStack: (args, report) => {
    const c = config(args, BACKUPS_DEFAULTS);
    const where = (endpoint: unknown): { ok: boolean; text: string } => {
      if (typeof endpoint !== "string" || !endpoint) return { ok: false, text: "no endpoint" };
      const loc = endpointLocation(endpoint, c.endpointLocations, c.locationHints);
      if (!loc) return { ok: false, text: `endpoint ${endpoint} is in an unknown location (add it to endpointLocations)` };
      if (loc === c.primaryLocation) return { ok: false, text: `endpoint ${endpoint} is in the primary location ${loc}` };
      return { ok: true, text: `${endpoint} (${loc})` };
    };
    const namespaces = tenantNamespaces(args.resources, report);
    const of = (type: string) => args.resources.filter((r) => r.type === type);

    // --- k8up schedules -------------------------------------------------------------------
    const scheduled = new Map<string, string[]>(); // namespace → problems of its schedules ([] = one good)
    eachResource(report, of(TYPES.k8upSchedule), (r) => {
      const ns = namespaceOf(r.type, r.props);
      const problems: string[] = [];
      if (!get(r.props, "spec", "backup", "schedule")) problems.push(`Schedule ${metadata(r.props).name ?? r.name} has no backup schedule`);
      const w = where(get(r.props, "spec", "backend", "s3", "endpoint"));
      if (!w.ok) problems.push(`Schedule ${metadata(r.props).name ?? r.name}: ${w.text}`);
      const prev = scheduled.get(ns);
      if (!prev || prev.length) scheduled.set(ns, problems.length ? [...(prev ?? []), ...problems] : []);
    });
    const statefulNamespaces = new Map<string, string>(); // name → urn
    eachResource(report, of(TYPES.namespace), (r) => {
      const ns = namespaces.get(metadata(r.props).name);
      const stateful = (r.props.metadata?.labels ?? {})[LABELS.stateful] === "true";
      if (stateful || (ns && c.tenantNamespacesAreStateful)) statefulNamespaces.set(metadata(r.props).name, r.urn);
    });
    for (const [name, urn] of statefulNamespaces) {
      const s = scheduled.get(name);
      const who = namespaces.get(name) ? `${namespaces.get(name)!.tenant}: ` : "";
      if (!s) report(`${who}stateful namespace ${name} has no k8up Schedule (k8up.io/v1) backing its volumes up off-site`, urn);
      else if (s.length) report(`${who}namespace ${name} has no off-site k8up backup: ${s.join("; ")}`, urn);
    }

    // --- PostgreSQL clusters ----------------------------------------------------------------
    const stores = new Map<string, PolicyResource>();
    for (const r of of(TYPES.barmanObjectStore)) {
      eachResource(report, [r], () => stores.set(`${namespaceOf(r.type, r.props)}/${metadata(r.props).name}`, r));
    }
    eachResource(report, of(TYPES.cnpgCluster), (r) => {
      const ns = namespaceOf(r.type, r.props);
      const name = metadata(r.props).name ?? r.name;
      const targets: Array<{ ok: boolean; text: string }> = [];
      const plugins: any[] = Array.isArray(get(r.props, "spec", "plugins")) ? r.props.spec.plugins : [];
      for (const p of plugins) {
        if (p?.name !== CNPG_BARMAN_PLUGIN || p?.enabled === false) continue;
        const storeName = get(p, "parameters", "barmanObjectName");
        const store = stores.get(`${ns}/${storeName}`);
        if (!store) targets.push({ ok: false, text: `ObjectStore ${storeName} not found in namespace ${ns}` });
        else targets.push(where(get(store.props, "spec", "configuration", "endpointURL")));
      }
      const legacy = get(r.props, "spec", "backup", "barmanObjectStore");
      if (legacy) targets.push(where(legacy.endpointURL));
      if (!targets.length) report(`PostgreSQL cluster ${ns}/${name} has no backup target (Barman Cloud plugin ObjectStore)`, r.urn);
      else if (!targets.some((t) => t.ok)) report(`PostgreSQL cluster ${ns}/${name} has no off-site backup target: ${targets.map((t) => t.text).join("; ")}`, r.urn);
    });

    // --- bucket replication -------------------------------------------------------------------
    if (!c.requireBucketReplication) return;
    const offsiteTwins = new Set<string>();
    const primaries: Array<{ r: PolicyResource; name: string; tenant: string }> = [];
    eachResource(report, of(TYPES.bucket), (r) => {
      const name = r.props.bucket;
      if (typeof name !== "string") return;
      const loc = bucketLocation(r, c);
      // A twin counts when it is off-site, in the backup location when that is known.
      if (loc.offsite && (!c.backupLocation || loc.location === undefined || loc.location === c.backupLocation)) offsiteTwins.add(name);
      else {
        const ns = tenantOfBucket(r, namespaces);
        if (ns) primaries.push({ r, name, tenant: ns.tenant });
      }
    });
    // Buckets named by a replication mechanism towards an off-site endpoint.
    const replicated = new Set<string>();
    eachResource(report, args.resources.filter((r) => REPLICATORS.includes(r.type)), (r) => {
      const texts = strings(r.props);
      if (!texts.some((t) => /\bmc\s+replicate\s+add\b/.test(t))) return;
      const offsite = leaves(r.props).some((l) => {
        if (typeof l.value !== "string") return false;
        const v = l.value.trim();
        if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$|^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?$/i.test(v)) return false;
        const loc = endpointLocation(hostOf(v), c.endpointLocations, c.locationHints);
        return !!loc && loc !== c.primaryLocation && (!c.backupLocation || loc === c.backupLocation);
      });
      if (!offsite) return;
      for (const t of texts) for (const word of t.split(/[\s"'/]+/)) if (word) replicated.add(word);
    });
    for (const b of primaries) {
      const missing: string[] = [];
      const site = c.backupLocation || "off-site";
      if (!offsiteTwins.has(b.name)) missing.push(`no twin bucket in ${site}`);
      if (!replicated.has(b.name)) missing.push(`no replication (mc replicate add) towards ${site} names it`);
      if (missing.length) report(`${b.tenant}: bucket ${b.name} is not copied off-site: ${missing.join("; ")}`, b.r.urn);
    }
  },
};
