/**
 * Field paths where two JSON values differ (`spec.template.spec.containers[0].image`), for
 * the diff of a bundle's objects and the renderer's fidelity check. Maps are compared key by
 * key, lists item by item (a list of a different length differs as a whole below its own
 * path only where items differ, plus `[n]` for each added or removed item).
 */

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** One path segment in the usual notation: `.key`, `["key.with.dots"]`, `[3]`. */
function seg(k: string | number, first: boolean): string {
  if (typeof k === "number") return `[${k}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) ? `${first ? "" : "."}${k}` : `[${JSON.stringify(k)}]`;
}

/** Paths (sorted, leaves first-differing) where `a` and `b` differ; `[]` when equal. */
export function changedPaths(a: unknown, b: unknown, at = ""): string[] {
  if (isMap(a) && isMap(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => (k in a && k in b ? changedPaths(a[k], b[k], at + seg(k, at === "")) : [at + seg(k, at === "")]));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) out.push(`${at}[${i}]`);
      else out.push(...changedPaths(a[i], b[i], `${at}[${i}]`));
    }
    return out;
  }
  return Object.is(a, b) || (a === b) ? [] : [at || "(whole)"];
}
