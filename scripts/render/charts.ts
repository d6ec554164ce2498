/**
 * Where chart packages come from, and what is inside one.
 *
 * Lookup order for a pinned (chart, version):
 * 1. the local Helm repository `LIIIBRE_CHARTS` (a folder of `<chart>-<version>.tgz` with an
 *    `index.yaml`), or `../shared/charts` beside the project when that exists;
 * 2. `.cache/charts/<chart>-<version>.tgz` (ignored by git), filled by 3.;
 * 3. `helm pull` from the pin's repository (needs network); when that fails, a `ChartError`
 *    names the missing chart and where it was looked for.
 */
import { OBJECTS_CHART, writeObjectsChart } from "../../components/kit/objects";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { readTar } from "./archive";
import { CACHE_DIR, REPO_ROOT } from "./helm";

/** A chart package cannot be found or read. */
export class ChartError extends Error {}

export interface ChartRef {
  /** Chart name (the last segment of an `oci://…/name` reference). */
  chart: string;
  version: string;
  /** Classic repository URL, or the OCI reference `oci://…/name`; used only by `helm pull`. */
  repo?: string;
  /**
   * A chart directory of the program itself (`chart: "./components/…"`, no repository): the
   * provider loads it from the program's directory, so does the renderer (absolute path).
   */
  local?: string;
}

/** A `chart` input naming a directory (`./…`, `../…`, `/…`) rather than a repository chart. */
export const isLocalChart = (chart: string) => /^(\.{1,2})?\//.test(chart);

/** The Release inputs' chart reference as a `ChartRef`. */
export function chartRefOf(inputs: Record<string, unknown>): ChartRef {
  const chart = String(inputs.chart ?? "");
  const version = String(inputs.version ?? "");
  if (isLocalChart(chart) && !(inputs.repositoryOpts as { repo?: string } | undefined)?.repo) {
    return { chart: path.basename(chart), version, local: path.resolve(REPO_ROOT, chart) };
  }
  if (chart.startsWith("oci://")) return { chart: chart.slice(chart.lastIndexOf("/") + 1), version, repo: chart };
  const repo = (inputs.repositoryOpts as { repo?: string } | undefined)?.repo;
  return { chart, version, repo };
}

/** The local chart repository in use: `LIIIBRE_CHARTS`, else `../shared/charts` if present. */
export function chartRepoDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LIIIBRE_CHARTS) return path.resolve(env.LIIIBRE_CHARTS);
  const shared = path.resolve(REPO_ROOT, "..", "shared", "charts");
  return fs.existsSync(shared) ? shared : undefined;
}

const indexCache = new Map<string, Record<string, Array<{ version: string; urls?: string[] }>>>();
function repoIndex(dir: string) {
  if (!indexCache.has(dir)) {
    const file = path.join(dir, "index.yaml");
    const doc = fs.existsSync(file) ? (parseYaml(fs.readFileSync(file, "utf8")) as { entries?: Record<string, Array<{ version: string; urls?: string[] }>> }) : {};
    indexCache.set(dir, doc?.entries ?? {});
  }
  return indexCache.get(dir)!;
}

const sameVersion = (a: string, b: string) => a.replace(/^v/, "") === b.replace(/^v/, "");

/** The package file of a chart in a local repository folder, if it holds it. */
export function findInRepo(dir: string, ref: ChartRef): string | undefined {
  const entry = (repoIndex(dir)[ref.chart] ?? []).find((e) => sameVersion(e.version, ref.version));
  const bare = ref.version.replace(/^v/, "");
  const candidates = [...(entry?.urls ?? []).filter((u) => !/^[a-z]+:\/\//.test(u)), `${ref.chart}-${ref.version}.tgz`, `${ref.chart}-${bare}.tgz`, `${ref.chart}-v${bare}.tgz`];
  for (const c of candidates) {
    const file = path.resolve(dir, c);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/** Every package of a local repository folder (its index.yaml), as [chart, version, file]. */
export function repoPackages(dir: string): Array<{ chart: string; version: string; file: string }> {
  const out: Array<{ chart: string; version: string; file: string }> = [];
  for (const [chart, entries] of Object.entries(repoIndex(dir))) {
    for (const e of entries) {
      const file = findInRepo(dir, { chart, version: e.version });
      if (file) out.push({ chart, version: e.version, file });
    }
  }
  return out;
}

/** The package file of a pinned chart (see the lookup order above), or a local chart's directory. Throws `ChartError`. */
export function locateChart(ref: ChartRef, opts: { helm?: () => string; env?: NodeJS.ProcessEnv; cacheDir?: string } = {}): string {
  if (ref.local) {
    // The program's own objects chart is written by the program (components/kit/objects.ts), not committed.
    if (ref.local === path.resolve(REPO_ROOT, OBJECTS_CHART.path)) writeObjectsChart(REPO_ROOT);
    if (!fs.existsSync(path.join(ref.local, "Chart.yaml"))) throw new ChartError(`chart ${ref.local} is missing: no Chart.yaml in the program's chart directory`);
    return ref.local;
  }
  const repoDir = chartRepoDir(opts.env);
  const found = repoDir && findInRepo(repoDir, ref);
  if (found) return found;
  const cache = path.join(opts.cacheDir ?? CACHE_DIR, "charts");
  const cached = findInRepo(cache, ref);
  if (cached) return cached;
  const where = [repoDir ? `${repoDir} (${opts.env?.LIIIBRE_CHARTS || process.env.LIIIBRE_CHARTS ? "LIIIBRE_CHARTS" : "../shared/charts"})` : "no local chart repository (set LIIIBRE_CHARTS)", cache].join(", ");
  if (!ref.repo || !opts.helm) throw new ChartError(`chart ${ref.chart} ${ref.version} is missing: not in ${where}, and no repository to pull it from`);
  fs.mkdirSync(cache, { recursive: true });
  const args = ref.repo.startsWith("oci://")
    ? ["pull", ref.repo, "--version", ref.version, "--destination", cache]
    : ["pull", ref.chart, "--repo", ref.repo, "--version", ref.version, "--destination", cache];
  const r = spawnSync(opts.helm(), args, { encoding: "utf8", timeout: 120_000 });
  const pulled = findInRepo(cache, ref);
  if (r.status === 0 && pulled) return pulled;
  const why = (r.stderr || r.error?.message || "").trim().split("\n").pop();
  throw new ChartError(`chart ${ref.chart} ${ref.version} is missing: not in ${where}, and \`helm pull\` from ${ref.repo} failed (${why || `exit ${r.status}`})`);
}

// ---------------------------------------------------------------------------------------
// Reading a package
// ---------------------------------------------------------------------------------------

/** One chart of a package (the root or a subchart), with what the values check needs. */
export interface ChartPart {
  name: string;
  version: string;
  /** Where this chart's values live in the root chart's values (`[]` for the root; aliases applied). */
  valuesPath: string[];
  /** Its default `values.yaml` (parsed). */
  defaults: Record<string, unknown>;
  /** Template sources (`templates/**`), `values.yaml` text included (values may be `tpl`'d). */
  templates: string[];
  /** YAML documents of its `crds/` folder. */
  crds: string[];
}

export interface ChartPackage {
  file: string;
  name: string;
  version: string;
  parts: ChartPart[];
}

const packageCache = new Map<string, ChartPackage>();

/** Files of a chart directory as archive entries (`<dir name>/<relative path>`), as a package holds them. */
function dirEntries(dir: string): Array<{ path: string; data: Buffer }> {
  const out: Array<{ path: string; data: Buffer }> = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: `${path.basename(dir)}/${p}`, data: fs.readFileSync(path.join(dir, p)) });
    }
  };
  walk("");
  return out;
}

