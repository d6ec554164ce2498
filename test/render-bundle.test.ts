/**
 * The renderer on a bundle's objects release (components/kit/objects.ts): rendered from the
 * program's own chart directory with the project's Helm (no chart repository), each object
 * validated like any rendered object, and Helm's output compared with `values.objects`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { OBJECTS_CHART, OBJECTS_RELEASE } from "../components/kit/objects";
import { chartRefOf, locateChart } from "../scripts/render/charts";
import { REPO_ROOT } from "../scripts/render/helm";
import { renderPlan, valuesFileText } from "../scripts/render/render";
import { changedPaths } from "../scripts/diff/paths";
import { objectsReleaseResource, trickyManifests } from "./helpers/bundle-objects";
import { HELM, itWithHelm, itWithOwnHelm, releaseResource } from "./helpers/render";
import { CHARTS } from "../components/versions";

const noCache = { LIIIBRE_CHARTS: path.join(os.tmpdir(), "liiibre-no-charts-here") }; // no chart repository: the local chart needs none
const render = (resources: any[], helm = HELM) => renderPlan(resources, { helm, env: noCache, programResources: false });

describe("render: the values file and the comparison (pure)", () => {
  it("the values file is ASCII JSON whose YAML 1.1 reading is the values (what Helm reads from -f)", () => {
    const values = { s: "é\u0085\u2028\u007f🎉", n: [1e21, 0.5, -3], k: { "a.b/c": null } };
    const text = valuesFileText(values);
    expect(/^[\x20-\x7e]*$/.test(text)).toBe(true);
    expect(text).toContain("\\U0001f389");
    expect(parseYaml(text, { version: "1.1" })).toEqual(values);
    // why the escapes are needed is shown with Helm itself: test/bundle-objects-chart.test.ts
  });

  it("changedPaths names the fields that differ (keys with dots quoted, list items by index)", () => {
    expect(changedPaths({ a: { b: 1, "x.y": 2 }, l: [1, 2] }, { a: { b: 1, "x.y": 3 }, l: [1, 2, 3] })).toEqual(['a["x.y"]', "l[2]"]);
    expect(changedPaths({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe("render: a bundle's objects release", () => {
  itWithOwnHelm("renders from the program's chart directory, every object validated, none altered", async () => {
    const ref = chartRefOf(objectsReleaseResource("demo", "demo", []).inputs);
    expect(ref.local).toBe(path.resolve(REPO_ROOT, OBJECTS_CHART.path));
    expect(locateChart(ref, { env: noCache })).toBe(ref.local); // never a repository lookup

    const r = await render([objectsReleaseResource("demo", "demo", trickyManifests("demo"))]);
    expect(r.problems).toEqual([]);
    expect(r.warnings.map((w) => `${w.check} ${w.object}`)).toEqual(["cr-unvalidated Probe/demo/probe-cr"]); // example.org/v1 has no CRD anywhere
    const [rel] = r.releases;
    expect(rel).toMatchObject({ release: OBJECTS_RELEASE, namespace: "demo", chart: OBJECTS_CHART.name, version: OBJECTS_CHART.version });
    expect(rel.objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(trickyManifests("demo").map((o) => `${o.kind}/${o.metadata.name}`).sort());
    expect(r.stats.validated.builtin).toBe(5);
  });

  itWithOwnHelm("a bundled Deployment with an invalid field is a render problem naming the object and the field", async () => {
    const bad = trickyManifests("demo").find((o) => o.kind === "Deployment")!;
    bad.metadata.name = "broken";
    bad.spec.replicas = "two";
    bad.spec.template.spec.containers[0].ports[0].containerPort = "http";
    const r = await render([objectsReleaseResource("demo", "demo", [bad])]);
    expect(r.problems.map((p) => [p.check, p.release, p.object, p.field])).toEqual([
      ["object-invalid", `demo/${OBJECTS_RELEASE}`, "Deployment/demo/broken", "spec.replicas"],
      ["object-invalid", `demo/${OBJECTS_RELEASE}`, "Deployment/demo/broken", "spec.template.spec.containers[0].ports[0].containerPort"],
    ]);
  });

  itWithOwnHelm("an object Helm renders otherwise than declared, or not at all, is `bundle-altered`", async () => {
    // a Helm that changes what it renders: the real one, its output edited
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-fake-helm-"));
    const fake = path.join(dir, "helm");
    fs.writeFileSync(fake, `#!/bin/sh\n"${HELM}" "$@" | sed -e 's/"replicas":2/"replicas":3/' -e '/"name":"probe-cron"/d'\n`, { mode: 0o755 });
    try {
      const r = await render([objectsReleaseResource("demo", "demo", trickyManifests("demo"))], fake);
      expect(r.problems.map((p) => [p.check, p.object, p.field])).toEqual([
        ["bundle-altered", "Deployment/demo/probe", "spec.replicas"],
        ["bundle-altered", "CronJob/demo/probe-cron", undefined],
      ]);
      expect(r.problems[1].message).toContain("values.objects[4] (CronJob probe-cron) is not among the objects Helm rendered");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  itWithHelm("a bundled custom resource is checked against the CRD its operator's chart renders (CloudNativePG Database)", async () => {
    const db = (spec: Record<string, unknown>) => ({ apiVersion: "postgresql.cnpg.io/v1", kind: "Database", metadata: { name: "demo-pg-hedgedoc", namespace: "demo" }, spec });
    const good = { name: "hedgedoc", owner: "hedgedoc", cluster: { name: "demo-pg" }, ensure: "present", databaseReclaimPolicy: "retain" };
    const cnpg = releaseResource(CHARTS.cloudnativePg.chart, CHARTS.cloudnativePg.version, {}, "cnpg", "cnpg-system");
    const r = await renderPlan([cnpg, objectsReleaseResource("demo", "demo", [db(good), { ...db({ ...good, ensure: "maybe", bogus: 1 }), metadata: { name: "bad", namespace: "demo" } }])], { helm: HELM, programResources: false });
    expect(r.problems.filter((p) => p.release === `demo/${OBJECTS_RELEASE}`).map((p) => [p.check, p.object, p.field])).toEqual([
      ["cr-invalid", "Database/demo/bad", "spec.bogus"],
      ["cr-invalid", "Database/demo/bad", "spec.ensure"],
    ]);
  }, 120_000);
});
