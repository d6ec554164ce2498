/**
 * `npm run plan`: the JSON contract of docs/plan.md, no secret in any report, exit codes
 * 0 / 1 / 2 — through the real CLI where the exit code itself is the contract.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { checkPolicies, type Violation } from "../scripts/check-policies";
import { MOCK_SECRET_MARKER, REPO_ROOT, evaluateStack, readStackConfig, stackConfigFile } from "../scripts/harness";
import { parseArgs, runPlan, type PlanArgs } from "../scripts/plan";
import { buildPlan, planExitCode, type Plan } from "../scripts/plan-model";
import { render } from "../scripts/report";

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(TSX, ["scripts/plan.ts", ...args], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 512 * 1024 * 1024 });

async function plan(args: Partial<PlanArgs>, policies?: Parameters<typeof runPlan>[2]) {
  let out = "";
  let err = "";
  const code = await runPlan({ stack: "prod", format: "text", ...args }, { write: (s) => (out += s), error: (s) => (err += s) }, policies);
  return { code, out, err };
}

function writeConfig(mutate: (c: any) => void): string {
  const raw: any = readStackConfig(stackConfigFile("dev"));
  mutate(raw);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) config[`liiibre:${k}`] = v;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-plan-")), "Pulumi.broken.yaml");
  fs.writeFileSync(file, stringify({ config }));
  return file;
}

/** The documented JSON shape (docs/plan.md), strict: an undocumented field fails the test. */
const Resource = z.strictObject({
  urn: z.string().regex(/^urn:pulumi:prod::liiibre::[^:].*::[^:]+$/),
  type: z.string(),
  name: z.string(),
  parent: z.string().startsWith("urn:pulumi:prod::liiibre::").nullable(),
  custom: z.boolean(),
  inputs: z.record(z.string(), z.unknown()),
  protect: z.boolean(),
  retainOnDelete: z.boolean(),
  deleteBeforeReplace: z.boolean(),
  ignoreChanges: z.array(z.string()),
  replaceOnChanges: z.array(z.string()),
  aliases: z.array(z.unknown()),
  dependsOn: z.array(z.string()),
  provider: z.string().nullable(),
  tenant: z.string().nullable(),
  stack: z.string(),
  // Secrets only: the key names (never the values), for the estate twin (docs/plan.md).
  secretKeys: z.array(z.string()).optional(),
  // A bundle's objects release only: the Kubernetes objects it holds (docs/plan.md).
  bundledObjects: z.array(z.strictObject({ type: z.string().startsWith("kubernetes:"), name: z.string(), namespace: z.string().optional(), urn: z.string() })).optional(),
});
const Tenant = z.strictObject({
  slug: z.string(),
  name: z.string(),
  domain: z.string(),
  plan: z.enum(["shared", "dedicated"]),
  state: z.enum(["active", "suspended", "decommissioned"]),
  users: z.int().min(1),
  quotaPerUserGB: z.int().min(1),
  storagePoolGB: z.int(),
  exemption: z.string().nullable(),
  apps: z.array(z.string()),
  urls: z.record(z.string(), z.string()),
  dnsRecords: z.array(z.object({ name: z.string(), type: z.enum(["A", "AAAA", "CNAME", "SRV", "TXT"]), value: z.string() })),
  bundledObjects: z.int().min(0),
});
const PlanShape = z.strictObject({
  version: z.literal(1),
  project: z.literal("liiibre"),
  stack: z.literal("prod"),
  resources: z.array(Resource),
  tenants: z.array(Tenant),
  summary: z.strictObject({
    resourceCount: z.int(),
    byType: z.record(z.string(), z.int()),
    protectedCount: z.int(),
    tenantCount: z.int(),
    userCount: z.int(),
    storagePoolGB: z.int(),
    mandatoryViolations: z.int(),
    advisoryViolations: z.int(),
    bundledObjects: z.int().min(0),
  }),
  violations: z.array(
    z.strictObject({ policy: z.string(), level: z.enum(["mandatory", "advisory"]), urn: z.string().nullable(), message: z.string(), tenant: z.string().nullable() }),
  ),
  stacks: z.array(
    z.strictObject({ name: z.string(), layer: z.enum(["platform", "shard", "single"]), resourceCount: z.int(), estimatedResources: z.int(), tenants: z.array(z.string()), bundledObjects: z.int().min(0) }),
  ),
});

// The prod estate is evaluated once for this file (an evaluation of prod takes tens of
// seconds); every format is rendered from that one plan, exactly as runPlan renders it.
let prod: { plan: Plan; json: any; reports: Record<"json" | "text" | "markdown", string> };
beforeAll(async () => {
  const ev = await evaluateStack({ stack: "prod" });
  const plan = buildPlan(ev, await checkPolicies(ev));
  const reports = { json: render(plan, "json"), text: render(plan, "text"), markdown: render(plan, "markdown") };
  prod = { plan, json: JSON.parse(reports.json), reports };
});

