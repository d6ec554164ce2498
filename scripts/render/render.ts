/**
 * The render step: every Helm release of a plan through real Helm (`helm template`) and its
 * pinned chart package, then the checks on the result (docs/render.md):
 *
 * | check             | what fails it |
 * |---|---|
 * | `chart-missing`   | the pinned chart package is in no cache and cannot be pulled |
 * | `render-fails`    | `helm template` fails: values schema, `required`, `fail`, template errors |
 * | `value-ignored`   | a values key we set that the chart never reads (values-read.ts) |
 * | `object-invalid`  | a built-in object (rendered, or declared by the program) fails its kubernetes-models schema |
 * | `cr-invalid`      | a custom resource (rendered, or declared by the program) fails its CRD's schema |
 * | `bundle-altered`  | a bundle's objects release renders other objects than its `values.objects` declare |
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
import { GATEWAY_API_CRDS, K0S_VERSION } from "../../components/versions";
import { bundledObjects, isObjectsRelease } from "../../components/kit/objects";
import { changedPaths } from "../diff/paths";
import { ChartError, chartRefOf, chartRepoDir, locateChart, readChart, repoPackages, type ChartPackage, type ChartRef } from "./charts";
import { ensureHelm } from "./helm";
import { problemLine, type RenderProblem, type RenderedObject, type RenderedRelease } from "./model";
import { CLUSTER_SCOPED_BUILTINS, CrdRegistry, crdVersions, modelClass, validateBuiltin, type FieldError } from "./validate";
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
  /**
   * Objects checked: built-in kinds (kubernetes-models), custom resources (CRD schema), custom
   * resources without a known CRD; `program`: how many of them the program declares itself.
   */
  validated: { builtin: number; custom: number; unvalidated: number; program: number };
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

/**
 * A release's values as the file given to `helm template -f`: JSON with every character above
 * ASCII escaped. The provider hands Helm the decoded values map (pulumi-kubernetes
 * helm_release.go `getValues` → `Install.Run`); Helm reads a `-f` file as YAML 1.1 first, where a
 * raw U+0085 or U+2028 in a quoted string is a line break folded to a space and DEL or a C1
 * control is refused. Escaped, the file reads back as exactly the map the provider passes.
 */
export function valuesFileText(values: unknown): string {
  let out = "";
  for (const c of JSON.stringify(values)) {
    const cp = c.codePointAt(0)!;
    out += cp < 0x7f ? c : cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  }
  return out;
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
  file: string;
  pkg: ChartPackage;
  name: string;
  namespace: string;
  values: Obj;
  run?: HelmRun;
  objects?: Obj[];
  parseError?: string;
  /** The checked result, shared by every release rendered by this job. */
  checked?: RenderedObject[];
}

/**
 * Renders every Helm release among the resources (of a plan, an evaluation, or a list of
 * them) and checks the result (see the module comment).
 */
export async function renderPlan(input: ResourceLike[] | { resources: ResourceLike[] }, options: RenderOptions = {}): Promise<RenderResult> {
  const run = new RenderRun(Array.isArray(input) ? input : input.resources, options);
  run.locateCharts();
  await run.renderAll();
  run.collectCrds();
  run.checkReleases();
  if (options.programResources !== false) run.checkProgramResources();
  return run.result();
}

/** One render of a plan, phase by phase (renderPlan lists them). */
class RenderRun {
  private readonly t0 = performance.now();
  private tHelm = this.t0;
  private readonly problems: RenderProblem[] = [];
  private readonly warnings: RenderProblem[] = [];
  private readonly releases: ResourceLike[];
  private readonly jobs = new Map<string, Job>();
  private readonly jobOf = new Map<ResourceLike, Job>();
  private readonly rendered: RenderedRelease[] = [];
  private readonly crds = new CrdRegistry();
  private cacheCrdsRead = false;
  private readonly substituted = new Set<string>();
  private readonly validated = { builtin: 0, custom: 0, unvalidated: 0, program: 0 };
  private helmBin: string | undefined;
  /** API versions of the CRDs the first wave rendered (given to the second). */
  private apiVersions: string[] = [];

  constructor(
    private readonly resources: ResourceLike[],
    private readonly options: RenderOptions,
  ) {
    this.releases = resources.filter((r) => r.type === HELM_RELEASE_TYPE);
    this.helmBin = options.helm;
  }

  private helm = () => (this.helmBin ??= ensureHelm());

