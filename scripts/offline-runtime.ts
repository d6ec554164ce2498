/**
 * Shortcuts the offline harness (scripts/harness.ts) takes through the Pulumi SDK while a program
 * runs under the runtime mocks, and only then: `install()` before the evaluation, the function it
 * returns restores the SDK after it. The real CLI never runs this (nothing imports it but the
 * harness), and what a program registers is the same with or without it (docs/scaling.md, "What
 * changed": the plans of prod, dev and the 700-organisation estate are byte-identical).
 *
 * 1. Protocol-buffer structs. Every registration's inputs are encoded by the SDK into a
 *    `google.protobuf.Struct` (one jspb message per value), which the mock monitor decodes again
 *    at once; its answer makes the same round trip back. Nothing crosses a wire, so the struct
 *    made here keeps the JavaScript value instead: `toJavaScript()` gives what the round trip
 *    gives — a copy with every object's keys in the order the struct's map yields them (sorted),
 *    the same error for a value a struct cannot hold (undefined, a function) thrown at the same
 *    point — and anything else (`getFieldsMap()`, binary serialisation) gets a real struct built
 *    on first use.
 * 2. Promise bookkeeping. The SDK wraps each of its internal promises (`debuggablePromise`) to
 *    report leaked promises at exit: three properties defined on the promise, an `Error` created
 *    for its stack, a set of candidates. Offline none of it is read; the wrapper here keeps the
 *    same two chained promises, so every continuation runs on the same microtask turn as before
 *    and the registration order does not change.
 *
 * Set LIIIBRE_SDK_SHORTCUTS=0 to evaluate through the SDK's own paths (for comparison).
 */

// Internal modules of the pinned @pulumi/pulumi and of the google-protobuf it uses (package.json).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const structPb = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [require.resolve("@pulumi/pulumi")] }));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable");

type Json = null | string | number | boolean | Json[] | { [k: string]: Json };
type StructCtor = { new (): StructLike; fromJavaScript(obj: Record<string, unknown>): StructLike };
interface StructLike {
  toJavaScript(): Record<string, Json>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  getFieldsMap(...args: unknown[]): any;
  serializeBinary(): Uint8Array;
}

const Struct = structPb.Struct as StructCtor;
const structFromJavaScript = Struct.fromJavaScript;

/** What `Value.fromJavaScript(v).toJavaScript()` returns, without the messages in between. */
function valueCopy(v: unknown): Json {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return v;
    case "object":
      if (v === null) return null;
      if (Array.isArray(v)) {
        const out: Json[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = valueCopy(v[i]);
        return out;
      }
      return structCopy(v as Record<string, unknown>);
    default:
      // google-protobuf's own message for a value a Struct cannot hold.
      throw new Error("Unexpected struct type.");
  }
}

/** What `Struct.fromJavaScript(obj).toJavaScript()` returns: `for…in` keys, sorted as the map yields them. */
function structCopy(obj: Record<string, unknown>): Record<string, Json> {
  const keys: string[] = [];
  for (const k in obj) keys.push(k);
  keys.sort();
  const out: Record<string, Json> = {};
  for (const k of keys) out[k] = valueCopy(obj[k]);
  return out;
}

/** A Struct that holds its JavaScript value (see 1. above). Exported for test/offline-runtime.test.ts. */
export class ValueStruct extends Struct {
  #value: Record<string, Json>;
  #source: Record<string, unknown>;
  #handedOut = false;
  #real?: StructLike;
  constructor(source: Record<string, unknown>) {
    super();
    this.#source = source;
    // Copied (and checked) now, as fromJavaScript would encode it now.
    this.#value = structCopy(source);
  }
  override toJavaScript(): Record<string, Json> {
    if (this.#real) return this.#real.toJavaScript();
    // The first reader gets the copy made at construction; a later one (none in the SDK's paths)
    // a copy of its own, of the source object (which the SDK does not change once encoded).
    if (!this.#handedOut) {
      this.#handedOut = true;
      return this.#value;
    }
    return structCopy(this.#source);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override getFieldsMap(...args: unknown[]): any {
    this.#real ??= structFromJavaScript.call(Struct, this.#source);
    return this.#real.getFieldsMap(...args);
  }
}
/** The SDK's `debuggablePromise` without its leak bookkeeping (see 2. above). Exported for the tests. */
export function plainPromise<T>(p: Promise<T>): Promise<T> {
  return p
    .then((val) => val)
    .catch((err) => {
      err.promise = p;
      throw err;
    });
}

let installed = 0;

/** Takes the shortcuts; returns the function that restores the SDK. Nested calls are counted. */
export function installOfflineShortcuts(): () => void {
  if (process.env.LIIIBRE_SDK_SHORTCUTS === "0") return () => undefined;
  const fromJavaScript = Struct.fromJavaScript;
  const debuggablePromise = debuggable.debuggablePromise;
  if (installed++ === 0) {
    Struct.fromJavaScript = (obj: Record<string, unknown>) => new ValueStruct(obj);
    debuggable.debuggablePromise = plainPromise;
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    if (--installed === 0) {
      Struct.fromJavaScript = fromJavaScript;
      debuggable.debuggablePromise = debuggablePromise;
    }
  };
}
