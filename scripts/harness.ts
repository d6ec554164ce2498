/**
 * The one evaluation harness: runs the real program (or any piece of it) under the Pulumi
 * SDK's runtime mocks for a given configuration and returns every resource it registered,
 * with its URN, parent, inputs and options.
 *
 * Used by `npm run plan` and by the tests. How it works:
 * - `pulumi.runtime.setMocks` replaces the engine; the program runs inside
 *   `runInPulumiStack`, so there is a root stack resource on which
 *   `registerStackTransformation` records every resource's options (mocks do not see
 *   options: protect, retainOnDelete, aliases…);
 * - the mock monitor's `registerResource` is wrapped to record each registration's inputs
 *   exactly as they were serialised for the engine, secrets still marked as secrets;
 * - URNs are recomputed the way the real engine builds them (the full parent type chain,
 *   top-level resources parented to the stack without the stack's type), so URN stability
 *   tests mean what they say.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { readConfigFile } from "../components/config/file";
import { CONFIG_NAMESPACE, SECRET_KEYS, parseEstate, type Estate, type RawConfig } from "../components/estate";
import { MOCK_SECRET_MARKER, mockOutputs } from "./mock-outputs";
import { installOfflineShortcuts } from "./offline-runtime";

export { MOCK_SECRET_MARKER };

// Internal SDK modules (pinned @pulumi/pulumi version; see package.json).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stackRuntime = require("@pulumi/pulumi/runtime/stack");

export const PROJECT = "liiibre";
/** Organisation of the offline stacks (StackReference names are `<org>/<project>/<stack>`). */
export const ORGANIZATION = "organization";
export const SECRET_PLACEHOLDER = "[secret]";

export interface ResourceOptionsRecord {
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  /** Input paths whose change forces a replacement (set by the program or by the SDK class, e.g. command's `triggers[*]`). */
  replaceOnChanges: string[];
  aliases: unknown[];
  /** URNs of explicit `dependsOn` resources. */
  dependsOn: string[];
  /** URN of the explicit provider, if any. */
  provider: string | null;
}

export interface RecordedResource extends ResourceOptionsRecord {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent, or null for resources directly under the stack. */
  parent: string | null;
  /** True for custom resources (managed by a provider), false for components. */
  custom: boolean;
  /** Inputs as sent to the engine, every secret value replaced by "[secret]". */
  inputs: Record<string, unknown>;
}

export interface Evaluation {
  stack: string;
  estate: Estate;
  resources: RecordedResource[];
  /** The program's stack outputs (resolved; may hold secrets: never print them whole). */
  outputs: Record<string, unknown>;
}

/**
 * Inputs with secrets still marked, for the policy runner only: the value of every secret is
 * wrapped as `{ [SECRET_SIG]: true, value }`. Kept off the records so that nothing that
 * serialises a record can leak a secret.
 */
const rawInputs = new WeakMap<RecordedResource, Record<string, unknown>>();
export const SECRET_SIG = "__liiibreSecret";
export function secretAwareInputs(r: RecordedResource): Record<string, unknown> {
  return rawInputs.get(r) ?? r.inputs;
}
export function isSecretMarker(v: unknown): v is { [SECRET_SIG]: true; value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === true;
}

// ---------------------------------------------------------------------------------------
// Reading stack configuration files
// ---------------------------------------------------------------------------------------

export const REPO_ROOT = path.resolve(__dirname, "..");

export function stackConfigFile(stack: string): string {
  return path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
}

/**
 * Reads the `liiibre:*` keys of a `Pulumi.<stack>.yaml` file (keys without the prefix).
 * Values marked `secure:` cannot be decrypted offline: they are left out, and the harness
 * provides a fake secret instead.
 */
