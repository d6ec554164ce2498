/**
 * Host name prefixes: the one home of every `<prefix>.<domain>` the estate serves. App hosts sit
 * under a tenant's domain (the catalogue ./apps.ts lists them per app), the co-op's shared hosts
 * under `sharedServices.baseDomain` unless the config names them (`keycloak.host`, `jitsi.host`).
 */

/** Prefixes of the hosts an app serves under its domain. */
export const HOST_PREFIXES = {
  nextcloud: "cloud",
  onlyoffice: "office",
  collabora: "collabora",
  /** Synapse (the homeserver). */
  matrix: "matrix",
  /** Element (the web client). */
  element: "chat",
  hedgedoc: "pad",
  etherpad: "etherpad",
  discourse: "forum",
  mobilizon: "events",
  decidim: "participer",
  grist: "grist",
  /** Jitsi Meet: the shared instance's default host and a dedicated instance's host. */
  jitsi: "meet",
  /** The shared Keycloak's default host. */
  keycloak: "auth",
  /** Grafana, under the base domain. */
  grafana: "grafana",
} as const;

/** `<prefix>.<domain>`. */
export const hostOf = (prefix: string, domain: string): string => `${prefix}.${domain}`;

/** The co-op's shared hosts: the configured ones, else their prefix under the base domain. */
export function coopHosts(ss: { baseDomain: string; keycloak?: { host?: string }; jitsi?: { host?: string } }): { keycloak: string; jitsi: string; grafana: string } {
  return {
    keycloak: ss.keycloak?.host ?? hostOf(HOST_PREFIXES.keycloak, ss.baseDomain),
    jitsi: ss.jitsi?.host ?? hostOf(HOST_PREFIXES.jitsi, ss.baseDomain),
    grafana: hostOf(HOST_PREFIXES.grafana, ss.baseDomain),
  };
}
