/**
 * Who may reach a route: THE one place that knows how the edge (Traefik) restricts a route to
 * the admin CIDRs, and how to recognise such a restriction on an object.
 *
 * - `adminOnly(cidrs)` is what every admin surface's Ingress (a chart's, e.g. Grafana) carries:
 *   call sites spread its `annotations` into the Ingress metadata (or a chart's ingress
 *   annotations) and nothing else. It names Traefik's `ipAllowList` middleware for exactly
 *   those CIDRs, defined once in Traefik's file provider (components/platform/edge.ts,
 *   `edgeDynamicConfig`, from `hetzner.adminCidrs`). A list the edge does not define names a
 *   middleware that does not exist: Traefik then drops the router (the request falls to the
 *   catch-all 404): it fails closed.
 * - `adminOnlyMiddleware(cidrs)` is the same restriction for the program's own Gateway API
 *   routes (components/routes.ts): a Traefik `Middleware` beside the route, referenced by the
 *   rules that serve admin paths (`ExtensionRef`).
 * - `restrictionOf(object, objects)` is how the policy pack (`admin-surfaces-restricted`) and
 *   the tests read it back: from an Ingress (its `router.middlewares` annotation, resolved in
 *   `objects`: the Traefik release values / its file-provider ConfigMap, or Middleware objects)
 *   or from one HTTPRoute rule (its ExtensionRef filters, resolved to Middleware objects of the
 *   route's namespace).
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import type { RouteMiddleware } from "../routes";

/** What an Ingress needs to be reachable only from the given sources. */
export interface IngressAccess {
  /** Annotations to merge into the Ingress (or a chart's `ingress.annotations`). */
  annotations: Record<string, string>;
}

/** Traefik's Ingress annotation listing a router's middlewares (`name@provider`, comma-separated). */
export const TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";

/** Name of the file-provider allow-list middleware of a CIDR list (order and duplicates do not matter). */
export function adminAllowListName(cidrs: readonly string[]): string {
  const canonical = [...new Set(cidrs.map((c) => c.trim().toLowerCase()))].sort().join(",");
  return `admin-allowlist-${createHash("sha256").update(canonical).digest("hex").slice(0, 10)}`;
}

/** The file-provider middleware `adminOnly(cidrs)` refers to (edgeDynamicConfig defines it). */
export function adminAllowListMiddleware(cidrs: readonly string[]): { name: string; config: { ipAllowList: { sourceRange: string[] } } } {
  return { name: adminAllowListName(cidrs), config: { ipAllowList: { sourceRange: [...cidrs] } } };
}

const need = (cidrs: readonly string[], what: string) => {
  if (!cidrs.length) throw new Error(`${what}: at least one CIDR is needed (an empty allow-list would mean no restriction)`);
};

/** Restrict an Ingress to `cidrs` (`liiibre:hetzner.adminCidrs`). */
export function adminOnly(cidrs: readonly string[]): IngressAccess {
  need(cidrs, "adminOnly");
  return { annotations: { [TRAEFIK_MIDDLEWARES]: `${adminAllowListName(cidrs)}@file` } };
}

/** The same restriction for one of the program's HTTPRoutes: a Middleware beside it, for the admin rules. */
export function adminOnlyMiddleware(cidrs: readonly string[], name = "admin-allowlist"): RouteMiddleware {
  need(cidrs, "adminOnlyMiddleware");
  return { name, spec: { ipAllowList: { sourceRange: [...cidrs] } } };
}

/** How an Ingress (or a route rule) is restricted, as read from the objects. */
export type Restriction = { kind: "allowlist"; sources: string[] } | { kind: "auth"; how: string };

/** The parts of a Kubernetes object (or a Helm release's inputs) this module reads. */
export interface ObjectLike {
  kind?: string;
  apiVersion?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, unknown> };
  spec?: unknown;
  data?: Record<string, unknown>;
  /** Helm release inputs (the Traefik release defines the file-provider middlewares). */
  chart?: unknown;
  values?: unknown;
}

type Mw = Record<string, any>;

