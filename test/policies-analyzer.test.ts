/**
 * Parity with the real analyzer: the pack is served exactly as the Pulumi CLI serves it
 * (@pulumi/pulumi's run-policy-pack running `policies/`, which starts @pulumi/policy's gRPC
 * analyzer server), the same
 * recorded resources are sent to it the way the engine sends them (`Analyze` per resource,
 * `AnalyzeStack` for all; secrets as secret values, unknowns as the unknown sentinel), and its
 * diagnostics are compared with the offline runner's violations.
 *
 * The known, documented differences (docs/policies.md) are asserted explicitly: the analyzer
 * cannot see which inputs are secret nor `retainOnDelete`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import * as hcloud from "@pulumi/hcloud";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type Evaluation, type RecordedResource } from "../scripts/harness";
import { UNKNOWN, checkPolicies, type Violation } from "../scripts/check-policies";
import { LABELS } from "../components/conventions";
import { bundleOwner, declareObjects } from "./helpers/bundled-objects";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");

let server: ChildProcess;
let client: any;

beforeAll(async () => {
  // The SDK's own policy-pack runner, as `pulumi preview --policy-pack policies` starts it (ts-node,
  // type-checked, policies/tsconfig.json; the engine address is unused here). One process.
  server = spawn(process.execPath, [path.resolve("node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js"), "127.0.0.1:1", "."], {
    cwd: path.resolve("policies"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let err = "";
    server.stdout!.on("data", (d: Buffer) => {
      const m = /^(\d+)\s*$/m.exec(d.toString());
      if (m) resolve(m[1]);
    });
    server.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    server.on("exit", (code) => reject(new Error(`the policy pack exited (${code}): ${err}`)));
  });
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  if (server?.pid) server.kill();
});

/** Inputs as the engine sends them to analyzers (KeepSecrets, KeepUnknowns). */
function wire(v: unknown): unknown {
  if (isSecretMarker(v)) return { [rpc.specialSigKey]: rpc.specialSecretSig, value: wire(v.value) };
  if (Array.isArray(v)) return v.map(wire);
  if (v && typeof v === "object") {
    if ((v as Record<string, unknown>).__pulumiUnknown === true) return UNKNOWN;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = wire(x);
    return out;
  }
  return v;
}

function options(r: RecordedResource) {
  const o = new analyzerPb.AnalyzerResourceOptions();
  o.setProtect(r.protect);
  o.setIgnorechangesList(r.ignoreChanges);
  if (r.parent) o.setParent(r.parent);
  return o;
}

const call = <T>(method: string, req: unknown) =>
  new Promise<T>((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

interface Diag {
  policy: string;
  level: "advisory" | "mandatory";
  urn: string;
  message: string;
}
function diags(res: any, fallbackUrn?: string): Diag[] {
  return res.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(),
    level: d.getEnforcementlevel() === analyzerPb.EnforcementLevel.MANDATORY ? "mandatory" : "advisory",
    urn: d.getUrn() || fallbackUrn,
    message: d.getMessage(),
  }));
}

async function analyzer(ev: Evaluation): Promise<Diag[]> {
  const out: Diag[] = [];
  for (const r of ev.resources) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn);
    req.setProperties(Struct.fromJavaScript(wire(secretAwareInputs(r)) as object));
    req.setOptions(options(r));
    out.push(...diags(await call("analyze", req), r.urn));
  }
  const stack = new analyzerPb.AnalyzeStackRequest();
  stack.setResourcesList(
    ev.resources.map((r) => {
      const a = new analyzerPb.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(r.urn);
      a.setProperties(Struct.fromJavaScript(wire(secretAwareInputs(r)) as object));
      a.setOptions(options(r));
      if (r.parent) a.setParent(r.parent);
      return a;
    }),
  );
  out.push(...diags(await call("analyzeStack", stack)));
  return out;
}

const key = (x: { policy: string; level: string; urn: string | null }) => `${x.policy} ${x.level} ${x.urn!.split("::").pop()}`;

