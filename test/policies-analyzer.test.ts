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
