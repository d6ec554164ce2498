/**
 * Posts (or updates) one merge-request comment per kind: the offline plan, the Pulumi preview.
 * Used by .gitlab-ci.yml and .github/workflows/ (docs/ci.md).
 *
 *   tsx scripts/ci-comment.ts --key offline-plan --title "Offline plan (prod)" --body plan.md [--exit-code N]
 *   tsx scripts/ci-comment.ts --key preview --title "pulumi preview (prod)" --preview preview.txt [--exit-code N]
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
      case "--exit-code": a.exitCode = Number(v()); break;
      case "--max": a.max = Number(v()); break;
      case "--artifacts-url": a.artifactsUrl = v(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.key || !/^[a-z0-9-]+$/.test(a.key)) throw new Error("--key: expected a lower-case identifier");
  if (!a.title) throw new Error("--title is required");
  if (!a.body === !a.preview) throw new Error("give exactly one of --body FILE or --preview FILE");
  return a as CommentArgs;
}

const marker = (key: string) => `<!-- liiibre:${key} -->`;

/** Drops ANSI colours and the CLI's progress noise. */
const clean = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");

/**
 * Summary of a `pulumi preview --diff` output: the "Resources:" block, every policy line
 * (mandatory/advisory, with the indented lines that follow), then the head of the diff.
 */
export function summarisePreview(raw: string, budget: number): string {
  const text = clean(raw);
  const lines = text.split("\n");
  const at = lines.findIndex((l) => /^Resources:/.test(l));
  let resources = "(no resource summary: the preview did not finish, see the job log)";
  if (at >= 0) {
    const end = lines.findIndex((l, i) => i > at && l.trim() === "");
    resources = lines.slice(at, end < 0 ? undefined : end).join("\n");
  }
  const policy: string[] = [];
  lines.forEach((l, i) => {
    if (/\[(mandatory|advisory)\]/.test(l) || /Policy Violations:|Policies:/.test(l)) {
      policy.push(l);
      for (let j = i + 1; j < lines.length && /^\s{4,}\S/.test(lines[j]) && !/\[(mandatory|advisory)\]/.test(lines[j]); j++) policy.push(lines[j]);
    }
  });
  const head = [`**Changes**`, "```", resources.trim(), "```"];
  if (policy.length) head.push("**Policies**", "```", ...policy, "```");
  const fixed = head.join("\n");
  const diffBudget = Math.max(0, budget - fixed.length - 200);
  const diff = text.length > diffBudget ? `${text.slice(0, diffBudget)}\n… (${text.length - diffBudget} more characters in the job's artifacts)` : text;
  return `${fixed}\n<details><summary>Diff</summary>\n\n\`\`\`diff\n${diff}\n\`\`\`\n</details>`;
}

export function renderComment(a: CommentArgs, content: string): string {
  const status = a.exitCode === undefined ? "" : a.exitCode === 0 ? " — ✅ passed" : ` — ❌ exit code ${a.exitCode}`;
  const header = `${marker(a.key)}\n### ${a.title}${status}\n\n`;
  const footer = a.artifactsUrl ? `\n\nFull output: ${a.artifactsUrl}` : "";
  const room = a.max - header.length - footer.length;
  let bodyText = a.preview ? summarisePreview(content, room) : content;
  if (bodyText.length > room) bodyText = `${bodyText.slice(0, room - 120)}\n\n… truncated (${bodyText.length - room + 120} characters more in the job's artifacts)`;
  return header + bodyText + footer;
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
  const file = (a.body ?? a.preview)!;
  const content = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `(no output: ${file} was not produced, see the job log)`;
  const body = renderComment(a, content);
  const env = process.env;
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
