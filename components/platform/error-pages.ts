/**
 * "Teapot": the co-op's error and maintenance pages, served through the edge
 * (components/platform/edge.ts) in two cases only:
 * - a host the cluster does not serve: the catch-all Ingress (a `defaultBackend` and no rule,
 *   which Traefik turns into its lowest-priority router) answers `404.html` with status 404;
 * - an upstream error (502/503/504: an app down or in maintenance): Traefik's `errors`
 *   middleware on the HTTPS entry point fetches `/<status>.html` and sends it with the
 *   original status.
 * An app's own 404 (or any 4xx) passes through untouched: Matrix clients need Synapse's JSON
 * errors (`M_NOT_FOUND`), Nextcloud its WebDAV bodies.
 *
 * The pages are plain HTML in a ConfigMap, served by BusyBox `httpd` (static files by path;
 * `E404` names the page of unknown paths).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS, PLATFORM } from "../conventions";
import { IMAGES } from "../versions";
import { SHARED_REPLICAS, podDisruptionBudget, spreadOverNodes } from "../ops/availability";

/** Status codes Teapot has a page for. */
export const ERROR_CODES = [404, 502, 503, 504] as const;
/** Upstream errors the edge replaces with Teapot's page (never 4xx: apps' own bodies stay). */
export const UPSTREAM_ERROR_CODES = [502, 503, 504] as const;
export const ERROR_PAGES_CONFIGMAP = "teapot-error-pages";
/** Service of the page server (port 80), in the edge's namespace. */
export const ERROR_PAGES_SERVICE = "teapot";
/** Port of the page server inside its pod (unprivileged: it runs as nobody). */
export const ERROR_PAGES_PORT = 8080;

const TEXTS: Record<number, { fr: string; en: string }> = {
  404: { fr: "Cette page n'existe pas (ou plus).", en: "This page does not exist (any more)." },
  502: { fr: "Le service ne répond pas. Nous sommes prévenus.", en: "The service is not answering. We have been alerted." },
  503: { fr: "Maintenance en cours : le service revient très vite.", en: "Maintenance in progress: the service will be back shortly." },
  504: { fr: "Le service met trop de temps à répondre. Réessayez dans un instant.", en: "The service is taking too long to answer. Please retry in a moment." },
};

