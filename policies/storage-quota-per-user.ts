/**
 * `storage-quota-per-user` (mandatory): no account gets more than the offer's per-user storage
 * (default 10 GB, 1 GB = 1024³ bytes like Nextcloud) unless its organisation carries an explicit
 * exemption with a reason (namespace annotation `liiibre.org/quota-exemption`). Checked on:
 * - the tenant namespace's declared per-user quota (`liiibre.org/quota-per-user-gb`);
 * - every Nextcloud quota setting found in the tenant's resources: `files default_quota`
 *   (occ config:app:set, config values, php arrays) and per-user `files quota`
 *   (occ user:setting). "none" (unlimited) counts as above the cap.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ANNOTATIONS } from "../components/conventions";
import { TYPES, WORKLOAD_TYPES, config, eachResource, formatGB, objects, parseSize, strings } from "./lib";
import { tenantNamespaces, tenantOfObject } from "./tenants";

export interface StorageQuotaConfig {
  /** Per-user cap in GB (binary). Default 10. */
  maxPerUserGB: number;
}
export const STORAGE_QUOTA_DEFAULTS: StorageQuotaConfig = { maxPerUserGB: 10 };
const GB = 1024 ** 3;

export interface QuotaSetting {
  what: "default quota" | "user quota";
  text: string;
  bytes: number;
}

const SIZE = `(none|unlimited|\\d+(?:\\.\\d+)?\\s*(?:[KMGTP]i?B|[KMGTP]|B)?)\\b`;
const DEFAULT_QUOTA = new RegExp(`default_quota['"]?\\s*(?:--value[= ]|=>|[:=])\\s*['"]?${SIZE}`, "gi");
const USER_QUOTA = new RegExp(`user:setting\\s+\\S+\\s+files\\s+quota\\s+['"]?${SIZE}`, "gi");

/** Every Nextcloud quota setting in a value (structured keys and embedded text). */
export function nextcloudQuotas(value: unknown): QuotaSetting[] {
  const out: QuotaSetting[] = [];
  const add = (what: QuotaSetting["what"], text: string) => {
    const bytes = parseSize(text);
    if (bytes !== undefined) out.push({ what, text: text.trim(), bytes });
  };
  for (const { value: obj } of objects(value)) {
    for (const k of Object.keys(obj)) {
      if (/^default_?quota$/i.test(k) && (typeof obj[k] === "string" || typeof obj[k] === "number")) add("default quota", String(obj[k]));
    }
  }
  for (const s of strings(value)) {
    for (const m of s.matchAll(DEFAULT_QUOTA)) add("default quota", m[1]);
    for (const m of s.matchAll(USER_QUOTA)) add("user quota", m[1]);
  }
  return out;
}

/** Resource types whose inputs may carry Nextcloud settings. */
const CARRIERS: string[] = [TYPES.helmRelease, TYPES.configMap, ...WORKLOAD_TYPES, "command:local:Command", "command:remote:Command"];

export const storageQuotaPerUser: StackValidationPolicy = {
  name: "storage-quota-per-user",
  description: "No account gets more than the per-user storage cap (10 GB) unless its organisation has an explicit exemption with a reason.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxPerUserGB: { type: "number", exclusiveMinimum: 0, default: STORAGE_QUOTA_DEFAULTS.maxPerUserGB } } },
  validateStack: (args, report) => {
    const { maxPerUserGB } = config(args, STORAGE_QUOTA_DEFAULTS);
    const cap = maxPerUserGB * GB;
    const namespaces = tenantNamespaces(args.resources, report);
    // One violation per tenant: its namespace when the declared quota is over the cap, else each
    // resource carrying an over-cap Nextcloud quota.
    const reported = new Set<string>();
    for (const ns of namespaces.values()) {
      if (ns.quotaPerUserGB !== undefined && ns.quotaPerUserGB > maxPerUserGB && !ns.exemption) {
        reported.add(ns.name);
        report(`${ns.tenant}: ${ns.quotaPerUserGB} GB per user exceeds the ${maxPerUserGB} GB cap and the namespace has no ${ANNOTATIONS.quotaExemption} reason`, ns.urn);
      }
    }
    eachResource(report, args.resources.filter((r) => CARRIERS.includes(r.type)), (r) => {
      const ns = tenantOfObject(r, namespaces);
      if (ns?.exemption || (ns && reported.has(ns.name))) return;
      const over = nextcloudQuotas(r.props).filter((q) => q.bytes > cap);
      if (over.length) {
        const list = [...new Set(over.map((q) => `${q.what} "${q.text}" (${formatGB(q.bytes)})`))].join(", ");
        report(`${ns ? `${ns.tenant}: ` : ""}Nextcloud ${list} exceeds the ${maxPerUserGB} GB per-user cap${ns ? " and the organisation has no exemption" : ""}`, r.urn);
      }
    });
  },
};
