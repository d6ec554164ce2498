/**
 * "Every values key we set is read by the chart": a key the chart never looks at is a silent
 * misconfiguration (the setting we believe we made does not exist).
 *
 * A key path K we set counts as read when any of these holds:
 * - **declared**: K is in the default `values.yaml` of the chart or of the subchart whose
 *   values K falls under (aliases applied; `global` is shared by every part);
 * - **free-form default**: a prefix of K is declared as an empty map, a list, null or a
 *   scalar (`podAnnotations: {}`): whatever goes below is the chart's business (it `toYaml`s
 *   or `range`s it);
 * - **referenced**: a template (or the values text, which charts `tpl`) references K or a
 *   prefix of K as a whole: `.Values.a.b` / `$.Values.a.b` / `index .Values "a" "b"`. A
 *   reference to `a.b` that goes no deeper means the template uses the map `a.b` as a value
 *   (range, toYaml, with, include …), so every key below it counts as read;
 * - **allowed**: an entry of ALLOWED_VALUES (allow-list.ts) covers it, with its reason.
 *
 * Lists are not entered: their items are checked through the rendered objects. Declared
 * maps are entered key by key. This is a model, not Helm's evaluation: a chart that passes
 * a whole section to a helper (`include "x" .Values.synapse`) makes everything below that
 * section "referenced"; such charts are covered by their `values.schema.json` instead.
 */
import type { ChartPackage, ChartPart } from "./charts";
import { ALLOWED_VALUES, type AllowedValue } from "./allow-list";
import type { RenderProblem } from "./model";

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** What a chart package reads: its merged defaults and its referenced value paths. */
export interface ChartReads {
  defaults: Tree;
  /** Paths referenced as values (their keys are read), joined with "\u0000" (keys may contain dots). */
  references: Set<string>;
  /** Paths only tested (`if .Values.a`): the chart knows the key, not what is below it. */
  guards: Set<string>;
}

const SEP = "\u0000";
const join = (p: string[]) => p.join(SEP);

/** A value path a template text references; `guard` when it is only tested (`if .Values.a`). */
export interface Reference {
  path: string[];
  guard: boolean;
}

/**
 * Value paths a template text references (relative to the chart part's own `.Values`).
 * A reference that is only a condition (`if`/`and`/`or`/`not` with nothing piped) tests the
 * map without reading what is inside: it does not make its keys read.
 */
