/**
 * The render step's pure parts, without Helm: the values-read model, CRD schemas as the
 * API server reads them, kubernetes-models validation, Helm's error output, the Helm
 * package's integrity check, Secret masking.
 */
import { describe, expect, it } from "vitest";
import type { ChartPackage } from "../scripts/render/charts";
import { ToolError, helmFromPackage, integrityOf } from "../scripts/render/helm";
import { helmErrors, kubeVersionOf, maskSecret, parseManifests, renderPlan } from "../scripts/render/render";
import { CrdRegistry, goRegExp, validateBuiltin } from "../scripts/render/validate";
import { allowed, templateReferences, templateRefs, unreadKeys } from "../scripts/render/values-read";
import { K0S_VERSION } from "../components/versions";

const pkg = (parts: Array<Partial<ChartPackage["parts"][number]>>): ChartPackage => ({
  file: "test.tgz",
  name: "demo",
  version: "1.0.0",
  parts: parts.map((p) => ({ name: "demo", version: "1.0.0", valuesPath: [], defaults: {}, templates: [], crds: [], ...p })),
});

describe("values read by a chart", () => {
  it("finds references: .Values paths, $.Values, index with string keys", () => {
    const refs = templateReferences(
      `{{ .Values.a.b }} {{ $.Values.c }} {{ index .Values "d" "e-f" }} {{ index .Values.prosody.service.ports "bosh-insecure" }} {{ .Values }}`,
    ).map((r) => r.join("."));
    expect(refs).toEqual(["a.b", "c", "d.e-f", "prosody.service.ports.bosh-insecure", ""]);
  });

  it("tells a tested map (`if .Values.a`) from a used one (`with`, `toYaml`, piped)", () => {
    const refs = templateRefs(`{{- if .Values.a }}{{ if and .Values.b .Values.c }}{{ if .Values.d | empty }}{{- with .Values.e }}{{ toYaml .Values.f }}{{ if not $.Values.g -}}`);
    expect(refs.map((r) => `${r.path.join(".")}:${r.guard ? "tested" : "used"}`)).toEqual(["a:tested", "b:tested", "c:used", "d:used", "e:used", "f:used", "g:tested"]);
    const chart = pkg([{ templates: [`{{ if .Values.ingress }}{{ .Values.ingress.host }}{{ end }}`] }]);
    expect(unreadKeys(chart, { ingress: { host: "x", tls: true } }).map((p) => p.join("."))).toEqual(["ingress.tls"]);
  });

  const demo = pkg([
    {
      defaults: { image: { tag: "1" }, podAnnotations: {}, tolerations: [], resources: null, sidecar: { resources: {} } },
      templates: [`{{ toYaml .Values.extraEnv }} {{ .Values.ingress.enabled }} {{- with .Values.config }}{{ toYaml . }}{{ end }}`],
    },
    { name: "db", valuesPath: ["postgresql"], defaults: { auth: { username: "x" } }, templates: [`{{ .Values.primary.persistence.size }} {{ .Values.global.storageClass }}`] },
  ]);

  it("accepts keys declared in the defaults, free-form defaults and whole references", () => {
    const values = {
      image: { tag: "2" },
      podAnnotations: { any: "thing" }, // declared `{}`
      tolerations: [{ key: "k" }], // lists are not entered
      resources: { limits: { cpu: "1" } }, // declared null: free below
      extraEnv: { FOO: "bar" }, // referenced as a whole (toYaml)
      config: { deep: { er: 1 } }, // `with .Values.config`
      ingress: { enabled: true },
      postgresql: { auth: { username: "y" }, primary: { persistence: { size: "1Gi" } } }, // subchart, by alias
      global: { storageClass: "local" },
    };
    expect(unreadKeys(demo, values)).toEqual([]);
  });

  it("reports keys nothing reads, at the shortest unread path", () => {
    const values = { image: { tga: "2" }, ingres: { enabled: true }, ingress: { host: "x" }, sidecar: { cpu: 1 }, postgresql: { primary: { replicas: 2 } }, global: { other: 1 } };
    expect(unreadKeys(demo, values).map((p) => p.join("."))).toEqual(["image.tga", "ingres", "ingress.host", "sidecar.cpu", "postgresql.primary.replicas", "global.other"]);
  });

  it("lets an allow-list entry (with its reason) cover a free-form map", () => {
    const list = [{ chart: "demo", path: "ingress.*.annotations", reason: "iterated by a helper the model cannot follow" }];
    expect(unreadKeys(demo, { ingress: { web: { annotations: { a: "b" } }, api: { tls: true } } }, list).map((p) => p.join("."))).toEqual(["ingress.api.tls"]);
    expect(allowed("demo", ["ingress", "web", "annotations", "a"], list)?.reason).toContain("iterated");
    expect(allowed("other", ["ingress", "web", "annotations"], list)).toBeUndefined();
  });
});

