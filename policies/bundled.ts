/**
 * Bundled objects judged as their own resources (docs/policies.md#bundled-objects).
 *
 * A dedicated organisation with `kubernetesObjects: bundled` declares its plain Kubernetes
 * objects as entries of one Helm release of our own chart (components/kit/objects.ts: the
 * objects release, `values.objects`). The analyzer hands policies that release, not the objects:
 * a policy looking for NetworkPolicies, Deployments or k8up Schedules by type would judge
 * nothing. `judgingBundledObjects` wraps a policy so that it judges every bundled object exactly
 * as it judges the same object declared as its own resource:
 *
 * - a resource validation runs once for the release (as before) and once per bundled object,
 *   with arguments shaped as the analyzer shapes a resource's: `type` the object's type token,
 *   `props` its manifest (under the same unknown-checking proxy: reading a value unknown during
 *   preview throws `UnknownValueError`), `urn` its `bundledObjectUrn`, `name`
 *   `<namespace>/<name>`, the release's `opts` and `provider`;
 * - a stack validation sees, beside the real resources, one PolicyResource per bundled object
 *   (parent: the release, dependencies: the release's, `isType`/`asType` on its type token);
 * - every violation about a bundled object is reported on the release (the only resource the
 *   engine knows: it files a stack violation naming any other URN under the stack) with its
 *   message prefixed by the object's label, `liiibre-objects/<Kind>/<name>: …`;
 * - a value unknown during preview inside one object makes only that object's check advisory
 *   (`not checked during preview: …`, as `eachResource` does), never the others';
 * - `bundleOf(args)` tells a policy that what it judges is a bundled object, for the rules whose
 *   meaning changes when Helm owns the object (stateful-protected, secrets-are-secret).
 *
 * The real analyzer (policies/index.ts) and the offline runner (scripts/check-policies.ts) serve
 * the same wrapped objects (policies/list.ts): one code path. The runner gives it the recorded
 * resources, never an expansion of them (that would judge every object twice; it refuses one).
 */