/** The file-provider middlewares visible in `objects`: the Traefik release's values, or its rendered ConfigMap. */
function fileMiddlewares(objects: readonly ObjectLike[]): Record<string, Mw> {
  const out: Record<string, Mw> = {};
  for (const o of objects) {
    const fromValues = (o.values as any)?.providers?.file?.content?.http?.middlewares;
    if (fromValues && typeof fromValues === "object") Object.assign(out, fromValues);
    const text = o.kind === "ConfigMap" ? o.data?.["config.yml"] : undefined;
    if (typeof text === "string") {
      try {
        Object.assign(out, (parseYaml(text) as any)?.http?.middlewares ?? {});
      } catch {
        // not a Traefik dynamic configuration
      }
    }
  }
  return out;
}

const middlewareObjects = (objects: readonly ObjectLike[]) => objects.filter((o) => o.kind === "Middleware" && String(o.apiVersion ?? "traefik.io/").startsWith("traefik.io/"));

/** What one middleware definition does to access. */
function restrictionOfMiddleware(spec: Mw | undefined, objects: readonly ObjectLike[], namespace: string, depth = 0): Restriction | undefined {
  if (!spec || typeof spec !== "object" || depth > 5) return undefined;
  const allow = spec.ipAllowList?.sourceRange ?? spec.ipWhiteList?.sourceRange;
  if (Array.isArray(allow) && allow.length) return { kind: "allowlist", sources: allow.map(String) };
  if (spec.forwardAuth?.address) return { kind: "auth", how: `forward auth ${spec.forwardAuth.address}` };
  if (spec.basicAuth?.secret || spec.basicAuth?.users) return { kind: "auth", how: "basic auth" };
  if (spec.digestAuth?.secret || spec.digestAuth?.users) return { kind: "auth", how: "digest auth" };
  // A chain restricts when one of its members does.
  for (const m of Array.isArray(spec.chain?.middlewares) ? spec.chain.middlewares : []) {
    const name = typeof m === "string" ? m : m?.name;
    const r = typeof name === "string" ? resolveRef(name, objects, namespace, depth + 1) : undefined;
    if (r) return r;
  }
  return undefined;
}

/** A middleware reference: `name@file`, `<namespace>-<name>@kubernetescrd`, or a bare name (same namespace). */
function resolveRef(ref: string, objects: readonly ObjectLike[], namespace: string, depth = 0): Restriction | undefined {
  const [name, provider] = ref.trim().split("@");
  if (provider === "file") return restrictionOfMiddleware(fileMiddlewares(objects)[name], objects, namespace, depth);
  const crds = middlewareObjects(objects);
  const m =
    provider === "kubernetescrd"
      ? crds.find((o) => `${o.metadata?.namespace ?? "default"}-${o.metadata?.name}` === name)
      : crds.find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? "default") === namespace);
  return m ? restrictionOfMiddleware(m.spec as Mw, objects, m.metadata?.namespace ?? "default", depth) : undefined;
}

/** The first restriction among middleware references. */
function firstRestriction(refs: string[], objects: readonly ObjectLike[], namespace: string): Restriction | undefined {
  for (const ref of refs) {
    const r = resolveRef(ref, objects, namespace);
    if (r) return r;
  }
  return undefined;
}

/**
 * The restriction an Ingress carries, or undefined when it is open to whoever reaches the
 * edge. `objects` are the other objects of the same plan (or render) where its middlewares are
 * defined.
 */
export function restrictionOf(ingress: ObjectLike, objects: readonly ObjectLike[] = []): Restriction | undefined {
  const list = ingress.metadata?.annotations?.[TRAEFIK_MIDDLEWARES];
  if (typeof list !== "string" || !list.trim()) return undefined;
  return firstRestriction(list.split(",").filter(Boolean), objects, ingress.metadata?.namespace ?? "default");
}

/** The restriction of one rule of an HTTPRoute (its ExtensionRef filters to Traefik Middlewares). */
export function routeRuleRestriction(route: ObjectLike, rule: unknown, objects: readonly ObjectLike[] = []): Restriction | undefined {
  const filters = Array.isArray((rule as any)?.filters) ? ((rule as any).filters as any[]) : [];
  const refs = filters.filter((f) => f?.type === "ExtensionRef" && f.extensionRef?.group === "traefik.io" && f.extensionRef?.kind === "Middleware").map((f) => String(f.extensionRef.name));
  return firstRestriction(refs, objects, route.metadata?.namespace ?? "default");
}
