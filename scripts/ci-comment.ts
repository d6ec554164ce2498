/**
 * Posts (or updates) one merge-request comment per kind: the offline plan, the Pulumi preview.
 * Used by .gitlab-ci.yml and .github/workflows/ (docs/ci.md).
 *
 *   tsx scripts/ci-comment.ts --key offline-plan --title "Offline plan (prod)" --body plan.md [--exit-code N]
 *   tsx scripts/ci-comment.ts --key preview --title "pulumi preview (prod)" --preview preview.txt [--exit-code N]
 *   tsx scripts/ci-comment.ts --key preview --title "pulumi preview" --stacks affected.json --previews DIR
 *
 * `--stacks` + `--previews` merge the per-stack previews of the matrix (docs/ci.md) into ONE
 * comment: a table with each stack's change counts and verdict (stacks whose job did not run
 * say so), every policy line of every stack, then each stack's diff head as far as the budget
 * goes. DIR holds `<stack>.txt` (the raw `pulumi preview` output) and `<stack>.exit` (its exit
 * code) per stack; the stack list is the `npm run affected -- --format json` result.
 *
 * `--preview` summarises raw `pulumi preview --diff` output: the change summary, every policy
 * violation line, then as much of the diff as fits. Comments are capped (GitHub refuses bodies
 * over 65,536 characters; GitLab notes allow 1,000,000) at --max characters (default 60,000),
 * with a pointer to the full output in the job's artifacts.
 *
 * Target, from the environment:
 * - GitLab: CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID and GITLAB_API_TOKEN (a project
 *   access token with the `api` scope, role Reporter or above);
 * - GitHub: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN and PR_NUMBER;
 * - otherwise the comment is printed on stdout.
 * An earlier comment of the same key (found by its hidden marker) is edited, not duplicated.
 */
import * as fs from "node:fs";

export interface CommentArgs {
  key: string;
  title: string;
  body?: string;
  preview?: string;
  /** `--stacks FILE`: the affected-stacks result; with `--previews DIR`, one merged comment. */
  stacks?: string;
  previews?: string;
  exitCode?: number;
  max: number;
  artifactsUrl?: string;
}

export function parseCommentArgs(argv: string[]): CommentArgs {
  const a: Partial<CommentArgs> = { max: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return x;
    };
    switch (argv[i]) {
      case "--key": a.key = v(); break;
      case "--title": a.title = v(); break;
      case "--body": a.body = v(); break;
      case "--preview": a.preview = v(); break;
      case "--stacks": a.stacks = v(); break;
      case "--previews": a.previews = v(); break;
      case "--exit-code": a.exitCode = Number(v()); break;
      case "--max": a.max = Number(v()); break;
      case "--artifacts-url": a.artifactsUrl = v(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.key || !/^[a-z0-9-]+$/.test(a.key)) throw new Error("--key: expected a lower-case identifier");
  if (!a.title) throw new Error("--title is required");
  if (!a.stacks !== !a.previews) throw new Error("--stacks FILE and --previews DIR go together");
  if ([a.body, a.preview, a.stacks].filter(Boolean).length !== 1) throw new Error("give exactly one of --body FILE, --preview FILE or --stacks FILE --previews DIR");
  return a as CommentArgs;
}

const marker = (key: string) => `<!-- liiibre:${key} -->`;

/** Drops ANSI colours and the CLI's progress noise. */
const clean = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");

/**
 * Summary of a `pulumi preview --diff` output: the "Resources:" block, every policy line
 * (mandatory/advisory, with the indented lines that follow), then the head of the diff.
 */
/** The "Resources:" block of a preview, or null when the preview did not finish. */
function resourcesBlock(lines: string[]): string | null {
  const at = lines.findIndex((l) => /^Resources:/.test(l));
  if (at < 0) return null;
  const end = lines.findIndex((l, i) => i > at && l.trim() === "");
  return lines.slice(at, end < 0 ? undefined : end).join("\n");
}

/** Every policy line of a preview (mandatory/advisory, with the indented lines that follow). */
export function policyLines(lines: string[]): string[] {
  const policy: string[] = [];
  lines.forEach((l, i) => {
    if (/\[(mandatory|advisory)\]/.test(l) || /Policy Violations:|Policies:/.test(l)) {
      policy.push(l);
      for (let j = i + 1; j < lines.length && /^\s{4,}\S/.test(lines[j]) && !/\[(mandatory|advisory)\]/.test(lines[j]); j++) policy.push(lines[j]);
    }
  });
  return policy;
}

export function summarisePreview(raw: string, budget: number): string {
  const text = clean(raw);
  const lines = text.split("\n");
  const resources = resourcesBlock(lines) ?? "(no resource summary: the preview did not finish, see the job log)";
  const policy = policyLines(lines);
  const head = [`**Changes**`, "```", resources.trim(), "```"];
  if (policy.length) head.push("**Policies**", "```", ...policy, "```");
  const fixed = head.join("\n");
  const diffBudget = Math.max(0, budget - fixed.length - 200);
  const diff = text.length > diffBudget ? `${text.slice(0, diffBudget)}\n… (${text.length - diffBudget} more characters in the job's artifacts)` : text;
  return `${fixed}\n<details><summary>Diff</summary>\n\n\`\`\`diff\n${diff}\n\`\`\`\n</details>`;
}

export const ACTIONS = ["create", "update", "replace", "delete"] as const;

/** Change counts of a preview's "Resources:" block (`+ 3 to create`, `+-1 to replace`, `12 unchanged`); null when it has none. */
export function previewCounts(raw: string): (Record<(typeof ACTIONS)[number] | "unchanged", number>) | null {
  const block = resourcesBlock(clean(raw).split("\n"));
  if (block === null) return null;
  const n = (re: RegExp) => Number(re.exec(block)?.[1] ?? 0);
  return {
    create: n(/(\d+) to create/),
    update: n(/(\d+) to update/),
    replace: n(/(\d+) to replace/),
    delete: n(/(\d+) to delete/),
    unchanged: n(/(\d+) unchanged/),
  };
}

/** One stack's outcome in a merged comment. */
export interface StackPreview {
  stack: string;
  layer: string;
  /** Raw preview output, or undefined when the stack's job left none (skipped, cancelled). */
  output?: string;
  exitCode?: number;
}

/** Values of the credentials the jobs hold: never echoed into a comment, even if a tool printed one. */
const SECRET_ENV = ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "HCLOUD_TOKEN", "GITLAB_API_TOKEN", "GITHUB_TOKEN"];
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const k of SECRET_ENV) {
    const v = env[k];
    if (v && v.length >= 8) out = out.split(v).join("[secret]");
  }
  return out;
}

