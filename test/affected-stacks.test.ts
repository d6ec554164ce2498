/**
 * `npm run affected` (scripts/affected-stacks.ts): which stacks a change must preview, checked on
 * real git repositories (a copy of this project's program and estates, changed and committed),
 * and the plan signal on plans that differ in one stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { parseEstate } from "../components/config";
import { readConfigFile } from "../components/config/file";
import { shardOf, stackLayout } from "../components/layers/placement";
import { affectedStacks, gitlabPipeline, parseAffectedArgs, planDifferences, runAffected } from "../scripts/affected-stacks";
import type { Plan } from "../scripts/plan-model";
import { tempRepo, type TempRepo } from "./helpers/git-repo";

let repo: TempRepo;
let base: string;
/** prod's stacks as the placement puts them at the base, and the shard stack of a slug. */
let prodStacks: string[];
let devStacks: string[];
let stackOf: (slug: string) => string;

beforeAll(() => {
  repo = tempRepo();
  base = repo.git("rev-parse", "HEAD").trim();
  const prod = parseEstate(readConfigFile(`${repo.dir}/Pulumi.prod.yaml`));
  prodStacks = stackLayout("prod", prod).map((s) => s.name);
  devStacks = stackLayout("dev", parseEstate(readConfigFile(`${repo.dir}/Pulumi.dev.yaml`))).map((s) => s.name);
  stackOf = (slug) => `prod-${shardOf(prod.tenants.find((t) => t.slug === slug)!, prod.sharding.shards)}`;
});
afterAll(() => repo?.remove());

/** Edits prod's estate file as YAML (comments and order kept), commits, and returns the affected stacks from the base. */
function commitEdit(edit: (doc: ReturnType<typeof parseDocument>) => void, file = "Pulumi.prod.yaml"): void {
  repo.git("checkout", "-q", "--detach", base);
  const doc = parseDocument(repo.read(file));
  edit(doc);
  repo.write(file, doc.toString());
  repo.commit("change");
}
async function change(edit: (doc: ReturnType<typeof parseDocument>) => void, file = "Pulumi.prod.yaml") {
  commitEdit(edit, file);
  return affectedStacks({ repo: repo.dir, base, head: "HEAD", method: "files" });
}

const tenantIndex = (doc: ReturnType<typeof parseDocument>, slug: string) => (doc.getIn(["config", "liiibre:tenants"]) as any).items.findIndex((t: any) => t.get("slug") === slug);
const names = (r: { stacks: Array<{ name: string }> }) => r.stacks.map((s) => s.name);

describe("affected stacks from the estate file", () => {
  it("prod is a platform stack and four shards, dev one stack (what the cases below rely on)", () => {
    expect(prodStacks).toEqual(["prod", "prod-a", "prod-b", "prod-c", "prod-d"]);
    expect(devStacks).toEqual(["dev"]);
  });

  it("changing one organisation's quota touches only its shard", async () => {
    const r = await change((doc) => doc.setIn(["config", "liiibre:tenants", tenantIndex(doc, "fcso-occitanie"), "quotaPerUserGB"], 5));
    expect(names(r)).toEqual([stackOf("fcso-occitanie")]);
    expect(r.stacks[0].reasons.join()).toContain("organisation fcso-occitanie changed (quotaPerUserGB)");
    expect(r.stacks[0].needsPlatform).toBe(false);
    expect(r.unaffected).toEqual(expect.arrayContaining(["dev", "prod", ...prodStacks.filter((s) => s !== stackOf("fcso-occitanie") && s !== "prod")]));
  });

  it("adding an organisation touches its shard (and the platform, whose Keycloak is sized by the estate's accounts), no other shard", async () => {
    const r = await change((doc) => {
      (doc.getIn(["config", "liiibre:tenants"]) as any).add(doc.createNode({ slug: "nouvelle-asso", name: "Nouvelle Asso", domain: "nouvelle-asso.org", plan: "dedicated", users: 40 }));
    });
    const head = parseEstate(readConfigFile(`${repo.dir}/Pulumi.prod.yaml`));
    const shard = `prod-${shardOf(head.tenants.find((t) => t.slug === "nouvelle-asso")!, head.sharding.shards)}`;
    expect(names(r)).toEqual(["prod", shard]);
    expect(r.stacks.find((s) => s.name === shard)!.needsPlatform).toBe(true);
  });

  it("moving an organisation touches both shards and nothing else", async () => {
    const from = stackOf("fcso-occitanie");
    const to = ["a", "b", "c", "d"].map((s) => `prod-${s}`).find((s) => s !== from)!;
    const r = await change((doc) => doc.setIn(["config", "liiibre:tenants", tenantIndex(doc, "fcso-occitanie"), "shard"], to.slice("prod-".length)));
    expect(names(r).sort()).toEqual([from, to].sort());
    expect(r.stacks.flatMap((s) => s.reasons).join("\n")).toMatch(new RegExp(`fcso-occitanie moves to ${to}`));
  });

  it("reordering organisations and editing comments touch nothing", async () => {
    const r = await change((doc) => {
      const seq = doc.getIn(["config", "liiibre:tenants"]) as any;
      seq.items.reverse();
      seq.commentBefore = " reordered";
    });
    expect(r.changedFiles).toEqual(["Pulumi.prod.yaml"]);
    expect(r.stacks).toEqual([]);
  });

  it("a shared setting (the cluster) touches every stack of its estate, platform first, and no other estate", async () => {
    const r = await change((doc) => doc.setIn(["config", "liiibre:cluster", "name"], "ada-lovelace-2"));
    expect(names(r)).toEqual(prodStacks);
    expect(r.matrix.platform.map((m) => m.stack)).toEqual(["prod"]);
    expect(r.matrix.shards.every((m) => m.needsPlatform)).toBe(true);
  });

  it("an estate file that does not validate at HEAD is refused with exit 2 naming the key", async () => {
    commitEdit((doc) => doc.setIn(["config", "liiibre:tenants", 0, "plan"], "premium"));
    const err: string[] = [];
    const code = await runAffected(["--base", base, "--head", "HEAD", "--method", "files"], { write: () => {}, error: (s) => err.push(s) }, repo.dir);
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/liiibre:tenants\[0\]\.plan/);
  });
});

