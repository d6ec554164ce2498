/**
 * The DNS guide as data: the exact records an organisation creates in its own zone for its
 * dedicated bundle, and the URLs of its apps. `npm run plan` prints them per tenant
 * (scripts/plan-model.ts `DnsRecord`); docs/dns.md explains them to the organisation.
 */
import { APPS, HOST_PREFIXES, hostOf, type AppName } from "../config";
import { matrixWellKnown } from "../apps/matrix";

export interface DnsRecord {
  name: string;
  type: "A" | "AAAA" | "CNAME" | "SRV" | "TXT";
  value: string;
  purpose?: string;
}

/** Where app hosts must point: the ingress nodes' public addresses. */
export interface IngressTarget {
  ipv4: string[];
  ipv6: string[];
}

/** Host names a set of apps serves under `domain` (catalogue order, no duplicates). */
export function appHosts(apps: AppName[], domain: string): string[] {
  const out: string[] = [];
  for (const a of apps) for (const p of APPS[a].hosts) if (!out.includes(hostOf(p, domain))) out.push(hostOf(p, domain));
  return out;
}

/**
 * Records for a dedicated bundle: one A (and AAAA) per host and ingress address, and the
 * Matrix federation delegation (SRV) when the bundle has Matrix. The Matrix client
 * delegation is not DNS: see `matrixDelegation`.
 */
export function dnsRecords(apps: AppName[], domain: string, target: IngressTarget): DnsRecord[] {
  const records: DnsRecord[] = [];
  for (const host of appHosts(apps, domain)) {
    const app = apps.find((a) => APPS[a].hosts.some((p) => hostOf(p, domain) === host));
    const purpose = app ? `${APPS[app].title}` : undefined;
    for (const ip of [...target.ipv4].sort()) records.push({ name: host, type: "A", value: ip, purpose });
    for (const ip of [...target.ipv6].sort()) records.push({ name: host, type: "AAAA", value: ip, purpose });
  }
  if (apps.includes("matrix")) {
    records.push({
      name: `_matrix-fed._tcp.${domain}`,
      type: "SRV",
      value: `10 0 443 ${hostOf(HOST_PREFIXES.matrix, domain)}.`,
      purpose: `Matrix federation delegation for @user:${domain} (unless https://${domain}/.well-known/matrix/server is served, see docs/dns.md)`,
    });
  }
  return records;
}

/** The files an organisation with Matrix serves on `https://<domain>/.well-known/matrix/`. */
export function matrixDelegation(domain: string): Record<string, string> {
  const wk = matrixWellKnown(domain);
  return { [`https://${domain}/.well-known/matrix/client`]: JSON.stringify(wk.client), [`https://${domain}/.well-known/matrix/server`]: JSON.stringify(wk.server) };
}