/**
 * The merged comment body of a matrix run: a table per stack (counts, verdict), every policy
 * line of every stack, then each stack's diff head within the budget.
 */
export function mergePreviews(stacks: StackPreview[], budget: number): string {
  if (!stacks.length) return "No stack is affected by this change: nothing to preview (docs/ci.md, \"Affected stacks\"; force a full run there).";
  const row = (s: StackPreview) => {
    if (s.output === undefined) return `| \`${s.stack}\` | ${s.layer} | ⏭️ not run (job skipped or cancelled: see the pipeline) | | | | | |`;
    const c = previewCounts(s.output);
    const verdict = s.exitCode === 0 ? "✅" : `❌ exit ${s.exitCode ?? "?"}`;
    const pol = policyLines(clean(s.output).split("\n")).filter((l) => /\[mandatory\]/.test(l)).length;
    if (!c) return `| \`${s.stack}\` | ${s.layer} | ${verdict} (no resource summary: the preview did not finish) | | | | | ${pol} |`;
    return `| \`${s.stack}\` | ${s.layer} | ${verdict} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${pol} |`;
  };
  const table = ["| stack | layer | result | create | update | replace | delete | mandatory |", "|---|---|---|---:|---:|---:|---:|---:|", ...stacks.map(row)];
  const totals = stacks.map((s) => (s.output === undefined ? null : previewCounts(s.output))).filter((c): c is NonNullable<typeof c> => c !== null);
  const sum = (k: (typeof ACTIONS)[number]) => totals.reduce((n, c) => n + c[k], 0);
  const head = [`${stacks.length} stack(s) previewed: ${ACTIONS.map((k) => `${sum(k)} to ${k}`).join(", ")}.`, "", ...table];
  const policies: string[] = [];
  for (const s of stacks) {
    if (s.output === undefined) continue;
    const p = policyLines(clean(s.output).split("\n"));
    if (p.length) policies.push(`\`${s.stack}\``, "```", ...p, "```");
  }
  if (policies.length) head.push("", "**Policies**", "", ...policies);
  else head.push("", "No policy violation in any previewed stack.");
  const fixed = head.join("\n");
  let room = budget - fixed.length - 100;
  const diffs: string[] = [];
  for (const s of stacks) {
    if (s.output === undefined || room <= 200) continue;
    const text = clean(s.output);
    const take = Math.max(0, Math.min(text.length, room - 150));
    const part = text.length > take ? `${text.slice(0, take)}\n… (${text.length - take} more characters in the job's artifacts)` : text;
    const block = `<details><summary>${s.stack}: diff</summary>\n\n\`\`\`diff\n${part}\n\`\`\`\n</details>`;
    diffs.push(block);
    room -= block.length + 1;
  }
  return [fixed, "", ...diffs].join("\n");
}

