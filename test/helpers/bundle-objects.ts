/**
 * Bundled objects for the readers' tests (render, twin, plan, diff): manifests as a bundle's
 * objects release declares them in `values.objects`, the release resource itself (built with the
 * contract's facts, components/kit/objects.ts, never a hand copy of them), dev's plan with `demo`
 * in a given `kubernetesObjects` mode, and an object of a plan whichever way it is declared.
 */
import { OBJECTS_CHART, OBJECTS_RELEASE } from "../../components/kit/objects";
import { HELM_DEFAULTS } from "../../components/kit/helm";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../../scripts/harness";
import { buildPlan, type Plan } from "../../scripts/plan-model";
import { withBundledObjects } from "./objects";

type Obj = Record<string, any>;

/**
 * Manifests chosen for what YAML can get wrong on the way through Helm's `toYaml`: integers
 * (large ones too), strings that read as numbers, booleans, octal or null when unquoted,
 * multi-line strings (a shell script with tabs, a YAML document with `---` inside a ConfigMap,
 * CRLF, leading spaces, trailing newlines), long lines, empty maps and lists, nulls,
 * unicode, keys with dots and slashes, YAML indicator characters.
 */
export function trickyManifests(ns = "demo"): Obj[] {
  const labels = { "app.kubernetes.io/name": "probe", "app.kubernetes.io/part-of": "liiibre", "liiibre.org/tenant": ns };
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "probe-config", namespace: ns, labels, annotations: { "liiibre.org/note": "Pétitions — 日本語 — 🎉", "example.org/empty": "" } },
      data: {
        "entrypoint.sh": "#!/bin/sh\nset -eu\n\tif [ -n \"${X:-}\" ]; then\n\t\techo \"x=$X\" >&2\n\tfi\nexec \"$@\"\n",
        "config.yaml": "server:\n  port: 8080\n  debug: true\n---\nother: [1, 2]\n# a comment\n",
        "windows.bat": "@echo off\r\necho hi\r\n",
        "leading.txt": "  indented first line\nsecond\n",
        "trailing.txt": "x\n\n\n",
        "trailing-space": "a line with trailing spaces   \nnext",
        ratio: "0.5",
        flag: "true",
        yes: "yes",
        off: "off",
        sci: "1e3",
        mode: "0755",
        octal12: "0o755",
        hex: "0x1F",
        underscore: "1_000",
        inf: ".inf",
        nothing: "null",
        tilde: "~",
        empty: "",
        "k.with.dots": "a/b:c",
        "merge": "<<",
        star: "*alias",
        amp: "&anchor",
        bang: "!tag",
        dash: "- item",
        colon: "key: value",
        hash: "# not a comment",
        pct: "%TAG",
        braces: "{a: 1}",
        brackets: "[1, 2]",
        quote: "'single' \"double\"",
        backslash: "C:\\path\\to",
        nbsp: "a\u00a0b",
        long: `${"word ".repeat(40)}end  two  spaces  kept`,
        json: JSON.stringify({ a: [1, 2, { b: "c" }], d: null, e: "x".repeat(120) }),
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "probe", namespace: ns, labels },
      spec: {
        replicas: 2,
        revisionHistoryLimit: 0,
        selector: { matchLabels: { "app.kubernetes.io/name": "probe" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
        template: {
          metadata: { labels, annotations: { "checksum/config": "0123456789", "prometheus.io/port": "9100" } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, runAsNonRoot: true },
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: "probe",
                image: "registry.example.org/probe:1.0.0",
                args: [],
                command: ["/bin/sh", "/scripts/entrypoint.sh", "--ratio=0.5", "1e3", "true"],
                env: [
                  { name: "RATIO", value: "0.5" },
                  { name: "ENABLED", value: "true" },
                  { name: "UMASK", value: "0755" },
                  { name: "EMPTY", value: "" },
                  { name: "MULTI", value: "line one\nline two\n" },
                ],
                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi", "ephemeral-storage": "1Gi" } },
                volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }],
              },
            ],
            volumes: [{ name: "scripts", configMap: { name: "probe-config", defaultMode: 0o755, items: [{ key: "entrypoint.sh", path: "entrypoint.sh", mode: 0o500 }] } }],
            tolerations: [],
            nodeSelector: {},
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "probe-quota", namespace: ns },
      spec: { hard: { "requests.storage": "107374182400", "limits.memory": "8Gi", pods: "50", "count/deployments.apps": "20" } },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "probe-default-deny", namespace: ns },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "probe-cron", namespace: ns },
      spec: {
        schedule: "*/5 * * * *",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 1,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 9007199254740991,
            template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox:1.37", args: ["sh", "-c", "echo 'a: b' && exit 0"] }] } },
          },
        },
      },
    },
    {
      apiVersion: "example.org/v1",
      kind: "Probe",
      metadata: { name: "probe-cr", namespace: ns, labels: { "example.org/slashed/key": "v" } },
      spec: {
        bytes: 10737418240,
        huge: 1e21,
        negative: -42,
        ratio: 0.25,
        whole: 3,
        tiny: 1e-7,
        on: true,
        off: false,
        nothing: null,
        list: [1, "1", true, "true", null, {}, []],
        nested: { "a.b": { "c/d": { "": "empty key" } } },
        // free-form maps of custom resources may hold any key: `<<` is YAML 1.1's merge key
        freeForm: { "<<": "not a merge", y: "key read as a boolean by YAML 1.1", "? q": 1, "- d": 2, NO: "NO" },
        separators: "a\u2028b\u0085c\u2029d",
        controls: "del\u007f c1\u0080\u009f bom\ufeff nonchar\uffff",
      },
    },
  ];
}

