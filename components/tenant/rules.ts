/**
 * Config rules of the tenants (components/tenant): unique slugs and domains, reserved slugs,
 * plans and quotas (`tenantRules`), bundles and identity (`bundleRules`), and host names
 * (`hostRules`). Assembled by components/estate.ts.
 */
import { APPS, type AppName } from "../config/apps";
import { coopHosts, hostOf } from "../config/hosts";
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import { duplicates, within, type Rule } from "../config/rules";
import { RESERVED_SLUGS, RESERVED_SLUG_PREFIXES, isReservedSlug } from "../conventions";
import { appRules, nextcloudModeRules } from "../apps/rules";

export const tenantRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  out.push(...duplicates(e.tenants, (t) => t.slug, (i) => ["tenants", i, "slug"], "slug"));
  out.push(...duplicates(e.tenants, (t) => t.domain, (i) => ["tenants", i, "domain"], "domain"));
  const shared = e.sharedServices.sharedInstance;
  const reserved = new Set([...RESERVED_SLUGS, shared.slug]);
  const cap = e.offer.quotaPerUserGB;
  e.tenants.forEach((t, i) => {
    if (isReservedSlug(t.slug, [...reserved])) {
      out.push({ path: keyPath(["tenants", i, "slug"]), message: `expected a slug not reserved by the platform (${[...reserved].join(", ")}; nor starting with ${RESERVED_SLUG_PREFIXES.join(", ")}), got ${describe(t.slug)}` });
    }
    out.push(...appRules(t.apps, ["tenants", i, "apps"]));
    out.push(...nextcloudModeRules({ mode: t.nextcloud, apps: t.apps, ha: t.ha ?? t.users > e.operations.haAboveUsers, plan: t.plan }, ["tenants", i, "nextcloud"]));
    if (t.plan === "shared") {
      t.apps.forEach((a, j) => {
        if (!shared.apps.includes(a)) {
          out.push({
            path: keyPath(["tenants", i, "apps", j]),
            message: `expected an app of the shared instance (${shared.apps.join(" | ")}) for plan "shared", got ${describe(a)}; use plan "dedicated" for it`,
          });
        }
      });
      if (t.dedicatedRealm) out.push({ path: keyPath(["tenants", i, "dedicatedRealm"]), message: `expected false for plan "shared" (the shared instance lives in the estate realm), got true` });
    } else if (t.crossOrganisationSharing) {
      out.push({ path: keyPath(["tenants", i, "crossOrganisationSharing"]), message: `expected false for plan "dedicated" (only the shared instance's organisations share an instance), got true` });
    }
    if (t.quotaPerUserGB !== undefined && t.quotaPerUserGB > cap && !t.exemption) {
      out.push({
        path: keyPath(["tenants", i, "quotaPerUserGB"]),
        message: `expected at most ${cap} (the offer's per-user cap, liiibre:offer.quotaPerUserGB) unless the tenant has exemption.reason, got ${t.quotaPerUserGB}`,
      });
    }
    if (t.exemption && (t.quotaPerUserGB === undefined || t.quotaPerUserGB <= cap)) {
      out.push({
        path: keyPath(["tenants", i, "exemption"]),
        message: `expected only with a quotaPerUserGB above the offer's cap of ${cap}, got an exemption with quotaPerUserGB ${describe(t.quotaPerUserGB)}`,
      });
    }
  });
  return out;
};

/**
 * Tenant bundles and identity (components/tenant, components/shared): a dedicated realm is
 * named after the slug, so it may not take Keycloak's `master` or the estate realm's name;
 * the shared instance has one per-user quota (the offer's), so an exemption needs `dedicated`.
 */
export const bundleRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const taken = ["master", e.sharedServices.keycloak.realm];
  e.tenants.forEach((t, i) => {
    if (t.dedicatedRealm && taken.includes(t.slug)) {
      out.push({ path: keyPath(["tenants", i, "slug"]), message: `expected a slug other than ${taken.map((x) => describe(x)).join(" and ")} for a tenant with dedicatedRealm (its realm takes the slug's name), got ${describe(t.slug)}` });
    }
    if (t.plan === "shared" && t.exemption) {
      out.push({ path: keyPath(["tenants", i, "exemption"]), message: `expected no exemption for plan "shared" (the shared instance applies the offer's per-user quota); use plan "dedicated", got an exemption` });
    }
  });
  return out;
};

/**
 * Host names: every co-op host is outside every tenant domain, every tenant domain is outside
 * the co-op's domains and every other tenant's domain and hosts, and every host fits DNS (253).
 */
export const hostRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const ss = e.sharedServices;
  // The co-op's hosts: a tenant domain may be neither one of them, under one, nor above one.
  // Under the base domain itself is allowed (temporary domains of a two-pass migration).
  const hosts = coopHosts(ss);
  const coop: Array<[string, string]> = [
    [ss.sharedInstance.domain, "sharedServices.sharedInstance.domain"],
    [hosts.keycloak, "sharedServices.keycloak.host"],
    [hosts.jitsi, "sharedServices.jitsi.host"],
    [hosts.grafana, "sharedServices.baseDomain (Grafana)"],
    [e.storage.s3Domain, "storage.s3Domain"],
    [e.backup.s3Domain, "backup.s3Domain"],
    [e.cluster.apiDomain, "cluster.apiDomain"],
  ];
  const hostsOf = (domain: string, apps: AppName[]) => [...new Set(apps.flatMap((a) => APPS[a].hosts))].map((h) => hostOf(h, domain));
  const tenantHosts = e.tenants.map((t) => (t.plan === "dedicated" ? hostsOf(t.domain, t.apps) : []));
  const sharedHosts = hostsOf(ss.sharedInstance.domain, ss.sharedInstance.apps);
  e.tenants.forEach((t, i) => {
    const at = keyPath(["tenants", i, "domain"]);
    const clash = coop.find(([d]) => within(t.domain, d) || within(d, t.domain)) ?? (within(ss.baseDomain, t.domain) ? [ss.baseDomain, "sharedServices.baseDomain"] : undefined);
    if (clash) {
      out.push({ path: at, message: `expected a domain disjoint from the co-op's hosts (neither equal to, under nor above ${clash[0]}, liiibre:${clash[1]}), got ${describe(t.domain)}` });
      return;
    }
    for (let j = 0; j < e.tenants.length; j++) {
      if (j === i) continue;
      const o = e.tenants[j];
      // Equal domains are the duplicate rule's (tenants[].domain unique); here: t inside o.
      if (t.domain === o.domain) continue;
      const hit = [o.domain, ...tenantHosts[j]].find((h) => within(t.domain, h));
      if (hit) {
        out.push({ path: at, message: `expected a domain disjoint from the other tenants' domains and hosts, got ${describe(t.domain)} (inside ${hit} of liiibre:tenants[${j}], ${o.slug})` });
        break;
      }
    }
    for (const h of tenantHosts[i]) {
      if (h.length > 253) out.push({ path: at, message: `expected a domain short enough for its app hosts (at most 253 characters), got ${describe(t.domain)} (host ${h.slice(0, 40)}… has ${h.length})` });
    }
  });
  for (const h of sharedHosts) {
    if (h.length > 253) out.push({ path: keyPath(["sharedServices", "sharedInstance", "domain"]), message: `expected a domain short enough for its app hosts (at most 253 characters), got a host of ${h.length}` });
  }
  return out;
};
