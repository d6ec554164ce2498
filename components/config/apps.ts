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

/**
 * The suffix of a dedicated organisation's one bucket (`tenants[].buckets: organisation`,
 * docs/storage.md#buckets): `<slug>-apps`. No app's own suffix may be (or end with) it.
 */
export const ORGANISATION_BUCKET_SUFFIX = "apps";

/**
 * Every suffix a primary bucket `<slug>-<suffix>` can have: each app's (deployable or not, so that
 * enabling one changes nothing here) and the organisation bucket's. Read by the pool alert, the
 * replication target's policy, the config's bucket rules and the twin.
 */
export const BUCKET_SUFFIXES: readonly string[] = [...new Set([...Object.values(APPS).flatMap((a) => a.buckets), ORGANISATION_BUCKET_SUFFIX])].sort();

/**
 * Keys an app writes at fixed places it cannot be told to move: HedgeDoc 1.x's uploaders put
 * every image at `uploads/<uuid v4>.<ext>` of `CMD_S3_BUCKET` (no prefix setting; its image
 * URLs are built from it), so in the organisation bucket its prefix is the bucket's root.
 */
const FIXED_KEYS: Readonly<Record<string, string>> = { hedgedoc: "" };

/**
 * Where the files of an app's bucket suffix go in the organisation bucket: the prefix `<suffix>/`
 * (Nextcloud's `objectPrefix`, synapse-s3-storage-provider's `prefix`), except for an app that
 * cannot be given one (FIXED_KEYS). Prefixes never overlap: none is a prefix of another's keys.
 */
export const organisationBucketPrefix = (suffix: string): string => FIXED_KEYS[suffix] ?? `${suffix}/`;