/** A bundle's objects release as the program registers it (components/kit/bundleObjects.ts: not atomic). */
export function objectsReleaseInputs(namespace: string, objects: Obj[]): Obj {
  return { name: OBJECTS_RELEASE, namespace, chart: OBJECTS_CHART.path, version: OBJECTS_CHART.version, values: { objects }, ...HELM_DEFAULTS, atomic: false };
}

/** The release as a plan resource of a tenant component (`liiibre:tenant:Tenant::<slug>`). */
export function objectsReleaseResource(slug: string, namespace: string, objects: Obj[], stack = "dev") {
  return {
    urn: `urn:pulumi:${stack}::liiibre::liiibre:tenant:Tenant$kubernetes:helm.sh/v3:Release::${slug}-objects`,
    type: "kubernetes:helm.sh/v3:Release",
    name: `${slug}-objects`,
    parent: `urn:pulumi:${stack}::liiibre::liiibre:tenant:Tenant::${slug}`,
    inputs: objectsReleaseInputs(namespace, objects),
  };
}

/**
 * Dev evaluated with `demo` (lean, so `bundled` by default) in the given `kubernetesObjects`
 * mode, and its plan, built as `npm run plan` builds one (no policy verdicts).
 */
export async function devIn(mode?: "resources" | "adopting" | "bundled"): Promise<{ evaluation: Evaluation; plan: Plan }> {
  const config = readStackConfig(stackConfigFile("dev")) as { tenants: Array<Record<string, unknown>> };
  if (mode) config.tenants.find((t) => t.slug === "demo")!.kubernetesObjects = mode;
  const evaluation = await evaluate({ config, stack: "dev" });
  return { evaluation, plan: buildPlan(evaluation, []) };
}

/**
 * The manifest of a Kubernetes object of a plan, whichever way it is declared (a resource's
 * inputs, or an entry of its objects release: test/helpers/objects.ts), by kind, name and
 * namespace (default `demo`): the object itself, so that editing it edits the plan.
 */
export function manifestIn(plan: Pick<Plan, "resources">, kind: string, name: string | RegExp, namespace = "demo"): Obj {
  const hit = withBundledObjects(plan.resources).find((r) => {
    const o = r.inputs as Obj;
    return o.kind === kind && o.metadata?.namespace === namespace && (typeof name === "string" ? o.metadata?.name === name : name.test(String(o.metadata?.name)));
  });
  if (!hit) throw new Error(`no ${kind} ${namespace}/${name}`);
  return hit.inputs as Obj;
}