/** Reads a chart package (`.tgz`) or a chart directory, its subcharts (folders or nested `.tgz`) included. */
export function readChart(file: string): ChartPackage {
  const hit = packageCache.get(file);
  if (hit) return hit;
  const parts: ChartPart[] = [];
  readChartFiles(fs.statSync(file).isDirectory() ? dirEntries(file) : readTar(fs.readFileSync(file)), [], parts, file);
  if (!parts.length) throw new ChartError(`${file} holds no Chart.yaml`);
  const pkg = { file, name: parts[0].name, version: parts[0].version, parts };
  packageCache.set(file, pkg);
  return pkg;
}

interface ChartYaml {
  name: string;
  version: string;
  dependencies?: Array<{ name: string; alias?: string }>;
}

function readChartFiles(entries: Array<{ path: string; data: Buffer }>, valuesPath: string[], parts: ChartPart[], file: string): void {
  const top = entries.find((e) => /^[^/]+\/Chart\.yaml$/.test(e.path));
  if (!top) return;
  const root = top.path.slice(0, top.path.indexOf("/") + 1);
  const local = new Map<string, Buffer>();
  for (const e of entries) if (e.path.startsWith(root)) local.set(e.path.slice(root.length), e.data);
  const meta = parseYaml(top.data.toString("utf8")) as ChartYaml;
  const valuesText = local.get("values.yaml")?.toString("utf8") ?? "";
  let defaults: Record<string, unknown> = {};
  try {
    defaults = (parseYaml(valuesText) as Record<string, unknown>) ?? {};
  } catch (err) {
    throw new ChartError(`${file}: ${root}values.yaml is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const templates = [valuesText];
  const crds: string[] = [];
  for (const [p, data] of local) {
    if (p.startsWith("templates/")) templates.push(data.toString("utf8"));
    else if (p.startsWith("crds/") && /\.ya?ml$/.test(p)) crds.push(data.toString("utf8"));
  }
  parts.push({ name: meta.name, version: String(meta.version), valuesPath, defaults, templates, crds });
  // Subcharts: charts/<dir>/… or charts/<name>-<version>.tgz; values under the alias if any.
  const aliasOf = (name: string) => (meta.dependencies ?? []).find((d) => d.name === name)?.alias ?? name;
  const subdirs = new Set<string>();
  for (const p of local.keys()) {
    const m = /^charts\/([^/]+)\/Chart\.yaml$/.exec(p);
    if (m) subdirs.add(m[1]);
  }
  for (const dir of subdirs) {
    const sub = [...local].filter(([p]) => p.startsWith(`charts/${dir}/`)).map(([p, data]) => ({ path: p.slice("charts/".length), data }));
    const name = (parseYaml(local.get(`charts/${dir}/Chart.yaml`)!.toString("utf8")) as ChartYaml).name;
    readChartFiles(sub, [...valuesPath, aliasOf(name)], parts, file);
  }
  for (const [p, data] of local) {
    if (!/^charts\/[^/]+\.tgz$/.test(p)) continue;
    const sub = readTar(data);
    const chartYaml = sub.find((e) => /^[^/]+\/Chart\.yaml$/.test(e.path));
    if (!chartYaml) continue;
    const name = (parseYaml(chartYaml.data.toString("utf8")) as ChartYaml).name;
    readChartFiles(sub, [...valuesPath, aliasOf(name)], parts, file);
  }
}