export function templateRefs(text: string): Reference[] {
  const out: Reference[] = [];
  // `.Values.a.b-c.d` (also `$.Values…`, `$root.Values…`, `.root.Values…`): the maximal path.
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*)/g)) {
    const chain = m[1] ? m[1].slice(1).split(".") : [];
    const rest = text.slice(m.index! + m[0].length);
    const before = text.slice(Math.max(0, m.index! - 40), m.index!).replace(/\$[A-Za-z_]*$/, "");
    // `index .Values.a "b" "c"` / `index .Values "a"`: string keys after the base path.
    const idx = /index\s+\(?\s*$/.test(before) ? /^\s*((?:"[^"]*"\s*)+)/.exec(rest) : null;
    if (idx) chain.push(...[...idx[1].matchAll(/"([^"]*)"/g)].map((k) => k[1]));
    const guard = !idx && /(?:\{\{-?\s*(?:else\s+)?if|\band|\bor|\bnot)\s+\(?\s*$/.test(before) && /^\s*\)?\s*(?:-?\}\}|\.Values|\$)/.test(rest);
    out.push({ path: chain, guard });
  }
  return out;
}

/** The paths of templateRefs (guards included). */
export const templateReferences = (text: string): string[][] => templateRefs(text).map((r) => r.path);

const readsCache = new WeakMap<ChartPackage, ChartReads>();

/** Merges every part's defaults and references into the root chart's values namespace. */
export function chartReads(pkg: ChartPackage): ChartReads {
  const hit = readsCache.get(pkg);
  if (hit) return hit;
  const defaults: Tree = {};
  const references = new Set<string>();
  const guards = new Set<string>();
  // Root first, subcharts after: a parent's values override a subchart's defaults.
  for (const part of pkg.parts) {
    mergeUnder(defaults, part.valuesPath, withoutGlobal(part.defaults));
    if (isMap(part.defaults.global)) mergeUnder(defaults, ["global"], part.defaults.global);
    for (const t of part.templates) {
      for (const ref of templateRefs(t)) (ref.guard ? guards : references).add(join(rooted(part, ref.path)));
    }
  }
  const reads = { defaults, references, guards };
  readsCache.set(pkg, reads);
  return reads;
}

const withoutGlobal = (t: Tree): Tree => Object.fromEntries(Object.entries(t).filter(([k]) => k !== "global"));
const rooted = (part: ChartPart, ref: string[]) => (ref[0] === "global" ? ref : [...part.valuesPath, ...ref]);

/** Puts `value` at `at` in `target`, keeping what is there (the first writer wins). */
function mergeUnder(target: Tree, at: string[], value: Tree): void {
  let node = target;
  for (const k of at) {
    if (!isMap(node[k])) node[k] = node[k] === undefined ? {} : node[k];
    if (!isMap(node[k])) return; // the parent set a scalar/list there: keep it
    node = node[k] as Tree;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!(k in node)) node[k] = v;
    else if (isMap(node[k]) && isMap(v)) mergeUnder(node[k] as Tree, [], v);
  }
}

const globToRe = (pattern: string) => new RegExp(`^${pattern.split(".").map((s) => (s === "*" ? "[^\\u0000]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("\\u0000")}(\\u0000|$)`);

/** The allow-list entry covering `path` of `chart`, if any. */
export function allowed(chart: string, path: string[], list: readonly AllowedValue[] = ALLOWED_VALUES): AllowedValue | undefined {
  const p = join(path);
  return list.find((a) => a.chart === chart && globToRe(a.path).test(p));
}

/** True when some allow-list entry of `chart` covers a path below `path` (so it must be entered). */
function allowedBelow(chart: string, path: string[], list: readonly AllowedValue[]): boolean {
  return list.some((a) => {
    const segs = a.path.split(".");
    return a.chart === chart && segs.length > path.length && path.every((k, i) => segs[i] === "*" || segs[i] === k);
  });
}

/** Key paths of `values` that the chart does not read (see the module comment). */
export function unreadKeys(pkg: ChartPackage, values: Tree, list: readonly AllowedValue[] = ALLOWED_VALUES): string[][] {
  const { defaults, references, guards } = chartReads(pkg);
  const prefixes = new Set<string>(guards); // strict prefixes of referenced paths, and tested maps: maps the chart enters
  for (const r of [...references, ...guards]) {
    const parts = r.split(SEP);
    for (let i = 1; i < parts.length; i++) prefixes.add(join(parts.slice(0, i)));
  }
  const out: string[][] = [];
  const visit = (path: string[], value: unknown, def: unknown, defDeclared: boolean) => {
    const key = join(path);
    if (references.has(key) || allowed(pkg.name, path, list)) return;
    if (defDeclared && !isMap(def)) return; // declared leaf, list or null: free below
    if (defDeclared && isMap(def) && Object.keys(def).length === 0) return; // `{}`: a free-form map
    const entered = (defDeclared && isMap(def)) || prefixes.has(key) || allowedBelow(pkg.name, path, list);
    if (!entered) {
      out.push(path);
      return;
    }
    if (!isMap(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const d = isMap(def) ? def : {};
      visit([...path, k], v, d[k], isMap(def) && k in d);
    }
  };
  for (const [k, v] of Object.entries(values)) visit([k], v, defaults[k], k in defaults);
  return out;
}

/** Human form of a key path: dots, with brackets for keys that hold dots. */
export const keyPath = (path: string[]) => path.map((k, i) => (/^[A-Za-z0-9_-]+$/.test(k) ? `${i ? "." : ""}${k}` : `["${k}"]`)).join("");

/** `value-ignored` problems of one release. */
export function valuesProblems(release: string, pkg: ChartPackage, values: Tree): RenderProblem[] {
  return unreadKeys(pkg, values).map((p) => ({
    check: "value-ignored",
    release,
    field: keyPath(p),
    message: `${pkg.name} ${pkg.version} never reads values key ${keyPath(p)} (not in its or its subcharts' default values, not referenced by a template): the setting has no effect`,
  }));
}
