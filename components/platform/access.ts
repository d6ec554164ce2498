/**
 * Who may reach an Ingress: THE one place that knows how the ingress controller restricts a
 * route to the admin CIDRs, and how to recognise such a restriction on an Ingress object.
 *
 * - `adminOnly(cidrs)` is what every admin surface's Ingress (Grafana, Keycloak's master realm
 *   and admin console, MinIO's admin API and metrics) carries; call sites spread its
 *   `annotations` into the Ingress metadata (or a chart's ingress annotations) and nothing else.
 * - `restrictionOf(ingress, objects)` is how the policy pack (`admin-surfaces-restricted`) and
 *   the tests read it back.
 *
 * Today's controller is ingress-nginx (`whitelist-source-range`, `auth-url`/`auth-type`). A
 * controller that restricts through separate objects (Traefik `Middleware` with
 * `ipAllowList.sourceRange`, referenced by `router.middlewares`) re-implements both functions
 * here: `objects` (every object of the plan or of a rendered chart) is there to resolve such
 * references; no call site changes.
 */

/** What an Ingress needs to be reachable only from the given sources. */
export interface IngressAccess {
  /** Annotations to merge into the Ingress (or a chart's `ingress.annotations`). */
  annotations: Record<string, string>;
}

/** ingress-nginx's allow-list annotation (comma-separated CIDRs; other clients get 403). */
export const NGINX_ALLOWLIST = "nginx.ingress.kubernetes.io/whitelist-source-range";
/** ingress-nginx external authentication (every request is checked by this URL first). */
export const NGINX_AUTH_URL = "nginx.ingress.kubernetes.io/auth-url";
/** ingress-nginx basic/digest authentication (with `auth-secret`). */
export const NGINX_AUTH_TYPE = "nginx.ingress.kubernetes.io/auth-type";
export const NGINX_AUTH_SECRET = "nginx.ingress.kubernetes.io/auth-secret";

/** Restrict an Ingress to `cidrs` (`liiibre:hetzner.adminCidrs`). */
export function adminOnly(cidrs: readonly string[]): IngressAccess {
  if (!cidrs.length) throw new Error("adminOnly: at least one CIDR is needed (an empty allow-list would mean no restriction)");
  return { annotations: { [NGINX_ALLOWLIST]: [...cidrs].join(",") } };
}

/** How an Ingress is restricted, as read from the object. */
export type Restriction = { kind: "allowlist"; sources: string[] } | { kind: "auth"; how: string };

/** The parts of an Ingress (or any Kubernetes object) this module reads. */
export interface ObjectLike {
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, unknown> };
  spec?: unknown;
}

/**
 * The restriction an Ingress carries, or undefined when it is open to whoever reaches the
 * controller. `objects` are the other objects of the same plan (unused by ingress-nginx).
 */
export function restrictionOf(ingress: ObjectLike, _objects: readonly ObjectLike[] = []): Restriction | undefined {
  const a = ingress.metadata?.annotations ?? {};
  const allow = a[NGINX_ALLOWLIST];
  if (typeof allow === "string" && allow.trim()) {
    return { kind: "allowlist", sources: allow.split(",").map((s) => s.trim()).filter(Boolean) };
  }
  if (typeof a[NGINX_AUTH_URL] === "string" && String(a[NGINX_AUTH_URL]).trim()) return { kind: "auth", how: `external auth ${a[NGINX_AUTH_URL]}` };
  if (typeof a[NGINX_AUTH_TYPE] === "string" && typeof a[NGINX_AUTH_SECRET] === "string" && String(a[NGINX_AUTH_SECRET]).trim()) {
    return { kind: "auth", how: `${a[NGINX_AUTH_TYPE]} auth` };
  }
  return undefined;
}
