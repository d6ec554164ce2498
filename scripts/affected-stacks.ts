/**
 * `npm run affected -- [--base REF [--head REF] | --all | --from FILE] [--method auto|plan|files]`
 *                     `[--base-plan FILE]… [--head-plan FILE]… [--format text|json|gitlab-ci]`
 *                     `[--mode preview|drift] [--out PATH]`
 *
 * Which stacks a change must preview (docs/ci.md, "Affected stacks"). The merge-request
 * pipelines run `pulumi preview` only on these, one job per stack; the default branch and the
 * drift check run every stack (`--all`).
 *
 * Two signals:
 * - **files** (always computed): the changed files between the merge base of BASE and HEAD
 *   (default: the working tree, untracked files included). An estate file
 *   (`Pulumi.<estate>.yaml`) is compared semantically: an organisation's entry that changed →
 *   the stack holding it (both stacks when it moves; the platform too when its account count
 *   changes, because the shared Keycloak is sized by the estate's accounts); any other key
 *   (cluster, storage, shared services, offer…) → every stack of the estate, platform first;
 *   order and comments → nothing. Program code is placed with the real import graph:
 *   code the platform program reaches → every stack (the shards read its exports); code only
 *   the Tenant component or the shard program reaches → every shard and one-stack estate;
 *   `package.json`, `package-lock.json`, `Pulumi.yaml`, `tsconfig.json` and the policy pack →
 *   every stack; docs, tests, scripts, CI files → none.
 * - **plan** (the stronger one, used by `--method plan` and by `auto` when the base can be
 *   evaluated): the offline plan of BASE and of HEAD of each estate the change touches
 *   (scripts/diff: resources, inputs, options, policy verdicts), compared stack by stack. A
 *   stack is affected when its part of the plan differs, or when a file change the plan cannot
 *   see (lockfile, policy pack, `secure:` values, provider config) reaches it.
 *
 * Exit codes: 0, 2 on invalid arguments or an estate file that does not validate at HEAD.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ConfigError, EXIT_INVALID_CONFIG, parseEstate, reportConfigError, type Estate } from "../components/config";
import { CONFIG_NAMESPACE } from "../components/config/errors";
import { stackLayout, type LayoutStack, type StackLayer } from "../components/layers/placement";
import type { Plan } from "./plan-model";

export const AFFECTED_FORMAT_VERSION = 1;
export const AFFECTED_FORMATS = ["text", "json", "gitlab-ci"] as const;
export type AffectedFormat = (typeof AFFECTED_FORMATS)[number];
export const METHODS = ["auto", "plan", "files"] as const;
export type Method = (typeof METHODS)[number];
export const MODES = ["preview", "drift"] as const;
export type Mode = (typeof MODES)[number];

// ---------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------

export interface AffectedStack {
  name: string;
  /** The estate (`Pulumi.<estate>.yaml`) the stack belongs to. */
  estate: string;
  layer: StackLayer;
  shard: string | null;
  /** Policy-pack config of the stack: `policies/<stack>.json` if it exists, else its estate's. */
  policyConfig: string;
  /** A shard whose platform stack is previewed in the same run: its job waits for the platform's. */
  needsPlatform: boolean;
  /** Why it is previewed (one line each). */
  reasons: string[];
}

export interface AffectedResult {
  version: number;
  kind: "liiibre-affected-stacks";
  base: { ref: string; sha: string } | null;
  head: { ref: string; sha: string | null } | null;
  /** Every stack (`--all`): the default branch, the drift check, a forced full run. */
  full: boolean;
  /** "plan" when the offline plans decided, "files" otherwise, "all" for a full run. */
  method: "plan" | "files" | "all";
  changedFiles: string[];
  /** Platform (and one-stack) stacks first, then shards; each estate's stacks in layout order. */
  stacks: AffectedStack[];
  /** Stacks of the estates that are not previewed. */
  unaffected: string[];
  /** Matrix rows for the pipelines: platform jobs first, shard jobs after. */
  matrix: {
    platform: Array<{ stack: string; estate: string; policyConfig: string }>;
    shards: Array<{ stack: string; estate: string; policyConfig: string; needsPlatform: boolean }>;
  };
  notes: string[];
}

// ---------------------------------------------------------------------------------------
// Trees: a git commit or the working tree
// ---------------------------------------------------------------------------------------

export interface Tree {
  label: string;
  sha: string | null;
  files(): string[];
  read(file: string): string | undefined;
}

const git = (cwd: string, args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });

function gitOk(cwd: string, args: string[], what: string): string {
  const r = git(cwd, args);
  if (r.status !== 0) throw new UsageError(`${what}: ${(r.stderr || "").trim().split("\n").pop()}`);
  return r.stdout;
}