describe("affected stacks from code", () => {
  const edit = async (file: string, append = "\n// touched\n") => {
    repo.git("checkout", "-q", "--detach", base);
    repo.write(file, repo.read(file) + append);
    repo.commit(`touch ${file}`);
    return affectedStacks({ repo: repo.dir, base, head: "HEAD", method: "files" });
  };

  it("changing components/versions.ts touches every stack of every estate", async () => {
    const r = await edit("components/versions.ts");
    expect(names(r).sort()).toEqual([...devStacks, ...prodStacks].sort());
    expect(names(r).slice(0, 2).sort()).toEqual(["dev", "prod"]); // platform (and one-stack) jobs first
  });

  it("tenant-only code touches every shard and the one-stack estate, not the platform stack", async () => {
    // The Tenant component itself: the platform builds none in a sharded estate (its shared
    // instance deploys bundles, so the rest of components/tenant and components/apps is platform code too).
    const r = await edit("components/tenant/tenant.ts");
    expect(names(r).sort()).toEqual(["dev", ...prodStacks.filter((s) => s !== "prod")].sort());
    expect(r.matrix.shards.every((m) => !m.needsPlatform)).toBe(true);
  });

  it("code the shared instance deploys (an app) touches the platform stack too", async () => {
    const r = await edit("components/apps/hedgedoc.ts");
    expect(names(r).sort()).toEqual([...devStacks, ...prodStacks].sort());
  });

  it("docs only: nothing to preview", async () => {
    const r = await edit("docs/ci.md");
    expect(r.changedFiles).toEqual(["docs/ci.md"]);
    expect(r.stacks).toEqual([]);
    expect(r.unaffected.length).toBe(prodStacks.length + devStacks.length);
  });

  it("the working tree counts, untracked files included", async () => {
    repo.git("checkout", "-q", "--detach", base);
    repo.write("policies/new-rule.ts", "export {};\n");
    const r = await affectedStacks({ repo: repo.dir, base, method: "files" });
    repo.git("clean", "-qfd");
    expect(r.changedFiles).toEqual(["policies/new-rule.ts"]);
    expect(names(r).length).toBe(prodStacks.length + devStacks.length);
  });
});