describe("custom resources against a CRD schema", () => {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    spec: {
      group: "example.org",
      names: { kind: "Widget" },
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["size"],
                  properties: {
                    size: { type: "integer", minimum: 1 },
                    port: { "x-kubernetes-int-or-string": true },
                    mode: { type: "string", pattern: "(?i)^(fast|slow)$" },
                    extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                    labels: { type: "object", additionalProperties: { type: "string" } },
                    choice: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, oneOf: [{ required: ["a"] }, { required: ["b"] }] },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  const registry = new CrdRegistry();
  registry.add(crd, "test");
  const check = (spec: Record<string, unknown>) => registry.validate({ apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "w", labels: { x: "y" } }, spec })!.errors;

  it("accepts what the API server keeps: int-or-string, preserved fields, typed maps, Go inline flags", () => {
    expect(check({ size: 2, port: 8080, mode: "FAST", extra: { any: { thing: 1 } }, labels: { a: "b" }, choice: { a: "x" } })).toEqual([]);
    expect(check({ size: 2, port: "http" })).toEqual([]);
  });

  it("reports unknown fields (pruned by the API server), wrong types, missing required fields", () => {
    expect(check({ size: 0, port: true, sise: 1, labels: { a: 1 }, choice: { a: "x", c: "z" } })).toEqual([
      { field: "spec.sise", message: "unknown field (not in the schema: the API server would prune it)" },
      { field: "spec.size", message: "must be >= 1" },
      { field: "spec.port", message: "must be integer; must be string" },
      { field: "spec.labels.a", message: "must be string" },
      { field: "spec.choice.c", message: "unknown field (not in the schema: the API server would prune it)" },
    ]);
    expect(check({})).toEqual([{ field: "spec.size", message: "required field is missing" }]);
  });

  it("knows nothing of kinds it has no CRD for", () => {
    expect(registry.validate({ apiVersion: "example.org/v2", kind: "Widget" })).toBeNull();
    expect(registry.clusterScoped("example.org/v1", "Widget")).toBe(false);
  });

  it("reads Go inline flags in patterns", () => {
    expect(goRegExp("(?i)^abc$", "u").test("ABC")).toBe(true);
    const months = goRegExp("^((?i)jan|feb|[1-9])$", "u"); // as in kube-prometheus-stack's CRDs
    expect(months.test("JAN")).toBe(true);
    expect(months.test("13")).toBe(false);
  });
});

describe("built-in objects through kubernetes-models", () => {
  it("maps apiVersion/kind to the model class and reports fields", () => {
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: "two", selector: {}, template: { spec: { containers: [{ name: "c", ports: [{ containerPort: 80 }] }] } } } };
    expect(validateBuiltin(deployment)).toEqual([{ field: "spec.replicas", message: "must be integer" }]);
    deployment.spec.replicas = 2 as never;
    expect(validateBuiltin(deployment)).toEqual([]);
    expect(validateBuiltin({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } })).toEqual([]);
    expect(validateBuiltin({ apiVersion: "example.org/v1", kind: "Widget" })).toBeNull();
  });
});

