/**
 * Validity of Kubernetes objects:
 * - built-in kinds through `kubernetes-models` (the upstream OpenAPI schema of its
 *   Kubernetes release): `apiVersion` `g/v` maps to the module `kubernetes-models/g/v`
 *   (`v1` to `kubernetes-models/v1`), `kind` to its class;
 * - custom resources against the `openAPIV3Schema` of their CRD, with Ajv. The schema is read
 *   the way the API server reads a structural schema: fields not declared under an object
 *   (without `x-kubernetes-preserve-unknown-fields`) are pruned, so they are reported as
 *   unknown; `x-kubernetes-int-or-string` accepts an integer or a string; formats and CEL
 *   rules (`x-kubernetes-validations`) are not checked.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export interface FieldError {
  /** Field path in the object, e.g. `spec.template.spec.containers[0].ports[0].containerPort`. */
  field: string;
  message: string;
}

// ---------------------------------------------------------------------------------------
// Built-in kinds
// ---------------------------------------------------------------------------------------

type ModelClass = new (data: Obj) => { validate(): void };
const modelCache = new Map<string, ModelClass | null>();

/** The kubernetes-models class of an apiVersion/kind, or null if it has none. */
export function modelClass(apiVersion: string, kind: string): ModelClass | null {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key)!;
  let cls: ModelClass | null = null;
  if (/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(apiVersion)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(`kubernetes-models/${apiVersion}`) as Record<string, unknown>;
      const c = mod[kind] as (ModelClass & { kind?: string; apiVersion?: string }) | undefined;
      if (typeof c === "function" && c.kind === kind && c.apiVersion === apiVersion) cls = c;
    } catch {
      cls = null; // no such group/version in kubernetes-models
    }
  }
  modelCache.set(key, cls);
  return cls;
}

/** Field path from a JSON pointer (`/spec/containers/0/name` → `spec.containers[0].name`). */
export function fieldOf(pointer: string, extra?: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z0-9_$-]+$/.test(p) ? `${i ? "." : ""}${p}` : `["${p}"]`)).join("");
}

/** Ajv errors as field errors: the most specific ones, one per field. */
export function fieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const out = new Map<string, string>();
  for (const e of errors ?? []) {
    if (e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "if") continue; // the branches' errors say more
    if (e.keyword === "additionalProperties") {
      const f = fieldOf(e.instancePath, String((e.params as { additionalProperty: string }).additionalProperty));
      if (!out.has(f)) out.set(f, "unknown field (not in the schema: the API server would prune it)");
      continue;
    }
    if (e.keyword === "required") {
      const f = fieldOf(e.instancePath, String((e.params as { missingProperty: string }).missingProperty));
      if (!out.has(f)) out.set(f, "required field is missing");
      continue;
    }
    const f = fieldOf(e.instancePath) || "(object)";
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const msg = `${e.message ?? e.keyword}${allowed ? ` (${allowed.map((a) => JSON.stringify(a)).join(", ")})` : ""}`;
    out.set(f, out.has(f) && out.get(f) !== msg ? `${out.get(f)}; ${msg}` : msg);
  }
  return [...out].map(([field, message]) => ({ field, message }));
}

/** Validates a built-in object; null when kubernetes-models has no class for it. */
export function validateBuiltin(obj: Obj): FieldError[] | null {
  const cls = modelClass(String(obj.apiVersion), String(obj.kind));
  if (!cls) return null;
  try {
    new cls(obj).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    if (errors) return fieldErrors(errors);
    return [{ field: "(object)", message: (err as Error).message }];
  }
}

// ---------------------------------------------------------------------------------------
// Custom resources
// ---------------------------------------------------------------------------------------

export interface CrdVersion {
  group: string;
  version: string;
  kind: string;
  scope: "Namespaced" | "Cluster";
  schema?: Obj;
  /** Where the CRD comes from (e.g. `release cert-manager`, `k8up-4.9.0.tgz crds/`). */
  source: string;
}

/** The versions a CustomResourceDefinition object serves. */
export function crdVersions(crd: Obj, source: string): CrdVersion[] {
  const spec = (crd.spec ?? {}) as Obj;
  const names = (spec.names ?? {}) as Obj;
  return ((spec.versions ?? []) as Obj[])
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: String(spec.group),
      version: String(v.name),
      kind: String(names.kind),
      scope: spec.scope === "Cluster" ? "Cluster" : "Namespaced",
      schema: ((v.schema as Obj | undefined)?.openAPIV3Schema ?? (spec.validation as Obj | undefined)?.openAPIV3Schema) as Obj | undefined,
      source,
    }));
}

const METADATA_SCHEMA = { type: "object" }; // ObjectMeta is checked by the API server, not by the CRD