export function commitTree(repo: string, ref: string): Tree {
  const sha = gitOk(repo, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], `"${ref}" is not a git ref of this repository`).trim();
  let list: string[] | undefined;
  const cache = new Map<string, string | undefined>();
  return {
    label: ref,
    sha,
    files: () => (list ??= gitOk(repo, ["ls-tree", "-r", "--name-only", "-z", sha], "git ls-tree").split("\0").filter(Boolean)),
    read: (file) => {
      if (!cache.size && /\.(ts|json|yaml)$/.test(file)) {
        // One `git cat-file --batch` for every program and config file (the import graph reads them all).
        const wanted = (list ??= gitOk(repo, ["ls-tree", "-r", "--name-only", "-z", sha], "git ls-tree").split("\0").filter(Boolean)).filter((f) => /\.(ts|json|yaml)$/.test(f) && !f.startsWith("test/"));
        const out = spawnSync("git", ["cat-file", "--batch"], { cwd: repo, input: wanted.map((f) => `${sha}:${f}`).join("\n") + "\n", maxBuffer: 1024 * 1024 * 1024 }).stdout as Buffer;
        let at = 0;
        for (const f of wanted) {
          const nl = out.indexOf(10, at);
          const header = out.subarray(at, nl).toString();
          const size = /^\S+ blob (\d+)$/.exec(header)?.[1];
          if (size === undefined) {
            cache.set(f, undefined);
            at = nl + 1;
            continue;
          }
          cache.set(f, out.subarray(nl + 1, nl + 1 + Number(size)).toString("utf8"));
          at = nl + 1 + Number(size) + 1;
        }
      }
      if (!cache.has(file)) {
        const r = git(repo, ["show", `${sha}:${file}`]);
        cache.set(file, r.status === 0 ? r.stdout : undefined);
      }
      return cache.get(file);
    },
  };
}

export function workingTree(repo: string): Tree {
  let list: string[] | undefined;
  return {
    label: "working tree",
    sha: null,
    files: () => (list ??= gitOk(repo, ["ls-files", "-co", "--exclude-standard", "-z"], "git ls-files").split("\0").filter((f) => f && fs.existsSync(path.join(repo, f)))),
    read: (file) => {
      const p = path.join(repo, file);
      return fs.existsSync(p) && fs.statSync(p).isFile() ? fs.readFileSync(p, "utf8") : undefined;
    },
  };
}

/** Files that differ between the merge base of BASE and HEAD, and HEAD (sorted, renames as delete + add). */
export function changedFiles(repo: string, base: Tree, head: Tree): string[] {
  const args = ["diff", "--name-only", "--no-renames", "-z", base.sha!];
  if (head.sha) args.push(head.sha);
  const out = new Set(gitOk(repo, args, "git diff").split("\0").filter(Boolean));
  if (!head.sha) for (const f of gitOk(repo, ["ls-files", "--others", "--exclude-standard", "-z"], "git ls-files").split("\0").filter(Boolean)) out.add(f);
  return [...out].sort();
}

/** The merge base of BASE and HEAD (BASE itself when they share no history). */
export function mergeBase(repo: string, base: string, head: string | undefined): string {
  const r = git(repo, ["merge-base", base, head ?? "HEAD"]);
  return r.status === 0 ? r.stdout.trim() : base;
}

// ---------------------------------------------------------------------------------------
// Estates and their stacks
// ---------------------------------------------------------------------------------------

const STACK_FILE = /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/;

interface StackFile {
  /** Every key of `config:` (all namespaces, `secure:` values as written). */
  config: Record<string, unknown>;
}

function readStackFile(tree: Tree, file: string): StackFile | undefined {
  const text = tree.read(file);
  if (text === undefined) return undefined;
  const doc = parseYaml(text) ?? {};
  return { config: ((doc as { config?: Record<string, unknown> }).config ?? {}) as Record<string, unknown> };
}

/** `liiibre:*` keys without their prefix and without `secure:` values, as the program reads them (components/config/file.ts). */
function rawOf(f: StackFile): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f.config)) {
    if (!k.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    if (v && typeof v === "object" && "secure" in (v as object)) continue;
    raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  }
  return raw;
}

/** Estate names (stack files without `liiibre:estate`) and shard stack files (`liiibre:estate: E`) of a tree. */
function stackFilesOf(tree: Tree): { estates: Map<string, StackFile>; shardFiles: Map<string, string> } {
  const estates = new Map<string, StackFile>();
  const shardFiles = new Map<string, string>();
  for (const file of tree.files()) {
    const m = STACK_FILE.exec(file);
    if (!m || file.includes("/")) continue;
    let f: StackFile | undefined;
    try {
      f = readStackFile(tree, file);
    } catch {
      continue;
    }
    if (!f) continue;
    const of = f.config[`${CONFIG_NAMESPACE}:estate`];
    if (typeof of === "string") shardFiles.set(m[1], of);
    else estates.set(m[1], f);
  }
  return { estates, shardFiles };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object).filter((k) => (a as any)[k] !== undefined).sort();
  const kb = Object.keys(b as object).filter((k) => (b as any)[k] !== undefined).sort();
  return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}

const changedKeys = (a: Record<string, unknown>, b: Record<string, unknown>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !deepEqual(a[k], b[k])).sort();