/** The comment: `content` is the body or raw preview text, or the stacks' previews of a matrix run (`--stacks`). */
export function renderComment(a: CommentArgs, content: string | StackPreview[]): string {
  const status = a.exitCode === undefined ? "" : a.exitCode === 0 ? " — ✅ passed" : ` — ❌ exit code ${a.exitCode}`;
  const header = `${marker(a.key)}\n### ${a.title}${status}\n\n`;
  const footer = a.artifactsUrl ? `\n\nFull output: ${a.artifactsUrl}` : "";
  const room = a.max - header.length - footer.length;
  let bodyText = typeof content !== "string" ? mergePreviews(content, room) : a.preview ? summarisePreview(content, room) : content;
  if (bodyText.length > room) bodyText = `${bodyText.slice(0, room - 120)}\n\n… truncated (${bodyText.length - room + 120} characters more in the job's artifacts)`;
  return header + bodyText + footer;
}

/** Each affected stack (affected.json, in its order) with what its job left in DIR. */
export function readStackPreviews(stacksFile: string, dir: string): StackPreview[] {
  const doc = JSON.parse(fs.readFileSync(stacksFile, "utf8")) as { kind?: string; stacks?: Array<{ name: string; layer: string }> };
  if (doc.kind !== "liiibre-affected-stacks" || !Array.isArray(doc.stacks)) throw new Error(`${stacksFile} is not a result of \`npm run affected -- --format json\``);
  return doc.stacks.map((s) => {
    const txt = `${dir}/${s.name}.txt`;
    const exit = `${dir}/${s.name}.exit`;
    return {
      stack: s.name,
      layer: s.layer,
      ...(fs.existsSync(txt) ? { output: fs.readFileSync(txt, "utf8") } : {}),
      ...(fs.existsSync(exit) ? { exitCode: Number(fs.readFileSync(exit, "utf8").trim()) } : {}),
    };
  });
}

async function api(url: string, init: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url.replace(/\?.*$/, "")}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res.status === 204 ? undefined : res.json();
}

async function upsertGitLab(key: string, body: string, env: NodeJS.ProcessEnv): Promise<void> {
  const base = `${env.CI_API_V4_URL}/projects/${encodeURIComponent(env.CI_PROJECT_ID!)}/merge_requests/${env.CI_MERGE_REQUEST_IID}/notes`;
  const headers = { "PRIVATE-TOKEN": env.GITLAB_API_TOKEN!, "Content-Type": "application/json" };
  const notes: Array<{ id: number; body: string }> = await api(`${base}?per_page=100&sort=desc`, { headers });
  const mine = notes.find((n) => n.body.startsWith(marker(key)));
  if (mine) await api(`${base}/${mine.id}`, { method: "PUT", headers, body: JSON.stringify({ body }) });
  else await api(base, { method: "POST", headers, body: JSON.stringify({ body }) });
}

async function upsertGitHub(key: string, body: string, env: NodeJS.ProcessEnv): Promise<void> {
  const repo = `${env.GITHUB_API_URL ?? "https://api.github.com"}/repos/${env.GITHUB_REPOSITORY}`;
  const headers = { Authorization: `Bearer ${env.GITHUB_TOKEN}`, Accept: "application/vnd.github+json", "Content-Type": "application/json" };
  const comments: Array<{ id: number; body: string }> = await api(`${repo}/issues/${env.PR_NUMBER}/comments?per_page=100`, { headers });
  const mine = comments.find((c) => c.body?.startsWith(marker(key)));
  if (mine) await api(`${repo}/issues/comments/${mine.id}`, { method: "PATCH", headers, body: JSON.stringify({ body }) });
  else await api(`${repo}/issues/${env.PR_NUMBER}/comments`, { method: "POST", headers, body: JSON.stringify({ body }) });
}

async function cli(): Promise<void> {
  const a = parseCommentArgs(process.argv.slice(2));
  let content: string | StackPreview[];
  if (a.stacks) {
    // The merged verdict: the worst exit code of the stacks (a stack whose job left nothing counts as failed).
    content = readStackPreviews(a.stacks, a.previews!);
    a.exitCode ??= content.reduce((m, s) => Math.max(m, s.output === undefined ? 1 : (s.exitCode ?? 1)), 0);
  } else {
    const file = (a.body ?? a.preview)!;
    content = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `(no output: ${file} was not produced, see the job log)`;
  }
  const body = redactSecrets(renderComment(a, content));
  const env = process.env;
  // GitHub shows a run's summary on its page: the drift check and the default branch have no pull request to comment on.
  if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, `${body}\n`);
  if (env.CI_MERGE_REQUEST_IID && env.GITLAB_API_TOKEN) await upsertGitLab(a.key, body, env);
  else if (env.PR_NUMBER && env.GITHUB_TOKEN && env.GITHUB_REPOSITORY) await upsertGitHub(a.key, body, env);
  else {
    process.stdout.write(`${body}\n`);
    return;
  }
  process.stderr.write(`comment "${a.key}" posted (${body.length} characters)\n`);
}

if (require.main === module) {
  cli().catch((err) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
