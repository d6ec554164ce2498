/**
 * `mail-relay` (mandatory): every app that sends transactional mail sends it through the
 * co-op's relay (docs/mail.md), never directly nor not at all (a password reset that never
 * arrives is an outage). What is checked, by meaning:
 * - a Keycloak realm (`keycloak:index/realm:Realm`): `smtpServer.host` is the relay;
 * - a Nextcloud release (chart `nextcloud`): `nextcloud.mail.enabled` and an SMTP host that is the
 *   relay — in the values, or in the `existingSecret` the chart reads it from (`smtpHostKey`);
 * - a Synapse release (chart `matrix-stack`/`matrix-synapse`): an `email.smtp_host` that is the
 *   relay, in an `additional` config or in the Secret an `additional` entry names (`configSecret`);
 * - kube-prometheus-stack: when a receiver has `email_configs`, the global or per-receiver
 *   `smarthost` is the relay.
 * HedgeDoc 1.x sends no mail, so it is not checked. `relayHost` empty accepts any host (the
 * check is then only "some relay is configured").
 */
import type { StackValidationPolicy, PolicyResource } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { TYPES, chartName, config, eachResource, get, isObject, metadata, namespaceOf, objects } from "./lib";

export interface MailRelayConfig {
  /** Host name of the relay (`liiibre:mail.host`). Default "" (any configured host). */
  relayHost: string;
}
export const MAIL_RELAY_DEFAULTS: MailRelayConfig = { relayHost: "" };

const REALM = "keycloak:index/realm:Realm";
const SYNAPSE_CHARTS = /^(matrix-stack|matrix-synapse|synapse)$/i;

/** Host part of `host`, `host:port`. */
const hostPart = (v: unknown): string => (typeof v === "string" ? v.replace(/:\d+$/, "").trim().toLowerCase() : "");

function secretData(resources: PolicyResource[], namespace: string, name: unknown): Record<string, unknown> | undefined {
  const s = resources.find((r) => r.type === TYPES.secret && metadata(r.props).name === name && namespaceOf(r.type, r.props) === namespace);
  if (!s) return undefined;
  const out: Record<string, unknown> = {};
  if (isObject(s.props.stringData)) Object.assign(out, s.props.stringData);
  if (isObject(s.props.data)) for (const [k, v] of Object.entries(s.props.data)) if (typeof v === "string") out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

/** Every `email.smtp_host` in YAML text or objects. */
function synapseSmtpHosts(value: unknown): string[] {
  const hosts: string[] = [];
  const visit = (v: unknown) => {
    for (const { value: o } of objects(v)) if (isObject(o.email) && o.email.smtp_host) hosts.push(hostPart(o.email.smtp_host));
  };
  if (typeof value === "string") {
    try {
      visit(parseYaml(value));
    } catch {
      /* not YAML */
    }
  } else visit(value);
  return hosts;
}

export const mailRelay: StackValidationPolicy = {
  name: "mail-relay",
  description: "Apps that send mail (Keycloak, Nextcloud, Synapse, Alertmanager) send it through the co-op's relay.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { relayHost: { type: "string", default: MAIL_RELAY_DEFAULTS.relayHost } } },
  validateStack: (args, report) => {
    const c = config(args, MAIL_RELAY_DEFAULTS);
    const want = c.relayHost.toLowerCase();
    const isRelay = (h: string) => (want ? h === want : h !== "");
    const expected = want ? `the relay ${want}` : "a relay";
    eachResource(report, args.resources, (r) => {
      const p = r.props;
      if (r.type === REALM) {
        const h = hostPart(get(p, "smtpServer", "host"));
        if (!isRelay(h)) report(`Keycloak realm ${p.realm ?? r.name} sends password resets without ${expected} (smtpServer.host is ${h || "unset"})`, r.urn);
        return;
      }
      if (r.type !== TYPES.helmRelease) return;
      const chart = chartName(p);
      const ns = namespaceOf(r.type, p);
      if (chart === "nextcloud") {
        const mail = get(p, "values", "nextcloud", "mail");
        let h = hostPart(get(mail, "smtp", "host"));
        const es = get(p, "values", "nextcloud", "existingSecret");
        if (isObject(es) && es.enabled !== false && es.smtpHostKey) {
          const data = secretData(args.resources, ns, es.secretName);
          if (data && data[es.smtpHostKey as string] !== undefined) h = hostPart(data[es.smtpHostKey as string]);
        }
        if (!isObject(mail) || mail.enabled !== true) report(`Nextcloud in ${ns} sends shares and notifications with mail disabled (nextcloud.mail.enabled is not true)`, r.urn);
        else if (!isRelay(h)) report(`Nextcloud in ${ns} does not send through ${expected} (SMTP host ${h || "unset"})`, r.urn);
        return;
      }
      if (SYNAPSE_CHARTS.test(chart)) {
        if (get(p, "values", "synapse", "enabled") === false) return;
        const hosts: string[] = [];
        const additional = get(p, "values", "synapse", "additional");
        if (isObject(additional)) {
          for (const entry of Object.values(additional)) {
            if (!isObject(entry)) continue;
            if (entry.config !== undefined) hosts.push(...synapseSmtpHosts(entry.config));
            if (entry.configSecret) {
              const data = secretData(args.resources, ns, entry.configSecret);
              const text = data?.[String(entry.configSecretKey)];
              if (text !== undefined) hosts.push(...synapseSmtpHosts(text));
            }
          }
        }
        if (!hosts.some(isRelay)) report(`Synapse in ${ns} sends notifications without ${expected} (email.smtp_host is ${hosts.join(", ") || "unset"})`, r.urn);
        return;
      }
      if (chart === "kube-prometheus-stack") {
        const cfg = get(p, "values", "alertmanager", "config");
        const receivers = get(cfg, "receivers");
        if (!Array.isArray(receivers)) return;
        const global = hostPart(get(cfg, "global", "smtp_smarthost"));
        for (const rec of receivers) {
          for (const ec of (isObject(rec) && Array.isArray(rec.email_configs) ? rec.email_configs : []) as unknown[]) {
            const h = hostPart(get(ec, "smarthost")) || global;
            if (!isRelay(h)) report(`Alertmanager receiver ${rec.name} e-mails without ${expected} (smarthost ${h || "unset"})`, r.urn);
          }
        }
      }
    });
  },
};