// ---------------------------------------------------------------------------------------
// Import graph of the program
// ---------------------------------------------------------------------------------------

/** The roots the real CLI runs, and the Tenant component (its own code is tenant-only). */
export const PROGRAM_ROOTS = { platform: "programs/platform.ts", shard: "programs/shard.ts", tenant: "components/tenant/tenant.ts" } as const;
/** Modules the platform program reaches only to build Tenants in the one-stack layout: not followed from the platform root. */
const TENANT_ENTRIES = new Set(["components/tenant/index.ts", "components/tenant/tenant.ts"]);

function importsOf(tree: Tree, file: string, exists: Set<string>): string[] {
  const text = tree.read(file);
  if (text === undefined || !/\.(ts|tsx|mts|cts)$/.test(file)) return [];
  const out: string[] = [];
  for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
    if (!ref.fileName.startsWith(".")) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), ref.fileName));
    const hit = [target, `${target}.ts`, `${target}.tsx`, `${target}/index.ts`, target.replace(/\.js$/, ".ts")].find((c) => exists.has(c));
    if (hit) out.push(hit);
  }
  return out;
}

function closure(tree: Tree, root: string, exists: Set<string>, skip: Set<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  const todo = exists.has(root) ? [root] : [];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of importsOf(tree, f, exists)) if (!seen.has(g) && !skip.has(g)) todo.push(g);
  }
  return seen;
}

export interface ProgramGraph {
  /** Reached by the platform program (not through the Tenant component). */
  platform: Set<string>;
  /** Reached by the shard program. */
  shard: Set<string>;
  /** Reached by the Tenant component. */
  tenant: Set<string>;
}

export function programGraph(tree: Tree): ProgramGraph {
  const exists = new Set(tree.files());
  const platform = closure(tree, PROGRAM_ROOTS.platform, exists, TENANT_ENTRIES);
  for (const extra of ["index.ts", "programs/index.ts", "programs/outputs.ts"]) if (exists.has(extra)) platform.add(extra);
  return { platform, shard: closure(tree, PROGRAM_ROOTS.shard, exists), tenant: closure(tree, PROGRAM_ROOTS.tenant, exists) };
}

// ---------------------------------------------------------------------------------------
// The files signal
// ---------------------------------------------------------------------------------------

/** Which stacks of every estate a file reaches. `plan: false`: a change the offline plan cannot see. */
export type Reach = { kind: "none" } | { kind: "all" | "platform-code" | "tenant-code"; plan: boolean; why: string } | { kind: "estate-policy"; estate: string; plan: boolean; why: string };

