/**
 * Config rules of the shared services (components/shared): the shared instance's apps and slug,
 * the estate realm's name (`sharedInstanceRules`), and the shared Jitsi's resolution
 * (`videoRules`). Assembled by components/estate.ts.
 */
import { describe, keyPath } from "../config/errors";
import type { Rule } from "../config/rules";
import { RESERVED_SLUGS, RESERVED_SLUG_PREFIXES, isReservedSlug } from "../conventions";
import { appRules, nextcloudModeRules } from "../apps/rules";

export const sharedInstanceRules: Rule = (e) => {
  const out = appRules(e.sharedServices.sharedInstance.apps, ["sharedServices", "sharedInstance", "apps"]);
  // The shared instance always runs its stateless workloads twice (components/shared/sharedInstance.ts: ha).
  out.push(...nextcloudModeRules({ mode: e.sharedServices.sharedInstance.nextcloud, apps: e.sharedServices.sharedInstance.apps, ha: true }, ["sharedServices", "sharedInstance", "nextcloud"]));
  const slug = e.sharedServices.sharedInstance.slug;
  if (isReservedSlug(slug)) {
    out.push({ path: keyPath(["sharedServices", "sharedInstance", "slug"]), message: `expected a slug not reserved by the platform (${RESERVED_SLUGS.join(", ")}; nor starting with ${RESERVED_SLUG_PREFIXES.join(", ")}), got ${describe(slug)}` });
  }
  const realm = e.sharedServices.keycloak.realm;
  if (RESERVED_REALMS.includes(realm)) {
    out.push({ path: keyPath(["sharedServices", "keycloak", "realm"]), message: `expected a realm name other than ${RESERVED_REALMS.map((r) => describe(r)).join(", ")} (Keycloak's administration realm), got ${describe(realm)}` });
  }
  return out;
};

/** Realm names the estate realm may not take. */
export const RESERVED_REALMS = ["master", "admin"];

/** The offer caps video at 720p: the shared Jitsi may not be configured above it. */
export const videoRules: Rule = (e) => {
  const res = e.sharedServices.jitsi.resolution;
  return res > 720 ? [{ path: keyPath(["sharedServices", "jitsi", "resolution"]), message: `expected at most 720 (the offer caps video at 720p), got ${res}` }] : [];
};
