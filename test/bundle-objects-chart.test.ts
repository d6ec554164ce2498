/**
 * The objects chart (components/kit/objects.ts OBJECTS_CHART_FILES, written to .liiibre/objects-chart) with the real Helm: what a bundle's objects
 * release declares in `values.objects` is exactly what Kubernetes receives.
 *
 * How the values reach Helm (read in pulumi-kubernetes provider/pkg/provider/helm_release.go,
 * the 4.30+ code our pin 4.34.2 runs): `decodeRelease` strips secrets and decodes the property
 * map (nulls kept since 4.30, numbers are float64) into `Release.Values`, `getValues` merges it
 * into an empty map, and the map goes as is to `action.Install.RunWithContext(chart, values)`;
 * no values file. `helm template -f values.json` is the same path: the CLI reads the file with
 * sigs.k8s.io/yaml (JSON numbers → float64, nulls kept) and merges it into an empty map
 * before the same `Install.Run`. So the test writes the values as JSON, as the Node SDK
 * serialises them, with non-ASCII characters escaped so that the file's YAML reading does not
 * fold or refuse any (the renderer's `valuesFileText`).
 *
 * What Kubernetes receives is the rendered YAML as Helm's kube client reads it
 * (sigs.k8s.io/yaml, YAML 1.1 rules: `yes`, `on`, `0755` are not strings there), and our
 * renderer reads it as YAML 1.2 (scripts/render parseManifests): both readings must give back
 * the input objects.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { OBJECTS_CHART, OBJECTS_CHART_FILES, OBJECTS_RELEASE, bundledObjects, writeObjectsChart } from "../components/kit/objects";
import { REPO_ROOT } from "../scripts/render/helm";
import { parseManifests, valuesFileText } from "../scripts/render/render";
import { devIn, objectsReleaseInputs, trickyManifests } from "./helpers/bundle-objects";
import { HELM, itWithOwnHelm } from "./helpers/render";
import { HELM_INSTALL_ORDER, helmInstallRank } from "../scripts/twin/checks/ordering";

// The program writes the chart (components/kit/objects.ts); so do the tests before reading it.
const CHART_DIR = writeObjectsChart(REPO_ROOT);

function helm(args: string[], files: Record<string, string>): { ok: boolean; stdout: string; stderr: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-objects-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    const r = spawnSync(HELM!, args.map((a) => a.replace("{dir}", dir)), { encoding: "utf8" });
    return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr, dir };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function helmTemplate(values: unknown, namespace = "demo", chartDir = CHART_DIR) {
  return helm(["template", OBJECTS_RELEASE, chartDir, "-f", "{dir}/values.yaml", "--namespace", namespace], { "values.yaml": valuesFileText(values) });
}

/**
 * The rendered documents as Helm's kube client reads them before sending them to the API
 * server: with sigs.k8s.io/yaml (YAML 1.1 rules: `yes`, `on`, `0755` are not strings, `<<` is a
 * merge key, U+0085 a line break), run by Helm itself: a reader chart gives each document to
 * `fromYaml` (that same library) and writes what it read as JSON.
 */
