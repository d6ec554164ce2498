/**
 * The twin in `npm run plan`: every plan carries twin[], capacity[] and footprint; a twin error
 * exits 1 like a mandatory policy; prod and dev have no twin error.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify, parse } from "yaml";
import { describe, expect, it } from "vitest";
import { runPlan, type PlanArgs } from "../scripts/plan";
import { stackConfigFile } from "../scripts/harness";

async function plan(args: Partial<PlanArgs>) {
  let out = "";
  let err = "";
  const code = await runPlan({ stack: "dev", format: "json", ...args }, { write: (s) => (out += s), error: (s) => (err += s) });
  return { code, out, err };
}

describe("the twin in the plan", () => {
  it("dev: no twin error, and the plan carries the twin, the capacity per pool and the footprint", async () => {
    const { code, out } = await plan({});
    const p = JSON.parse(out);
    expect(p.summary.twin).toMatchObject({ errors: 0 });
    expect(p.twin.filter((f: any) => f.level === "error")).toEqual([]);
    expect(code).toBe(0);
    expect(p.capacity.map((r: any) => r.pool)).toEqual(["workers"]);
    expect(p.footprint.machines.total).toBe(1 + 4 + 1); // controller, workers, backup server
    const text = (await plan({ format: "text" })).out;
    expect(text).toMatch(/Estate twin .*: 0 errors/);
    expect(text).toMatch(/Capacity per pool/);
    expect(text).toMatch(/Footprint and cost:\n {2}machines/);
    expect((await plan({ format: "markdown" })).out).toMatch(/#### Estate twin\n\n✅ 0 errors/);
  }, 120_000);

  it("a twin error fails the plan (exit 1): dev with a single small worker cannot hold its pods", async () => {
    const doc = parse(fs.readFileSync(stackConfigFile("dev"), "utf8"));
    const pools = doc.config["liiibre:nodePools"];
    pools.find((p: any) => p.name === "workers").cloud = { serverType: "cpx21", count: 1, volumeGB: 100 };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-twin-")), "Pulumi.small.yaml");
    fs.writeFileSync(file, stringify(doc));
    const { code, out } = await plan({ configFile: file });
    const p = JSON.parse(out);
    expect(code).toBe(1);
    expect(p.summary.mandatoryViolations).toBe(0);
    expect(p.twin.some((f: any) => f.check === "pool-capacity" && f.level === "error")).toBe(true);
  }, 120_000);

  it("prod: no twin error", async () => {
    const { out } = await plan({ stack: "prod" });
    const p = JSON.parse(out);
    expect(p.twin.filter((f: any) => f.level === "error")).toEqual([]);
    expect(p.capacity.length).toBeGreaterThan(3);
    // document-affinity had something to judge: Collabora runs twice in every bundle with `ha`
    // (the shared instance and the organisations above operations.haAboveUsers), its route on the proxy.
    const deps = p.resources.filter((r: any) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs?.metadata?.name === "collabora");
    const ha = 1 + p.tenants.filter((t: any) => t.plan === "dedicated" && t.state === "active" && t.users > 500 && t.apps.includes("collabora")).length;
    expect(deps.filter((r: any) => r.inputs.spec.replicas === 2).length).toBe(ha);
    const routes = p.resources.filter((r: any) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" && r.inputs?.metadata?.name === "collabora");
    expect(routes.filter((r: any) => r.inputs.spec.rules[0].backendRefs[0].name === "collabora-haproxy").length).toBe(ha);
  }, 300_000);
});