describe("the prod plan (npm run plan -- --format json)", () => {
  it("has no mandatory violation (exit code 0) and follows the documented JSON shape", () => {
    expect(prod.plan.violations.filter((v) => v.level === "mandatory")).toEqual([]);
    expect(planExitCode(prod.plan)).toBe(0);
    expect(() => PlanShape.parse(prod.json)).not.toThrow();
  });

  it("holds the real estate: ≥ 60 organisations summing to 13,000–15,000 accounts", () => {
    const { json } = prod;
    expect(json.tenants.length).toBeGreaterThanOrEqual(60);
    const users = json.tenants.reduce((n: number, t: any) => n + t.users, 0);
    expect(users).toBeGreaterThanOrEqual(13_000);
    expect(users).toBeLessThanOrEqual(15_000);
    expect(json.summary.userCount).toBe(users);
    expect(json.summary.tenantCount).toBe(json.tenants.length);
  });

  it("summary counts agree with the resources", () => {
    const { json } = prod;
    expect(json.summary.resourceCount).toBe(json.resources.length);
    const total = Object.values(json.summary.byType as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(json.resources.length);
    expect(json.summary.protectedCount).toBe(json.resources.filter((r: any) => r.protect || r.retainOnDelete).length);
    // Every parent is itself a recorded resource; URNs are unique.
    const urns = new Set(json.resources.map((r: any) => r.urn));
    expect(urns.size).toBe(json.resources.length);
    for (const r of json.resources) if (r.parent) expect(urns.has(r.parent)).toBe(true);
  });

  it("storage pools are users × per-user quota, exemptions included", () => {
    for (const t of prod.json.tenants) expect(t.storagePoolGB).toBe(t.users * t.quotaPerUserGB);
    const exempt = prod.json.tenants.filter((t: any) => t.exemption);
    expect(exempt.length).toBeGreaterThan(0);
    for (const t of exempt) expect(t.quotaPerUserGB).toBeGreaterThan(10);
  });
});

describe("no secret in any report", () => {
  it.each(["json", "text", "markdown"] as const)("%s", (format) => {
    const out = prod.reports[format];
    expect(out.length).toBeGreaterThan(1000);
    expect(out).not.toContain(MOCK_SECRET_MARKER);
  });

  it("secret inputs are there, as [secret]", () => {
    expect(prod.reports.json).toContain('"[secret]"');
  });
});

describe("reports", () => {
  it("text: a preview-like tree, then every tenant with its pool", () => {
    const out = prod.reports.text;
    expect(out).toMatch(/^Previewing liiibre\/prod offline/);
    expect(out).toContain(" +   pulumi:pulumi:Stack");
    expect(out).toMatch(/image-mouvante +dedicated +active +14 users +700 GB/);
    expect(out).toMatch(/exemption: Audiovisual post-production/);
  });

  it("markdown: fit for a merge-request comment", () => {
    const out = prod.reports.markdown;
    expect(out).toMatch(/^### Offline plan of `liiibre\/prod`/);
    expect(out).toContain("✅ no mandatory policy violation");
    expect(out).toContain("| image-mouvante | dedicated | active | 14 | 700 |");
  });

  it("the CLI exits 0 on a valid stack and --out writes the report to a file", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-out-")), "sub", "plan.json");
    const r = cli(["--stack", "dev", "--format", "json", "--out", file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`plan written to ${file}`);
    const written = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(written.stack).toBe("dev");
    expect(written.summary.resourceCount).toBeGreaterThan(0);
  });
});

describe("exit codes", () => {
  const mandatory: Violation = { policy: "firewall-no-public-admin", level: "mandatory", urn: null, message: "SSH open to the world", tenant: null };
  const advisory: Violation = { policy: "small-orgs-share", level: "advisory", urn: null, message: "small", tenant: "demo" };

  it("1 when a mandatory violation remains, and violations are grouped by tenant", async () => {
    const { code, out } = await plan({ stack: "dev" }, async () => [mandatory, advisory]);
    expect(code).toBe(1);
    expect(out).toMatch(/Policy violations \(1 mandatory, 1 advisory\):\n {2}\(platform\):\n {4}\[mandatory\] firewall-no-public-admin: SSH open to the world\n {2}demo:\n {4}\[advisory\] small-orgs-share/);
  });

  it("0 when only advisory violations remain", async () => {
    const { code } = await plan({ stack: "dev" }, async () => [advisory]);
    expect(code).toBe(0);
  });

  it("2 for an invalid config, one line per problem with its key path, no stack trace", () => {
    const file = writeConfig((c) => {
      c.tenants[1].users = -5;
      c.tenants[0].plan = "dedicted";
    });
    const r = cli(["--config-file", file, "--format", "json"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        "error: invalid configuration (2 problems):",
        '  liiibre:tenants[0].plan: expected one of shared | dedicated, got "dedicted"',
        "  liiibre:tenants[1].users: expected an integer >= 1, got -5",
        "",
      ].join("\n"),
    );
  });

  it("2 from the program itself when Pulumi runs it with invalid config (before registering anything)", () => {
    const raw: any = readStackConfig(stackConfigFile("dev"));
    raw.tenants[0].users = 0;
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) config[`liiibre:${k}`] = JSON.stringify(v);
    const r = spawnSync(TSX, ["-e", 'require("./index.ts").default()'], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config) },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("liiibre:tenants[0].users: expected an integer >= 1, got 0");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("2 for a missing stack file or unreadable YAML", async () => {
    const missing = await plan({ stack: "nope" });
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no configuration file .*Pulumi\.nope\.yaml/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-yaml-")), "bad.yaml");
    fs.writeFileSync(file, "config:\n  liiibre:tenants: [\n");
    const bad = await plan({ configFile: file });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is not valid YAML/);
  });

  it("2 for bad arguments, with the usage", () => {
    const r = cli(["--format", "yaml"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format: expected one of text | json | markdown, got "yaml"');
    expect(r.stderr).toContain("usage: npm run plan --");
    expect(() => parseArgs(["--stack", "prod", "--config-file", "x"])).toThrow(/either --stack or --config-file/);
    expect(parseArgs([])).toEqual({ stack: "prod", format: "text" });
    expect(parseArgs(["--format=markdown", "--out", "x.md"])).toEqual({ stack: "prod", format: "markdown", out: "x.md" });
  });
});
