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

/** The pack's name, description and default enforcement (`new PolicyPack(PACK.name, …)`). */
export const PACK = {
  name: "liiibre",
  description: "The rules of the Liiibre offer: storage per account, 720p video, off-site backups, protected data, EU locations, closed admin ports and admin surfaces, isolated tenants, pinned versions, secret credentials, every route on a served class.",
  enforcementLevel: "mandatory" as EnforcementLevel,
};

/** Every policy object of the pack, in the pack's order. */
export const POLICIES: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [
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
