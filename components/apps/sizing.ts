/**
 * Per-app sizing profiles: every workload's requests and limits, and each tenant's
 * ResourceQuota, derive from this one table (base + per-100-accounts increments).
 * Capacity planning reads it too. Sources and reasoning: docs/sizing.md.
 *
 * Units: CPU in millicores, memory in MiB. Requests are what the scheduler reserves
 * (sobriety: small); limits let a workload burst (CPU ×LIMIT_CPU_FACTOR) and cap memory
 * (×LIMIT_MEMORY_FACTOR) so that one tenant cannot starve a node.
 */

/** A workload's sizing: fixed part plus a part proportional to the number of accounts. */
export interface Profile {
  /** What the numbers cover (one line, shown in docs/sizing.md). */
  covers: string;
  cpuBase: number;
  cpuPer100Users: number;
  memBase: number;
  memPer100Users: number;
  /** Upper bound of the request, whatever the user count (beyond it: scale out, not up). */
  cpuMax?: number;
  memMax?: number;
}

export const LIMIT_CPU_FACTOR = 4;
export const LIMIT_MEMORY_FACTOR = 2;

/** Workload names: one per container group the bundles and shared services run. */
export const PROFILES = {
  nextcloud: { covers: "Nextcloud (Apache + PHP), one pod", cpuBase: 250, cpuPer100Users: 100, memBase: 512, memPer100Users: 192, cpuMax: 4000, memMax: 8192 },
  "nextcloud-cron": { covers: "Nextcloud background jobs (cron.php every 5 min)", cpuBase: 50, cpuPer100Users: 10, memBase: 256, memPer100Users: 32, cpuMax: 1000, memMax: 1024 },
  redis: { covers: "Redis (Nextcloud file locking and cache), no persistence", cpuBase: 50, cpuPer100Users: 5, memBase: 64, memPer100Users: 16, cpuMax: 500, memMax: 1024 },
  onlyoffice: { covers: "OnlyOffice Document Server (all-in-one image)", cpuBase: 500, cpuPer100Users: 100, memBase: 2048, memPer100Users: 256, cpuMax: 4000, memMax: 8192 },
  collabora: { covers: "Collabora Online (CODE)", cpuBase: 300, cpuPer100Users: 100, memBase: 768, memPer100Users: 256, cpuMax: 4000, memMax: 8192 },
  synapse: { covers: "Synapse homeserver (main process)", cpuBase: 200, cpuPer100Users: 50, memBase: 512, memPer100Users: 128, cpuMax: 4000, memMax: 8192 },
  "element-web": { covers: "Element Web (static files behind nginx)", cpuBase: 10, cpuPer100Users: 0, memBase: 32, memPer100Users: 0 },
  "matrix-haproxy": { covers: "ESS chart's HAProxy in front of Synapse (also serves the well-known documents)", cpuBase: 50, cpuPer100Users: 5, memBase: 64, memPer100Users: 8, cpuMax: 500, memMax: 512 },
  hedgedoc: { covers: "HedgeDoc 1.x (Node.js)", cpuBase: 100, cpuPer100Users: 20, memBase: 256, memPer100Users: 48, cpuMax: 2000, memMax: 2048 },
  postgres: { covers: "One CloudNativePG instance of an app database", cpuBase: 100, cpuPer100Users: 40, memBase: 256, memPer100Users: 96, cpuMax: 4000, memMax: 8192 },
  "keycloak-postgres": { covers: "One CloudNativePG instance of Keycloak's database (estate-wide accounts)", cpuBase: 200, cpuPer100Users: 2, memBase: 512, memPer100Users: 8, cpuMax: 2000, memMax: 4096 },
  keycloak: { covers: "Keycloak (estate-wide; per-100 figures count every account of the estate)", cpuBase: 500, cpuPer100Users: 5, memBase: 1024, memPer100Users: 8, cpuMax: 4000, memMax: 4096 },
  "jitsi-web": { covers: "Jitsi Meet web (nginx + static)", cpuBase: 50, cpuPer100Users: 0, memBase: 64, memPer100Users: 0 },
  "jitsi-prosody": { covers: "Prosody (XMPP signalling)", cpuBase: 100, cpuPer100Users: 0, memBase: 256, memPer100Users: 0 },
  "jitsi-jicofo": { covers: "Jicofo (conference focus)", cpuBase: 100, cpuPer100Users: 0, memBase: 512, memPer100Users: 0 },
  "jitsi-adapter": { covers: "nordeck jitsi-keycloak-adapter-v2 (Deno; turns a Keycloak login into a Jitsi JWT)", cpuBase: 10, cpuPer100Users: 0, memBase: 64, memPer100Users: 0 },
  "jitsi-haproxy": { covers: "HAProxy routing each conference of the shared Jitsi to one shard (signalling only: media goes to the videobridges)", cpuBase: 50, cpuPer100Users: 0, memBase: 64, memPer100Users: 0 },
  "jitsi-jvb": { covers: "Jitsi Videobridge (media relay; sized for ~100 concurrent 720p participants)", cpuBase: 2000, cpuPer100Users: 0, memBase: 2048, memPer100Users: 0 },
} satisfies Record<string, Profile>;

