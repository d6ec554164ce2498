/**
 * `admin-surfaces-restricted` (mandatory): the estate's administration surfaces — Grafana,
 * Keycloak's admin console and master realm, MinIO's admin API and metrics, any `/metrics` —
 * are routed only by Ingresses or HTTPRoute rules restricted to a bounded allow-list (the admin
 * CIDRs) or behind authentication (components/platform/access.ts `restrictionOf`,
 * `routeRuleRestriction`).
 *
 * Judged on routing, not on names: a surface is a backend Service (`namespace/name`, globs
 * allowed) and its admin paths. On every host, the Ingress path that would serve a request for
 * an admin path (longest matching prefix over ALL Ingresses of the host, as the controller
 * picks) must be restricted when it leads to that Service, and so must every path under it that
 * leads there — whatever host name, Ingress name or namespace it uses. An allow-list wider than the firewall limit (a /16
 * of IPv4, a /48 of IPv6 by default; `0.0.0.0/0` or two halves of it) is no restriction.
 *
 * `adminSurfaceProblems` takes Ingress objects generically: the policy feeds it the plan's
 * Ingress resources; the render step (scripts/render) feeds it the Ingresses charts render.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { NAMESPACES } from "../components/conventions";
import { restrictionOf, routeRuleRestriction, type ObjectLike } from "../components/platform/access";
import { tooWide, FIREWALL_DEFAULTS } from "./firewall-no-public-admin";
import { config, eachResource, isObject } from "./lib";
import type { RenderedRelease } from "../scripts/render/model";

export interface AdminSurface {
  /** Backend Service `namespace/name` glob (`*` matches any characters), e.g. `minio/minio`. */
  service: string;
  /** Path prefixes that are administration (`/` for the whole service). */
  paths: string[];
}

export interface AdminSurfacesConfig {
  surfaces: AdminSurface[];
  /** Width limits of an allow-list (as `firewall-no-public-admin`). Defaults 16 and 48. */
  minIpv4Prefix: number;
  minIpv6Prefix: number;
}

export const ADMIN_SURFACES_DEFAULTS: AdminSurfacesConfig = {
  surfaces: [
    // Grafana: every tenant's logs and the estate's metrics.
    { service: `${NAMESPACES.monitoring}/*grafana`, paths: ["/"] },
    // Keycloak: the admin console/API of every realm, and the master realm.
    { service: `${NAMESPACES.keycloak}/keycloak-http`, paths: ["/admin", "/realms/master"] },
    // MinIO: admin API (users, policies, replication) and metrics.
    { service: `${NAMESPACES.minio}/minio`, paths: ["/minio/admin", "/minio/v2/metrics", "/minio/metrics"] },
    // Prometheus, Alertmanager, Loki: should never have an Ingress at all.
    { service: `${NAMESPACES.monitoring}/*`, paths: ["/"] },
  ],
  minIpv4Prefix: FIREWALL_DEFAULTS.minIpv4Prefix,
  minIpv6Prefix: FIREWALL_DEFAULTS.minIpv6Prefix,
};

export const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
export const HTTP_ROUTE_TYPE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";

