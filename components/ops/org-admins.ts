/**
 * Organisation admins: each organisation has a Keycloak group `admins-<slug>` (in its realm,
 * beside its members group `org-<slug>`, components/shared/membership.ts). Its members are also
 * members of `org-<slug>` (which alone grants the login); its `liiibre-nextcloud-groups`
 * attribute names the Nextcloud group they get (`admins-<slug>`, whitelisted in user_oidc). A CronJob beside each Nextcloud then, every 15 minutes, through
 * Nextcloud's provisioning API (OCS):
 * - makes them group admins (sub-admins) of `org-<slug>` — on the shared instance, that is how an
 *   organisation's admin redistributes its pooled quota between its members, and nothing else;
 * - on a dedicated Nextcloud, also adds them to Nextcloud's `admin` group (user_oidc syncs only
 *   whitelisted groups at login, `admin` never is, so that membership stays; it comes from this
 *   estate-named group only, never from a Keycloak group name).
 * The script only adds (never demotes): removing someone is done in Keycloak *and* in Nextcloud
 * (docs/operations.md#organisation-admins).
 */
import * as keycloak from "@pulumi/keycloak";
import type * as pulumi from "@pulumi/pulumi";
import { NEXTCLOUD_GROUPS_ATTRIBUTE, orgGroupName } from "../shared/membership";

/** Name of an organisation's admins group, in Keycloak and in Nextcloud (`admins-` never collides with `org-<slug>`). */
export const adminsGroup = (slug: string): string => `admins-${slug}`;

/** What the sync does for one organisation. */
export interface AdminGrant {
  /** Nextcloud group whose members are the organisation's admins (`admins-<slug>`). */
  admins: string;
  /** Nextcloud group they become sub-admins of (`org-<slug>`). */
  subadminOf: string;
  /** Also make them Nextcloud admins (dedicated instance only). */
  instanceAdmin: boolean;
}

/** Grants of a bundle: one per shared organisation, or the dedicated organisation's own. */
export function adminGrants(slug: string, sharedGroups: string[] | undefined): AdminGrant[] {
  if (sharedGroups?.length) return [...sharedGroups].sort().map((g) => ({ admins: adminsGroup(g), subadminOf: orgGroupName(g), instanceAdmin: false }));
  return [{ admins: adminsGroup(slug), subadminOf: orgGroupName(slug), instanceAdmin: true }];
}

/**
 * The organisation's admins group `admins-<slug>` (retained: memberships live in it). It grants
 * no access role: only the members group `org-<slug>` does (components/shared/membership.ts), so
 * an admin is also a member of `org-<slug>`, and the login stays closed while the organisation
 * is not active. It only names the Nextcloud group `admins-<slug>` of its members.
 */
export function organisationAdminsGroup(
  name: string,
  a: { realm: pulumi.Input<string>; slug: string; provider: keycloak.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
  parent: pulumi.Resource,
): keycloak.Group {
  return new keycloak.Group(
    name,
    { realmId: a.realm, name: adminsGroup(a.slug), attributes: { "liiibre-admins-of": a.slug, [NEXTCLOUD_GROUPS_ATTRIBUTE]: adminsGroup(a.slug) } },
    { parent, provider: a.provider, retainOnDelete: true, dependsOn: a.dependsOn },
  );
}

/**
 * The sync script (Python 3 standard library only). Reads `NC_URL`, `NC_HOST` (the Host header
 * Nextcloud trusts), `NC_USER`, `NC_PASSWORD` and the grants as JSON in `GRANTS`.
 */
export const ORG_ADMINS_SCRIPT = `import base64, json, os, sys, urllib.error, urllib.parse, urllib.request

URL = os.environ["NC_URL"].rstrip("/")
HOST = os.environ.get("NC_HOST", "")
AUTH = base64.b64encode(("%s:%s" % (os.environ["NC_USER"], os.environ["NC_PASSWORD"])).encode()).decode()
GRANTS = json.loads(os.environ["GRANTS"])


def ocs(method, path, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(URL + "/ocs/v2.php/cloud" + path + "?format=json", data=body, method=method)
    req.add_header("OCS-APIRequest", "true")
    req.add_header("Authorization", "Basic " + AUTH)
    if HOST:
        req.add_header("Host", HOST)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)["ocs"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def members(group):
    r = ocs("GET", "/groups/%s/users" % urllib.parse.quote(group, safe=""))
    return (r or {}).get("data", {}).get("users", []) if r else []


failed = 0
for g in GRANTS:
    for user in members(g["admins"]):
        u = urllib.parse.quote(user, safe="")
        try:
            ocs("POST", "/users/%s/subadmins" % u, {"groupid": g["subadminOf"]})
            if g.get("instanceAdmin"):
                ocs("POST", "/users/%s/groups" % u, {"groupid": "admin"})
            print("%s: admin of %s%s" % (user, g["subadminOf"], " and of the instance" if g.get("instanceAdmin") else ""))
        except Exception as e:  # keep going: one bad account must not stop the others
            failed += 1
            print("%s: %s" % (user, e), file=sys.stderr)
sys.exit(1 if failed else 0)
`;
