/**
 * The policy pack over whole plans: prod and dev have no mandatory violation, and each
 * deliberately broken estate yields exactly the expected violation and exit code 1.
 *
 * Some breakages cannot come from configuration, because config validation refuses them first
 * (exit 2, before any resource exists): they are built as program variants (the real program,
 * then one deliberate change: an estate mutated after validation, a stack transformation on one
 * resource, a resource left out). docs/policies.md lists which rule is enforced where.
 */
import { isObjectsRelease } from "../components/kit/objects";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { describe, expect, it } from "vitest";
import main from "../index";
import type { Estate } from "../components/config";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";
import { checkPolicies } from "../scripts/check-policies";
import { buildPlan, planExitCode, type Plan } from "../scripts/plan-model";
import { runPlan } from "../scripts/plan";

const DEV = readStackConfig(stackConfigFile("dev"));
const SLOW = 600_000;

/** The plan of a program variant over the dev estate, with dev's policy config. */
async function planOf(program: (estate: Estate) => unknown, edit?: (e: Evaluation) => void, config = DEV): Promise<{ plan: Plan; exit: number }> {
  const evaluation = await evaluate({ config, stack: "dev", program });
  edit?.(evaluation);
  const plan = buildPlan(evaluation, await checkPolicies(evaluation));
  return { plan, exit: planExitCode(plan) };
}

/** `npm run plan -- --config-file <dev + change> --format json`, as the CLI runs it. */
async function planOfConfigFile(change: (doc: { config: Record<string, any> }) => void): Promise<{ exit: number; plan?: Plan; stderr: string }> {
  const doc = parseYaml(fs.readFileSync(stackConfigFile("dev"), "utf8"));
  change(doc);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-policy-"));
  const file = path.join(dir, "Pulumi.dev.yaml");
  fs.writeFileSync(file, toYaml(doc));
  let out = "";
  let stderr = "";
  const exit = await runPlan({ stack: "dev", configFile: file, format: "json" }, { write: (s) => (out += s), error: (s) => (stderr += s) });
  return { exit, plan: out ? (JSON.parse(out) as Plan) : undefined, stderr };
}

const mandatory = (plan: Plan) => plan.violations.filter((v) => v.level === "mandatory");

/** Replaces one resource's inputs, by type and name, through a stack transformation. */
function transform(type: string, name: string, edit: (props: Record<string, any>) => Record<string, any>) {
  return (estate: Estate) => {
    let hit = false;
    pulumi.runtime.registerStackTransformation((args) => {
      if (args.type !== type || args.name !== name) return undefined;
      hit = true;
      return { props: edit(args.props as Record<string, any>), opts: args.opts };
    });
    const result = main(estate);
    return Promise.resolve(result).then((r) => {
      if (!hit) throw new Error(`no ${type} named ${name} was registered`);
      return r;
    });
  };
}

describe("stack plans", () => {
  it("prod: exit 0, no mandatory violation", { timeout: SLOW }, async () => {
    let out = "";
    const exit = await runPlan({ stack: "prod", format: "json" }, { write: (s) => (out += s), error: () => undefined });
    const plan = JSON.parse(out) as Plan;
    expect(mandatory(plan)).toEqual([]);
    expect(plan.summary.mandatoryViolations).toBe(0);
    expect(exit).toBe(0);
    // The policies had something to check (a vacuous pass would prove nothing).
    const types = plan.summary.byType;
    expect(types["kubernetes:k8up.io/v1:Schedule"]).toBeGreaterThan(30);
    expect(types["kubernetes:postgresql.cnpg.io/v1:Cluster"]).toBeGreaterThan(30);
    expect(plan.resources.filter((r) => /jitsi/.test(String(r.inputs.chart))).length).toBeGreaterThanOrEqual(1);
  });

  it("dev: exit 0, no mandatory violation", { timeout: SLOW }, async () => {
    const { plan, exit } = await planOf(main);
    expect(mandatory(plan)).toEqual([]);
    expect(exit).toBe(0);
  });
});