const globToRegExp = (glob: string): RegExp => new RegExp(`^${glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");

interface Route {
  /** The Ingress or HTTPRoute. */
  ingress: ObjectLike;
  kind: "Ingress" | "HTTPRoute";
  /** The HTTPRoute rule (its filters carry the restriction). */
  rule?: unknown;
  id: string;
  host: string | undefined;
  path: string;
  pathType: string;
  /** `namespace/service` the route leads to. */
  backend: string;
}

const isHttpRoute = (o: ObjectLike) => o.kind === "HTTPRoute" || (isObject(o.spec) && Array.isArray((o.spec as any).parentRefs));

/** A Gateway API HTTPRoute's routes: every hostname × rule × path match (a rule without match serves `/`). */
function httpRoutesOf(route: ObjectLike, id: string): Route[] {
  const spec = isObject(route.spec) ? (route.spec as Record<string, any>) : {};
  const ns = route.metadata?.namespace ?? "default";
  const hosts: Array<string | undefined> = Array.isArray(spec.hostnames) && spec.hostnames.length ? spec.hostnames.map((h: unknown) => String(h).toLowerCase()) : [undefined];
  const out: Route[] = [];
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
    const b = Array.isArray(rule?.backendRefs) ? rule.backendRefs[0] : undefined;
    const backend = `${typeof b?.namespace === "string" ? b.namespace : ns}/${typeof b?.name === "string" ? b.name : "?"}`;
    const matches = Array.isArray(rule?.matches) && rule.matches.length ? rule.matches : [{}];
    for (const m of matches) {
      const path = typeof m?.path?.value === "string" && m.path.value ? m.path.value : "/";
      const pathType = m?.path?.type === "Exact" ? "Exact" : "Prefix";
      for (const host of hosts) out.push({ ingress: route, kind: "HTTPRoute", rule, id, host, path, pathType, backend });
    }
  }
  return out;
}

function routesOf(ingress: ObjectLike, id: string): Route[] {
  if (isHttpRoute(ingress)) return httpRoutesOf(ingress, id);
  const spec = isObject(ingress.spec) ? (ingress.spec as Record<string, any>) : {};
  const out: Route[] = [];
  const ns = ingress.metadata?.namespace ?? "default";
  const backendOf = (b: any) => `${ns}/${typeof b?.service?.name === "string" ? b.service.name : "?"}`;
  if (isObject(spec.defaultBackend)) out.push({ ingress, kind: "Ingress", id, host: undefined, path: "/", pathType: "Prefix", backend: backendOf(spec.defaultBackend) });
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
    const host = typeof rule?.host === "string" ? rule.host.toLowerCase() : "*";
    for (const p of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) {
      out.push({ ingress, kind: "Ingress", id, host, path: typeof p?.path === "string" && p.path ? p.path : "/", pathType: typeof p?.pathType === "string" ? p.pathType : "ImplementationSpecific", backend: backendOf(p?.backend) });
    }
  }
  return out;
}

/** Does a route serve a request for `path` (Kubernetes Ingress matching: Exact, or Prefix by path segments)? */
function serves(route: Route, path: string): boolean {
  if (route.pathType === "Exact") return route.path === path;
  const prefix = route.path.replace(/\/+$/, "");
  return prefix === "" || path === prefix || path.startsWith(`${prefix}/`);
}
const under = (route: Route, path: string): boolean => {
  const p = path.replace(/\/+$/, "");
  return p === "" || route.path === p || route.path.startsWith(`${p}/`);
};

/**
 * Problems of a set of Ingresses and HTTPRoutes (one message per unprotected admin route).
 * `objects` are where their restrictions are defined (the edge's release, Middlewares). The
 * route that serves a request is the edge's (Traefik's) choice: an HTTPRoute match ranks above
 * every Ingress router (traefik pkg/provider/kubernetes/gateway/httproute.go priorities), then
 * the longest path, Exact before Prefix.
 */
export function adminSurfaceProblems(
  ingresses: Array<{ id: string; object: ObjectLike }>,
  cfg: AdminSurfacesConfig,
  objects: readonly ObjectLike[] = [],
): Array<{ id: string; message: string }> {
  const routes = ingresses.flatMap((i) => routesOf(i.object, i.id));
  const hosts = [...new Set(routes.map((r) => r.host).filter((h): h is string => !!h))];
  // A rule without host (or a default backend) serves every host: judged on its own too.
  if (!hosts.includes("*") && routes.some((r) => r.host === undefined)) hosts.push("*");
  const problems = new Map<string, { id: string; message: string }>();
  const open = (r: Route): string | undefined => {
    const res = r.kind === "HTTPRoute" ? routeRuleRestriction(r.ingress, r.rule, objects) : restrictionOf(r.ingress, objects);
    if (!res) return "open to the world";
    if (res.kind === "auth") return undefined;
    const why = tooWide(res.sources, cfg);
    return why ? `allow-list too wide (${why})` : undefined;
  };
  for (const host of hosts) {
    const onHost = routes.filter((r) => r.host === host || r.host === "*" || r.host === undefined);
    for (const s of cfg.surfaces) {
      const leads = (r: Route) => globToRegExp(s.service).test(r.backend);
      for (const p of s.paths) {
        const matching = onHost.filter((r) => serves(r, p));
        const rank = (r: Route) => (r.kind === "HTTPRoute" ? 0 : 1);
        const winner = matching.sort((a, b) => rank(a) - rank(b) || b.path.length - a.path.length || (a.pathType === "Exact" ? -1 : 1))[0];
        const candidates = [...(winner && leads(winner) ? [winner] : []), ...onHost.filter((r) => r !== winner && leads(r) && under(r, p))];
        for (const r of candidates) {
          const why = open(r);
          if (why) {
            const key = `${r.id}|${host}|${r.path}|${p}`;
            problems.set(key, { id: r.id, message: `https://${host}${p} (admin surface ${s.service} ${p}) is served by ${r.kind} ${r.ingress.metadata?.namespace ?? "default"}/${r.ingress.metadata?.name ?? "?"} path ${r.path}, ${why}; restrict it with ${r.kind === "HTTPRoute" ? "adminOnlyMiddleware" : "adminOnly"}(liiibre:hetzner.adminCidrs) (components/platform/access.ts)` });
          }
        }
      }
    }
  }
  return [...problems.values()];
}