describe("offline runner vs the real analyzer server", () => {
  it("gives the same verdicts on the same resources, except what only the runner can see", { timeout: 180_000 }, async () => {
    const ev = await evaluate({
      config: readStackConfig(stackConfigFile("dev")),
      stack: "dev",
      program: () => {
        const unknown = new random.RandomId("unk", { byteLength: 4 }).dec;
        new hcloud.Firewall("fw-world", { rules: [{ direction: "in", protocol: "tcp", port: "22", sourceIps: ["0.0.0.0/0"] }] });
        new hcloud.Firewall("fw-unknown", { rules: [{ direction: "in", protocol: "tcp", port: "22", sourceIps: [unknown] }] });
        new hcloud.Server("srv-ash", { serverType: "cpx21", image: "debian-12", location: "ash" });
        new k8s.helm.v3.Release("chart-caret", { chart: "jitsi-meet", version: "^1.4", values: { web: { extraEnvs: { RESOLUTION: "1080" } } } });
        new hcloud.Volume("vol-retained", { size: 10, location: "fsn1", deleteProtection: true }, { retainOnDelete: true });
        new k8s.helm.v3.Release("plain-secret", { chart: "hedgedoc", version: "1.0.0", values: { db: { password: "hunter2-plain" } } });
        new k8s.core.v1.Namespace("open-ns", { metadata: { name: "open", labels: { [LABELS.tenant]: "open" } } });
      },
    });
    const offline = await checkPolicies(ev, { config: {} });
    const served = await analyzer(ev);

    // The analyzer's message is the policy description, a newline, then the policy's message
    // (reports made with an object, like the advisory below, carry their message alone).
    for (const d of served.filter((x) => x.level === "mandatory")) expect(d.message, d.policy).toMatch(/\n/);

    const offlineKeys = offline.map(key).sort();
    const servedKeys = served.map(key).sort();
    const onlyOffline = offlineKeys.filter((k) => !servedKeys.includes(k));
    const onlyServed = servedKeys.filter((k) => !offlineKeys.includes(k));
    // The runner sees secretness; the analyzer does not (secrets arrive unwrapped).
    expect(onlyOffline).toEqual(["secrets-are-secret mandatory plain-secret"]);
    // The runner sees retainOnDelete; the analyzer cannot verify it: an advisory there.
    expect(onlyServed).toEqual(["stateful-protected advisory vol-retained"]);

    // Everything else agrees, including the advisory for the value unknown during preview.
    const common = offlineKeys.filter((k) => servedKeys.includes(k));
    expect(common).toEqual(
      expect.arrayContaining([
        "firewall-no-public-admin mandatory fw-world",
        "firewall-no-public-admin advisory fw-unknown",
        "eu-locations-only mandatory srv-ash",
        "pinned-versions mandatory chart-caret",
        "video-max-720p mandatory chart-caret",
        "tenant-isolation mandatory open-ns",
        "backups-offsite mandatory open-ns",
      ]),
    );
    const msg = (list: Array<Violation | Diag>, k: string) => list.find((x) => key(x) === k)!.message;
    for (const k of common) expect(msg(served, k).endsWith(msg(offline, k).replace(/^can't run policy '[^']+' during preview: /, "")), k).toBe(true);
  });
});

describe("bundled objects under the real analyzer server", () => {
  it("are judged there as offline: same verdicts on the objects release, each naming its object", { timeout: 180_000 }, async () => {
    const ns = "demo";
    const md = (name: string) => ({ name, namespace: ns, labels: { [LABELS.tenant]: ns } });
    const ev = await evaluate({
      config: readStackConfig(stackConfigFile("dev")),
      stack: "dev",
      program: () => {
        const owner = bundleOwner(ns);
        const unknown = new random.RandomId("unk", { byteLength: 4 }, { parent: owner }).dec;
        new k8s.core.v1.Namespace("demo-ns", { metadata: { name: ns, labels: { [LABELS.tenant]: ns, [LABELS.layer]: "tenant" } } }, { parent: owner, protect: true });
        declareObjects(
          "bundled",
          ns,
          ns,
          [
            { apiVersion: "v1", kind: "ResourceQuota", metadata: md("quota"), spec: { hard: { "requests.cpu": "4" } } },
            { apiVersion: "v1", kind: "LimitRange", metadata: md("limits"), spec: { limits: [{ type: "Container" }] } },
            { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: md("default-deny"), spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] } },
            { apiVersion: "apps/v1", kind: "Deployment", metadata: md("web"), spec: { template: { spec: { containers: [{ name: "web", image: "nginx:latest" }] } } } },
            { apiVersion: "apps/v1", kind: "Deployment", metadata: md("computed"), spec: { template: { spec: { containers: [{ name: "c", image: unknown }] } } } },
            { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: md("data"), spec: { accessModes: ["ReadWriteOnce"] } },
            { apiVersion: "v1", kind: "Secret", metadata: md("db"), stringData: { host: "pg" } },
            { apiVersion: "k8up.io/v1", kind: "Schedule", metadata: md("backup"), spec: { backend: { s3: { endpoint: "https://s3.fsn1.example.org" } }, backup: { schedule: "@daily" } } },
          ] as never,
          owner,
          { protect: true },
        );
      },
    });
    const offline = await checkPolicies(ev, { config: {} });
    const served = await analyzer(ev);
    const rows = (list: Array<Violation | Diag>) =>
      list
        .filter((x) => x.urn!.endsWith("::demo-objects") || x.urn!.endsWith("::demo-ns"))
        .map((x) => `${x.policy} ${x.level} ${x.urn!.split("::").pop()} ${x.message.split("\n").pop()!.replace(/^can't run policy '[^']+' during preview: /, "")}`)
        .sort();
    expect(rows(served)).toEqual(rows(offline));
    const mine = rows(offline).join("\n");
    // What the release hid before: each object judged, named.
    expect(mine).toContain('pinned-versions mandatory demo-objects liiibre-objects/Deployment/web: container web: image "nginx:latest" uses the floating tag "latest"');
    expect(mine).toContain("pinned-versions advisory demo-objects liiibre-objects/Deployment/computed: not checked during preview");
    expect(mine).toMatch(/stateful-protected mandatory demo-objects liiibre-objects\/PersistentVolumeClaim\/data: a PersistentVolumeClaim holds data/);
    expect(mine).toMatch(/secrets-are-secret mandatory demo-objects liiibre-objects\/Secret\/db: a Secret is an entry of the objects release/);
    expect(mine).toMatch(/backups-offsite mandatory demo-ns .*Schedule backup: endpoint https:\/\/s3.fsn1.example.org is in the primary location fsn1/);
    expect(mine).toMatch(/tenant-isolation mandatory demo-ns namespace demo of demo lacks a default-deny ingress NetworkPolicy/);
    expect(mine).not.toMatch(/lacks a ResourceQuota|lacks a LimitRange/);
  });
});