  /** 1. Chart packages, and the distinct renders (templates read the release name and namespace too). */
  locateCharts(): void {
    const located = new Map<string, string | ChartError>();
    for (const r of this.releases) {
      const ref: ChartRef = chartRefOf(r.inputs);
      const refKey = ref.local ?? `${ref.chart}@${ref.version}`;
      if (!located.has(refKey)) {
        try {
          located.set(refKey, locateChart(ref, { helm: this.helm, env: this.options.env }));
        } catch (err) {
          if (!(err instanceof ChartError)) throw err;
          located.set(refKey, err);
        }
      }
      const file = located.get(refKey)!;
      const name = String(r.inputs.name ?? r.name);
      const namespace = String(r.inputs.namespace ?? "default");
      if (file instanceof ChartError) {
        this.problems.push({ check: "chart-missing", release: `${namespace}/${name}`, message: file.message });
        continue;
      }
      const values = (r.inputs.values ?? {}) as Obj;
      const key = JSON.stringify([file, name, namespace, values]);
      if (!this.jobs.has(key)) this.jobs.set(key, { file, pkg: readChart(file), name, namespace, values });
      this.jobOf.set(r, this.jobs.get(key)!);
    }
  }

  /**
   * 2. `helm template`, at most `concurrency` at once; values through a private temp file.
   * As a cluster would see them: the charts that define CRDs first; the charts whose templates
   * look at `.Capabilities.APIVersions` once those are rendered, with `--api-versions` naming
   * every CRD group/version (and `group/version/Kind`), so that a template gated on
   * `.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"` renders what `pulumi up` on a
   * cluster with those CRDs would; the others meanwhile.
   */
  async renderAll(): Promise<void> {
    const kubeVersion = this.options.kubeVersion ?? kubeVersionOf(K0S_VERSION);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-render-"));
    let n = 0;
    const renderJob = async (job: Job, apiVersions: string[]) => {
      const valuesFile = path.join(tmp, `values-${n++}.json`);
      fs.writeFileSync(valuesFile, valuesFileText(job.values), { mode: 0o600 });
      const args = ["template", job.name, job.file, "-f", valuesFile, "--namespace", job.namespace, "--kube-version", kubeVersion, "--include-crds"];
      if (apiVersions.length) args.push("--api-versions", apiVersions.join(","));
      job.run = await runHelm(this.helm(), args);
      fs.rmSync(valuesFile, { force: true });
      if (!job.run.ok) return;
      try {
        job.objects = parseManifests(job.run.stdout);
      } catch (err) {
        job.parseError = (err as Error).message;
      }
      job.run.stdout = "";
    };
    try {
      const jobs = [...this.jobs.values()];
      const definesCrds = (job: Job) => job.pkg.parts.some((p) => p.crds.length > 0 || p.templates.some((t) => /kind:\s*CustomResourceDefinition/.test(t)));
      const gated = (job: Job) => !definesCrds(job) && job.pkg.parts.some((p) => p.templates.some((t) => t.includes(".Capabilities.APIVersions")));
      const first = jobs.filter(definesCrds);
      let firstDone = 0;
      let open!: () => void;
      const crdsKnown = new Promise<void>((resolve) => (open = resolve));
      const collect = () => {
        const apiVersions = new Set<string>();
        for (const job of first) {
          for (const o of job.objects ?? []) {
            if (o.kind !== "CustomResourceDefinition") continue;
            for (const v of crdVersions(o, "")) apiVersions.add(`${v.group}/${v.version}`).add(`${v.group}/${v.version}/${v.kind}`);
          }
        }
        this.apiVersions = [...apiVersions].sort();
        open();
      };
      if (!first.length) collect();
      // CRD charts first, then charts that never look at API versions, then those that do (after the CRDs are known)
      const ordered = [...first, ...jobs.filter((j) => !definesCrds(j) && !gated(j)), ...jobs.filter(gated)];
      await pool(ordered, this.options.concurrency ?? 2, async (job) => {
        if (gated(job)) {
          await crdsKnown;
          return renderJob(job, this.apiVersions);
        }
        await renderJob(job, []);
        if (definesCrds(job) && ++firstDone === first.length) collect();
      });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    this.tHelm = performance.now();
  }

  /** 3. The CRDs that the estate's charts render. */
  collectCrds(): void {
    for (const job of this.jobs.values()) {
      for (const o of job.objects ?? []) if (o.kind === "CustomResourceDefinition") this.crds.add(o, `chart ${job.pkg.name} ${job.pkg.version}`);
    }
  }

  /**
   * The CRD of a kind; for kinds no rendered chart defines, the `crds/` of the other versions
   * of the estate's charts in the chart cache (newest first), read once, on first need.
   */
  private crdFor(apiVersion: string, kind: string) {
    const found = this.crds.get(apiVersion, kind);
    if (found || this.cacheCrdsRead) return found;
    this.cacheCrdsRead = true;
    const dir = chartRepoDir(this.options.env);
    const used = new Set([...this.jobs.values()].map((j) => j.pkg.name));
    const pinned = new Set([...this.jobs.values()].map((j) => j.file));
    // …and the cache's packaging of CRDs the program applies from an upstream file rather than
    // a chart (the Gateway API CRDs, GATEWAY_API_CRDS: same CRDs, see docs/ingress.md).
    const fromFiles = (p: { chart: string; version: string }) => p.chart === "gateway-api-crds" && `v${p.version}` === GATEWAY_API_CRDS.version;
    const candidates = dir ? repoPackages(dir).filter((p) => (used.has(p.chart) && !pinned.has(p.file)) || fromFiles(p)) : [];
    candidates.sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
    for (const c of candidates) {
      for (const text of readChart(c.file).parts.flatMap((p) => p.crds)) {
        for (const o of parseManifests(text)) if (o.kind === "CustomResourceDefinition") this.crds.add(o, `${path.basename(c.file)} crds/`);
      }
    }
    return this.crds.get(apiVersion, kind);
  }

  private checkCustom(obj: Obj, release: string, id: string, out: RenderProblem[]): void {
    const apiVersion = String(obj.apiVersion);
    const kind = String(obj.kind);
    const crd = this.crdFor(apiVersion, kind);
    if (!crd) {
      this.validated.unvalidated++;
      this.warnings.push({ check: "cr-unvalidated", release, object: id, message: `no CRD for ${apiVersion} ${kind} in the estate's charts or the chart cache: not validated` });
      return;
    }
    if (!crd.source.startsWith("chart ") && !this.substituted.has(`${apiVersion}/${kind}`)) {
      this.substituted.add(`${apiVersion}/${kind}`);
      this.warnings.push({ check: "crd-substitute", release, object: id, message: `${apiVersion} ${kind} validated against the CRD of ${crd.source} (no chart of the estate renders it at its pin)` });
    }
    this.validated.custom++;
    for (const e of this.crds.validate(obj)!.errors) out.push({ check: "cr-invalid", release, object: id, field: e.field, message: `${kind} ${e.field}: ${e.message}` });
  }

  private namespaceOf(o: Obj, releaseNs: string): string | null {
    const meta = (o.metadata ?? {}) as Obj;
    const apiVersion = String(o.apiVersion);
    const kind = String(o.kind);
    const cluster = modelClass(apiVersion, kind) ? CLUSTER_SCOPED_BUILTINS.has(kind) : (this.crds.clusterScoped(apiVersion, kind) ?? CLUSTER_SCOPED_BUILTINS.has(kind));
    if (cluster) return null;
    return typeof meta.namespace === "string" && meta.namespace ? meta.namespace : releaseNs;
  }

  /** The checks of one job (once, however many releases share it): render, values read, objects. */
  private checkJob(job: Job): RenderedObject[] {
    const release = `${job.namespace}/${job.name}`;
    const out = this.problems;
    if (!job.run!.ok) {
      for (const e of helmErrors(job.run!.stderr)) out.push({ check: "render-fails", release, ...(e.field ? { field: e.field } : {}), message: `${job.pkg.name} ${job.pkg.version}: ${e.message}` });
    } else if (job.parseError) out.push({ check: "render-fails", release, message: job.parseError });
    out.push(...valuesProblems(release, job.pkg, job.values));
    const objects: RenderedObject[] = [];
    for (const o of job.objects ?? []) {
      const meta = (o.metadata ?? {}) as Obj;
      const ro: RenderedObject = { apiVersion: String(o.apiVersion), kind: String(o.kind), name: String(meta.name ?? ""), namespace: this.namespaceOf(o, job.namespace), object: o };
      const id = objectId(ro);
      const errors: FieldError[] | null = validateBuiltin(o);
      if (errors) {
        this.validated.builtin++;
        for (const e of errors) out.push({ check: "object-invalid", release, object: id, field: e.field, message: `${ro.kind} ${e.field}: ${e.message}` });
      } else this.checkCustom(o, release, id, out);
      ro.object = maskSecret(o); // after validation: the mask is not base64
      objects.push(ro);
    }
    return objects;
  }

  /**
   * A bundle's objects release (components/kit/objects.ts): Helm must render exactly the
   * objects of `values.objects` (the twin, the policies and the plan read them there), one for
   * one and field for field. `bundle-altered` names the object and the fields that differ.
   */
  private checkBundle(r: ResourceLike, job: Job): void {
    if (!job.run?.ok || job.parseError) return; // render-fails says why
    const release = `${job.namespace}/${job.name}`;
    const key = (o: { apiVersion?: unknown; kind?: unknown; metadata?: unknown }) => {
      const md = (o.metadata ?? {}) as Obj;
      return `${o.apiVersion}/${o.kind}/${md.namespace ?? job.namespace}/${md.name}`;
    };
    const rendered = new Map<string, Obj[]>();
    for (const o of job.objects ?? []) rendered.set(key(o), [...(rendered.get(key(o)) ?? []), o]);
    for (const b of bundledObjects(r.type, r.inputs)) {
      const id = `${b.kind}/${b.namespace ?? job.namespace}/${b.name}`;
      const got = rendered.get(key(b.props))?.shift();
      if (!got) {
        this.problems.push({ check: "bundle-altered", release, object: id, message: `values.objects[${b.index}] (${b.kind} ${b.name}) is not among the objects Helm rendered: Kubernetes would not receive it` });
        continue;
      }
      const paths = changedPaths(b.props, got);
      if (paths.length) this.problems.push({ check: "bundle-altered", release, object: id, field: paths[0], message: `Helm rendered values.objects[${b.index}] differently from its declaration at ${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ` (+${paths.length - 5})` : ""}` });
    }
    for (const [, left] of rendered) {
      for (const o of left) {
        const md = (o.metadata ?? {}) as Obj;
        this.problems.push({ check: "bundle-altered", release, object: `${o.kind}/${md.namespace ?? job.namespace}/${md.name}`, message: "Helm rendered an object that values.objects does not declare" });
      }
    }
  }

  /** 4. Per release, in plan order: its job's checked objects. */
  checkReleases(): void {
    const bundlesChecked = new Set<Job>();
    for (const r of this.releases) {
      const job = this.jobOf.get(r);
      if (!job) continue; // chart-missing
      job.checked ??= this.checkJob(job);
      if (isObjectsRelease(r.type, r.inputs) && !bundlesChecked.has(job)) {
        bundlesChecked.add(job);
        this.checkBundle(r, job);
      }
      const ref = chartRefOf(r.inputs);
      this.rendered.push({ urn: r.urn, release: job.name, namespace: job.namespace, chart: ref.local ? job.pkg.name : ref.chart, version: ref.version, objects: job.checked });
    }
  }

  /**
   * 5. The Kubernetes resources the program declares itself (`kubernetes:<group>/<version>:<Kind>`):
   * custom resources against their CRDs (CloudNativePG, k8up, MinIO Tenant, cert-manager,
   * Barman ObjectStore), built-in kinds through kubernetes-models. A Secret's redacted
   * `data`/`stringData` (the plan's "[secret]") is checked as an empty map.
   */
  checkProgramResources(): void {
    for (const r of this.resources) {
      const m = /^kubernetes:([a-z0-9.-]+)\/([a-z0-9]+):([A-Za-z0-9]+)$/.exec(r.type);
      if (!m || m[1] === "helm.sh" || m[1] === "yaml") continue;
      const apiVersion = m[1] === "core" ? m[2] : `${m[1]}/${m[2]}`;
      const obj: Obj = { ...r.inputs, apiVersion, kind: m[3] };
      const meta = (obj.metadata ?? {}) as Obj;
      const id = `${m[3]}/${meta.namespace ?? "-"}/${meta.name ?? r.name}`;
      this.validated.program++;
      if (modelClass(apiVersion, m[3])) {
        if (m[3] === "Secret" && apiVersion === "v1") for (const k of ["data", "stringData"]) if (typeof obj[k] === "string") obj[k] = {};
        this.validated.builtin++;
        for (const e of validateBuiltin(obj)!) this.problems.push({ check: "object-invalid", release: r.urn, object: id, field: e.field, message: `${m[3]} ${e.field}: ${e.message}` });
      } else if (m[1].includes(".")) this.checkCustom(obj, r.urn, id, this.problems);
      else this.validated.program--; // not a Kubernetes API group (e.g. a provider's own types)
    }
  }

  result(): RenderResult {
    const problemsByCheck: Record<string, number> = {};
    for (const p of this.problems) problemsByCheck[p.check] = (problemsByCheck[p.check] ?? 0) + 1;
    return {
      releases: this.rendered,
      problems: this.problems,
      warnings: this.warnings,
      stats: {
        releases: this.releases.length,
        distinctRenders: this.jobs.size,
        objects: this.rendered.reduce((n, r) => n + r.objects.length, 0),
        seconds: +((performance.now() - this.t0) / 1000).toFixed(2),
        helmSeconds: +((this.tHelm - this.t0) / 1000).toFixed(2),
        problemsByCheck,
        validated: this.validated,
      },
    };
  }
}

export { keyPath, problemLine };
