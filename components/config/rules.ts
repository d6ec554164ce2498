/**
 * What a cross-field rule is, and the helpers rules share. The rules themselves live with the
 * domain they protect (`hetznerRules` in components/hetzner, `storageRules` in
 * components/storage…) and components/estate.ts assembles them into the estate's validation:
 * this module, like all of components/config, imports no other component module
 * (test/structure.test.ts checks it).
 *
 * A rule returns the problems it finds; the loader runs them all so that one run reports
 * everything. Add a rule beside the code it protects and append it to `ESTATE_RULES`.
 */
import { describe, keyPath, type ConfigProblem } from "./errors";
import type { Estate, ParsedTenant } from "./schema";

/** The estate as parsed by the schema, before tenants' quotas are resolved. */
export type ParsedEstate = Omit<Estate, "tenants"> & { tenants: ParsedTenant[] };

export type Rule = (estate: ParsedEstate) => ConfigProblem[];

/** Whether `host` is `domain` or a name under it. */
export const within = (host: string, domain: string): boolean => host === domain || host.endsWith(`.${domain}`);

/** One problem per item whose `key` an earlier item already has (`what` names the key in the message). */
export function duplicates<T>(items: T[], key: (t: T) => string, path: (i: number) => PropertyKey[], what: string): ConfigProblem[] {
  const seen = new Map<string, number>();
  const out: ConfigProblem[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else out.push({ path: keyPath(path(i)), message: `expected a unique ${what}, got ${describe(k)} (already used at ${keyPath(path(first))})` });
  });
  return out;
}
