/**
 * The Liiibre policy pack: the offer's rules as CrossGuard policies.
 *
 *   pulumi preview --policy-pack policies --policy-pack-config policies/prod.json
 *
 * One policy per file; this file only assembles them (docs/policies.md). The offline runner
 * (scripts/check-policies.ts) reads the list below from this file's source and loads the very
 * same policy objects without creating the pack (creating it starts the analyzer server):
 * keep one `import { x } from "./file";` per policy and the `policies: [...]` array.
 */
import { PolicyPack } from "@pulumi/policy";
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

new PolicyPack("liiibre", {
  description: "The rules of the Liiibre offer: storage per account, 720p video, off-site backups, protected data, EU locations, closed admin ports and admin surfaces, isolated tenants, pinned versions, secret credentials, every route on a served class.",
  enforcementLevel: "mandatory",
  policies: [
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
  ],
});