export type Workload = keyof typeof PROFILES;

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

const roundUp = (v: number, step: number) => Math.ceil(v / step) * step;

/** Requests in (millicores, MiB) of a workload for `users` accounts. */
export function requestsFor(workload: Workload, users: number): { cpu: number; mem: number } {
  const p: Profile = PROFILES[workload];
  const cpu = Math.min(p.cpuMax ?? Infinity, p.cpuBase + (p.cpuPer100Users * users) / 100);
  const mem = Math.min(p.memMax ?? Infinity, p.memBase + (p.memPer100Users * users) / 100);
  return { cpu: roundUp(cpu, 10), mem: roundUp(mem, 16) };
}

/** Kubernetes `resources` of a workload for `users` accounts. */
export function resourcesFor(workload: Workload, users: number): Resources {
  const r = requestsFor(workload, users);
  return {
    requests: { cpu: `${r.cpu}m`, memory: `${r.mem}Mi` },
    limits: { cpu: `${r.cpu * LIMIT_CPU_FACTOR}m`, memory: `${r.mem * LIMIT_MEMORY_FACTOR}Mi` },
  };
}

/**
 * Requests of one instance of an organisation's PostgreSQL cluster (lean data layout) serving
 * `databases` app databases: the `postgres` profile's fixed part once, its per-account part once
 * per database (each app's working set and connections), within the same caps — the base an
 * instance per app paid each time is what the lean layout saves (docs/scaling.md).
 */
export function organisationPostgresRequests(databases: number, users: number): { cpu: number; mem: number } {
  return requestsFor("postgres", users * databases);
}

export function organisationPostgresResources(databases: number, users: number): Resources {
  const r = organisationPostgresRequests(databases, users);
  return {
    requests: { cpu: `${r.cpu}m`, memory: `${r.mem}Mi` },
    limits: { cpu: `${r.cpu * LIMIT_CPU_FACTOR}m`, memory: `${r.mem * LIMIT_MEMORY_FACTOR}Mi` },
  };
}

/** Totals of a set of workloads (each with its replica count), requests and limits. */
export interface Totals {
  cpuRequest: number;
  memRequest: number;
  cpuLimit: number;
  memLimit: number;
}

export function totals(items: Array<{ workload: Workload; users: number; replicas?: number }>): Totals {
  const t: Totals = { cpuRequest: 0, memRequest: 0, cpuLimit: 0, memLimit: 0 };
  for (const i of items) {
    const n = i.replicas ?? 1;
    const r = requestsFor(i.workload, i.users);
    t.cpuRequest += r.cpu * n;
    t.memRequest += r.mem * n;
    t.cpuLimit += r.cpu * LIMIT_CPU_FACTOR * n;
    t.memLimit += r.mem * LIMIT_MEMORY_FACTOR * n;
  }
  return t;
}

/**
 * Headroom of a tenant's ResourceQuota over the sum of its workloads: rolling updates
 * (a second pod during a Deployment update), chart hook Jobs and init containers.
 */
export const QUOTA_HEADROOM = 1.5;

/**
 * Defaults the tenant's LimitRange gives containers that set no resources (chart
 * sidecars, hook jobs): small on purpose.
 */
export const CONTAINER_DEFAULTS = {
  defaultRequest: { cpu: "50m", memory: "64Mi" },
  default: { cpu: "500m", memory: "256Mi" },
} as const;

/** Volume of an app database, GB: base + per-account growth (Synapse state grows fastest). */
export const DATABASE_STORAGE: Record<string, { baseGB: number; per100UsersGB: number }> = {
  nextcloud: { baseGB: 2, per100UsersGB: 2 },
  synapse: { baseGB: 5, per100UsersGB: 5 },
  hedgedoc: { baseGB: 1, per100UsersGB: 0.5 },
  keycloak: { baseGB: 5, per100UsersGB: 0.1 },
};

export function databaseStorageGB(database: string, users: number): number {
  const d = DATABASE_STORAGE[database] ?? { baseGB: 2, per100UsersGB: 1 };
  return Math.ceil(d.baseGB + (d.per100UsersGB * users) / 100);
}
