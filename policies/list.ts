/**
 * The pack as data: every policy of the Liiibre pack, in the pack's order, and the pack's own
 * name, description and default enforcement. policies/index.ts builds the `PolicyPack` from
 * this list; the offline runner (scripts/check-policies.ts), the tests and the docs read it here
 * (importing this module creates no pack, so it starts no analyzer server).
 *
 * Add a policy: its own file, then one import and one entry in `POLICIES` below.
 */
import type { EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { storageQuotaPerUser } from "./storage-quota-per-user";
import { storagePoolMatchesUsers } from "./storage-pool-matches-users";
import { videoMax720p } from "./video-max-720p";
import { backupsOffsite } from "./backups-offsite";
import { statefulProtected } from "./stateful-protected";
import { euLocationsOnly } from "./eu-locations-only";
import { firewallNoPublicAdmin } from "./firewall-no-public-admin";
import { tenantIsolation } from "./tenant-isolation";
import { noPublicBuckets } from "./no-public-buckets";
import { matrixDefaults } from "./matrix-defaults";
import { pinnedVersions } from "./pinned-versions";
import { secretsAreSecret } from "./secrets-are-secret";
import { smallOrgsShare } from "./small-orgs-share";
import { ingressClassServed } from "./ingress-class-served";
import { adminSurfacesRestricted } from "./admin-surfaces-restricted";
import { mailRelay } from "./mail-relay";
import { channelOrder } from "./channel-order";
import { judgingBundledObjects } from "./bundled";

/** The pack's name, description and default enforcement (`new PolicyPack(PACK.name, …)`). */
export const PACK = {
  name: "liiibre",
  description: "The rules of the Liiibre offer: storage per account, 720p video, off-site backups, protected data, EU locations, closed admin ports and admin surfaces, isolated tenants, pinned versions, secret credentials, every route on a served class.",
  enforcementLevel: "mandatory" as EnforcementLevel,
};

/** The policies as written, in the pack's order (POLICIES serves them wrapped). */
const WRITTEN: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [
  storageQuotaPerUser,
  storagePoolMatchesUsers,
  videoMax720p,
  backupsOffsite,
  statefulProtected,
  euLocationsOnly,
  firewallNoPublicAdmin,
  tenantIsolation,
  noPublicBuckets,
  matrixDefaults,
  pinnedVersions,
  secretsAreSecret,
  smallOrgsShare,
  adminSurfacesRestricted,
  mailRelay,
  channelOrder,
  ingressClassServed,
];

/**
 * Every policy object of the pack, in the pack's order, each judging bundled objects (an objects
 * release's `values.objects`, components/kit/objects.ts) exactly as it judges the same objects
 * declared as resources of their own (policies/bundled.ts, docs/policies.md#bundled-objects).
 * The analyzer (index.ts) and the offline runner serve these very objects.
 */
export const POLICIES: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = WRITTEN.map(judgingBundledObjects);

/**
 * Policies that never judge a Kubernetes object, with the reason: what they read (Hetzner
 * objects, MinIO buckets) cannot be an entry of an objects release. Every other policy has a
 * failing case where the bad object is bundled (test/policies-bundled.test.ts checks that the two
 * lists cover the pack).
 */
export const OBJECT_AGNOSTIC: Readonly<Record<string, string>> = {
  "eu-locations-only": "judges hcloud servers, volumes, load balancers, IPs and storage boxes only",
  "firewall-no-public-admin": "judges hcloud firewalls only",
  "no-public-buckets": "judges MinIO buckets and bucket policies only",
};

/** What a reader of the pack needs of a policy, as plain data. */
export interface PolicyEntry {
  /** The policy's name: a contract (reports, exemptions and the pack config use it). */
  name: string;
  /** Its own enforcement level, else the pack's. */
  enforcementLevel: EnforcementLevel;
  description: string;
  /** Its config schema (`policies/<stack>.json` sets these properties). */
  configSchema?: PolicyConfigSchema;
}

/** The pack's policies as data, in the pack's order. */
export const POLICY_LIST: readonly PolicyEntry[] = POLICIES.map((p) => ({
  name: p.name,
  enforcementLevel: p.enforcementLevel ?? PACK.enforcementLevel,
  description: p.description,
  ...(p.configSchema ? { configSchema: p.configSchema } : {}),
}));