const NONE_PATTERNS = [/^docs\//, /\.md$/, /^test\//, /^bench\//, /^scripts\//, /^\.ci\//, /^\.github\//, /^\.gitlab-ci\.yml$/, /^\.gitignore$/, /^vitest\.config\.[cm]?[jt]s$/, /^LICENSE/, /^\.cache\//];
const ALL_FILES: Record<string, string> = {
  "package.json": "package.json (dependencies, provider versions)",
  "package-lock.json": "package-lock.json (the exact providers and SDK)",
  "Pulumi.yaml": "Pulumi.yaml (project settings)",
  "tsconfig.json": "tsconfig.json (how the program compiles)",
};

export function classifyFile(file: string, graphsOf: ProgramGraph[] | (() => ProgramGraph[]), estates: Set<string>): Reach {
  if (STACK_FILE.test(file)) return { kind: "none" }; // estate and shard stack files are compared semantically
  if (ALL_FILES[file]) return { kind: "all", plan: false, why: `${ALL_FILES[file]} changed` };
  const pol = /^policies\/([A-Za-z0-9_.-]+)\.json$/.exec(file);
  if (pol && estates.has(pol[1])) return { kind: "estate-policy", estate: pol[1], plan: false, why: `policy-pack config ${file} changed` };
  if (file.startsWith("policies/")) return { kind: "all", plan: false, why: `policy pack ${file} changed (every stack is previewed with it)` };
  if (NONE_PATTERNS.some((p) => p.test(file))) return { kind: "none" };
  const graphs = typeof graphsOf === "function" ? graphsOf() : graphsOf;
  if (graphs.some((g) => g.platform.has(file))) return { kind: "platform-code", plan: true, why: `${file} (platform code: the shards read its exports)` };
  if (graphs.some((g) => g.tenant.has(file) || g.shard.has(file))) return { kind: "tenant-code", plan: true, why: `${file} (tenant code)` };
  return { kind: "all", plan: true, why: `${file} is not placed by the import graph of programs/: every stack, to be safe` };
}

interface EstateView {
  name: string;
  file: StackFile;
  estate: Estate;
  layout: LayoutStack[];
}

/** Per stack, its reasons; `planSees`: whether the offline plan would show that change (false: it stays in whatever the plans say). */
type Hits = Map<string, Array<{ why: string; planSees: boolean }>>;

function hit(h: Hits, stack: string, why: string, planSees: boolean): void {
  const e = h.get(stack) ?? [];
  const seen = e.find((x) => x.why === why);
  if (seen) seen.planSees &&= planSees;
  else e.push({ why, planSees });
  h.set(stack, e);
}

/** The stacks of an estate that hold a slug in a layout (the platform for shared organisations). */
const holder = (layout: LayoutStack[], slug: string): LayoutStack | undefined => layout.find((s) => s.tenants.includes(slug)) ?? (layout[0]?.layer === "single" ? layout[0] : undefined);

/** Every stack of an estate at base and head (a shard emptied by the change is still previewed: it would delete). */
function allStacks(base: EstateView | undefined, head: EstateView): LayoutStack[] {
  const out = [...head.layout];
  for (const s of base?.layout ?? []) if (!out.some((o) => o.name === s.name)) out.push(s);
  return out;
}

/** The estate-file signal of one estate: which of its stacks the config change reaches. */
export function compareEstate(base: EstateView | undefined, head: EstateView, h: Hits): void {
  const every = (why: string, planSees: boolean) => allStacks(base, head).forEach((s) => hit(h, s.name, why, planSees));
  if (!base) return every(`estate ${head.name} is new (or its base file does not validate)`, true);
  const file = `Pulumi.${head.name}.yaml`;
  const bc = base.file.config;
  const hc = head.file.config;
  for (const key of changedKeys(bc, hc)) {
    if (key === `${CONFIG_NAMESPACE}:tenants` || key === `${CONFIG_NAMESPACE}:sharding`) continue;
    const secure = [bc[key], hc[key]].some((v) => v && typeof v === "object" && "secure" in (v as object));
    const liiibre = key.startsWith(`${CONFIG_NAMESPACE}:`);
    every(`${file}: ${key} changed (shared by every stack of ${head.name})`, liiibre && !secure);
  }
  const bs = base.estate.sharding;
  const hs = head.estate.sharding;
  if (bs.enabled !== hs.enabled || bs.maxResourcesPerStack !== hs.maxResourcesPerStack) every(`${file}: liiibre:sharding changed`, true);
  // Organisations, by slug (order and comments never matter: URNs derive from slugs).
  const bt = new Map(base.estate.tenants.map((t) => [t.slug, t]));
  const ht = new Map(head.estate.tenants.map((t) => [t.slug, t]));
  const platform = head.layout[0]?.layer === "platform" ? head.layout[0].name : undefined;
  for (const slug of [...new Set([...bt.keys(), ...ht.keys()])].sort()) {
    const b = bt.get(slug);
    const t = ht.get(slug);
    const from = b ? holder(base.layout, slug) : undefined;
    const to = t ? holder(head.layout, slug) : undefined;
    if (!b) hit(h, to!.name, `organisation ${slug} added`, true);
    else if (!t) hit(h, from!.name, `organisation ${slug} removed`, true);
    else {
      const { shard: _bs, ...bRest } = b as typeof b & { shard?: string };
      const { shard: _hs, ...hRest } = t as typeof t & { shard?: string };
      const keys = changedKeys(bRest as Record<string, unknown>, hRest as Record<string, unknown>);
      if (from?.name !== to?.name) {
        hit(h, from!.name, `organisation ${slug} moves to ${to!.name}`, true);
        hit(h, to!.name, `organisation ${slug} moves from ${from!.name}`, true);
      }
      if (keys.length) hit(h, to!.name, `organisation ${slug} changed (${keys.join(", ")})`, true);
      if (!keys.includes("users")) continue;
    }
    // The shared Keycloak is sized by the estate's accounts (components/shared/sharedServices.ts).
    if (platform && (!b || !t || b.users !== t.users)) hit(h, platform, `the estate's account count changes (organisation ${slug}): the shared Keycloak is sized by it`, true);
  }
}

// ---------------------------------------------------------------------------------------
// The plan signal
// ---------------------------------------------------------------------------------------

const stackOfUrn = (urn: string | null | undefined): string | undefined => (urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined);

/**
 * Stacks whose part of the plan differs between two plans of one estate: a resource created,
 * deleted, replaced or updated (inputs or options), or a policy verdict that differs.
 */
export async function planDifferences(base: Plan, head: Plan): Promise<Map<string, string[]>> {
  const { diffPlans } = await import("./diff/diff");
  const d = diffPlans(base, head, { baseLabel: "base", headLabel: "head" });
  const out = new Map<string, string[]>();
  const add = (stack: string | undefined, why: string) => {
    if (!stack) return;
    const l = out.get(stack) ?? [];
    l.push(why);
    out.set(stack, l);
  };
  const counts = new Map<string, Record<string, number>>();
  for (const c of d.changes) {
    for (const s of new Set([stackOfUrn(c.urn), stackOfUrn(c.aliasOf)])) {
      if (!s) continue;
      const k = counts.get(s) ?? {};
      k[c.action] = (k[c.action] ?? 0) + 1;
      counts.set(s, k);
    }
  }
  for (const [s, k] of counts) add(s, `offline plan: ${Object.entries(k).map(([a, n]) => `${n} to ${a}`).join(", ")}`);
  const verdicts = (p: Plan) => {
    const m = new Map<string, Set<string>>();
    for (const v of p.violations) {
      const s = stackOfUrn(v.urn) ?? p.stacks[0]?.name ?? p.stack;
      (m.get(s) ?? m.set(s, new Set()).get(s)!).add(`${v.level} ${v.policy} ${v.urn ?? ""} ${v.message}`);
    }
    return m;
  };
  const vb = verdicts(base);
  const vh = verdicts(head);
  for (const s of new Set([...vb.keys(), ...vh.keys()])) if (!deepEqual([...(vb.get(s) ?? [])].sort(), [...(vh.get(s) ?? [])].sort())) add(s, "offline plan: policy verdicts differ");
  return out;
}

/** The offline plan JSON of one estate at HEAD: `npm run plan` in the repository (the working tree or a checkout of HEAD). */
function planHead(repo: string, estate: string, log: (s: string) => void): Plan | undefined {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "affected-")), "plan.json");
  log(`planning ${estate} at HEAD…\n`);
  const r = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", estate, "--format", "json", "--out", out], { cwd: repo, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (!fs.existsSync(out)) {
    log(`the plan of ${estate} at HEAD failed (exit ${r.status}): ${(r.stderr || "").trim().split("\n").slice(-2).join(" ")}\n`);
    return undefined;
  }
  return JSON.parse(fs.readFileSync(out, "utf8")) as Plan;
}

