/**
 * The merge-request pipelines: comments stay under the forges' size limits and keep what
 * reviewers need (verdict, change summary, every policy line); the pipelines run what docs/ci.md
 * says, with the pack config that exists.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCommentArgs, renderComment } from "../scripts/ci-comment";

const GITHUB_LIMIT = 65_536;

describe("ci-comment", () => {
  it("summarises a huge preview under GitHub's limit, keeping the summary and every policy violation", () => {
    const diff = Array.from({ length: 20_000 }, (_, i) => ` +   kubernetes:core/v1:ConfigMap tenant-${i}-cm create`).join("\n");
    const raw = [
      "Previewing update (prod)",
      diff,
      "Policies:",
      "    ❌ liiibre@v0.1.0 (local: policies)",
      "        - [mandatory]  pinned-versions  (kubernetes:helm.sh/v3:Release: acme-nextcloud-release)",
      '          chart nextcloud: version "^6.0.0" is not an exact version',
      "        - [advisory]  small-orgs-share  (kubernetes:core/v1:Namespace: tiny-namespace)",
      "",
      "Resources:",
      "    + 20000 to create",
      "    4256 unchanged",
      "",
    ].join("\n");
    const a = parseCommentArgs(["--key", "preview", "--title", "pulumi preview (prod)", "--preview", "x", "--exit-code", "255"]);
    const body = renderComment(a, raw);
    expect(raw.length).toBeGreaterThan(GITHUB_LIMIT * 10);
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body.startsWith("<!-- liiibre:preview -->\n### pulumi preview (prod) — ❌ exit code 255")).toBe(true);
    expect(body).toContain("+ 20000 to create");
    expect(body).toContain('chart nextcloud: version "^6.0.0" is not an exact version');
    expect(body).toContain("[advisory]  small-orgs-share");
    expect(body).toMatch(/more characters in the job's artifacts/);
  });

  it("truncates a long plan body and refuses ambiguous arguments", () => {
    const a = parseCommentArgs(["--key", "offline-plan", "--title", "Offline plan", "--body", "plan.md", "--exit-code", "0", "--max", "1000"]);
    const body = renderComment(a, "x".repeat(5000));
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body).toContain("— ✅ passed");
    expect(body).toMatch(/truncated/);
    expect(() => parseCommentArgs(["--key", "k", "--title", "t"])).toThrow(/exactly one of --body/);
    expect(() => parseCommentArgs(["--key", "K!", "--title", "t", "--body", "f"])).toThrow(/--key/);
  });
});

describe("pipelines", () => {
  const gitlab = parseYaml(fs.readFileSync(".gitlab-ci.yml", "utf8"));
  const github = parseYaml(fs.readFileSync(".github/workflows/merge-request.yml", "utf8"));
  const drift = parseYaml(fs.readFileSync(".github/workflows/drift.yml", "utf8"));
  const script = (job: { script: unknown[] }) => JSON.stringify(job.script);

  it("GitLab: tests, offline plan and policy-checked preview on merge requests; drift on schedules", () => {
    expect(script(gitlab.test)).toContain("npm test");
    expect(script(gitlab["offline-plan"])).toContain("npm run plan -- --stack");
    expect(script(gitlab["offline-plan"])).toContain("--format markdown");
    expect(script(gitlab.preview)).toMatch(/pulumi preview .*--diff.*--policy-pack policies --policy-pack-config \\"policies\/\$PULUMI_STACK\.json\\"/);
    expect(JSON.stringify(gitlab.preview.rules)).toContain("$PULUMI_ACCESS_TOKEN");
    expect(script(gitlab.drift)).toMatch(/--refresh --expect-no-changes/);
    expect(JSON.stringify(gitlab.drift.rules)).toContain('schedule');
    expect(fs.existsSync(`policies/${gitlab.variables.PULUMI_STACK}.json`)).toBe(true);
  });

  it("GitHub: the same jobs, actions pinned by version", () => {
    const steps = Object.values(github.jobs).flatMap((j: any) => j.steps) as Array<{ uses?: string; run?: string }>;
    for (const s of [...steps, ...drift.jobs.drift.steps]) if (s.uses) expect(s.uses, s.uses).toMatch(/@v\d+\.\d+\.\d+$/);
    const runs = steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npm test");
    expect(runs).toMatch(/pulumi preview .*--diff/);
    expect(runs).toContain('--policy-pack policies --policy-pack-config "policies/$PULUMI_STACK.json"');
    expect(drift.on.schedule[0].cron).toBeTruthy();
    expect(JSON.stringify(drift.jobs.drift.steps)).toContain("--refresh --expect-no-changes");
  });
});
