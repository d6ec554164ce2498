/**
 * The connections each workload of the estate needs, and those that must never exist, as data
 * (read by the estate twin's network checks: docs/twin.md). Apps are keyed like the catalogue
 * (components/config/apps.ts); platform needs apply to every instance of a component.
 *
 * Targets are named by what they are, not by address: the twin resolves them against the
 * estate (a bundle's database by its name, a public host through the ingress nodes and the
 * Ingress serving it, the Kubernetes API as the controllers' addresses on 6443 after the
 * Service's DNAT, the Helsinki backup endpoint as the backup server's public address).
 */
import type { AppName } from "./config/apps";
import { HOST_PREFIXES } from "./config/hosts";

export type ConnectionTarget =
  /** The bundle's PostgreSQL database of that name (its CloudNativePG `-rw` Service). */
  | { database: string }
  /** A Service of the bundle's namespace (or `namespace`), by name and port (number or name). */
  | { service: string; port: number | string; namespace?: string }
  /** A public host (`{domain}` = the bundle's domain, `{s3}` the primary S3 host, `{auth}` Keycloak's host), through the ingress. */
  | { publicHost: string }
  /** The Kubernetes API (kubernetes.default → controllers:6443). */
  | { kubernetesApi: true }
  /** The Helsinki backup object store (HTTPS). */
  | { helsinki: true }
  /** The Internet (a public address), on a port. */
  | { internet: number };

export interface ConnectionNeed {
  /** Pods of the app that open the connection, by labels (matched against the bundle's pod templates). */
  from: Record<string, string>;
  to: ConnectionTarget;
  why: string;
  /** Needed only where such pods run (e.g. a proxy deployed with `ha` only). Default false: the pods must exist. */
  ifPresent?: boolean;
}

const appPods = (name: string) => ({ "app.kubernetes.io/name": name });

/** Per app of the catalogue: the connections its pods open. */
export const APP_CONNECTIONS: Partial<Record<AppName, ConnectionNeed[]>> = {
  nextcloud: [
    { from: appPods("nextcloud"), to: { database: "nextcloud" }, why: "Nextcloud's database" },
    { from: appPods("nextcloud"), to: { service: "nextcloud-redis", port: 6379 }, why: "file locking and sessions in Redis" },
    { from: appPods("nextcloud"), to: { publicHost: "{s3}" }, why: "primary object storage (MinIO)" },
    { from: appPods("nextcloud"), to: { publicHost: "{auth}" }, why: "OIDC login through Keycloak (user_oidc)" },
  ],
  onlyoffice: [
    { from: appPods("nextcloud"), to: { publicHost: `${HOST_PREFIXES.onlyoffice}.{domain}` }, why: "Nextcloud → OnlyOffice Document Server" },
    { from: appPods("onlyoffice"), to: { publicHost: `${HOST_PREFIXES.nextcloud}.{domain}` }, why: "OnlyOffice → Nextcloud callbacks (save)" },
  ],
  collabora: [
    { from: appPods("nextcloud"), to: { publicHost: `${HOST_PREFIXES.collabora}.{domain}` }, why: "Nextcloud → Collabora (WOPI discovery)" },
    { from: appPods("collabora"), to: { publicHost: `${HOST_PREFIXES.nextcloud}.{domain}` }, why: "Collabora → Nextcloud WOPI" },
    // With `ha`, the edge reaches Collabora through its hashing proxy (components/apps/collabora-proxy.ts).
    { from: appPods("collabora-haproxy"), to: { service: "collabora-pods", port: 9980 }, why: "the hashing proxy → Collabora's pods", ifPresent: true },
  ],
  matrix: [
    { from: appPods("synapse"), to: { database: "synapse" }, why: "Synapse's database" },
    { from: appPods("synapse"), to: { publicHost: "{s3}" }, why: "media store (synapse-s3-storage-provider)" },
    { from: appPods("synapse"), to: { publicHost: "{auth}" }, why: "OIDC login through Keycloak" },
    { from: appPods("synapse"), to: { internet: 8448 }, why: "Matrix federation (must stay on)" },
  ],
  hedgedoc: [
    { from: appPods("hedgedoc"), to: { database: "hedgedoc" }, why: "HedgeDoc's database" },
    { from: appPods("hedgedoc"), to: { publicHost: "{s3}" }, why: "uploads (MinIO)" },
    { from: appPods("hedgedoc"), to: { publicHost: "{auth}" }, why: "OAuth2 login through Keycloak" },
  ],
};

/**
 * Apps whose requests of one document must all reach the same pod (document affinity), as data:
 * their pods and the request parameter that carries the document's key. With several such pods,
 * the edge may only reach them through a proxy hashing that parameter (the twin's
 * `document-affinity` check); Traefik balances by round robin, p2c, cookie or client address.
 */
export const DOCUMENT_AFFINITY: Partial<Record<AppName, { pods: Record<string, string>; param: string; why: string }>> = {
  collabora: { pods: appPods("collabora"), param: "WOPISrc", why: "co-editing and the clipboard of a document live in the coolwsd pod that opened it" },
};

/** Platform components: what every instance needs. */
export const PLATFORM_CONNECTIONS = {
  /** Every CloudNativePG instance pod (instance manager: API watch, WAL archiving). */
  postgresInstance: [
    { to: { kubernetesApi: true }, why: "CloudNativePG instance manager watches its Cluster and updates its status" },
    { to: { helsinki: true }, why: "barman-cloud archives WAL and base backups to Helsinki" },
  ] as Array<{ to: ConnectionTarget; why: string }>,
  /** k8up backup pods in every namespace with a Schedule. */
  k8upBackup: [
    { to: { kubernetesApi: true }, why: "k8up's backup pod lists the PVCs and pods to back up" },
    { to: { helsinki: true }, why: "restic writes the repository in Helsinki" },
  ] as Array<{ to: ConnectionTarget; why: string }>,
  /** Prometheus (namespace monitoring) → scrape targets. */
  prometheus: [
    { targetLabels: { "cnpg.io/podRole": "instance" }, port: 9187, why: "PostgreSQL metrics of every CloudNativePG instance" },
  ],
};

/**
 * Connections that must never be possible: tenant → another tenant (any of its pods, its
 * database in particular) and the Internet → administration ports of the nodes.
 */
export const FORBIDDEN = {
  crossTenantPorts: [5432, 6379, 80, 8080, 3000],
  adminPorts: [22, 6443, 10250, 2379, 2380, 9443, 8132],
};