async function planBase(repo: string, sha: string, estate: string, log: (s: string) => void): Promise<Plan | undefined> {
  const { loadBase, BaseError } = await import("./diff/base");
  try {
    return (await loadBase({ base: sha, stack: estate, repoRoot: repo, log })).plan;
  } catch (err) {
    if (!(err instanceof BaseError)) throw err;
    log(`the plan of ${estate} at the base failed: ${err.message.split("\n")[0]}\n`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------------------

export interface AffectedOptions {
  repo: string;
  /** BASE ref; its merge base with HEAD is compared. Not needed with `all`. */
  base?: string;
  /** HEAD ref; default the working tree. */
  head?: string;
  all?: boolean;
  method?: Method;
  /** Plan JSON files (`npm run plan -- --format json`) of BASE and HEAD, by estate (the plan's `stack`). */
  basePlans?: Plan[];
  headPlans?: Plan[];
  log?: (s: string) => void;
}

function viewOf(name: string, file: StackFile): EstateView {
  const estate = parseEstate(rawOf(file) as any);
  return { name, file, estate, layout: stackLayout(name, estate) };
}

function policyConfigFor(tree: Tree, stack: string, estate: string): string {
  const own = `policies/${stack}.json`;
  return tree.read(own) !== undefined ? own : `policies/${estate}.json`;
}

export async function affectedStacks(o: AffectedOptions): Promise<AffectedResult> {
  const log = o.log ?? (() => {});
  const head = o.head ? commitTree(o.repo, o.head) : workingTree(o.repo);
  const headFiles = stackFilesOf(head);
  // Every estate at HEAD must validate (exit 2 otherwise, as the plan does).
  const heads = new Map<string, EstateView>();
  for (const [name, f] of [...headFiles.estates].sort(([a], [b]) => a.localeCompare(b))) heads.set(name, viewOf(name, f));
  const layoutOrder = [...heads.values()].flatMap((v) => v.layout.map((s) => ({ ...s, estate: v.name })));
  const notes: string[] = [];

  let baseTree: Tree | undefined;
  let changed: string[] = [];
  let hits: Hits = new Map();
  let method: AffectedResult["method"] = "all";
  let baseViews = new Map<string, EstateView | undefined>();
  if (o.all) {
    for (const s of layoutOrder) hit(hits, s.name, "full run (every stack)", false);
  } else {
    if (!o.base) throw new UsageError("give --base REF (or --all)");
    const mb = mergeBase(o.repo, o.base, head.sha ?? undefined);
    baseTree = commitTree(o.repo, mb);
    baseTree.label = o.base;
    changed = changedFiles(o.repo, baseTree, head);
    const baseFiles = stackFilesOf(baseTree);
    for (const [name] of heads) {
      const f = baseFiles.estates.get(name);
      let v: EstateView | undefined;
      try {
        v = f ? viewOf(name, f) : undefined;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        notes.push(`Pulumi.${name}.yaml does not validate at the base: every stack of ${name} is previewed`);
      }
      baseViews.set(name, v);
      if (changed.includes(`Pulumi.${name}.yaml`) || !v) compareEstate(v, heads.get(name)!, hits);
    }
    // Shard stack files (`liiibre:estate: E`): that stack only.
    for (const f of changed) {
      const m = STACK_FILE.exec(f);
      if (!m || heads.has(m[1])) continue;
      const of = headFiles.shardFiles.get(m[1]) ?? baseFiles.shardFiles.get(m[1]);
      if (of && heads.has(of)) hit(hits, m[1], `${f} changed`, false);
    }
    const code = changed.filter((f) => !STACK_FILE.test(f));
    if (code.length) {
      let graphs: ProgramGraph[] | undefined;
      const bt = baseTree;
      const lazy = () => (graphs ??= [programGraph(head), programGraph(bt)]);
      for (const f of code) {
        const r = classifyFile(f, lazy, new Set(heads.keys()));
        if (r.kind === "none") continue;
        for (const v of heads.values()) {
          const stacks = allStacks(baseViews.get(v.name), v);
          if (r.kind === "estate-policy") {
            if (r.estate === v.name) stacks.forEach((s) => hit(hits, s.name, r.why, r.plan));
          } else if (r.kind === "tenant-code") stacks.filter((s) => s.layer !== "platform").forEach((s) => hit(hits, s.name, r.why, r.plan));
          else stacks.forEach((s) => hit(hits, s.name, r.why, r.plan));
        }
      }
    }
    method = "files";
    // The plan signal, for the estates the files signal reaches.
    const wanted = o.method ?? "auto";
    const touched = [...heads.values()].filter((v) => allStacks(baseViews.get(v.name), v).some((s) => hits.has(s.name)));
    if (wanted !== "files" && touched.length) {
      const planned: Hits = new Map();
      let ok = true;
      for (const v of touched) {
        const bp = o.basePlans?.find((p) => p.stack === v.name) ?? (o.basePlans ? undefined : await planBase(o.repo, baseTree.sha!, v.name, log));
        const hp = o.headPlans?.find((p) => p.stack === v.name) ?? (o.headPlans ? undefined : head.sha ? undefined : planHead(o.repo, v.name, log));
        if (!bp || !hp) {
          ok = false;
          notes.push(`no offline plan of ${v.name} at ${!bp ? "the base" : "HEAD"}: the files signal decides`);
          break;
        }
        for (const [s, why] of await planDifferences(bp, hp)) why.forEach((w) => hit(planned, s, w, true));
        // What the plan cannot see stays in.
        for (const s of allStacks(baseViews.get(v.name), v)) for (const r of hits.get(s.name) ?? []) if (!r.planSees) hit(planned, s.name, r.why, false);
      }
      if (ok) {
        // Estates the files signal did not reach keep their (empty) verdict.
        hits = planned;
        method = "plan";
      } else if (wanted === "plan") throw new UsageError(notes[notes.length - 1]);
    }
  }
  // Shards wait for their platform's job when it runs.
  const order = [...layoutOrder];
  for (const [name, bv] of baseViews) for (const s of bv?.layout ?? []) if (!order.some((x) => x.name === s.name)) order.push({ ...s, estate: name });
  const stacks: AffectedStack[] = [];
  for (const s of order) {
    const e = hits.get(s.name);
    if (!e) continue;
    stacks.push({ name: s.name, estate: s.estate, layer: s.layer, shard: s.shard, policyConfig: policyConfigFor(head, s.name, s.estate), needsPlatform: false, reasons: e.map((x) => x.why) });
  }
  for (const s of stacks) if (s.layer === "shard") s.needsPlatform = stacks.some((p) => p.estate === s.estate && p.layer === "platform");
  const sorted = [...stacks.filter((s) => s.layer !== "shard"), ...stacks.filter((s) => s.layer === "shard")];
  return {
    version: AFFECTED_FORMAT_VERSION,
    kind: "liiibre-affected-stacks",
    base: baseTree ? { ref: o.base!, sha: baseTree.sha! } : null,
    head: { ref: o.head ?? "working tree", sha: head.sha },
    full: Boolean(o.all),
    method,
    changedFiles: changed,
    stacks: sorted,
    unaffected: order.filter((s) => !hits.has(s.name)).map((s) => s.name),
    matrix: {
      platform: sorted.filter((s) => s.layer !== "shard").map((s) => ({ stack: s.name, estate: s.estate, policyConfig: s.policyConfig })),
      shards: sorted.filter((s) => s.layer === "shard").map((s) => ({ stack: s.name, estate: s.estate, policyConfig: s.policyConfig, needsPlatform: s.needsPlatform })),
    },
    notes,
  };
}

// ---------------------------------------------------------------------------------------
// Renderings
// ---------------------------------------------------------------------------------------

export function renderText(r: AffectedResult): string {
  const lines: string[] = [];
  const from = r.base ? `${r.base.ref} (${r.base.sha.slice(0, 10)}) → ${r.head?.ref}` : "every stack";
  lines.push(`Affected stacks (${from}; ${r.method === "all" ? "full run" : `decided by the ${r.method === "plan" ? "offline plans" : "changed files"}`}): ${r.stacks.length}`);
  const w = Math.max(8, ...r.stacks.map((s) => s.name.length));
  for (const s of r.stacks) {
    lines.push(`  ${s.name.padEnd(w)}  ${s.layer.padEnd(8)}  ${s.reasons[0]}${s.needsPlatform ? "  (after the platform)" : ""}`);
    for (const why of s.reasons.slice(1)) lines.push(`  ${"".padEnd(w)}  ${"".padEnd(8)}  ${why}`);
  }
  if (!r.stacks.length) lines.push("  (none: nothing a stack reads changed)");
  if (r.unaffected.length) lines.push(`Not previewed: ${r.unaffected.join(", ")}`);
  if (!r.full) lines.push(`Changed files: ${r.changedFiles.length}${r.changedFiles.length ? ` (${r.changedFiles.slice(0, 12).join(", ")}${r.changedFiles.length > 12 ? ", …" : ""})` : ""}`);
  for (const n of r.notes) lines.push(`Note: ${n}`);
  return `${lines.join("\n")}\n`;
}

/**
 * A shard stack's own file names its estate (docs/scaling.md); when the repository does not
 * carry it yet, the job writes exactly that (the CLI reads the stack's config from it).
 */
export const SHARD_STACK_FILE = ['if [ "$STACK" != "$ESTATE" ] && [ ! -f "Pulumi.$STACK.yaml" ]; then printf \'config:\\n  liiibre:estate: %s\\n\' "$ESTATE" > "Pulumi.$STACK.yaml"; fi'];

/** Job names of the generated GitLab child pipeline. */
export const gitlabJobName = (stack: string): string => `preview:${stack}`;
export const GITLAB_REPORT_JOB = "preview:comment";

/**
 * The GitLab child pipeline of a run (`trigger: include: artifact`): one job per affected stack,
 * platform stage first, each with its own `resource_group` (the stack's lock), shards `needs`
 * their platform's job when it runs, then one job merging every preview into one comment.
 */
export function gitlabPipeline(r: AffectedResult, mode: Mode): string {
  const cmd = mode === "drift" ? "--refresh --expect-no-changes --diff" : "--diff";
  const job = (s: AffectedStack) => ({
    stage: s.layer === "shard" ? "shards" : "platform",
    ...(s.layer === "shard" && s.needsPlatform ? { needs: r.stacks.filter((p) => p.estate === s.estate && p.layer === "platform").map((p) => ({ job: gitlabJobName(p.name), artifacts: false })) } : { needs: [] }),
    resource_group: `pulumi-${s.name}`,
    variables: { STACK: s.name, ESTATE: s.estate, POLICY_CONFIG: s.policyConfig },
    script: [
      "npm ci --no-audit --no-fund",
      ...SHARD_STACK_FILE,
      'curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"',
      'export PATH="$HOME/.pulumi/bin:$PATH"',
      "mkdir -p previews",
      "code=0",
      `pulumi preview --stack "$STACK" ${cmd} --non-interactive --color never --policy-pack policies --policy-pack-config "$POLICY_CONFIG" > "previews/$STACK.txt" 2>&1 || code=$?`,
      'echo "$code" > "previews/$STACK.exit"',
      'tail -n 60 "previews/$STACK.txt"',
      'exit "$code"',
    ],
    artifacts: { when: "always", expire_in: mode === "drift" ? "90 days" : "30 days", paths: ["previews/"] },
  });
  const title = mode === "drift" ? "Drift check (pulumi preview --refresh --expect-no-changes)" : "pulumi preview with the policy pack";
  const doc: Record<string, unknown> = {
    stages: ["platform", "shards", "comment"],
    default: { image: "node:24.9.0-bookworm", interruptible: mode !== "drift" },
    variables: { npm_config_cache: "$CI_PROJECT_DIR/.npm" },
  };
  for (const s of r.stacks) doc[gitlabJobName(s.name)] = job(s);
  // The comment job's stack list (a child pipeline cannot read the parent's artifacts without a `needs`, which would start it early).
  const list = { version: r.version, kind: r.kind, stacks: r.stacks.map((s) => ({ name: s.name, layer: s.layer })) };
  doc[GITLAB_REPORT_JOB] = {
    stage: "comment",
    // No `needs`: the last stage waits for every preview job and receives all their artifacts.
    when: "always",
    variables: { AFFECTED_STACKS: JSON.stringify(list) },
    script: [
      "npm ci --no-audit --no-fund",
      "printf '%s' \"$AFFECTED_STACKS\" > affected.json",
      // The merge request of the parent pipeline (forwarded by the trigger job).
      'export CI_MERGE_REQUEST_IID="${CI_MERGE_REQUEST_IID:-${PARENT_MR_IID:-}}"',
      'if [ -z "${GITLAB_API_TOKEN:-}" ]; then echo "GITLAB_API_TOKEN is not set: the comment is printed here only"; fi',
      `npx tsx scripts/ci-comment.ts --key ${mode === "drift" ? "drift" : "preview"} --title "${title}" --stacks affected.json --previews previews --artifacts-url "$CI_PIPELINE_URL"`,
    ],
    artifacts: { when: "always", expire_in: "30 days", paths: ["previews/", "affected.json"] },
  };
  return `# Generated by scripts/affected-stacks.ts (--format gitlab-ci --mode ${mode}); do not edit.\n${stringifyYaml(doc, { lineWidth: 0 })}`;
}

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

export class UsageError extends Error {}

export interface AffectedArgs {
  base?: string;
  head?: string;
  all: boolean;
  from?: string;
  method: Method;
  basePlans: string[];
  headPlans: string[];
  format: AffectedFormat;
  mode: Mode;
  out?: string;
}

const USAGE = "usage: npm run affected -- [--base REF [--head REF] | --all | --from FILE] [--method auto|plan|files] [--base-plan FILE]… [--head-plan FILE]… [--format text|json|gitlab-ci] [--mode preview|drift] [--out PATH]";

export function parseAffectedArgs(argv: string[]): AffectedArgs {
  const a: AffectedArgs = { all: false, method: "auto", basePlans: [], headPlans: [], format: "text", mode: "preview" };
  const oneOf = <T extends string>(flag: string, v: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag}: expected one of ${allowed.join(" | ")}, got "${v}"`);
    return v as T;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--base": a.base = value(); break;
      case "--head": a.head = value(); break;
      case "--all": a.all = true; break;
      case "--from": a.from = value(); break;
      case "--method": a.method = oneOf(flag, value(), METHODS); break;
      case "--base-plan": a.basePlans.push(value()); break;
      case "--head-plan": a.headPlans.push(value()); break;
      case "--format": a.format = oneOf(flag, value(), AFFECTED_FORMATS); break;
      case "--mode": a.mode = oneOf(flag, value(), MODES); break;
      case "--out": a.out = value(); break;
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument "${flag}"`);
    }
  }
  const sources = [a.base !== undefined, a.all, a.from !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new UsageError("give exactly one of --base REF, --all or --from FILE");
  if (a.head && !a.base) throw new UsageError("--head only applies with --base");
  if ((a.basePlans.length || a.headPlans.length) && !a.base) throw new UsageError("--base-plan and --head-plan only apply with --base");
  if (a.basePlans.length !== a.headPlans.length) throw new UsageError("give as many --head-plan as --base-plan files (one of each per estate)");
  if (a.basePlans.length && a.method === "files") throw new UsageError("--base-plan/--head-plan need --method auto or plan");
  return a;
}

function readPlan(file: string): Plan {
  let doc: any;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not a readable plan JSON (${(err as Error).message.split("\n")[0]})`);
  }
  if (!doc || !Array.isArray(doc.resources) || typeof doc.stack !== "string") throw new UsageError(`${file} is not a plan written with \`npm run plan -- --format json\``);
  doc.violations ??= [];
  doc.stacks ??= [];
  return doc as Plan;
}