describe("the plan signal", () => {
  const res = (stack: string, name: string, inputs: Record<string, unknown>) => ({
    urn: `urn:pulumi:${stack}::liiibre::kubernetes:core/v1:ConfigMap::${name}`,
    type: "kubernetes:core/v1:ConfigMap",
    name,
    parent: null,
    custom: true,
    inputs,
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    aliases: [],
    dependsOn: [],
    provider: null,
    tenant: null,
    stack,
  });
  const plan = (resources: any[], violations: any[] = []): Plan =>
    ({ version: 1, project: "liiibre", stack: "prod", resources, tenants: [], summary: { resourceCount: resources.length, mandatoryViolations: 0 }, violations, stacks: [] }) as unknown as Plan;

  it("names exactly the stacks whose resources or policy verdicts differ", async () => {
    const before = plan([res("prod", "p", { data: { a: "1" } }), res("prod-a", "x", { data: { a: "1" } }), res("prod-b", "y", { data: { a: "1" } }), res("prod-c", "z", { data: {} })]);
    const after = plan(
      [res("prod", "p", { data: { a: "1" } }), res("prod-a", "x", { data: { a: "2" } }), res("prod-b", "y", { data: { a: "1" } }), res("prod-d", "z", { data: {} })],
      [{ policy: "pinned-versions", level: "mandatory", urn: "urn:pulumi:prod-b::liiibre::kubernetes:core/v1:ConfigMap::y", message: "m", tenant: null }],
    );
    const d = await planDifferences(before, after);
    expect([...d.keys()].sort()).toEqual(["prod-a", "prod-b", "prod-c", "prod-d"]);
    // A ConfigMap's data change replaces it (scripts/diff/replace-rules.ts, as pulumi-kubernetes does).
    expect(d.get("prod-a")!.join()).toContain("1 to replace");
    expect(d.get("prod-c")!.join()).toContain("1 to delete");
    expect(d.get("prod-d")!.join()).toContain("1 to create");
    expect(d.get("prod-b")!.join()).toContain("policy verdicts differ");
    expect(await planDifferences(before, before)).toEqual(new Map());
  });

  it("with plans, only the stacks the plans show stay, plus changes the plan cannot see", async () => {
    // versions.ts changes (files: every stack) but the plans differ in prod-a only.
    repo.git("checkout", "-q", "--detach", base);
    repo.write("components/versions.ts", `${repo.read("components/versions.ts")}\n// touched\n`);
    repo.commit("versions");
    const basePlan = plan([res("prod-a", "x", { v: "1" })]);
    const headPlan = plan([res("prod-a", "x", { v: "2" })]);
    const devPlan = { ...plan([]), stack: "dev" } as Plan;
    const r = await affectedStacks({ repo: repo.dir, base, head: "HEAD", basePlans: [basePlan, devPlan], headPlans: [headPlan, devPlan] });
    expect(r.method).toBe("plan");
    expect(names(r)).toEqual(["prod-a"]);
    // package-lock.json changes what the providers do, which no plan shows: every stack stays.
    repo.write("package-lock.json", repo.read("package-lock.json").replace(/\n$/, " \n"));
    repo.commit("lock");
    const r2 = await affectedStacks({ repo: repo.dir, base, head: "HEAD", basePlans: [basePlan, devPlan], headPlans: [headPlan, devPlan] });
    expect(names(r2).sort()).toEqual([...devStacks, ...prodStacks].sort());
  });
});

describe("command line and the generated GitLab pipeline", () => {
  it("refuses ambiguous arguments", () => {
    expect(() => parseAffectedArgs([])).toThrow(/exactly one of --base/);
    expect(() => parseAffectedArgs(["--all", "--base", "x"])).toThrow(/exactly one of --base/);
    expect(() => parseAffectedArgs(["--all", "--format", "yaml"])).toThrow(/--format: expected one of text \| json \| gitlab-ci/);
    expect(parseAffectedArgs(["--all"]).all).toBe(true);
  });

  it("--all lists every stack; the child pipeline gives each its own lock, shards after their platform, the comment job last", async () => {
    const r = await affectedStacks({ repo: repo.dir, all: true });
    expect(names(r)).toEqual(["dev", ...prodStacks]);
    const doc = parseDocument(gitlabPipeline(r, "drift")).toJS();
    const jobs = Object.entries(doc).filter(([k]) => k.startsWith("preview:") && k !== "preview:comment") as Array<[string, any]>;
    expect(jobs.map(([k]) => k)).toEqual(names(r).map((s) => `preview:${s}`));
    expect(new Set(jobs.map(([, j]) => j.resource_group)).size).toBe(jobs.length);
    for (const [k, j] of jobs) {
      expect(j.resource_group).toBe(`pulumi-${k.slice("preview:".length)}`);
      expect(j.script.join("\n")).toContain("--refresh --expect-no-changes");
      if (k.startsWith("preview:prod-")) expect(j.needs).toEqual([{ job: "preview:prod", artifacts: false }]);
      else expect(j.needs).toEqual([]);
    }
    expect(doc.stages.indexOf(doc["preview:comment"].stage)).toBe(doc.stages.length - 1);
    expect(doc["preview:comment"].needs).toBeUndefined();
    expect(doc["preview:comment"].when).toBe("always");
  });
});
