/**
 * A bundle's own Kubernetes objects as one Helm release (`kubernetesObjects: bundled`,
 * docs/scaling.md#bundled-kubernetes-objects): the facts every reader shares — the program that
 * writes the release, the policy pack, the twin, the renderer, the plan and its diff. No Pulumi
 * import: policies and scripts read it too.
 *
 * The release installs the objects chart, whose one template renders `values.objects` as they
 * are. So the objects a reader sees in the release's inputs are exactly the objects Kubernetes
 * receives (test/bundle-objects-chart.test.ts renders them with the real Helm). The chart is this
 * program's own code and lives here, in OBJECTS_CHART_FILES: `writeObjectsChart` writes it into
 * the project directory (`.liiibre/objects-chart`, not committed) before the release is
 * registered, where the provider (run in the project directory) loads it from its relative path.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The objects chart: its name, its path as the release's `chart` input (relative to the project
 * directory, where `pulumi` runs: never absolute, which would differ between machines) and its
 * version. Bump the version whenever a file of OBJECTS_CHART_FILES changes: the provider updates
 * a release of a local chart only when its values or its version change.
 */
export const OBJECTS_CHART = { name: "liiibre-objects", path: "./.liiibre/objects-chart", version: "1.0.2" } as const;

/**
 * The template: one document per object, written as JSON (a subset of YAML): every key and
 * string is quoted, so no YAML reading can take a string for something else (with `toYaml`, a
 * `<<` key stays unquoted and Helm reads it back as a YAML 1.1 merge key: the render fails).
 * JSON leaves some characters raw that YAML 1.1 (Helm's kube client, sigs.k8s.io/yaml) does not
 * read as themselves: DEL and the C1 controls (U+0085 NEL is a line break there, folded to a
 * space), U+FEFF, U+FFFE, U+FFFF. They only ever occur inside JSON strings, where their \u escape
 * means the same character to every reader. test/bundle-objects-chart.test.ts checks this with
 * the project's Helm.
 */
const OBJECTS_TEMPLATE = [
  "{{- /*",
  "  One document per object, written as JSON (a subset of YAML): every key and string is quoted,",
  "  so no YAML reading can take a string for something else (with `toYaml`, a `<<` key stays",
  "  unquoted and Helm reads it back as a YAML 1.1 merge key: the render fails).",
  "  JSON leaves some characters raw that YAML 1.1 (Helm's kube client, sigs.k8s.io/yaml) does not",
  "  read as themselves: DEL and the C1 controls (U+0085 NEL is a line break there, folded to a",
  "  space), U+FEFF, U+FFFE, U+FFFF. They only ever occur inside JSON strings, where their \\u",
  "  escape means the same character to every reader. test/bundle-objects-chart.test.ts checks",
  "  this with the project's Helm.",
  "*/ -}}",
  "{{- $escapes := dict \"\\u007f\" \"\\\\u007f\" \"\\u0080\" \"\\\\u0080\" \"\\u0081\" \"\\\\u0081\" \"\\u0082\" \"\\\\u0082\" \"\\u0083\" \"\\\\u0083\" \"\\u0084\" \"\\\\u0084\" \"\\u0085\" \"\\\\u0085\" \"\\u0086\" \"\\\\u0086\" \"\\u0087\" \"\\\\u0087\" \"\\u0088\" \"\\\\u0088\" \"\\u0089\" \"\\\\u0089\" \"\\u008a\" \"\\\\u008a\" \"\\u008b\" \"\\\\u008b\" \"\\u008c\" \"\\\\u008c\" \"\\u008d\" \"\\\\u008d\" \"\\u008e\" \"\\\\u008e\" \"\\u008f\" \"\\\\u008f\" \"\\u0090\" \"\\\\u0090\" \"\\u0091\" \"\\\\u0091\" \"\\u0092\" \"\\\\u0092\" \"\\u0093\" \"\\\\u0093\" \"\\u0094\" \"\\\\u0094\" \"\\u0095\" \"\\\\u0095\" \"\\u0096\" \"\\\\u0096\" \"\\u0097\" \"\\\\u0097\" \"\\u0098\" \"\\\\u0098\" \"\\u0099\" \"\\\\u0099\" \"\\u009a\" \"\\\\u009a\" \"\\u009b\" \"\\\\u009b\" \"\\u009c\" \"\\\\u009c\" \"\\u009d\" \"\\\\u009d\" \"\\u009e\" \"\\\\u009e\" \"\\u009f\" \"\\\\u009f\" \"\\ufeff\" \"\\\\ufeff\" \"\\ufffe\" \"\\\\ufffe\" \"\\uffff\" \"\\\\uffff\" }}",
  "{{- range .Values.objects }}",
  "{{- $json := toJson . }}",
  "{{- range $raw, $escaped := $escapes }}{{ $json = replace $raw $escaped $json }}{{ end }}",
  "---",
  "{{ $json }}",
  "{{- end }}",
  "",
].join("\n");