import type {
  Policy,
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";
import { OBJECTS_RELEASE, bundledObjectUrn, bundledObjects, isObjectsRelease, type BundledObject } from "../components/kit/objects";
import type { OfflineFacts } from "./lib";

/** What a policy knows of a bundled object beside its manifest. */
export interface BundleFacts {
  /** The objects release that declares it. */
  release: { urn: string; name: string; namespace: string };
  object: BundledObject;
  /** How violations name it: `liiibre-objects/<Kind>/<name>` (`…/<Kind>/<namespace>/<name>` outside the release's namespace). */
  label: string;
  /** Offline runner: the analyzer's view of the object's props, made when read (else `object.props` is that view). */
  view?: () => Record<string, any>;
}

/** The property of a policy's arguments (or of a stack policy's resource) carrying its BundleFacts. */
export const BUNDLE_KEY = "liiibreBundle";

/** The bundle facts of a resource validation's arguments or a stack policy's resource; undefined for a resource of its own. */
export function bundleOf(x: object): BundleFacts | undefined {
  return (x as { [BUNDLE_KEY]?: BundleFacts })[BUNDLE_KEY];
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/**
 * Offline only: the runner (scripts/check-policies.ts) copies a resource's props for a policy on
 * its first read, and most policies never read a Helm release's props. It also gives each
 * argument bag and PolicyResource, under this key, the props it would copy, so that telling an
 * objects release (its `chart`) costs no copy. Absent under the analyzer: `props` is read.
 */
export const PROPS_SOURCE = Symbol.for("liiibre.propsSource");
const chartSource = (x: { props: Record<string, any> }): Record<string, any> => (x as { [PROPS_SOURCE]?: Record<string, any> })[PROPS_SOURCE] ?? x.props;

/**
 * Set by the offline runner beside PROPS_SOURCE: the analyzer's view (a copy of its own behind the
 * unknown-checking proxy) of a part of the source. With both, an objects release is read from its
 * source once (memoised) and each policy copies only what it reads: the release without its
 * objects, or one object — not the whole release for every policy. The real analyzer sets
 * neither (it hands every policy freshly deserialised props): the general path below.
 */
export const PROPS_VIEW = Symbol.for("liiibre.propsView");
type PropsView = (source: Record<string, any>) => Record<string, any>;
/** The engine's unknown sentinel (scripts/check-policies.ts UNKNOWN): a release holding one takes the general path. */
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
interface SourceMemo {
  objects: BundledObject[];
  /** The release's props without `values.objects`. */
  trimmed: Record<string, any>;
}
const SOURCES = new WeakMap<object, SourceMemo | null>();
function hasUnknown(v: unknown): boolean {
  if (v === UNKNOWN_SENTINEL) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v && typeof v === "object") return Object.values(v).some(hasUnknown);
  return false;
}
function sourceMemo(type: string, source: Record<string, any>): SourceMemo | null {
  let m = SOURCES.get(source);
  if (m !== undefined) return m;
  m = null;
  if (!hasUnknown(source)) {
    const values = source.values && typeof source.values === "object" ? (source.values as Record<string, any>) : {};
    const { objects: _objects, ...rest } = values;
    m = { objects: bundledObjects(type, source), trimmed: { ...source, values: rest } };
  }
  SOURCES.set(source, m);
  return m;
}
/** `obj.props` made by `make` on first read (one copy, as the runner's own lazy props). */
function lazyProps<T extends object>(obj: T, make: () => Record<string, any>): T {
  let copy: Record<string, any> | undefined;
  return Object.defineProperty(obj, "props", {
    enumerable: true,
    configurable: true,
    get: () => (copy ??= make()),
    set: (v: Record<string, any>) => {
      copy = v;
    },
  });
}
/** `args`' own properties but `props`, without reading it (a spread would read it: copy the whole release). */
function withoutProps(args: object): Record<string | symbol, unknown> {
  const out: Record<string | symbol, unknown> = {};
  for (const k of Reflect.ownKeys(args)) {
    if (k === "props") continue;
    const d = Object.getOwnPropertyDescriptor(args, k)!;
    if (d.enumerable) out[k as string] = (args as Record<string | symbol, unknown>)[k];
  }
  return out;
}

export function bundleLabel(release: { name: string; namespace: string }, o: Pick<BundledObject, "kind" | "name" | "namespace">): string {
  const where = o.namespace !== undefined && o.namespace !== release.namespace ? `${o.namespace}/` : "";
  return `${release.name}/${o.kind}/${where}${o.name}`;
}

/** A value read through the unknown-checking proxy, or undefined when it is unknown during preview. */
function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof UnknownValueError) return undefined;
    throw e;
  }
}

/**
 * Whether a resource is an objects release, and the objects it declares with their facts. An
 * object whose identity (apiVersion, kind, name, namespace) is unknown during preview is reported
 * advisory on the release and skipped; the others are judged.
 */
function objectsOf(
  x: { type: string; urn: string; props: Record<string, any> },
  report: ReportViolation | undefined,
): { release: boolean; objects: BundleFacts[]; trimmed?: () => Record<string, any> } {
  const { type, urn } = x;
  if (type !== HELM_RELEASE || !known(() => isObjectsRelease(type, chartSource(x)))) return { release: false, objects: [] };
  const source = (x as { [PROPS_SOURCE]?: Record<string, any> })[PROPS_SOURCE];
  const view = (x as { [PROPS_VIEW]?: PropsView })[PROPS_VIEW];
  const memo = source && view ? sourceMemo(type, source) : null;
  if (memo && view) {
    const t = memo.trimmed;
    const release = { urn, name: typeof t.name === "string" ? t.name : OBJECTS_RELEASE, namespace: typeof t.namespace === "string" ? t.namespace : "default" };
    return {
      release: true,
      objects: memo.objects.map((o) => ({ release, object: o, label: bundleLabel(release, o), view: () => view(o.props) })),
      trimmed: () => view(t),
    };
  }
  const props = x.props;
  const release = {
    urn,
    name: known(() => (typeof props.name === "string" ? props.name : undefined)) ?? OBJECTS_RELEASE,
    namespace: known(() => (typeof props.namespace === "string" ? props.namespace : undefined)) ?? "default",
  };
  const advisory = (what: string, e: unknown) =>
    report?.({ message: `${what} not checked during preview: ${(e as Error).message}`, enforcementLevel: "advisory", urn } as never, urn);
  const facts = (o: BundledObject): BundleFacts => ({ release, object: o, label: bundleLabel(release, o) });
  try {
    return { release: true, objects: bundledObjects(type, props).map(facts) };
  } catch (e) {
    if (!(e instanceof UnknownValueError)) throw e;
  }
  // Some identity is unknown: object by object, so that one unknown name does not hide the others.
  let list: unknown;
  try {
    list = props.values?.objects;
  } catch (e) {
    if (!(e instanceof UnknownValueError)) throw e;
    advisory("the objects of this release are", e);
    return { release: true, objects: [] };
  }
  if (!Array.isArray(list)) return { release: true, objects: [] };
  const objects: BundleFacts[] = [];
  for (let index = 0; index < list.length; index++) {
    try {
      const [o] = bundledObjects(type, { chart: props.chart, values: { objects: [list[index]] } });
      if (o) objects.push(facts({ ...o, index }));
    } catch (e) {
      if (!(e instanceof UnknownValueError)) throw e;
      advisory(`values.objects.${index} is`, e);
    }
  }
  return { release: true, objects };
}

