/**
 * Config rules of the app catalogue (components/config/apps.ts): each app once, only available
 * ones, and each with the apps it needs. Tenants and the shared instance apply them to their
 * app lists (components/tenant/rules.ts, components/shared/rules.ts).
 */
import { APPS, APP_NAMES, type AppName } from "../config/apps";
import { describe, keyPath, type ConfigProblem } from "../config/errors";

/** Apps: no duplicates, only available ones, and each with the apps it needs. */
export function appRules(apps: AppName[], path: PropertyKey[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const available = APP_NAMES.filter((a) => APPS[a].available);
  apps.forEach((a, j) => {
    if (apps.indexOf(a) !== j) out.push({ path: keyPath([...path, j]), message: `expected each app once, got ${describe(a)} twice` });
    if (!APPS[a].available) {
      out.push({
        path: keyPath([...path, j]),
        message: `expected an app this project deploys (${available.join(" | ")}), got ${describe(a)}: ${APPS[a].title} is not available yet`,
      });
    }
    for (const need of APPS[a].requires) {
      if (!apps.includes(need)) {
        out.push({ path: keyPath([...path, j]), message: `expected ${describe(need)} in the same list (${APPS[a].title} needs it), got ${describe(a)} without it` });
      }
    }
  });
  return out;
}

/** What a bundle's Nextcloud mode is checked against (NextcloudModeSchema). */
export interface NextcloudModeInput {
  mode?: { stateless: boolean; secretsImported: boolean };
  apps: AppName[];
  /** The bundle's effective `ha` (explicit or above `operations.haAboveUsers`). */
  ha: boolean;
  /** `shared` for a shared-plan tenant (its Nextcloud is the shared instance's). */
  plan?: "shared" | "dedicated";
}

/**
 * A stateless Nextcloud (docs/operations.md#stateless-nextcloud): only where Nextcloud runs, with
 * `ha` (it exists to run two replicas), and only once the running instance's `instanceid`,
 * `passwordsalt` and `secret` were imported: with new values the instance's encrypted data
 * (sessions, app passwords, stored credentials) and its app data folder would not open.
 */
export function nextcloudModeRules(i: NextcloudModeInput, path: PropertyKey[]): ConfigProblem[] {
  const m = i.mode;
  if (!m) return [];
  const out: ConfigProblem[] = [];
  if (i.plan === "shared") {
    out.push({ path: keyPath(path), message: `expected no nextcloud settings for plan "shared" (its Nextcloud is the shared instance's: liiibre:sharedServices.sharedInstance.nextcloud), got ${describe(m)}` });
    return out;
  }
  if (!m.stateless) return out;
  if (!i.apps.includes("nextcloud")) out.push({ path: keyPath([...path, "stateless"]), message: `expected false without "nextcloud" in the bundle's apps, got true` });
  if (!i.ha) out.push({ path: keyPath([...path, "stateless"]), message: `expected false without ha (a stateless Nextcloud runs 2 replicas; set ha: true), got true` });
  if (!m.secretsImported) {
    out.push({
      path: keyPath([...path, "secretsImported"]),
      message:
        "expected true with stateless: import the running instance's instanceid, passwordsalt and secret first (pulumi import random:index/randomString:RandomString <slug>-nextcloud-instanceid <value>, then randomPassword …-passwordsalt and …-serversecret; docs/operations.md#stateless-nextcloud), got false: new values would not open its data",
    });
  }
  return out;
}