/**
 * The Ingresses charts render (scripts/render/model.ts), in the shape `adminSurfaceProblems`
 * takes: the render step checks them with the same rules as the plan's own Ingresses.
 */
export function renderedIngresses(releases: readonly RenderedRelease[]): Array<{ id: string; object: ObjectLike }> {
  return releases.flatMap((r) =>
    r.objects
      .filter((o) => o.kind === "Ingress")
      .map((o) => {
        const obj = o.object as ObjectLike;
        return { id: `${r.urn}#Ingress/${o.namespace ?? r.namespace}/${o.name}`, object: { ...obj, metadata: { ...(obj.metadata ?? {}), namespace: obj.metadata?.namespace ?? o.namespace ?? r.namespace } } };
      }),
  );
}

export const adminSurfacesRestricted: StackValidationPolicy = {
  name: "admin-surfaces-restricted",
  description: "Grafana, Keycloak's admin console and master realm, MinIO's admin API and metrics are served only to the admin CIDRs or behind authentication.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      surfaces: {
        type: "array",
        items: { type: "object", properties: { service: { type: "string" }, paths: { type: "array", items: { type: "string" } } }, required: ["service", "paths"] },
        default: ADMIN_SURFACES_DEFAULTS.surfaces,
      },
      minIpv4Prefix: { type: "integer", minimum: 0, maximum: 32, default: ADMIN_SURFACES_DEFAULTS.minIpv4Prefix },
      minIpv6Prefix: { type: "integer", minimum: 0, maximum: 128, default: ADMIN_SURFACES_DEFAULTS.minIpv6Prefix },
    },
  },
  validateStack: (args, report) => {
    const cfg = config(args, ADMIN_SURFACES_DEFAULTS);
    const routes = eachResource(report, args.resources, (r) =>
      r.type === INGRESS_TYPE || r.type === HTTP_ROUTE_TYPE ? { id: r.urn, object: { kind: r.type.split(":")[2], ...(r.props as ObjectLike) } as ObjectLike } : undefined,
    ).filter((x): x is { id: string; object: ObjectLike } => !!x);
    // Where restrictions are defined: the edge's Helm release (its file-provider middlewares), Middleware objects.
    const objects = eachResource(report, args.resources, (r) =>
      r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:traefik.io/v1alpha1:Middleware" ? ({ kind: r.type.split(":")[2], ...(r.props as ObjectLike) } as ObjectLike) : undefined,
    ).filter((x): x is ObjectLike => !!x);
    for (const p of adminSurfaceProblems(routes, cfg, objects)) report(p.message, p.id);
  },
};
