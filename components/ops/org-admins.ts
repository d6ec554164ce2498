/**
 * Organisation admins: each organisation has a Keycloak group `<slug>-admins` (in its realm).
 * Its members arrive in Nextcloud through the OIDC `groups` claim (user_oidc group
 * provisioning); a CronJob beside each Nextcloud then, every 15 minutes, through Nextcloud's
 * provisioning API (OCS):
 * - makes them group admins (sub-admins) of their organisation's group `<slug>` — on the shared
 *   instance, that is how an organisation's admin redistributes its pooled quota between its
 *   members, and nothing else;
 * - on a dedicated Nextcloud, also adds them to Nextcloud's `admin` group.
 * The script only adds (never demotes): removing someone is done in Keycloak *and* in Nextcloud
 * (docs/operations.md#organisation-admins).
 */

/** Name of an organisation's admins group (Keycloak and Nextcloud). */
export const adminsGroup = (slug: string): string => `${slug}-admins`;

/** What the sync does for one organisation. */
export interface AdminGrant {
  /** Group whose members are the organisation's admins (`<slug>-admins`). */
  admins: string;
  /** Group they become sub-admins of (`<slug>`). */
  subadminOf: string;
  /** Also make them Nextcloud admins (dedicated instance only). */
  instanceAdmin: boolean;
}

/** Grants of a bundle: one per shared organisation, or the dedicated organisation's own. */
export function adminGrants(slug: string, sharedGroups: string[] | undefined): AdminGrant[] {
  if (sharedGroups?.length) return [...sharedGroups].sort().map((g) => ({ admins: adminsGroup(g), subadminOf: g, instanceAdmin: false }));
  return [{ admins: adminsGroup(slug), subadminOf: slug, instanceAdmin: true }];
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