function asKubernetesReads(rendered: string): Array<Record<string, any>> {
  const docs = rendered.split(/^---$/m).filter((d) => d.replace(/^#.*$/gm, "").trim());
  const files: Record<string, string> = {
    "reader/Chart.yaml": "apiVersion: v2\nname: reader\nversion: 0.0.0\n",
    "reader/templates/read.yaml": '{{- range $p, $_ := .Files.Glob "docs/*.yaml" }}\n---\n{"read": {{ $.Files.Get $p | fromYaml | toJson | b64enc | quote }}}\n{{- end }}\n',
  };
  docs.forEach((d, i) => (files[`reader/docs/${String(i).padStart(4, "0")}.yaml`] = d));
  const r = helm(["template", "reader", "{dir}/reader"], files);
  if (!r.ok) throw new Error(`the reader chart failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.startsWith("{\"read\"")).map((l) => JSON.parse(Buffer.from(JSON.parse(l).read, "base64").toString("utf8")));
}

const byId = (objs: Array<Record<string, any>>) => [...objs].sort((a, b) => `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`));

describe("the objects chart renders values.objects as they are (real Helm 3.17.3)", () => {
  const manifests = trickyManifests("demo");
  const inputs = objectsReleaseInputs("demo", manifests);

  itWithOwnHelm("round-trips every manifest, read as YAML 1.2 (our renderer) and by sigs.k8s.io/yaml (Helm's kube client)", () => {
    const r = helmTemplate(inputs.values);
    expect(r.stderr).toBe("");
    expect(r.ok).toBe(true);
    const expected = bundledObjects("kubernetes:helm.sh/v3:Release", inputs).map((o) => o.props);
    expect(expected).toHaveLength(manifests.length);
    // Helm writes the documents in its install order (kind by kind), not in values order
    expect(byId(parseManifests(r.stdout))).toEqual(byId(expected));
    expect(byId(asKubernetesReads(r.stdout))).toEqual(byId(expected));
  });

  itWithOwnHelm("dev's demo as the program bundles it round-trips too (its 27 objects, read as Helm's kube client reads them)", async () => {
    const { plan } = await devIn();
    const release = plan.resources.find((r) => r.name === "demo-objects")!;
    const declared = bundledObjects(release.type, release.inputs).map((o) => o.props);
    expect(declared.length).toBeGreaterThanOrEqual(25);
    const r = helmTemplate((release.inputs as any).values, String(release.inputs.namespace));
    expect(r.ok).toBe(true);
    expect(byId(asKubernetesReads(r.stdout))).toEqual(byId(declared));
  }, 120_000);

  itWithOwnHelm("one document per object, in Helm's install order by kind (pkg/releaseutil/kind_sorter.go), unknown kinds last", () => {
    const r = helmTemplate(inputs.values);
    const docs = r.stdout.split(/^---$/m).filter((d) => d.trim());
    expect(docs).toHaveLength(manifests.length);
    // values order is ConfigMap, Deployment, ResourceQuota, NetworkPolicy, CronJob, Probe;
    // Helm's InstallOrder puts NetworkPolicy and ResourceQuota before ConfigMap, workloads after
    expect(parseManifests(r.stdout).map((o) => o.kind)).toEqual(["NetworkPolicy", "ResourceQuota", "ConfigMap", "Deployment", "CronJob", "Probe"]);
  });

  itWithOwnHelm("the twin's model of Helm's install order (HELM_INSTALL_ORDER) is this Helm's: listed kinds in order, others last by name", () => {
    const unknown = ["Middleware", "Gateway", "HTTPRoute", "Schedule"];
    const kinds = [...HELM_INSTALL_ORDER, ...unknown].reverse();
    const r = helmTemplate({ objects: kinds.map((kind) => ({ apiVersion: "v1", kind, metadata: { name: "x" } })) });
    expect(parseManifests(r.stdout).map((o) => o.kind)).toEqual([...HELM_INSTALL_ORDER, ...[...unknown].sort()]);
    expect(helmInstallRank("Deployment")).toBeLessThan(helmInstallRank("HTTPRoute"));
  });

  itWithOwnHelm("an empty bundle renders nothing (no stray empty document)", () => {
    const r = helmTemplate({ objects: [] });
    expect(r.ok).toBe(true);
    expect(parseManifests(r.stdout)).toEqual([]);
  });

  itWithOwnHelm("why the template writes JSON: with `toYaml`, a `<<` key fails the render and a DEL character silently drops the object", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-objects-yaml-"));
    try {
      fs.cpSync(CHART_DIR, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "templates", "objects.yaml"), "{{- range .Values.objects }}\n---\n{{ toYaml . }}\n{{- end }}\n");
      const cm = (data: Record<string, string>) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "demo" }, data });
      const plain = helmTemplate({ objects: [cm({ a: "b" })] }, "demo", dir);
      expect(parseManifests(plain.stdout)).toEqual([cm({ a: "b" })]);
      const merge = helmTemplate({ objects: [{ ...cm({}), spec: { "<<": "x" } }] }, "demo", dir);
      expect(merge.ok).toBe(false);
      expect(merge.stderr).toContain("map merge requires map or sequence of maps as the value");
      // Helm's toYaml returns "" when the YAML encoder refuses a value: no error, no object
      const del = helmTemplate({ objects: [cm({ a: "b\u007f" }), cm({ a: "b" })] }, "demo", dir);
      expect(del.ok).toBe(true);
      expect(parseManifests(del.stdout)).toHaveLength(1);
      // the chart as it is renders both, and the character comes back as itself
      const ours = helmTemplate({ objects: [cm({ a: "b\u007f" }), { ...cm({}), spec: { "<<": "x" } }] });
      expect(asKubernetesReads(ours.stdout)).toEqual([cm({ a: "b\u007f" }), { ...cm({}), spec: { "<<": "x" } }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  itWithOwnHelm("why the values file is escaped: Helm reads `-f` as YAML 1.1, which refuses a raw DEL and folds a raw U+0085", () => {
    const cm = (a: string) => ({ objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "demo" }, data: { a } }] });
    const raw = (values: unknown) => helm(["template", OBJECTS_RELEASE, CHART_DIR, "-f", "{dir}/values.json", "--namespace", "demo"], { "values.json": JSON.stringify(values) });
    expect(raw(cm("b\u007f")).stderr).toContain("control characters are not allowed");
    expect(asKubernetesReads(raw(cm("a\u0085b")).stdout)[0].data.a).toBe("a b");
    expect(asKubernetesReads(helmTemplate(cm("a\u0085b")).stdout)[0].data.a).toBe("a\u0085b");
  });

  it("the chart's name and version are the contract's (a template change bumps both)", () => {
    const meta = parseYaml(fs.readFileSync(path.join(CHART_DIR, "Chart.yaml"), "utf8")) as { name: string; version: string };
    expect(meta).toMatchObject({ name: OBJECTS_CHART.name, version: OBJECTS_CHART.version });
    expect(parseYaml(fs.readFileSync(path.join(CHART_DIR, "values.yaml"), "utf8"))).toEqual({ objects: [] });
  });

  it("the chart's files are the ones its version was released with (a change without a version bump never reaches a cluster)", () => {
    // pulumi-kubernetes' Release compares inputs only (no checksum of a local chart since
    // pulumi/pulumi-kubernetes#2672): a template edited under the same version shows no diff
    // and is never applied, while the offline render already shows it. A change of
    // OBJECTS_CHART_FILES: bump OBJECTS_CHART's version and add its digest here.
    const RELEASED: Record<string, string> = {
      "1.0.2": "03d08f84696bdf114af6c5a06821f2c360c440fba7082d6e3c5c04c06036c667",
    };
    const h = createHash("sha256");
    for (const rel of Object.keys(OBJECTS_CHART_FILES).sort()) h.update(`${rel}\0`).update(OBJECTS_CHART_FILES[rel]).update("\0");
    // And what the program writes is those files.
    for (const rel of Object.keys(OBJECTS_CHART_FILES)) expect(fs.readFileSync(path.join(CHART_DIR, rel), "utf8"), rel).toBe(OBJECTS_CHART_FILES[rel]);
    expect(RELEASED[OBJECTS_CHART.version], `no digest recorded for objects chart ${OBJECTS_CHART.version}`).toBeDefined();
    expect(h.digest("hex")).toBe(RELEASED[OBJECTS_CHART.version]);
  });

  itWithOwnHelm("the check can fail: Helm's reading of an unquoted `0755`, `on` or a raw U+0085 is not the string", () => {
    const bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  mode: 0755\n  flag: on\n  nel: \"a\u0085b\"\n";
    expect(asKubernetesReads(bad)).toEqual([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { mode: 493, flag: true, nel: "a b" } }]);
  });
});