describe("deliberately broken estates", () => {
  it("a 20 GB per-user quota without exemption: config validation refuses it (exit 2); past validation, storage-quota-per-user", { timeout: SLOW }, async () => {
    const viaConfig = await planOfConfigFile((doc) => {
      doc.config["liiibre:tenants"][0].quotaPerUserGB = 20;
    });
    expect(viaConfig.exit).toBe(2);
    expect(viaConfig.stderr).toMatch(/liiibre:tenants\[0\]\.quotaPerUserGB: expected at most 10/);

    // A program that ignores the rule (the estate changed after validation).
    const { plan, exit } = await planOf((estate) => {
      estate.tenants.find((t) => t.slug === "demo")!.quotaPerUserGB = 20;
      return main(estate);
    });
    const v = mandatory(plan);
    expect(v.map((x) => [x.policy, x.tenant])).toEqual([["storage-quota-per-user", "demo"]]);
    expect(v[0].urn).toMatch(/kubernetes:core\/v1:Namespace::demo-namespace$/);
    expect(v[0].message).toBe("demo: 20 GB per user exceeds the 10 GB cap and the namespace has no liiibre.org/quota-exemption reason");
    expect(exit).toBe(1);
  });

  it("a dedicated Jitsi at 1080p: video-max-720p", { timeout: SLOW }, async () => {
    const config = structuredClone(DEV);
    const demo = (config.tenants as Array<{ slug: string; apps?: string[] }>).find((t) => t.slug === "demo")!;
    demo.apps = ["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc", "jitsi-dedicated"];
    const { plan, exit } = await planOf(
      transform("kubernetes:helm.sh/v3:Release", "demo-jitsi-release", (props) => ({
        ...props,
        values: { ...props.values, web: { ...props.values.web, extraEnvs: { ...props.values.web.extraEnvs, RESOLUTION: "1080", RESOLUTION_WIDTH: "1920" } } },
      })),
      undefined,
      config,
    );
    const v = mandatory(plan);
    expect(v.map((x) => [x.policy, x.tenant])).toEqual([["video-max-720p", "demo"]]);
    expect(v[0].urn).toMatch(/::demo-jitsi-release$/);
    expect(v[0].message).toBe("resolution 1080 exceeds 720p; maximum video height 1080 exceeds 720p");
    expect(exit).toBe(1);
  });

  it("a tenant without backups: backups-offsite", { timeout: SLOW }, async () => {
    const { plan, exit } = await planOf(main, (evaluation) => {
      // The program registered no k8up Schedule for the tenant: neither a resource nor an entry of its objects release (kubernetesObjects bundled).
      evaluation.resources = evaluation.resources
        .filter((r) => !(r.type === "kubernetes:k8up.io/v1:Schedule" && r.name.startsWith("demo-")))
        .map((r) =>
          r.name === "demo-objects" && isObjectsRelease(r.type, r.inputs)
            ? { ...r, inputs: { ...r.inputs, values: { objects: ((r.inputs.values as any).objects as any[]).filter((o) => o.kind !== "Schedule") } } }
            : r,
        );
    });
    const v = mandatory(plan);
    expect(v.map((x) => [x.policy, x.tenant])).toEqual([["backups-offsite", "demo"]]);
    expect(v[0].message).toBe("demo: stateful namespace demo has no k8up Schedule (k8up.io/v1) backing its volumes up off-site");
    expect(exit).toBe(1);
  });

  it("SSH open to the world (adminCidrs 0.0.0.0/0, which the schema allows): firewall-no-public-admin and admin-surfaces-restricted, exit 1", { timeout: SLOW }, async () => {
    const { exit, plan } = await planOfConfigFile((doc) => {
      doc.config["liiibre:hetzner"].adminCidrs = ["0.0.0.0/0"];
    });
    expect(exit).toBe(1);
    const v = mandatory(plan!);
    expect(new Set(v.map((x) => x.policy))).toEqual(new Set(["firewall-no-public-admin", "admin-surfaces-restricted"]));
    // Every firewall rule that admits liiibre:hetzner.adminCidrs on SSH or the API now admits the
    // world: SSH on the nodes and on the Helsinki backup server, the API on the controllers.
    const fw = v.filter((x) => x.policy === "firewall-no-public-admin");
    expect(fw.map((x) => `${x.urn!.split("::").pop()}: ${x.message.replace(/^rules\[\d+\] /, "")}`).sort()).toEqual([
      "estate-base: opens tcp port 22 (admin port 22) to 0.0.0.0/0: 4294967296 IPv4 addresses (all of IPv4), more than a /16; allow only the admin CIDRs (liiibre:hetzner.adminCidrs)",
      "estate-controllers: opens tcp port 6443 (admin port 6443) to 0.0.0.0/0: 4294967296 IPv4 addresses (all of IPv4), more than a /16; allow only the admin CIDRs (liiibre:hetzner.adminCidrs)",
      "storage-backup-firewall: opens tcp port 22 (admin port 22) to 0.0.0.0/0: 4294967296 IPv4 addresses (all of IPv4), more than a /16; allow only the admin CIDRs (liiibre:hetzner.adminCidrs)",
    ]);
    // The admin routes' allow-lists (Keycloak's master realm and console, MinIO's admin API and metrics: HTTPRoute rules) are the world too.
    const routes = v.filter((x) => x.policy === "admin-surfaces-restricted").map((x) => x.urn!.split("::").pop()).sort();
    expect(routes).toEqual(expect.arrayContaining(["keycloak-admin-route", "storage-primary-s3-route"]));
  });

  it("an unpinned chart: pinned-versions", { timeout: SLOW }, async () => {
    const { plan, exit } = await planOf(transform("kubernetes:helm.sh/v3:Release", "demo-nextcloud-release", (props) => ({ ...props, version: "^6.0.0" })));
    const v = mandatory(plan);
    expect(v.map((x) => [x.policy, x.tenant])).toEqual([["pinned-versions", "demo"]]);
    expect(v[0].message).toMatch(/^chart nextcloud: version "\^6\.0\.0" is not an exact version/);
    expect(exit).toBe(1);
  });
});
