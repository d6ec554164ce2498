/**
 * A bundle's ResourceQuota and LimitRange, sized from its apps' workloads and its number
 * of accounts (components/apps/sizing.ts; docs/sizing.md).
 */
import type * as k8s from "@pulumi/kubernetes";
import type { AppName, DataLayout } from "../config";
import { MODULES } from "../apps";
import { CONTAINER_DEFAULTS, LIMIT_CPU_FACTOR, LIMIT_MEMORY_FACTOR, QUOTA_HEADROOM, replicaPlan, requestsFor, totals, type Workload } from "../apps/sizing";

/**
 * Workloads of a bundle with their replicas: each app's (as its module runs them for `instances`,
 * `AppModule.replicated`), plus its PostgreSQL instances by data layout (`per-app`: one cluster
 * per database; `lean`: the organisation's one, sized for all its databases as
 * organisationPostgresRequests; `migrating`: both), each cluster of `instances` instances.
 * Defaults: layout `per-app`, 1 instance.
 */
export function bundleWorkloads(apps: AppName[], users: number, layout: DataLayout = "per-app", instances = 1): Array<{ workload: Workload; users: number; replicas: number }> {
  const out: Array<{ workload: Workload; users: number; replicas: number }> = [];
  let databases = 0;
  for (const app of apps) {
    const m = MODULES[app];
    if (!m) continue;
    for (const w of m.workloads) {
      const plan = replicaPlan(m.replicated?.[w], w.startsWith("jitsi-") ? 0 : users, instances);
      if (plan.replicas > 0) out.push({ workload: w, ...plan });
    }
    databases += m.databases.length;
    if (layout !== "lean") for (const _db of m.databases) out.push({ workload: "postgres", users, replicas: instances });
  }
  // The same figure as organisationPostgresRequests(databases, users).
  if (layout !== "per-app" && databases > 0) out.push({ workload: "postgres", users: users * databases, replicas: instances });
  return out;
}

/** PostgreSQL clusters of a bundle in a layout (each has its volume claims). */
const postgresClusters = (databases: number, layout: DataLayout): number => (layout === "per-app" ? databases : layout === "lean" ? Math.min(databases, 1) : databases + Math.min(databases, 1));

export interface QuotaSpec {
  hard: Record<string, string>;
}

/**
 * Pods an app runs beyond its sized workloads (e.g. the shared instance's Synapse workers,
 * components/apps/matrix.ts), with their own requests and limits (millicores, MiB).
 */
export interface ExtraPods {
  count: number;
  requests: { cpuM: number; memMiB: number };
  limits: { cpuM: number; memMiB: number };
}

/**
 * The ResourceQuota `spec.hard` of a bundle, counting every replica its apps and databases run
 * with `instances` (2 with `ha`) before the headroom (`extra`: pods beyond its sized workloads).
 * Defaults: no extra pods, 1 instance.
 */
export function resourceQuotaSpec(apps: AppName[], users: number, layout: DataLayout = "per-app", extra: ExtraPods[] = [], instances = 1): QuotaSpec {
  const items = bundleWorkloads(apps, users, layout, instances);
  const t = totals(items);
  for (const x of extra) {
    t.cpuRequest += x.requests.cpuM * x.count;
    t.memRequest += x.requests.memMiB * x.count;
    t.cpuLimit += x.limits.cpuM * x.count;
    t.memLimit += x.limits.memMiB * x.count;
  }
  const up = (v: number) => Math.ceil(v * QUOTA_HEADROOM);
  const databases = apps.reduce((n, a) => n + (MODULES[a]?.databases.length ?? 0), 0);
  return {
    hard: {
      "requests.cpu": `${up(t.cpuRequest)}m`,
      "requests.memory": `${up(t.memRequest)}Mi`,
      "limits.cpu": `${up(t.cpuLimit)}m`,
      "limits.memory": `${up(t.memLimit)}Mi`,
      pods: String(Math.ceil((items.reduce((n, i) => n + i.replicas, 0) + extra.reduce((n, x) => n + x.count, 0)) * 2 + 10)),
      // Nextcloud's code volume, one per database cluster, a few for chart components.
      persistentvolumeclaims: String(postgresClusters(databases, layout) + 6),
      "services.loadbalancers": "0",
      "services.nodeports": "0",
    },
  };
}

/**
 * The LimitRange of a bundle: containers that declare nothing (CloudNativePG instances,
 * chart hooks and init containers) get the PostgreSQL profile of the bundle's size; no
 * container may exceed the largest limit of the bundle's workloads.
 */
export function limitRangeSpec(apps: AppName[], users: number, layout: DataLayout = "per-app", instances = 1): k8s.types.input.core.v1.LimitRangeSpec {
  const pg = requestsFor("postgres", users);
  const items = bundleWorkloads(apps, users, layout, instances);
  let maxCpu = pg.cpu * LIMIT_CPU_FACTOR;
  let maxMem = pg.mem * LIMIT_MEMORY_FACTOR;
  for (const i of items) {
    const r = requestsFor(i.workload, i.users);
    maxCpu = Math.max(maxCpu, r.cpu * LIMIT_CPU_FACTOR);
    maxMem = Math.max(maxMem, r.mem * LIMIT_MEMORY_FACTOR);
  }
  return {
    limits: [
      {
        type: "Container",
        defaultRequest: { cpu: `${Math.max(pg.cpu, 50)}m`, memory: `${Math.max(pg.mem, parseInt(CONTAINER_DEFAULTS.defaultRequest.memory, 10))}Mi` },
        default: { cpu: `${pg.cpu * LIMIT_CPU_FACTOR}m`, memory: `${pg.mem * LIMIT_MEMORY_FACTOR}Mi` },
        max: { cpu: `${maxCpu}m`, memory: `${maxMem}Mi` },
      },
    ],
  };
}
