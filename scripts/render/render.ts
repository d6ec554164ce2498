/**
 * The render step: every Helm release of a plan through real Helm (`helm template`) and its
 * pinned chart package, then the checks on the result (docs/render.md):
 *
 * | check             | what fails it |
 * |---|---|
 * | `chart-missing`   | the pinned chart package is in no cache and cannot be pulled |
 * | `render-fails`    | `helm template` fails: values schema, `required`, `fail`, template errors |
 * | `value-ignored`   | a values key we set that the chart never reads (values-read.ts) |
 * | `object-invalid`  | a rendered built-in object fails its kubernetes-models schema |
 * | `cr-invalid`      | a custom resource (rendered, or declared by the program) fails its CRD's schema |
 *
 * Warnings (listed, never failing): `cr-unvalidated` (no CRD known for a custom resource),
 * `crd-substitute` (a CRD taken from another version of the chart in the cache).
 *
 * API (the estate twin uses it): `renderPlan(resources, options)` →
 * `{ releases, problems, warnings, stats }`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseAllDocuments } from "yaml";
import { K0S_VERSION } from "../../components/versions";
import { ChartError, chartRefOf, chartRepoDir, locateChart, readChart, repoPackages, type ChartPackage, type ChartRef } from "./charts";
import { ensureHelm } from "./helm";
import { problemLine, type RenderProblem, type RenderedObject, type RenderedRelease } from "./model";
import { CLUSTER_SCOPED_BUILTINS, CrdRegistry, modelClass, validateBuiltin, type FieldError } from "./validate";
import { keyPath, valuesProblems } from "./values-read";

export type { RenderProblem, RenderedObject, RenderedRelease } from "./model";

export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
export const SECRET_MASK = "[secret]";

/** What renderPlan needs of a plan resource (PlanResource and RecordedResource both fit). */
export interface ResourceLike {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface RenderOptions {
  /** Concurrent `helm template` processes. Defaults to 2. */
  concurrency?: number;
  /** Kubernetes version given to `--kube-version`. Defaults to the k0s pin's (K0S_VERSION). */
  kubeVersion?: string;
  /** Helm binary. Defaults to the project's own (ensureHelm). */
  helm?: string;
  /** Environment for the chart lookup (`LIIIBRE_CHARTS`). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Validate the custom resources the program declares itself. Defaults to true. */
  programResources?: boolean;
}

export interface RenderStats {
  releases: number;
  distinctRenders: number;
  objects: number;
  seconds: number;
  /** Wall time of the `helm template` phase (chart lookup and YAML parsing included). */
  helmSeconds: number;
  problemsByCheck: Record<string, number>;
  /** Objects checked: built-in kinds (kubernetes-models), custom resources (CRD schema), custom resources without a known CRD. */
  validated: { builtin: number; custom: number; unvalidated: number };
}

export interface RenderResult {
  releases: RenderedRelease[];
  problems: RenderProblem[];
  warnings: RenderProblem[];
  stats: RenderStats;
}

/** `v1.33.4+k0s.0` → `1.33.4`. */
export const kubeVersionOf = (k0s: string) => k0s.replace(/^v/, "").replace(/\+.*$/, "");

// ---------------------------------------------------------------------------------------
// Running helm
// ---------------------------------------------------------------------------------------

interface HelmRun {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function runHelm(helm: string, args: string[]): Promise<HelmRun> {
  return new Promise((resolve) => {
    const child = spawn(helm, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HELM_CACHE_HOME: path.join(os.tmpdir(), "liiibre-helm-cache") } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => resolve({ ok: false, stdout: "", stderr: `Error: cannot run helm: ${e.message}` }));
    child.on("close", (code) => resolve({ ok: code === 0, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/** Runs `fn` over `items` with at most `n` in flight; results in input order. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return results;
}

/**
 * Helm's error output as problems: one per values-schema violation (with its key path), else
 * one with the first error line (continuation lines joined).
 */
export function helmErrors(stderr: string): Array<{ field?: string; message: string }> {
  const lines = stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l && !/^(WARNING|walk\.go|install\.go)/.test(l));
  const schema = lines.findIndex((l) => /don't meet the specifications of the schema/.test(l));
  if (schema >= 0) {
    const out: Array<{ field?: string; message: string }> = [];
    for (const l of lines.slice(schema + 1)) {
      const m = /^\s*- (?:at '([^']*)'|([^:]+)):\s*(.*)$/.exec(l);
      if (!m) continue;
      const at = (m[1] ?? m[2]).trim();
      const base = at === "(root)" || at === "" ? [] : at.replace(/^\//, "").split(/[./]/).filter(Boolean);
      const add = /^Additional property (\S+) is not allowed/.exec(m[3]) ?? /additional properties? '([^']+)' not allowed/.exec(m[3]);
      const missing = /^(\S+) is required/.exec(m[3]) ?? /missing propert(?:y|ies) '([^']+)'/.exec(m[3]);
      const fieldPath = [...base, ...(add ? [add[1]] : missing ? [missing[1]] : [])];
      const field = fieldPath.map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : `${i ? "." : ""}${k}`)).join("");
      out.push({ field: field || undefined, message: `values schema: ${field ? `${field}: ` : ""}${m[3]}` });
    }
    if (out.length) return out;
  }
  const first = lines.findIndex((l) => l.startsWith("Error:"));
  const text = (first >= 0 ? lines.slice(first) : lines).join(" ").replace(/\s+/g, " ").replace(/^Error: /, "").replace(/\s*Use --debug flag to render out invalid YAML\s*$/, "");
  return [{ message: text || "helm template failed without a message" }];
}

// ---------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** The documents of `helm template` output that are objects (comments/empty docs dropped). */
export function parseManifests(text: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) {
    if ("errors" in doc && doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message.split("\n")[0]}`);
    const v = doc.toJS({ maxAliasCount: -1 }) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Obj;
      if (o.kind === "List" && Array.isArray(o.items)) out.push(...(o.items as Obj[]));
      else out.push(o);
    }
  }
  return out;
}

/** A Secret with its `data`/`stringData` values replaced by SECRET_MASK. */
export function maskSecret(obj: Obj): Obj {
  if (obj.kind !== "Secret" || obj.apiVersion !== "v1") return obj;
  const mask = (m: unknown) => (m && typeof m === "object" ? Object.fromEntries(Object.keys(m as Obj).map((k) => [k, SECRET_MASK])) : m);
  return { ...obj, ...(obj.data ? { data: mask(obj.data) } : {}), ...(obj.stringData ? { stringData: mask(obj.stringData) } : {}) };
}

const objectId = (o: RenderedObject) => `${o.kind}/${o.namespace ?? "-"}/${o.name}`;

// ---------------------------------------------------------------------------------------
// renderPlan
// ---------------------------------------------------------------------------------------

interface Job {
  key: string;
  file: string;
  pkg: ChartPackage;
  name: string;
  namespace: string;
  values: Obj;
  releases: ResourceLike[];
  run?: HelmRun;
  objects?: Obj[];
  parseError?: string;
}

/** Renders every Helm release among `resources` and checks the result (see the module comment). */
export async function renderPlan(resources: ResourceLike[], options: RenderOptions = {}): Promise<RenderResult> {
  const t0 = performance.now();
  const problems: RenderProblem[] = [];
  const warnings: RenderProblem[] = [];
  const kubeVersion = options.kubeVersion ?? kubeVersionOf(K0S_VERSION);
  let helmBin = options.helm;
  const helm = () => (helmBin ??= ensureHelm());
  const releases = resources.filter((r) => r.type === HELM_RELEASE_TYPE);

  // 1. chart packages, and the distinct renders (templates read the release name and namespace too).
  const located = new Map<string, string | ChartError>();
  const jobs = new Map<string, Job>();
  const releaseJob = new Map<ResourceLike, Job>();
  for (const r of releases) {
    const ref: ChartRef = chartRefOf(r.inputs);
    const refKey = `${ref.chart}@${ref.version}`;
    if (!located.has(refKey)) {
      try {
        located.set(refKey, locateChart(ref, { helm, env: options.env }));
      } catch (err) {
        if (!(err instanceof ChartError)) throw err;
        located.set(refKey, err);
      }
    }
    const file = located.get(refKey)!;
    const name = String(r.inputs.name ?? r.name);
    const namespace = String(r.inputs.namespace ?? "default");
    if (file instanceof ChartError) {
      problems.push({ check: "chart-missing", release: `${namespace}/${name}`, message: file.message });
      continue;
    }
    const values = (r.inputs.values ?? {}) as Obj;
    const key = JSON.stringify([file, name, namespace, values]);
    let job = jobs.get(key);
    if (!job) {
      job = { key, file, pkg: readChart(file), name, namespace, values, releases: [] };
      jobs.set(key, job);
    }
    job.releases.push(r);
    releaseJob.set(r, job);
  }

  // 2. helm template, at most `concurrency` at once; values through a private temp file.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-render-"));
  try {
    let n = 0;
    await pool([...jobs.values()], options.concurrency ?? 2, async (job) => {
      const valuesFile = path.join(tmp, `values-${n++}.json`);
      fs.writeFileSync(valuesFile, JSON.stringify(job.values), { mode: 0o600 });
      job.run = await runHelm(helm(), ["template", job.name, job.file, "-f", valuesFile, "--namespace", job.namespace, "--kube-version", kubeVersion, "--include-crds"]);
      fs.rmSync(valuesFile, { force: true });
      if (job.run.ok) {
        try {
          job.objects = parseManifests(job.run.stdout);
        } catch (err) {
          job.parseError = (err as Error).message;
        }
        job.run.stdout = "";
      }
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const tHelm = performance.now();

  // 3. CRDs: those the estate's charts render, then (for kinds still unknown) chart-cache crds/.
  const crds = new CrdRegistry();
  for (const job of jobs.values()) {
    for (const o of job.objects ?? []) if (o.kind === "CustomResourceDefinition") crds.add(o, `chart ${job.pkg.name} ${job.pkg.version}`);
  }
  const usedCharts = new Set([...jobs.values()].map((j) => j.pkg.name));
  const fromCache = new Set<string>();
  const crdFor = (apiVersion: string, kind: string) => {
    if (crds.get(apiVersion, kind) || fromCache.has("done")) return crds.get(apiVersion, kind);
    fromCache.add("done");
    const dir = chartRepoDir(options.env);
    const pinned = new Set([...jobs.values()].map((j) => j.file));
    const candidates = dir ? repoPackages(dir).filter((p) => usedCharts.has(p.chart) && !pinned.has(p.file)) : [];
    candidates.sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
    for (const c of candidates) {
      for (const text of readChart(c.file).parts.flatMap((p) => p.crds)) {
        for (const o of parseManifests(text)) if (o.kind === "CustomResourceDefinition") crds.add(o, `${path.basename(c.file)} crds/`);
      }
    }
    return crds.get(apiVersion, kind);
  };
  const validated = { builtin: 0, custom: 0, unvalidated: 0 };
  const substituted = new Set<string>();
  const checkCustom = (obj: Obj, release: string, id: string, out: RenderProblem[]): void => {
    const apiVersion = String(obj.apiVersion);
    const kind = String(obj.kind);
    const crd = crdFor(apiVersion, kind);
    if (!crd) {
      validated.unvalidated++;
      warnings.push({ check: "cr-unvalidated", release, object: id, message: `no CRD for ${apiVersion} ${kind} in the estate's charts or the chart cache: not validated` });
      return;
    }
    if (!crd.source.startsWith("chart ") && !substituted.has(`${apiVersion}/${kind}`)) {
      substituted.add(`${apiVersion}/${kind}`);
      warnings.push({ check: "crd-substitute", release, object: id, message: `${apiVersion} ${kind} validated against the CRD of ${crd.source} (no chart of the estate renders it at its pin)` });
    }
    validated.custom++;
    for (const e of crds.validate(obj)!.errors) out.push({ check: "cr-invalid", release, object: id, field: e.field, message: `${kind} ${e.field}: ${e.message}` });
  };
  const namespaceOf = (o: Obj, releaseNs: string): string | null => {
    const meta = (o.metadata ?? {}) as Obj;
    const apiVersion = String(o.apiVersion);
    const kind = String(o.kind);
    const cluster = modelClass(apiVersion, kind) ? CLUSTER_SCOPED_BUILTINS.has(kind) : crds.clusterScoped(apiVersion, kind) ?? CLUSTER_SCOPED_BUILTINS.has(kind);
    if (cluster) return null;
    return typeof meta.namespace === "string" && meta.namespace ? meta.namespace : releaseNs;
  };

  // 4. per release: render result, values read, objects valid.
  const rendered: RenderedRelease[] = [];
  const checkedJobs = new Map<Job, { objects: RenderedObject[]; problems: RenderProblem[] }>();
  for (const r of releases) {
    const job = releaseJob.get(r);
    if (!job) continue;
    const release = `${job.namespace}/${job.name}`;
    if (!checkedJobs.has(job)) {
      const jp: RenderProblem[] = [];
      const objects: RenderedObject[] = [];
      if (!job.run!.ok) for (const e of helmErrors(job.run!.stderr)) jp.push({ check: "render-fails", release, ...(e.field ? { field: e.field } : {}), message: `${job.pkg.name} ${job.pkg.version}: ${e.message}` });
      else if (job.parseError) jp.push({ check: "render-fails", release, message: job.parseError });
      jp.push(...valuesProblems(release, job.pkg, job.values));
      for (const o of job.objects ?? []) {
        const meta = (o.metadata ?? {}) as Obj;
        const ro: RenderedObject = { apiVersion: String(o.apiVersion), kind: String(o.kind), name: String(meta.name ?? ""), namespace: namespaceOf(o, job.namespace), object: o };
        const id = objectId(ro);
        const errs: FieldError[] | null = validateBuiltin(o);
        if (errs) validated.builtin++;
        if (errs) for (const e of errs) jp.push({ check: "object-invalid", release, object: id, field: e.field, message: `${ro.kind} ${e.field}: ${e.message}` });
        else checkCustom(o, release, id, jp);
        ro.object = maskSecret(o);
        objects.push(ro);
      }
      checkedJobs.set(job, { objects, problems: jp });
      problems.push(...jp);
    }
    const ref = chartRefOf(r.inputs);
    rendered.push({ urn: r.urn, release: job.name, namespace: job.namespace, chart: ref.chart, version: ref.version, objects: checkedJobs.get(job)!.objects });
  }

  // 5. the custom resources the program declares itself (`kubernetes:<group>/<version>:<Kind>`).
  if (options.programResources !== false) {
    for (const r of resources) {
      const m = /^kubernetes:([a-z0-9.-]+\.[a-z]+)\/([a-z0-9]+):([A-Za-z0-9]+)$/.exec(r.type);
      if (!m || m[1] === "helm.sh" || m[1] === "yaml") continue;
      const apiVersion = `${m[1]}/${m[2]}`;
      if (modelClass(apiVersion, m[3])) continue; // a built-in kind (networking.k8s.io …)
      const obj: Obj = { ...r.inputs, apiVersion, kind: m[3] };
      const meta = (obj.metadata ?? {}) as Obj;
      checkCustom(obj, r.urn, `${m[3]}/${meta.namespace ?? "-"}/${meta.name ?? r.name}`, problems);
    }
  }

  const problemsByCheck: Record<string, number> = {};
  for (const p of problems) problemsByCheck[p.check] = (problemsByCheck[p.check] ?? 0) + 1;
  return {
    releases: rendered,
    problems,
    warnings,
    stats: {
      releases: releases.length,
      distinctRenders: jobs.size,
      objects: rendered.reduce((n, r) => n + r.objects.length, 0),
      seconds: +((performance.now() - t0) / 1000).toFixed(2),
      helmSeconds: +((tHelm - t0) / 1000).toFixed(2),
      problemsByCheck,
      validated,
    },
  };
}

export { keyPath, problemLine };