/**
 * A CRD's structural schema as a JSON Schema with pruning made explicit
 * (`additionalProperties: false` where the API server would drop unknown fields).
 */
export function structuralToJsonSchema(schema: Obj, root = true, inLogic = false): Obj {
  if (schema["x-kubernetes-int-or-string"]) {
    return { anyOf: [{ type: "integer" }, { type: "string" }], ...(schema.nullable ? { nullable: true } : {}) };
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "description" || k === "example" || k === "externalDocs") continue;
    if (k === "properties" && isMap(v)) out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, structuralToJsonSchema(s as Obj, false, inLogic)]));
    else if ((k === "items" || k === "not") && isMap(v)) out[k] = structuralToJsonSchema(v, false, k === "not" || inLogic);
    else if (k === "additionalProperties" && isMap(v)) out[k] = structuralToJsonSchema(v, false, inLogic);
    else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) out[k] = v.map((s) => structuralToJsonSchema(s as Obj, false, true));
    else out[k] = v;
  }
  if (out.nullable && out.type === undefined) delete out.nullable;
  const embedded = schema["x-kubernetes-embedded-resource"] === true;
  if (root || embedded) {
    const props = { ...((out.properties as Obj) ?? {}) };
    props.apiVersion ??= { type: "string" };
    props.kind ??= { type: "string" };
    props.metadata = METADATA_SCHEMA;
    out.properties = props;
    if (root) props.status ??= {}; // status is the controller's; never pruned from a manifest we send
  }
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const isObject = out.type === "object" || out.properties !== undefined;
  if (isObject && !preserve && !inLogic && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/**
 * CRD `pattern`s are Go (RE2) regular expressions: inline flags such as `(?i)` (leading or
 * inside a group) become JavaScript flags for the whole pattern (a little more lenient than
 * RE2 when the flag was scoped); a pattern JavaScript still cannot read matches anything
 * (unchecked, as formats are) rather than failing the whole schema.
 */
export function goRegExp(pattern: string, flags: string): RegExp {
  let f = flags;
  const p = pattern.replace(/\(\?([imsU]+)\)/g, (_, fl: string) => {
    for (const c of fl) if ("ims".includes(c) && !f.includes(c)) f += c;
    return "";
  });
  try {
    return new RegExp(p, f);
  } catch {
    return /(?:)/;
  }
}

/** Every CRD known to a render run, and the validators compiled from them. */
export class CrdRegistry {
  private readonly byKey = new Map<string, CrdVersion>();
  private readonly validators = new Map<string, ValidateFunction | Error>();
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false, code: { regExp: Object.assign(goRegExp, { code: "goRegExp" }), optimize: false } }); // unoptimised code compiles ~40% faster; CRD schemas are large and each is used briefly

  static key = (group: string, version: string, kind: string) => `${group}/${version}/${kind}`;

  /** Adds a CRD object (the first source of a group/version/kind wins). */
  add(crd: Obj, source: string): void {
    for (const v of crdVersions(crd, source)) {
      const k = CrdRegistry.key(v.group, v.version, v.kind);
      if (!this.byKey.has(k)) this.byKey.set(k, v);
    }
  }

  get(apiVersion: string, kind: string): CrdVersion | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    return this.byKey.get(CrdRegistry.key(group, version, kind));
  }

  /** Cluster-scoped per its CRD (undefined when no CRD is known). */
  clusterScoped(apiVersion: string, kind: string): boolean | undefined {
    const crd = this.get(apiVersion, kind);
    return crd ? crd.scope === "Cluster" : undefined;
  }

  /** Validates a custom resource; null when no CRD for it is known. */
  validate(obj: Obj): { crd: CrdVersion; errors: FieldError[] } | null {
    const crd = this.get(String(obj.apiVersion), String(obj.kind));
    if (!crd) return null;
    if (!crd.schema) return { crd, errors: [] }; // no schema: the API server accepts anything
    const k = CrdRegistry.key(crd.group, crd.version, crd.kind);
    if (!this.validators.has(k)) {
      try {
        this.validators.set(k, this.ajv.compile(structuralToJsonSchema(crd.schema)));
      } catch (err) {
        this.validators.set(k, err as Error);
      }
    }
    const v = this.validators.get(k)!;
    if (v instanceof Error) return { crd, errors: [{ field: "(schema)", message: `the CRD's schema could not be compiled: ${v.message}` }] };
    return { crd, errors: v(obj) ? [] : fieldErrors(v.errors) };
  }
}

/** Built-in kinds that are cluster-scoped (everything else built in is namespaced). */
export const CLUSTER_SCOPED_BUILTINS = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "APIService",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "FlowSchema",
  "PriorityLevelConfiguration",
  "CertificateSigningRequest",
  "ComponentStatus",
  "IPAddress",
  "ServiceCIDR",
]);