export function readStackConfig(file: string): RawConfig {
  return readConfigFile(file);
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

export interface EvaluateOptions {
  /** Raw `liiibre:*` config (keys without the prefix). */
  config: RawConfig;
  /** Stack name (URNs embed it). Default `prod`. */
  stack?: string;
  /**
   * What to run. Default: the real program (`index.ts`'s default export). A test may pass
   * a function that builds one component; it receives the validated estate.
   */
  program?: (estate: Estate) => unknown;
  /**
   * Outputs of the stacks the program references (`pulumi.StackReference`), by the referenced
   * stack's name as the program gives it (`<org>/<project>/<stack>`). Every referenced output is
   * secret, as the engine marks an output holding any secret. Default none (a reference then
   * reads no output).
   */
  stackOutputs?: Record<string, Record<string, unknown>>;
  /**
   * The estate `config` describes, when the caller has validated it already (the plan's workers
   * evaluate many shards of one estate). Default: parsed from `config` here.
   */
  estate?: Estate;
}

interface Registration {
  mockUrn: string;
  type: string;
  name: string;
  mockParent: string;
  custom: boolean;
  inputs: Record<string, unknown>;
}

/**
 * Evaluates the program under mocks. Throws `ConfigError` (before anything is registered)
 * when the configuration is invalid.
 */
export async function evaluate(opts: EvaluateOptions): Promise<Evaluation> {
  const stack = opts.stack ?? "prod";
  const estate = opts.estate ?? parseEstate(opts.config);

  // Config as the CLI would hand it to the program: structured values as JSON text.
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.config)) all[`${CONFIG_NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  const secretKeys: string[] = [];
  for (const k of SECRET_KEYS) {
    const key = `${CONFIG_NAMESPACE}:${k}`;
    if (all[key] === undefined) all[key] = `${MOCK_SECRET_MARKER}-config-${k}`;
    secretKeys.push(key);
  }
  // Provider secrets the program reads itself (the hcloud token goes into the cluster for the CCM/CSI).
  for (const key of ["hcloud:token"]) {
    if (all[key] === undefined) all[key] = `${MOCK_SECRET_MARKER}-config-${key.replace(":", "-")}`;
    secretKeys.push(key);
  }
  pulumi.runtime.setAllConfig(all, secretKeys);

  const registrations: Registration[] = [];
  // Outputs the provider schema declares secret (`additionalSecretOutputs`, set by the SDK
  // classes): the real engine marks them secret, the mock monitor does not, so we do.
  const secretOutputs = new Map<string, string[]>();
  // The inputs the mock monitor deserialised for the registration under way (wrapMonitor reads
  // them instead of deserialising the request a second time).
  const capture: { inputs?: Record<string, unknown> } = {};
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        capture.inputs = args.inputs;
        if (args.type === "pulumi:pulumi:StackReference") {
          // The engine answers a StackReference with the referenced stack's outputs.
          const outputs = opts.stackOutputs?.[String(args.inputs.name)] ?? {};
          return { id: String(args.inputs.name), state: { name: args.inputs.name, outputs, secretOutputNames: Object.keys(outputs) } };
        }
        const { id, state } = mockOutputs(args.type, args.name, args.inputs);
        for (const key of secretOutputs.get(`${args.type}::${args.name}`) ?? []) {
          if (state[key] !== undefined) state[key] = pulumi.secret(state[key]);
        }
        return { id, state };
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    stack,
    true,
    ORGANIZATION,
  );
  wrapMonitor(registrations, capture);

  const seen: Array<{ resource: pulumi.Resource; opts: pulumi.ResourceOptions }> = [];
  const program = opts.program ?? (await loadProgram());
  // The SDK stamps every internal promise with `new Error().stack` (leak diagnostics). With
  // source maps on (tsx), formatting those stacks dominated the run time and the memory of an
  // evaluation (measured: bench/plan.bench.ts). Errors raised by the program keep their message;
  // set LIIIBRE_STACK_TRACES=1 to keep full stacks while debugging.
  const stackTraceLimit = Error.stackTraceLimit;
  // Likewise every Resource constructor captures its full call stack (`Resource.stackTrace`,
  // with Error.stackTraceLimit raised to Infinity) and marshals it into the registration as its
  // source position, which the mock monitor ignores and no record carries: about a tenth of an
  // evaluation's time (docs/scaling.md). Offline it is skipped; the real CLI is not affected.
  const resourceClass = pulumi.Resource as unknown as { stackTrace: (skip: number) => unknown[] };
  const stackTraceOf = resourceClass.stackTrace;
  if (!process.env.LIIIBRE_STACK_TRACES) {
    Error.stackTraceLimit = 0;
    resourceClass.stackTrace = () => [];
  }
  // No protobuf round trip between the SDK and the mock monitor, no leak bookkeeping per promise
  // (scripts/offline-runtime.ts); restored below.
  const restoreSdk = installOfflineShortcuts();
  let outputs: Record<string, unknown>;
  try {
    outputs = (await stackRuntime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        seen.push({ resource: args.resource, opts: args.opts });
        const aso = (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs;
        if (aso?.length) secretOutputs.set(`${args.type}::${args.name}`, [...aso]);
        return undefined;
      });
      return await program(estate);
    })) as Record<string, unknown>;
    await settings.waitForRPCs();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    resourceClass.stackTrace = stackTraceOf;
    restoreSdk();
  }

  const resources = await assemble(registrations, seen);
  return { stack, estate, resources, outputs: outputs ?? {} };
}

async function loadProgram(): Promise<(estate: Estate) => unknown> {
  const mod = await import("../index");
  const main = (mod as { default?: unknown }).default ?? mod;
  if (typeof main !== "function") throw new Error("index.ts must export a default function (the program)");
  return main as (estate: Estate) => unknown;
}

function wrapMonitor(registrations: Registration[], capture: { inputs?: Record<string, unknown> }): void {
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp?: any) => void) => {
    // The mock monitor deserialises the request's inputs and hands them to `newResource`
    // synchronously, before its first await: take that object (nothing mutates it) rather than
    // deserialising the request again; fall back to doing so if it did not.
    capture.inputs = undefined;
    const taken: { inputs?: Record<string, unknown> } = {};
    original(req, (err: unknown, resp?: any) => {
      if (!err && resp) {
        registrations.push({
          mockUrn: resp.getUrn(),
          type: req.getType(),
          name: req.getName(),
          mockParent: req.getParent(),
          custom: req.getCustom(),
          inputs: taken.inputs ?? rpc.deserializeProperties(req.getObject()),
        });
      }
      callback(err, resp);
    });
    taken.inputs = capture.inputs;
    capture.inputs = undefined;
  };
}

const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));

async function assemble(
  registrations: Registration[],
  seen: Array<{ resource: pulumi.Resource; opts: pulumi.ResourceOptions }>,
): Promise<RecordedResource[]> {
  // Options by mock URN (the transformation saw the Resource object; its urn resolves to the mock URN).
  const optionsByMockUrn = new Map<string, { resource: pulumi.Resource; opts: pulumi.ResourceOptions }>();
  await Promise.all(seen.map(async (s) => optionsByMockUrn.set(await resolve(s.resource.urn), s)));

  // Real-engine URNs: qualified type = parent's qualified type + "$" + type (the stack adds nothing).
  const byMock = new Map(registrations.map((r) => [r.mockUrn, r]));
  const realUrn = new Map<string, { urn: string; qualifiedType: string }>();
  const compute = (mock: string): { urn: string; qualifiedType: string } | undefined => {
    const known = realUrn.get(mock);
    if (known) return known;
    const reg = byMock.get(mock);
    if (!reg) return undefined;
    if (reg.type === "pulumi:pulumi:Stack") return undefined;
    const parent = reg.mockParent ? compute(reg.mockParent) : undefined;
    const qualifiedType = parent ? `${parent.qualifiedType}$${reg.type}` : reg.type;
    const out = { urn: `urn:pulumi:${settings.getStack()}::${settings.getProject()}::${qualifiedType}::${reg.name}`, qualifiedType };
    realUrn.set(mock, out);
    return out;
  };
  const urnOfResource = async (given: pulumi.Resource | pulumi.Input<string> | Promise<pulumi.Resource> | undefined): Promise<string | null> => {
    // dependsOn may hold a promise of a resource (pulumi.Input<pulumi.Resource>): await it first.
    const r = given instanceof Promise ? await given : given;
    if (!r) return null;
    const mock = pulumi.Resource.isInstance(r) ? await resolve(r.urn) : await resolve(pulumi.output(r as pulumi.Input<string>));
    return compute(mock)?.urn ?? mock;
  };

  const out: RecordedResource[] = [];
  for (const reg of registrations) {
    if (reg.type === "pulumi:pulumi:Stack") continue;
    const urn = compute(reg.mockUrn)!.urn;
    const seenOpts = optionsByMockUrn.get(reg.mockUrn);
    const o = seenOpts?.opts ?? {};
    const res = seenOpts?.resource as unknown as { __protect?: boolean } | undefined;
    // dependsOn may also be a promise of the list (a bundle's objects release, components/kit/bundleObjects.ts): flattened as the SDK does.
    const flatten = async (d: unknown): Promise<unknown[]> =>
      Array.isArray(d) ? (await Promise.all(d.map(flatten))).flat() : d instanceof Promise ? flatten(await d) : pulumi.Output.isInstance(d) ? flatten(await resolve(d)) : d ? [d] : [];
    const dependsOn = await flatten(o.dependsOn);
    const record: RecordedResource = {
      urn,
      type: reg.type,
      name: reg.name,
      parent: reg.mockParent ? (compute(reg.mockParent)?.urn ?? null) : null,
      custom: reg.custom,
      inputs: redact(reg.inputs) as Record<string, unknown>,
      protect: Boolean(res?.__protect ?? o.protect),
      retainOnDelete: Boolean(o.retainOnDelete),
      deleteBeforeReplace: Boolean((o as pulumi.CustomResourceOptions).deleteBeforeReplace),
      ignoreChanges: [...(o.ignoreChanges ?? [])],
      replaceOnChanges: [...(o.replaceOnChanges ?? [])],
      aliases: await Promise.all((o.aliases ?? []).map(async (a) => describeAlias(pulumi.Output.isInstance(a) ? await resolve(a as pulumi.Output<string | pulumi.Alias>) : await a, urnOfResource))),
      dependsOn: (await Promise.all(dependsOn.map((d) => urnOfResource(d as pulumi.Resource)))).filter((u): u is string => !!u),
      provider: o.provider ? await urnOfResource(o.provider) : null,
    };
    rawInputs.set(record, markSecrets(reg.inputs) as Record<string, unknown>);
    out.push(record);
  }
  return out;
}

async function describeAlias(
  a: string | pulumi.Alias,
  urnOf: (r: pulumi.Resource | pulumi.Input<string> | undefined) => Promise<string | null>,
): Promise<unknown> {
  if (typeof a === "string") return a;
  const alias = a as pulumi.Alias;
  const out: Record<string, unknown> = {};
  for (const key of ["name", "type", "stack", "project"] as const) {
    if (alias[key] !== undefined) out[key] = await resolve(pulumi.output(alias[key] as pulumi.Input<string>));
  }
  if (alias.parent !== undefined) out.parent = await urnOf(alias.parent as pulumi.Resource | pulumi.Input<string>);
  return out;
}

const isSdkSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;

/** Copies a deserialised value, replacing every SDK secret (however deep) by `onSecret(value)`. */
function mapSecrets(v: unknown, onSecret: (value: unknown) => unknown): unknown {
  if (isSdkSecret(v)) return onSecret(v.value);
  if (Array.isArray(v)) return v.map((x) => mapSecrets(x, onSecret));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = mapSecrets(x, onSecret);
    return out;
  }
  return v;
}

/** Replaces every secret value (however deep) with "[secret]". */
export const redact = (v: unknown): unknown => mapSecrets(v, () => SECRET_PLACEHOLDER);

/** Keeps secret values, wrapped as `{ [SECRET_SIG]: true, value }` (for the policy runner). */
const markSecrets = (v: unknown): unknown => mapSecrets(v, (value) => ({ [SECRET_SIG]: true, value: markSecrets(value) }));

/** Evaluates a stack from its `Pulumi.<stack>.yaml` (or any config file). */
export async function evaluateStack(args: { stack?: string; configFile?: string; program?: EvaluateOptions["program"] }): Promise<Evaluation> {
  const stack = args.stack ?? "prod";
  const file = args.configFile ?? stackConfigFile(stack);
  return evaluate({ config: readStackConfig(file), stack, program: args.program });
}
