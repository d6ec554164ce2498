/**
 * The BASE of `npm run plan -- --diff BASE`: a plan JSON file written earlier with
 * `--format json`, or a git ref. For a ref, the program and the stack file AT THAT REF are
 * evaluated by that ref's own code: a temporary `git worktree` (detached), its own `npm ci`
 * (node_modules cached per lockfile hash under the ignored `.cache/plan-diff/`), then that
 * ref's `npm run plan -- --format json`. Nothing of the current checkout is changed.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Plan } from "../plan-model";

export class BaseError extends Error {}

export interface BaseRequest {
  base: string;
  stack: string;
  /** `--config-file` as given (the base uses the same path inside its worktree, if tracked there). */
  configFile?: string;
  repoRoot: string;
  log: (s: string) => void;
}

const git = (cwd: string, args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

/** A plan document (refuses anything else with a clear message). */
export function parsePlanDocument(text: string, where: string): Plan {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BaseError(`${where} is not JSON (${(err as Error).message.split("\n")[0]}): give a plan written with --format json, or a git ref`);
  }
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.resources) || !Array.isArray(doc.tenants) || typeof doc.version !== "number") {
    throw new BaseError(`${where} is not a plan written with \`npm run plan -- --format json\` (no version/resources/tenants)`);
  }
  if (doc.version !== 1) throw new BaseError(`${where}: plan format version ${doc.version} is not supported (expected 1)`);
  doc.violations ??= [];
  doc.summary ??= { mandatoryViolations: 0 };
  for (const r of doc.resources) r.tenant ??= null;
  return doc as Plan;
}

export async function loadBase(req: BaseRequest): Promise<{ plan: Plan; label: string }> {
  const asFile = path.resolve(req.base);
  if (fs.existsSync(asFile) && fs.statSync(asFile).isFile()) {
    return { plan: parsePlanDocument(fs.readFileSync(asFile, "utf8"), req.base), label: req.base };
  }
  const rev = git(req.repoRoot, ["rev-parse", "--verify", "--quiet", `${req.base}^{commit}`]);
  if (rev.status !== 0) {
    throw new BaseError(`--diff: "${req.base}" is neither a plan JSON file nor a git ref of this repository`);
  }
  const sha = rev.stdout.trim();
  return { plan: await planAtRef(req, sha), label: `${req.base} (${sha.slice(0, 10)})` };
}

async function planAtRef(req: BaseRequest, sha: string): Promise<Plan> {
  const top = git(req.repoRoot, ["rev-parse", "--show-toplevel"]).stdout.trim() || req.repoRoot;
  const lock = git(top, ["show", `${sha}:package-lock.json`]);
  if (lock.status !== 0) throw new BaseError(`--diff ${req.base}: that commit has no package-lock.json`);
  const cacheRoot = path.join(top, ".cache", "plan-diff");
  const modules = path.join(cacheRoot, createHash("sha256").update(lock.stdout).digest("hex").slice(0, 16), "node_modules");
  // Inside the (ignored) cache: same filesystem as the cached node_modules, so moving them is a rename.
  fs.mkdirSync(cacheRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cacheRoot, "wt-"));
  const wt = path.join(tmp, "tree");
  const add = git(top, ["worktree", "add", "--detach", "--force", wt, sha]);
  if (add.status !== 0) throw new BaseError(`--diff ${req.base}: git worktree add failed: ${add.stderr.trim().split("\n").pop()}`);
  try {
    await installModules(wt, modules, req.log);
    const out = path.join(tmp, "base-plan.json");
    const args = ["run", "--silent", "plan", "--", "--format", "json", "--out", out];
    if (req.configFile) {
      const rel = path.relative(top, path.resolve(req.configFile));
      const inTree = !rel.startsWith("..") && fs.existsSync(path.join(wt, rel)) ? path.join(wt, rel) : path.resolve(req.configFile);
      args.push("--config-file", inTree);
    } else args.push("--stack", req.stack);
    req.log(`evaluating ${req.base} (${sha.slice(0, 10)}) with its own program…\n`);
    const run = spawnSync("npm", args, { cwd: wt, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" }, maxBuffer: 64 * 1024 * 1024 });
    // Exit 1 (mandatory violations at BASE) still wrote the plan; 2 and 3 did not.
    if (!fs.existsSync(out)) {
      const why = (run.stderr || run.stdout || "").trim().split("\n").slice(-4).join("\n");
      throw new BaseError(`--diff ${req.base}: its plan could not be produced (exit ${run.status}):\n${why}`);
    }
    return parsePlanDocument(fs.readFileSync(out, "utf8"), `the plan of ${req.base}`);
  } finally {
    git(top, ["worktree", "remove", "--force", wt]);
    git(top, ["worktree", "prune"]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * node_modules for the worktree: the cached install for this lockfile, or a fresh `npm ci`
 * moved into the cache. The worktree gets a symlink (Node resolves packages through it).
 */
async function installModules(wt: string, cached: string, log: (s: string) => void): Promise<void> {
  // The root's node_modules and those npm left inside workspaces (packages it could not hoist).
  const pkg = JSON.parse(fs.readFileSync(path.join(wt, "package.json"), "utf8")) as { workspaces?: string[] };
  const dirs = ["", ...(Array.isArray(pkg.workspaces) ? pkg.workspaces : [])];
  const slot = (dir: string) => (dir ? path.join(path.dirname(cached), "workspaces", dir.replace(/[\\/]/g, "__"), "node_modules") : cached);
  if (!fs.existsSync(path.join(cached, ".package-lock.json"))) {
    log(`installing the base's dependencies (npm ci, cached in ${path.relative(process.cwd(), path.dirname(cached)) || path.dirname(cached)})…\n`);
    const ci = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: wt, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (ci.status !== 0) throw new BaseError(`npm ci failed in the base worktree: ${(ci.stderr || "").trim().split("\n").slice(-3).join("\n")}`);
    fs.rmSync(path.dirname(cached), { recursive: true, force: true });
    for (const dir of dirs) {
      const from = path.join(wt, dir, "node_modules");
      if (!fs.existsSync(from)) continue;
      fs.mkdirSync(path.dirname(slot(dir)), { recursive: true });
      fs.renameSync(from, slot(dir));
    }
  }
  for (const dir of dirs) {
    const link = path.join(wt, dir, "node_modules");
    if (!fs.existsSync(slot(dir)) || !fs.existsSync(path.join(wt, dir))) continue;
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(slot(dir), link, "dir");
  }
}
