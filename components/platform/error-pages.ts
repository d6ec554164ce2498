/**
 * "Teapot": the co-op's error and maintenance pages, served by ingress-nginx's default
 * backend for every host it does not know and for the upstream errors listed in
 * `custom-http-errors` (502/503/504: an app down or in maintenance).
 * The pages are plain HTML in a ConfigMap mounted at /www (`<code>.html`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "../conventions";

/** Status codes ingress-nginx hands to the default backend. */
export const ERROR_CODES = [404, 502, 503, 504] as const;
export const ERROR_PAGES_CONFIGMAP = "teapot-error-pages";

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

export interface ErrorPagesArgs {
  namespace: pulumi.Input<string>;
  /** Contact shown on the pages. */
  contact: string;
  provider: k8s.Provider;
}

export class ErrorPages extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap;

  constructor(name: string, args: ErrorPagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:platform:ErrorPages", name, {}, opts);
    const data: Record<string, string> = {};
    for (const code of ERROR_CODES) data[`${code}.html`] = errorPage(code, args.contact);
    this.configMap = new k8s.core.v1.ConfigMap(
      name,
      { metadata: { name: ERROR_PAGES_CONFIGMAP, namespace: args.namespace, labels: { [LABELS.layer]: "platform" } }, data },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({});
  }
}
