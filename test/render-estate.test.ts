/**
 * The whole estate through real Helm: every Helm release of prod and dev (every distinct
 * chart and values shape) rendered once, and every check run on the result.
 *
 * KNOWN_PROBLEMS is the exact set of problems expected today, each with its reason: empty
 * (issue 15 item 5 fixed the estate). Any problem not listed, or a listed one that
 * disappears, fails this test.
 */
import { beforeAll, describe, expect } from "vitest";
import { evaluateStack, type RecordedResource } from "../scripts/harness";
import { HELM_RELEASE_TYPE, renderPlan, SECRET_MASK, type RenderResult } from "../scripts/render/render";
import { CAN_RENDER, HELM, itWithHelm } from "./helpers/render";

interface Known {
  check: string;
  chart: string;
  field?: string;
  /** Substring of the message, for problems without a field. */
  message?: string;
  /** Which releases of the chart have it: every one, or those whose values satisfy `when`. */
  when?: (values: Record<string, any>) => boolean;
  reason: string;
}

// Empty since issue 15 item 5 (matrix-stack 26.8.1, jitsi-meet 2.22.2, loki 18.11.0, Nextcloud's
// cron resources under cronjob.sidecar): prod and dev render clean. A new entry needs its reason.
const KNOWN_PROBLEMS: Known[] = [];

let resources: RecordedResource[];
let result: RenderResult;
const chartOf = new Map<string, string>(); // release id → chart@version
const valuesOf = new Map<string, Record<string, any>>();

beforeAll(async () => {
  if (!CAN_RENDER) return; // skipped (helpers/render.ts says why)
  const prod = await evaluateStack({ stack: "prod" });
  const dev = await evaluateStack({ stack: "dev" });
  resources = [...prod.resources, ...dev.resources];
  result = await renderPlan(resources, { helm: HELM });
  for (const r of resources.filter((x) => x.type === HELM_RELEASE_TYPE)) {
    const id = `${r.inputs.namespace}/${r.inputs.name}`;
    const chart = String(r.inputs.chart).split("/").pop();
    chartOf.set(id, `${chart}@${r.inputs.version}`);
    valuesOf.set(id, r.inputs.values as Record<string, any>);
  }
}, 600_000);

describe("the estate rendered (prod and dev)", () => {
  itWithHelm("renders every Helm release of both stacks, each distinct render once", () => {
    const releases = resources.filter((r) => r.type === HELM_RELEASE_TYPE);
    expect(result.releases.map((r) => r.urn).sort()).toEqual(releases.map((r) => r.urn).sort());
    expect(result.stats.distinctRenders).toBeLessThanOrEqual(releases.length);
    const failed = new Set(result.problems.filter((p) => p.check === "render-fails").map((p) => p.release));
    for (const r of result.releases) {
      if (!failed.has(`${r.namespace}/${r.release}`)) expect(r.objects.length, `${r.namespace}/${r.release}`).toBeGreaterThan(0);
    }
  });

  itWithHelm("finds exactly the known problems (KNOWN_PROBLEMS), on exactly the releases they concern", () => {
    const key = (check: string, chart: string, what: string, release: string) => `${check} ${chart} ${what} ${release}`;
    const expected = new Set<string>();
    for (const k of KNOWN_PROBLEMS) {
      for (const [release, chart] of chartOf) {
        if (chart === k.chart && (!k.when || k.when(valuesOf.get(release)!))) expected.add(key(k.check, k.chart, k.field ?? k.message!, release));
      }
    }
    const got = new Set(
      result.problems.map((p) => {
        const chart = chartOf.get(p.release) ?? "(program)";
        const known = KNOWN_PROBLEMS.find((k) => k.chart === chart && k.check === p.check && !k.field && k.message && p.message.includes(k.message));
        return key(p.check, chart, p.field ?? (known ? known.message! : p.message), p.release);
      }),
    );
    expect([...got].sort()).toEqual([...expected].sort());
    // a fixed chart leaves entries behind: they must go (the list is the work left, not history)
    const stale = KNOWN_PROBLEMS.filter((k) => ![...expected].some((e) => e.startsWith(`${k.check} ${k.chart} ${k.field ?? k.message} `)));
    expect(stale.map((k) => `${k.chart} ${k.field ?? k.message}`)).toEqual([]);
  });

  itWithHelm("validates every Kubernetes resource the program declares (custom resources included) and every rendered object", () => {
    // Custom resources: dotted groups, except Helm/YAML components and the built-in *.k8s.io groups (Gateway API is a CRD group).
    const builtinGroup = (g: string) => g.endsWith(".k8s.io") && g !== "gateway.networking.k8s.io";
    const programCrs = resources.filter((r) => /^kubernetes:[a-z0-9.-]+\.[a-z]+\/[a-z0-9]+:/.test(r.type) && !/helm\.sh|yaml\//.test(r.type) && !builtinGroup(r.type.split(":")[1].split("/")[0]));
    expect(new Set(programCrs.map((r) => r.type.split(":")[1].split("/")[0]))).toEqual(
      new Set(["cert-manager.io", "minio.min.io", "barmancloud.cnpg.io", "k8up.io", "postgresql.cnpg.io", "monitoring.coreos.com", "gateway.networking.k8s.io", "traefik.io"]),
    );
    const { builtin, custom, unvalidated, program } = result.stats.validated;
    expect(unvalidated).toBe(0);
    // every program-declared Kubernetes resource (custom or built-in: Namespaces, Secrets, NetworkPolicies…) and every distinct rendered object
    const programK8s = resources.filter((r) => /^kubernetes:[a-z0-9.-]+\/[a-z0-9]+:[A-Za-z]+$/.test(r.type) && !/^kubernetes:(helm\.sh|yaml)\//.test(r.type));
    expect(program).toBe(programK8s.length);
    expect(program).toBeGreaterThan(programCrs.length);
    const distinctObjects = [...new Set(result.releases.map((r) => r.objects))].reduce((n, objects) => n + objects.length, 0);
    expect(builtin + custom).toBe(distinctObjects + program);
    // k8up's CRDs are not in its chart at the pin (they come from K8UP_CRDS_URL): the cache's newer k8up supplies them, and says so;
    // the Gateway API CRDs come from upstream's standard-install.yaml (GATEWAY_API_CRDS): the cache's gateway-api-crds holds the same ones
    expect(result.warnings.map((w) => [w.check, w.message.split(" validated")[0]]).sort()).toEqual(
      [
        ["crd-substitute", "k8up.io/v1 Schedule"],
        ...["GatewayClass", "Gateway", "HTTPRoute", "BackendTLSPolicy"].map((k) => ["crd-substitute", `gateway.networking.k8s.io/v1 ${k}`]),
      ].sort(),
    );
  });

  itWithHelm("masks every Secret's data in the rendered objects", () => {
    const secrets = result.releases.flatMap((r) => r.objects).filter((o) => o.kind === "Secret");
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) {
      for (const field of ["data", "stringData"]) {
        for (const v of Object.values((s.object[field] ?? {}) as Record<string, unknown>)) expect(v).toBe(SECRET_MASK);
      }
    }
  });
});