/** The chart's files, by path in the chart directory. */
export const OBJECTS_CHART_FILES: Readonly<Record<string, string>> = {
  "Chart.yaml": [
    "# Written by the Pulumi program (components/kit/objects.ts): the chart of a bundle's own Kubernetes",
    "# objects, rendering values.objects as they are. Not an upstream chart; do not edit here.",
    "apiVersion: v2",
    `name: ${OBJECTS_CHART.name}`,
    "description: The Kubernetes objects of one Liiibre bundle, declared by the Pulumi program in values.objects.",
    "type: application",
    `version: ${OBJECTS_CHART.version}`,
    "",
  ].join("\n"),
  "values.yaml": "# Full manifests (apiVersion, kind, metadata, spec\u2026), written by the Pulumi program.\nobjects: []\n",
  "templates/objects.yaml": OBJECTS_TEMPLATE,
};

/**
 * Writes the objects chart under `projectDir` (files missing or different only; others left
 * alone) and returns its directory. Called by the program before it registers an objects release,
 * and by the renderer and tests before they read the chart.
 */
export function writeObjectsChart(projectDir: string): string {
  const dir = path.resolve(projectDir, OBJECTS_CHART.path);
  for (const [rel, text] of Object.entries(OBJECTS_CHART_FILES)) {
    const file = path.join(dir, rel);
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

/** The project directory (where Pulumi.yaml is): two levels above this file. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/**
 * Helm's resource policy that keeps an object when its release no longer renders it or is
 * uninstalled (helm.sh/resource-policy: keep): on a bundle's isolation objects (quota, limit range,
 * default deny), never on objects a bundle may drop.
 */
export const HELM_KEEP = { "helm.sh/resource-policy": "keep" } as const;

/** Helm release name of a bundle's objects release (one per namespace). */
export const OBJECTS_RELEASE = "liiibre-objects";

export interface BundledObject {
  /** Pulumi type token the object would have as its own resource (`kubernetes:apps/v1:Deployment`). */
  type: string;
  apiVersion: string;
  kind: string;
  name: string;
  /** `metadata.namespace` (absent for cluster-scoped objects). */
  namespace?: string;
  /** The whole manifest (apiVersion, kind, metadata, spec…), as a resource's inputs are. */
  props: Record<string, any>;
  /** Position in `values.objects`. */
  index: number;
}

/** Pulumi's type token of a Kubernetes kind: `v1` → `core/v1`, any other apiVersion as it is (typed classes and CustomResource agree). */
export function pulumiTypeOf(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** apiVersion and kind of a Kubernetes type token (inverse of pulumiTypeOf). */
export function apiVersionKindOf(type: string): { apiVersion: string; kind: string } {
  const m = /^kubernetes:(.+):([^:]+)$/.exec(type);
  if (!m) throw new Error(`not a Kubernetes type token: ${type}`);
  return { apiVersion: m[1].startsWith("core/") ? m[1].slice("core/".length) : m[1], kind: m[2] };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a resource is a bundle's objects release (a Helm release of the objects chart). */
export function isObjectsRelease(type: string, inputs: Record<string, any> | undefined): boolean {
  if (type !== "kubernetes:helm.sh/v3:Release" || !inputs) return false;
  const chart = typeof inputs.chart === "string" ? inputs.chart : "";
  return chart === OBJECTS_CHART.path;
}

/** The objects a bundle's objects release declares ([] for any other resource). */
export function bundledObjects(type: string, inputs: Record<string, any> | undefined): BundledObject[] {
  if (!isObjectsRelease(type, inputs)) return [];
  const list = inputs!.values?.objects;
  if (!Array.isArray(list)) return [];
  const out: BundledObject[] = [];
  list.forEach((o, index) => {
    if (!isObject(o) || typeof o.apiVersion !== "string" || typeof o.kind !== "string") return;
    const md = isObject(o.metadata) ? o.metadata : {};
    out.push({
      type: pulumiTypeOf(o.apiVersion, o.kind),
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: String(md.name ?? ""),
      ...(typeof md.namespace === "string" ? { namespace: md.namespace } : {}),
      props: o,
      index,
    });
  });
  return out;
}

/**
 * A stable name for a bundled object in reports, policies and the twin: the release's URN with
 * the object's type appended to the type chain and `<namespace>/<name>` as its name. Not a URN
 * Pulumi knows (the object is not a resource of the stack).
 */
export function bundledObjectUrn(releaseUrn: string, o: Pick<BundledObject, "type" | "namespace" | "name">): string {
  const i = releaseUrn.lastIndexOf("::");
  const prefix = i < 0 ? releaseUrn : releaseUrn.slice(0, i);
  return `${prefix}$${o.type}::${o.namespace ?? ""}/${o.name}`;
}
