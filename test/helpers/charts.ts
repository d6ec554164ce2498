/**
 * The offline chart cache (a folder of `<chart>-<version>.tgz`, `LIIIBRE_CHARTS`, default
 * `../shared/charts` beside the project) and the CRD schemas its charts ship, for tests that
 * validate the program's custom resources against the real `openAPIV3Schema`.
 *
 * Without the cache the tests that need it are skipped with a notice naming what is missing;
 * in CI (`CI=true`) a missing cache fails instead.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

/** The cache folder, or undefined when there is none. */
export function chartCache(): string | undefined {
  const dir = process.env.LIIIBRE_CHARTS ?? path.resolve(ROOT, "..", "shared", "charts");
  return fs.existsSync(dir) ? dir : undefined;
}

/** The packaged chart, or undefined (with a notice; an error in CI) when the cache lacks it. */
export function chartPackage(chart: string, version: string): string | undefined {
  const dir = chartCache();
  const file = dir ? path.join(dir, `${chart}-${version}.tgz`) : undefined;
  if (file && fs.existsSync(file)) return file;
  const what = `${chart}-${version}.tgz not found in ${dir ?? "LIIIBRE_CHARTS / ../shared/charts"}`;
  if (process.env.CI === "true") throw new Error(`chart cache: ${what}`);
  console.warn(`[skipped] ${what}: set LIIIBRE_CHARTS to a folder holding it`);
  return undefined;
}

const unpacked = new Map<string, string>();
/** Unpacks a chart package once (system `tar`), returns the folder holding `<chart>/`. */
export function unpackChart(tgz: string): string {
  let dir = unpacked.get(tgz);
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-chart-"));
    execFileSync("tar", ["-xzf", tgz, "-C", dir]);
    unpacked.set(tgz, dir);
  }
  return dir;
}

export interface CrdVersionSchema {
  group: string;
  kind: string;
  version: string;
  schema: Record<string, unknown>;
}

/** Every CRD version schema in the YAML files under `dir` (recursively; non-CRD documents ignored). */
export function crdSchemas(dir: string): CrdVersionSchema[] {
  const out: CrdVersionSchema[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) {
        for (const doc of parseAllDocuments(fs.readFileSync(p, "utf8"))) {
          const o = doc.toJS() as any;
          if (o?.kind !== "CustomResourceDefinition") continue;
          for (const v of o.spec.versions ?? []) {
            if (v.schema?.openAPIV3Schema) out.push({ group: o.spec.group, kind: o.spec.names.kind, version: v.name, schema: v.schema.openAPIV3Schema });
          }
        }
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * The schema as the API server applies it to what we send: fields a schema does not declare
 * are pruned silently there, so they are reported here (`additionalProperties: false` wherever
 * `properties` are listed and unknown fields are not preserved). CEL rules
 * (`x-kubernetes-validations`) are not evaluated.
 */
export function closedSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closedSchema);
  if (!schema || typeof schema !== "object") return schema;
  const s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) s[k] = k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([n, x]) => [n, closedSchema(x)])) : closedSchema(v);
  if (s.properties && s.additionalProperties === undefined && !s["x-kubernetes-preserve-unknown-fields"]) s.additionalProperties = false;
  return s;
}

/** A validator per `apiVersion/kind` for the CRDs of the given chart folders. */
export function crdValidators(dirs: string[]): (apiVersion: string, kind: string) => ValidateFunction | undefined {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const byKey = new Map<string, ValidateFunction>();
  for (const d of dirs) for (const c of crdSchemas(d)) byKey.set(`${c.group}/${c.version}/${c.kind}`, ajv.compile(closedSchema(c.schema) as object));
  return (apiVersion, kind) => byKey.get(`${apiVersion}/${kind}`);
}

/** Errors of one object against its CRD (`[]` when valid), as `path: message` lines. */
export function crdErrors(validate: ValidateFunction, obj: unknown): string[] {
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message}${e.params && "additionalProperty" in e.params ? ` (${(e.params as any).additionalProperty})` : ""}`);
}