export function readAffected(file: string): AffectedResult {
  let doc: any;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`--from ${file}: not readable JSON (${(err as Error).message.split("\n")[0]})`);
  }
  if (doc?.kind !== "liiibre-affected-stacks" || doc.version !== AFFECTED_FORMAT_VERSION) throw new UsageError(`--from ${file}: not a result of \`npm run affected -- --format json\` (version ${AFFECTED_FORMAT_VERSION})`);
  return doc as AffectedResult;
}

export async function runAffected(argv: string[], io: { write: (s: string) => void; error: (s: string) => void }, repo = process.cwd()): Promise<number> {
  let a: AffectedArgs;
  try {
    a = parseAffectedArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.error(`${err.message ? `error: ${err.message}\n` : ""}${USAGE}\n`);
    return err.message ? EXIT_INVALID_CONFIG : 0;
  }
  let r: AffectedResult;
  try {
    r = a.from
      ? readAffected(a.from)
      : await affectedStacks({
          repo,
          base: a.base,
          head: a.head,
          all: a.all,
          method: a.method,
          ...(a.basePlans.length ? { basePlans: a.basePlans.map(readPlan), headPlans: a.headPlans.map(readPlan) } : {}),
          log: io.error,
        });
  } catch (err) {
    if (err instanceof ConfigError) {
      reportConfigError(err, io.error);
      return EXIT_INVALID_CONFIG;
    }
    if (err instanceof UsageError) {
      io.error(`error: ${err.message}\n`);
      return EXIT_INVALID_CONFIG;
    }
    throw err;
  }
  const text = a.format === "json" ? `${JSON.stringify(r, null, 2)}\n` : a.format === "gitlab-ci" ? gitlabPipeline(r, a.mode) : renderText(r);
  if (a.out) {
    fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
    fs.writeFileSync(a.out, text);
    io.error(`${r.stacks.length} stack(s) to preview (${r.stacks.map((s) => s.name).join(", ") || "none"}), written to ${a.out}\n`);
  } else io.write(text);
  return 0;
}

if (require.main === module) {
  runAffected(process.argv.slice(2), { write: (s) => process.stdout.write(s), error: (s) => process.stderr.write(s) })
    .then((code) => process.stdout.write("", () => process.exit(code)))
    .catch((err) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(3);
    });
}
