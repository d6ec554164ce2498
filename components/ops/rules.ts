/**
 * Config rules of operations (components/ops). Assembled by components/estate.ts.
 */
import { describe, keyPath, type ConfigProblem } from "../config/errors";
import type { Rule } from "../config/rules";

/**
 * Operations (issue 12): every alert route names a configured receiver, the e-mail receiver
 * needs the mail relay, and a shared organisation cannot ask for `ha` (the shared instance's
 * availability is the estate's, not one member's).
 */
export const operationsRules: Rule = (e) => {
  const out: ConfigProblem[] = [];
  const a = e.monitoring.alerting;
  for (const sev of ["critical", "warning", "info"] as const) {
    (a.routes[sev] ?? []).forEach((r, j) => {
      if (!a.receivers[r]) {
        out.push({ path: keyPath(["monitoring", "alerting", "routes", sev, j]), message: `expected a receiver configured under liiibre:monitoring.alerting.receivers (${Object.keys(a.receivers).filter((k) => a.receivers[k as "email"]).join(" | ") || "none configured"}), got ${describe(r)}` });
      }
    });
  }
  if (a.receivers.email && !e.mail) {
    out.push({ path: keyPath(["monitoring", "alerting", "receivers", "email"]), message: "expected the mail relay liiibre:mail to be configured for e-mail alerts, got no liiibre:mail" });
  }
  e.tenants.forEach((t, i) => {
    if (t.plan === "shared" && t.ha !== undefined) {
      out.push({ path: keyPath(["tenants", i, "ha"]), message: `expected no ha for plan "shared" (the shared instance always runs 2 instances), got ${describe(t.ha)}` });
    }
  });
  return out;
};
