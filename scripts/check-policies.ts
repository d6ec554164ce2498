/**
 * Runs the policy pack offline over an evaluation: the very same policy objects the real
 * analyzer serves (policies/*.ts), given the recorded resources the way @pulumi/policy 1.21's
 * analyzer server builds their arguments (node_modules/@pulumi/policy/server.js):
 * - `props`: the inputs, secrets unwrapped to their plain values (the analyzer deserialises with
 *   `proxySecrets = false`), values unknown during preview as the engine's unknown sentinel,
 *   wrapped in the analyzer's `unknownCheckingProxy` (reading an unknown throws
 *   `UnknownValueError`);
 * - `opts`: protect, ignoreChanges, aliases, customTimeouts, additionalSecretOutputs, parent,
 *   deleteBeforeReplace — no retainOnDelete (the analyzer has none);
 * - `provider`: the provider resource's type, props, URN and name;
 * - `getConfig()`: the policy's properties from the pack config (enforcementLevel removed);
 *   schema defaults are applied first, as the CLI does;
 * - enforcement level: pack config, else the policy's own;
 * - a policy throwing `UnknownValueError` becomes one advisory violation ("can't run … during
 *   preview"), `notApplicable()` is silent, any other error fails the run.
 * One addition, documented in docs/policies.md: `args.liiibreOffline` carries what only the
 * offline runner knows (retainOnDelete, which input paths are secret); policies use it when
 * present.
 *
 * Bundled objects (an objects release's `values.objects`, components/kit/objects.ts) are judged
 * by the policies themselves (policies/bundled.ts wraps every policy of policies/list.ts), here
 * as under the analyzer: the runner hands over the recorded resources, releases and all, and
 * refuses an evaluation that already lists bundled objects as resources (each would be judged
 * twice).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Policies, Policy, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import type { OfflineFacts } from "../policies/lib";
import { POLICIES } from "../policies/list";
import { PROPS_SOURCE, PROPS_VIEW } from "../policies/bundled";
import { bundledObjectUrn, bundledObjects } from "../components/kit/objects";
import type { Evaluation, RecordedResource } from "./harness";
import { REPO_ROOT, isSecretMarker, secretAwareInputs } from "./harness";
import { tenantResolver } from "./plan-model";

export type PolicyLevel = "mandatory" | "advisory";

export interface Violation {
  /** Policy name, e.g. `storage-quota-per-user` (a contract: reports and exemptions use it). */
  policy: string;
  level: PolicyLevel;
  /** URN of the offending resource, or null for a stack-level violation. */
  urn: string | null;
  message: string;
  /** Slug of the tenant the resource belongs to, when it belongs to one. */
  tenant: string | null;
}

/** Pack config as `pulumi preview --policy-pack-config FILE` reads it. */
export type PolicyPackConfig = Record<string, string | ({ enforcementLevel?: string } & Record<string, unknown>)>;

export interface CheckOptions {
  /** Pack config. Default: `policies/<stack>.json` when it exists, else the schema defaults. */
  config?: PolicyPackConfig;
  /** Policies to run. Default: the pack's (`packPolicies()`). */
  policies?: Policies;
}

/** The engine's marker for a value unknown during preview (every unknown is sent as this string). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The pack's policies, in the pack's order: the data list policies/list.ts exports (the one
 * policies/index.ts builds the PolicyPack from; importing index.ts itself would create the
 * pack, which starts the analyzer server).
 */
export async function packPolicies(): Promise<Policies> {
  return [...POLICIES];
}