describe("resources the program declares", () => {
  it("checks built-in kinds too (no Helm needed), naming the resource's URN; a redacted Secret is no error", async () => {
    const deployment = {
      urn: "urn:pulumi:test::liiibre::kubernetes:apps/v1:Deployment::web",
      type: "kubernetes:apps/v1:Deployment",
      name: "web",
      inputs: { metadata: { name: "web", namespace: "t" }, spec: { replicas: "two", selector: {}, template: { spec: { containers: [{ name: "c" }] } } } },
    };
    const secret = { urn: "urn:pulumi:test::liiibre::kubernetes:core/v1:Secret::s", type: "kubernetes:core/v1:Secret", name: "s", inputs: { metadata: { name: "s" }, stringData: "[secret]" } };
    const r = await renderPlan([deployment, secret]);
    expect(r.problems).toEqual([{ check: "object-invalid", release: deployment.urn, object: "Deployment/t/web", field: "spec.replicas", message: "Deployment spec.replicas: must be integer" }]);
    expect(r.stats.validated).toMatchObject({ builtin: 2, program: 2 });
  });
});

describe("helm's output", () => {
  it("splits a values-schema failure into one problem per key", () => {
    const stderr = [
      "Error: values don't meet the specifications of the schema(s) in the following chart(s):",
      "matrix-stack:",
      "- synapse: Additional property extraVolumes is not allowed",
      "- synapse.extraEnv.0: value is required",
      "- elementWeb.replicas: Must be greater than or equal to 1",
      "",
    ].join("\n");
    expect(helmErrors(stderr)).toEqual([
      { field: "synapse.extraVolumes", message: "values schema: synapse.extraVolumes: Additional property extraVolumes is not allowed" },
      { field: "synapse.extraEnv[0].value", message: "values schema: synapse.extraEnv[0].value: value is required" },
      { field: "elementWeb.replicas", message: "values schema: elementWeb.replicas: Must be greater than or equal to 1" },
    ]);
  });

  it("keeps other failures to one line", () => {
    const stderr = "Error: execution error at (loki/templates/x.yaml:44:28): Please define loki.storage.bucketNames.chunks\nUse --debug flag to render out invalid YAML\n";
    expect(helmErrors(stderr)).toEqual([{ message: "execution error at (loki/templates/x.yaml:44:28): Please define loki.storage.bucketNames.chunks" }]);
  });

  it("parses manifests, List items included, comments and empty documents dropped", () => {
    const text = "---\n# Source: a.yaml\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n";
    expect(parseManifests(text).map((o) => o.kind)).toEqual(["ConfigMap", "Secret"]);
  });

  it("masks Secret values and leaves other kinds alone", () => {
    expect(maskSecret({ apiVersion: "v1", kind: "Secret", data: { a: "c2VjcmV0" }, stringData: { b: "secret" } })).toEqual({ apiVersion: "v1", kind: "Secret", data: { a: "[secret]" }, stringData: { b: "[secret]" } });
    const cm = { apiVersion: "v1", kind: "ConfigMap", data: { a: "b" } };
    expect(maskSecret(cm)).toBe(cm);
  });

  it("renders for the k0s pin's Kubernetes version", () => {
    expect(kubeVersionOf("v1.33.4+k0s.0")).toBe("1.33.4");
    expect(kubeVersionOf(K0S_VERSION)).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("the Helm package", () => {
  it("refuses a tarball whose integrity is not the pinned one", () => {
    const fake = Buffer.from("not the package");
    expect(integrityOf(fake)).toMatch(/^sha512-/);
    expect(() => helmFromPackage(fake)).toThrow(ToolError);
    expect(() => helmFromPackage(fake)).toThrow(/integrity mismatch/);
  });
});