/** HTML-escapes text for element content and attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** One page (self-contained HTML, no external resources). Configured values are escaped. */
export function errorPage(code: number, contact: string): string {
  const t = TEXTS[code];
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${code} · Liiibre</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:3rem;margin:0}p{line-height:1.5}</style>
</head><body><h1>${code} 🫖</h1><p>${t.fr}</p><p lang="en">${t.en}</p><p><small>Liiibre · ${escapeHtml(contact)}</small></p></body></html>
`;
}

/** Where the server's container mounts the pages (BusyBox httpd's home) and its configuration. */
export const PAGES_DIR = "/www";
export const HTTPD_CONF_DIR = "/etc/teapot";

/**
 * BusyBox httpd configuration: unknown paths get the 404 page with status 404 (`E404:` takes the
 * page's absolute path). `dir` is only changed by the test that runs the real BusyBox on the
 * generated files (test/error-pages-httpd.test.ts).
 */
export const httpdConf = (dir: string = PAGES_DIR): string => `E404:${dir}/404.html\n`;
export const HTTPD_CONF = httpdConf();

/** The page server's command line (BusyBox httpd in the foreground). */
export const httpdCommand = (port: number, dir: string = PAGES_DIR, confDir: string = HTTPD_CONF_DIR): string[] => ["httpd", "-f", "-p", String(port), "-h", dir, "-c", `${confDir}/httpd.conf`];

/** The ConfigMap data: one `<code>.html` per page, and `httpd.conf` (pure). */
export function errorPagesData(contact: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const code of ERROR_CODES) data[`${code}.html`] = errorPage(code, contact);
  data["httpd.conf"] = HTTPD_CONF;
  return data;
}

export interface ErrorPagesArgs {
  namespace: pulumi.Input<string>;
  /** Contact shown on the pages. */
  contact: string;
  provider: k8s.Provider;
  /** Node selector and tolerations of the page server. Default: any node. */
  nodeSelector?: Record<string, string>;
  tolerations?: k8s.types.input.core.v1.Toleration[];
}

export class ErrorPages extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly service: k8s.core.v1.Service;
  /** The catch-all Ingress (unknown hosts). */
  readonly catchAll: k8s.networking.v1.Ingress;

  constructor(name: string, args: ErrorPagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:ErrorPages", name, {}, opts);
    const o = { parent: this, provider: args.provider };
    const labels = { [LABELS.layer]: "platform", "app.kubernetes.io/name": ERROR_PAGES_SERVICE, "app.kubernetes.io/part-of": "liiibre" };
    const selector = { "app.kubernetes.io/name": ERROR_PAGES_SERVICE };
    this.configMap = new k8s.core.v1.ConfigMap(
      name,
      { metadata: { name: ERROR_PAGES_CONFIGMAP, namespace: args.namespace, labels: { [LABELS.layer]: "platform" } }, data: errorPagesData(args.contact) },
      o,
    );
    const pages = ERROR_CODES.map((c) => ({ key: `${c}.html`, path: `${c}.html` }));
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-server`,
      {
        metadata: { name: ERROR_PAGES_SERVICE, namespace: args.namespace, labels },
        spec: {
          replicas: SHARED_REPLICAS,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              nodeSelector: args.nodeSelector,
              tolerations: args.tolerations,
              // One per ingress node, and a budget: a drain never takes both.
              topologySpreadConstraints: spreadOverNodes(selector),
              securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "httpd",
                  image: `${IMAGES.errorPages.repository}:${IMAGES.errorPages.tag}`,
                  command: httpdCommand(ERROR_PAGES_PORT),
                  ports: [{ name: "http", containerPort: ERROR_PAGES_PORT, protocol: "TCP" }],
                  readinessProbe: { httpGet: { path: "/404.html", port: "http" }, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: "/404.html", port: "http" }, periodSeconds: 20 },
                  resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                  volumeMounts: [
                    { name: "pages", mountPath: PAGES_DIR, readOnly: true },
                    { name: "conf", mountPath: HTTPD_CONF_DIR, readOnly: true },
                  ],
                },
              ],
              volumes: [
                { name: "pages", configMap: { name: ERROR_PAGES_CONFIGMAP, items: pages } },
                { name: "conf", configMap: { name: ERROR_PAGES_CONFIGMAP, items: [{ key: "httpd.conf", path: "httpd.conf" }] } },
              ],
            },
          },
        },
      },
      { ...o, dependsOn: [this.configMap] },
    );
    podDisruptionBudget(`${name}-budget`, { name: ERROR_PAGES_SERVICE, namespace: args.namespace, replicas: SHARED_REPLICAS, matchLabels: selector, labels }, o);
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: ERROR_PAGES_SERVICE, namespace: args.namespace, labels },
        spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
      },
      { ...o, dependsOn: [deployment] },
    );
    // Unknown hosts: an Ingress with only a default backend. Traefik makes it the router
    // `PathPrefix(/)` with the lowest possible priority, below every host's routes (a Gateway API
    // route without hostname would rank above Ingress routers: docs/ingress.md, "Error pages").
    this.catchAll = new k8s.networking.v1.Ingress(
      `${name}-catch-all`,
      {
        metadata: { name: `${ERROR_PAGES_SERVICE}-catch-all`, namespace: args.namespace, labels },
        spec: { ingressClassName: PLATFORM.ingressClass, defaultBackend: { service: { name: ERROR_PAGES_SERVICE, port: { name: "http" } } } },
      },
      { ...o, dependsOn: [this.service] },
    );
    this.registerOutputs({});
  }
}