/** `policies/<stack>.json` if it exists. */
export function stackPolicyConfig(stack: string): PolicyPackConfig | undefined {
  const file = path.join(REPO_ROOT, "policies", `${stack}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig) : undefined;
}

/**
 * `out[k] = v` as JSON parsing and structuredClone do it: an own property even for the key
 * `__proto__` (an assignment would replace the copy's prototype and drop the key).
 */
function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/**
 * The analyzer's view of recorded inputs: secrets unwrapped (their paths collected), unknowns
 * as the sentinel, undefined values dropped.
 */
export function analyzerProps(inputs: Record<string, unknown>): { props: Record<string, unknown>; secretPaths: Set<string> } {
  const secretPaths = new Set<string>();
  // The path of the value being converted, joined with "." only when a secret is found (as
  // `path.join(".")` gives it): most values are not secret, and a string per visited value was
  // much of this function's time.
  const path: Array<string | number> = [];
  const conv = (v: unknown): unknown => {
    if (isSecretMarker(v)) {
      secretPaths.add(path.join("."));
      return conv(v.value);
    }
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) continue; // a hole stays a hole, as with Array.prototype.map
        path.push(i);
        out[i] = conv(v[i]);
        path.pop();
      }
      return out;
    }
    if (v && typeof v === "object") {
      // The SDK's Unknown (its only own field is this marker) after the harness copied it.
      if ((v as Record<string, unknown>).__pulumiUnknown === true) return UNKNOWN;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        path.push(k);
        setOwn(out, k, conv(x));
        path.pop();
      }
      return out;
    }
    return v;
  };
  const props = conv(inputs) as Record<string, unknown>;
  return { props, secretPaths };
}

/**
 * A copy of a props value or a policy's config, as `structuredClone` gives it for such values
 * (plain objects, arrays, strings, numbers, booleans, null: what the analyzer's deserialisation
 * and a JSON pack config hold), several times faster: each policy reading a resource's props
 * gets its own copy (see `withLazyProps`), which was most of the runner's time.
 */
export function plainClone<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) if (i in v) out[i] = plainClone(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  // Anything but a plain object (none expected) is left to structuredClone.
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) setOwn(out, k, plainClone((v as Record<string, unknown>)[k]));
  return out as T;
}

function isTypeOf(type: string, cls: unknown): boolean {
  const t = (cls as { __pulumiType?: string })?.__pulumiType;
  if (t) return t === type;
  const isInstance = (cls as { isInstance?: (o: unknown) => boolean })?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

/** Config of one policy: schema defaults, then the pack config's properties. */
function policyConfig(p: Policy, config: PolicyPackConfig): { level: string | undefined; props: Record<string, unknown> } {
  const defaults: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(p.configSchema?.properties ?? {})) {
    if ((s as { default?: unknown }).default !== undefined) defaults[k] = structuredClone((s as { default?: unknown }).default);
  }
  const c = config[p.name];
  if (typeof c === "string") return { level: c, props: defaults };
  const { enforcementLevel, ...rest } = c ?? {};
  return { level: enforcementLevel as string | undefined, props: { ...defaults, ...rest } };
}

/**
 * `target` with a `props` property holding, from its first read, the analyzer's view of `props`:
 * a copy of its own (the analyzer deserialises the properties afresh for every policy, so that
 * what one policy does to them cannot reach another) behind the unknown-checking proxy. The
 * copy is made on first read: most policies look at the type first and never read the props of
 * most resources, and copying every resource for every policy was most of the policies' time
 * and memory (docs/scaling.md). A policy reading `props` twice sees the same object, as with the
 * analyzer.
 */
function withLazyProps<T extends object>(props: Record<string, unknown>, target: T): T & { props: Record<string, unknown> } {
  (target as { [LAZY]?: LazyProps })[LAZY] = { source: props };
  // What policies/bundled.ts reads to tell an objects release without a copy (read-only there).
  (target as { [PROPS_SOURCE]?: Record<string, unknown> })[PROPS_SOURCE] = props;
  (target as { [PROPS_VIEW]?: typeof analyzerView })[PROPS_VIEW] = analyzerView;
  return Object.defineProperty(target, "props", LAZY_PROPS) as T & { props: Record<string, unknown> };
}
/**
 * Where `withLazyProps` keeps a target's props (a symbol: no policy sees it among the keys), and
 * the one accessor pair every target shares: with a getter and a setter of its own per target,
 * each of the runner's ~17 objects per resource got a hidden class of its own, slow to make and
 * slow for the policies to read.
 */
const LAZY = Symbol("liiibre.lazyProps");
/** What a policy receives for (part of) recorded props: a copy of its own behind the unknown-checking proxy. */
const analyzerView = (source: Record<string, unknown>): Record<string, unknown> => unknownCheckingProxy(plainClone(source)) as Record<string, unknown>;
interface LazyProps {
  source: Record<string, unknown>;
  copy?: Record<string, unknown>;
}
const LAZY_PROPS: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: { [LAZY]: LazyProps }) {
    const lazy = this[LAZY];
    return (lazy.copy ??= analyzerView(lazy.source));
  },
  set(this: { [LAZY]: LazyProps }, v: Record<string, unknown>) {
    this[LAZY].copy = v;
  },
};

export async function checkPolicies(evaluation: Evaluation, options: CheckOptions = {}): Promise<Violation[]> {
  const policies = options.policies ?? (await packPolicies());
  const config = options.config ?? stackPolicyConfig(evaluation.stack) ?? {};
  const resources = evaluation.resources;
  const tenantOf = tenantResolver(evaluation.estate, resources);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const violations: Violation[] = [];
  for (const r of resources) {
    for (const o of bundledObjects(r.type, r.inputs as Record<string, any>)) {
      const urn = bundledObjectUrn(r.urn, o);
      if (byUrn.has(urn)) throw new Error(`checkPolicies: ${urn} is a resource of the evaluation and an object of the release ${r.urn}: give the recorded resources, not an expansion of them (the policies judge bundled objects themselves)`);
    }
  }

  // The analyzer's view of each resource, built once.
  const views = new Map<RecordedResource, { props: Record<string, unknown>; facts: OfflineFacts }>();
  for (const r of resources) {
    const { props, secretPaths } = analyzerProps(secretAwareInputs(r));
    views.set(r, { props, facts: { retainOnDelete: r.retainOnDelete, secretPaths } });
  }
  const opts = (r: RecordedResource) => ({
    protect: r.protect,
    ignoreChanges: [...r.ignoreChanges],
    aliases: r.aliases.filter((a): a is string => typeof a === "string"),
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [] as string[],
    ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    ...(r.parent ? { parent: r.parent } : {}),
  });
  // The proxy over a provider's props, made once per provider (the props are not copied: each
  // policy gets a fresh `provider` object over the same props, as before).
  const providerProps = new Map<RecordedResource, Record<string, unknown>>();
  const providerOf = (r: RecordedResource) => {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    if (!p) return undefined;
    let props = providerProps.get(p);
    if (!props) {
      props = unknownCheckingProxy(views.get(p)!.props) as Record<string, unknown>;
      providerProps.set(p, props);
    }
    return { type: p.type, props, urn: p.urn, name: p.name };
  };
  // The tenant of a violation's resource: components/attribution.ts (ancestry, tenant label, namespace label).
  const tenantOfUrn = (urn: string | null): string | null => {
    const r = urn ? byUrn.get(urn) : undefined;
    return r ? tenantOf(r) : null;
  };

  for (const p of policies) {
    const { level: configured, props: cfg } = policyConfig(p, config);
    const level = (configured ?? p.enforcementLevel ?? "advisory") as string;
    if (level === "disabled") continue;
    const effective: PolicyLevel = level === "advisory" ? "advisory" : "mandatory"; // remediate → mandatory, as the analyzer does
    const getConfig = <T extends object>() => plainClone(cfg) as T;
    const push = (message: unknown, urn: string | null | undefined) => {
      if (message && typeof message === "object") {
        const m = message as { message?: string; urn?: string; enforcementLevel?: string };
        const u = m.urn ?? urn ?? null;
        violations.push({ policy: p.name, level: m.enforcementLevel === "advisory" ? "advisory" : effective, urn: u, message: m.message ?? p.description, tenant: tenantOfUrn(u) });
      } else {
        violations.push({ policy: p.name, level: effective, urn: urn ?? null, message: String(message ?? p.description), tenant: tenantOfUrn(urn ?? null) });
      }
    };
    const failed = (e: unknown, urn: string | null) => {
      if (e instanceof UnknownValueError) {
        violations.push({ policy: p.name, level: "advisory", urn, message: `can't run policy '${p.name}' during preview: ${(e as Error).message}`, tenant: tenantOfUrn(urn) });
      } else if (!(e instanceof NotApplicable)) {
        throw new Error(`policy '${p.name}' failed${urn ? ` on ${urn}` : ""}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    };

    if ("validateResource" in p && p.validateResource) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        const view = views.get(r)!;
        for (const validate of validations) {
          const args = withLazyProps(view.props, {
            type: r.type,
            urn: r.urn,
            name: r.name,
            opts: opts(r),
            stackTags: new Map(),
            isType: (cls: unknown) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? args.props : undefined)) as ResourceValidationArgs["asType"],
            getConfig,
            notApplicable,
            liiibreOffline: view.facts,
          }) as ResourceValidationArgs & { liiibreOffline: OfflineFacts };
          const provider = providerOf(r);
          if (provider) args.provider = provider;
          try {
            // The analyzer ignores the urn argument for resource policies: the resource's own.
            // Awaited only when the policy is asynchronous (most return nothing).
            const pending = validate(args, (message: string) => push(message, r.urn)) as unknown;
            if (pending && typeof (pending as Promise<void>).then === "function") await pending;
          } catch (e) {
            failed(e, r.urn);
          }
        }
      }
    }
    if ("validateStack" in p && p.validateStack) {
      const policyResources: PolicyResource[] = resources.map((r) => {
        const pr = withLazyProps(views.get(r)!.props, {
          type: r.type,
          urn: r.urn,
          name: r.name,
          opts: opts(r),
          dependencies: [],
          propertyDependencies: {},
          isType: (cls: unknown) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? pr.props : undefined)) as PolicyResource["asType"],
        }) as PolicyResource;
        const provider = providerOf(r);
        if (provider) pr.provider = provider;
        return pr;
      });
      const index = new Map(policyResources.map((x) => [x.urn, x]));
      resources.forEach((r, i) => {
        const pr = policyResources[i];
        if (r.parent && index.get(r.parent)) pr.parent = index.get(r.parent);
        pr.dependencies = r.dependsOn.map((d) => index.get(d)).filter((d): d is PolicyResource => !!d);
      });
      const args: StackValidationArgs = { resources: policyResources, getConfig, stackTags: new Map(), notApplicable };
      try {
        await p.validateStack(args, (message: string, urn?: string) => push(message, urn));
      } catch (e) {
        failed(e, null);
      }
    }
  }
  return violations;
}
