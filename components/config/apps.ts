/**
 * The catalogue of applications a tenant can select in `liiibre:tenants[].apps`.
 *
 * This is the one place that knows, per app: which other app it needs, whether the
 * project can deploy it yet, which S3 buckets it stores files in and which host names
 * it serves under the tenant's domain. Config validation, storage, the tenant bundle,
 * the DNS guide and the reports all read it from here.
 */

import { HOST_PREFIXES as H } from "./hosts";

/** Every app name the config accepts (the enum of `tenants[].apps`). */
export const APP_NAMES = [
  "nextcloud",
  "onlyoffice",
  "collabora",
  "matrix",
  "hedgedoc",
  "etherpad",
  "discourse",
  "mobilizon",
  "decidim",
  "grist",
  "jitsi-dedicated",
] as const;

export type AppName = (typeof APP_NAMES)[number];

export interface AppSpec {
  /** Human name used in reports. */
  title: string;
  /** Apps that must also be selected for this one to work. */
  requires: AppName[];
  /**
   * Whether this project deploys the app. An app that is not available is rejected by
   * config validation (never silently ignored).
   */
  available: boolean;
  /** Bucket name suffixes: the tenant gets one bucket `<slug>-<suffix>` per entry. */
  buckets: string[];
  /** Host name prefixes served under the tenant's domain (`<prefix>.<domain>`). */
  hosts: string[];
}

export const APPS: Record<AppName, AppSpec> = {
  nextcloud: { title: "Nextcloud", requires: [], available: true, buckets: ["nextcloud"], hosts: [H.nextcloud] },
  onlyoffice: { title: "OnlyOffice Document Server", requires: ["nextcloud"], available: true, buckets: [], hosts: [H.onlyoffice] },
  collabora: { title: "Collabora Online", requires: ["nextcloud"], available: true, buckets: [], hosts: [H.collabora] },
  matrix: { title: "Matrix (Synapse + Element)", requires: [], available: true, buckets: ["matrix-media"], hosts: [H.matrix, H.element] },
  hedgedoc: { title: "HedgeDoc", requires: [], available: true, buckets: ["hedgedoc"], hosts: [H.hedgedoc] },
  etherpad: { title: "Etherpad", requires: [], available: false, buckets: [], hosts: [H.etherpad] },
  discourse: { title: "Discourse", requires: [], available: false, buckets: ["discourse"], hosts: [H.discourse] },
  mobilizon: { title: "Mobilizon", requires: [], available: false, buckets: ["mobilizon"], hosts: [H.mobilizon] },
  decidim: { title: "Decidim", requires: [], available: false, buckets: ["decidim"], hosts: [H.decidim] },
  grist: { title: "Grist", requires: [], available: false, buckets: ["grist"], hosts: [H.grist] },
  "jitsi-dedicated": { title: "Dedicated Jitsi Meet", requires: [], available: true, buckets: [], hosts: [H.jitsi] },
};

/** Apps a `plan: shared` organisation can use: those of the shared instance. */
export const SHARED_INSTANCE_APPS: AppName[] = ["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc"];
