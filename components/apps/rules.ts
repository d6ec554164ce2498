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