/**
 * An objects release's props as its policies see them: without `values.objects`, whose entries
 * are judged as objects (otherwise a policy scanning the release's values — image tags, quota
 * commands, credentials — would judge every object a second time, as part of the release).
 */
function releaseView(props: Record<string, any>): Record<string, any> {
  return new Proxy(props, {
    get(target, key) {
      const v = Reflect.get(target, key);
      return key === "values" && v && typeof v === "object" && !Array.isArray(v) ? hideKey(v, "objects") : v;
    },
  });
}
function hideKey(obj: object, hidden: string): object {
  return new Proxy(obj, {
    get: (t, k) => (k === hidden ? undefined : Reflect.get(t, k)),
    has: (t, k) => k !== hidden && Reflect.has(t, k),
    ownKeys: (t) => Reflect.ownKeys(t).filter((k) => k !== hidden),
    getOwnPropertyDescriptor: (t, k) => (k === hidden ? undefined : Reflect.getOwnPropertyDescriptor(t, k)),
  });
}

/** `isType` as the analyzer answers it (@pulumi/policy server.js `isTypeOf`). */
function isTypeOf(type: string, cls: unknown): boolean {
  const t = (cls as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  if (typeof t === "string" && t.length > 0) return t === type;
  const isInstance = (cls as { isInstance?: (o: unknown) => boolean } | undefined)?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** The type a typed validation (`validateResourceOfType`, `validateStackResourcesOfType`) is restricted to. */
const typedFor = (fn: unknown): string | undefined => {
  const t = (fn as { __pulumiType?: unknown })?.__pulumiType;
  return typeof t === "string" && t.length > 0 ? t : undefined;
};

/** A violation report with the object's label before its message, filed on the release. */
function prefixed(report: ReportViolation, facts: BundleFacts): ReportViolation {
  return ((message: unknown, _urn?: string) => {
    if (message && typeof message === "object") {
      const m = message as { message?: string; description?: string };
      report({ ...m, message: `${facts.label}: ${m.message ?? m.description ?? ""}`, urn: facts.release.urn } as never, facts.release.urn);
    } else report(`${facts.label}: ${message ?? ""}`, facts.release.urn);
  }) as ReportViolation;
}

/**
 * The offline runner's facts (lib.ts `OfflineFacts`) of a bundled object, from its release's:
 * the release's retainOnDelete, and the secret input paths inside `values.objects.<index>`
 * re-rooted at the object. A secret `values`, `values.objects` or whole object is a fact of
 * the release (secrets-are-secret judges it there), not of the object's fields.
 */
function objectFacts(release: OfflineFacts, o: BundledObject): OfflineFacts {
  const root = `values.objects.${o.index}`;
  const secretPaths = new Set<string>();
  for (const p of release.secretPaths) if (p.startsWith(`${root}.`)) secretPaths.add(p.slice(root.length + 1));
  return { retainOnDelete: release.retainOnDelete, secretPaths };
}

/** A policy's own "not applicable" for one bundled object: silent for that object, whatever the others. */
class ObjectNotApplicable extends Error {}
const objectNotApplicable = (reason?: string): never => {
  throw new ObjectNotApplicable(reason ?? "not applicable");
};

/** Runs `steps` in order, awaiting only those that return a promise; the first error is rethrown once every step ran. */
function inOrder(steps: Array<() => unknown>): Promise<void> | void {
  const errors: unknown[] = [];
  for (let i = 0; i < steps.length; i++) {
    let r: unknown;
    try {
      r = steps[i]();
    } catch (e) {
      errors.push(e);
      continue;
    }
    if (r && typeof (r as Promise<void>).then === "function") {
      return (async () => {
        try {
          await r;
        } catch (e) {
          errors.push(e);
        }
        for (const step of steps.slice(i + 1)) {
          try {
            await step();
          } catch (e) {
            errors.push(e);
          }
        }
        if (errors.length) throw errors[0];
      })();
    }
  }
  if (errors.length) throw errors[0];
}

/** One resource validation run over one bundled object: an unknown value makes only this object's check advisory. */
function validateObject(policy: string, validate: ResourceValidation, args: ResourceValidationArgs, facts: BundleFacts, report: ReportViolation): Promise<void> | void {
  const o = facts.object;
  const rep = prefixed(report, facts);
  const offline = (args as { liiibreOffline?: OfflineFacts }).liiibreOffline;
  let props: Record<string, any> | undefined = facts.view ? undefined : o.props;
  const propsOf = () => (props ??= facts.view!());
  const objArgs = {
    type: o.type,
    urn: bundledObjectUrn(args.urn, o),
    name: `${o.namespace ?? ""}/${o.name}`,
    opts: args.opts,
    ...(args.provider ? { provider: args.provider } : {}),
    stackTags: args.stackTags,
    isType: (cls: unknown) => isTypeOf(o.type, cls),
    asType: (cls: unknown) => (isTypeOf(o.type, cls) ? propsOf() : undefined),
    getConfig: args.getConfig,
    notApplicable: objectNotApplicable,
    [BUNDLE_KEY]: facts,
    ...(offline ? { liiibreOffline: objectFacts(offline, o) } : {}),
  };
  lazyProps(objArgs, propsOf);
  const failed = (e: unknown) => {
    if (e instanceof ObjectNotApplicable) return;
    if (e instanceof UnknownValueError) {
      rep({ message: `not checked during preview: ${(e as Error).message}`, enforcementLevel: "advisory" } as never);
      return;
    }
    throw new Error(`policy '${policy}' failed on ${facts.label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  };
  try {
    const r = validate(objArgs as unknown as ResourceValidationArgs, rep) as unknown;
    if (r && typeof (r as Promise<void>).then === "function") return (r as Promise<void>).then(undefined, failed);
  } catch (e) {
    failed(e);
  }
}

function wrapResourceValidation(policy: string, validate: ResourceValidation): ResourceValidation {
  const only = typedFor(validate);
  return (args, report) => {
    const { release, objects, trimmed } = objectsOf(args, report);
    if (!release) return only && only !== args.type ? undefined : validate(args, report);
    let releaseArgs: ResourceValidationArgs;
    if (trimmed) {
      // Offline: the release's props without its objects, copied only if this policy reads them.
      let props: Record<string, any> | undefined;
      const propsOf = () => (props ??= trimmed());
      releaseArgs = lazyProps({ ...withoutProps(args), asType: (cls: unknown) => (args.isType(cls as never) ? propsOf() : undefined) }, propsOf) as unknown as ResourceValidationArgs;
    } else {
      const props = releaseView(args.props);
      releaseArgs = { ...args, props, asType: (cls: unknown) => (args.isType(cls as never) ? props : undefined) } as ResourceValidationArgs;
    }
    const own = () => (only && only !== args.type ? undefined : validate(releaseArgs, report));
    return inOrder([own, ...objects.filter((f) => !only || only === f.object.type).map((f) => () => validateObject(policy, validate, args, f, report))]);
  };
}

/**
 * The PolicyResources of a stack's bundled objects, each placed right after its release, and
 * the report that files violations naming one on its release.
 */
export function withBundledObjects(resources: PolicyResource[], report: ReportViolation): { resources: PolicyResource[]; report: ReportViolation; objects: number; releases?: number } {
  const real = new Set(resources.map((r) => r.urn));
  const byUrn = new Map<string, BundleFacts>();
  const out: PolicyResource[] = [];
  let releases = 0;
  for (const r of resources) {
    out.push(r);
    const { release, objects, trimmed } = objectsOf(r, report);
    if (!release) continue;
    releases++;
    // The release as a release; its objects as objects (below). Each policy gets resources of its own: changing them is safe.
    if (trimmed) {
      let props: Record<string, any> | undefined;
      const propsOf = () => (props ??= trimmed());
      lazyProps(r, propsOf);
      r.asType = ((cls: unknown) => (r.isType(cls as never) ? propsOf() : undefined)) as PolicyResource["asType"];
    } else {
      const props = releaseView(r.props);
      r.props = props;
      r.asType = ((cls: unknown) => (r.isType(cls as never) ? props : undefined)) as PolicyResource["asType"];
    }
    for (const facts of objects) {
      const o = facts.object;
      const urn = bundledObjectUrn(r.urn, o);
      if (real.has(urn) || byUrn.has(urn)) continue; // already a resource of its own (an expanded list): never twice
      byUrn.set(urn, facts);
      let props: Record<string, any> | undefined = facts.view ? undefined : o.props;
      const propsOf = () => (props ??= facts.view!());
      const pr = {
        type: o.type,
        urn,
        name: `${o.namespace ?? ""}/${o.name}`,
        opts: r.opts,
        ...(r.provider ? { provider: r.provider } : {}),
        parent: r,
        dependencies: r.dependencies,
        propertyDependencies: {},
        isType: (cls: unknown) => isTypeOf(o.type, cls),
        asType: (cls: unknown) => (isTypeOf(o.type, cls) ? propsOf() : undefined),
        [BUNDLE_KEY]: facts,
      };
      out.push(lazyProps(pr, propsOf) as unknown as PolicyResource);
    }
  }
  if (!releases) return { resources, report, objects: 0 };
  const rep = ((message: unknown, urn?: string) => {
    const m = message && typeof message === "object" ? (message as { urn?: string }) : undefined;
    const facts = byUrn.get((m?.urn ?? urn) as string);
    if (!facts) return report(message as never, urn);
    prefixed(report, facts)(message as never);
  }) as ReportViolation;
  return { resources: out, report: rep, objects: byUrn.size, releases };
}

function wrapStackValidation(validate: StackValidation): StackValidation {
  const only = typedFor(validate);
  return (args, report) => {
    const x = withBundledObjects(args.resources, report);
    if (!x.releases) return validate(args, report);
    // A typed stack validation the analyzer would have skipped (no resource of its type among the real ones) now may apply.
    if (only && !x.resources.some((r) => r.type === only)) args.notApplicable(`Policy only applies to resources of type '${only}'`);
    const wrapped: StackValidationArgs = { ...args, resources: x.resources };
    return validate(wrapped, x.report);
  };
}

/** The policy, judging bundled objects as resources of their own (see the file's comment). Same name, level, schema. */
export function judgingBundledObjects<P extends Policy>(p: P): P {
  if ("validateResource" in p && (p as ResourceValidationPolicy).validateResource) {
    const rp = p as unknown as ResourceValidationPolicy;
    const v = rp.validateResource!;
    return { ...rp, validateResource: Array.isArray(v) ? v.map((f) => wrapResourceValidation(p.name, f)) : wrapResourceValidation(p.name, v) } as unknown as P;
  }
  if ("validateStack" in p && (p as StackValidationPolicy).validateStack) {
    const sp = p as unknown as StackValidationPolicy;
    return { ...sp, validateStack: wrapStackValidation(sp.validateStack) } as unknown as P;
  }
  return p;
}
