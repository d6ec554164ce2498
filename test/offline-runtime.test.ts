/**
 * The harness's shortcuts through the SDK (scripts/offline-runtime.ts) give what the SDK's own
 * paths give: the struct that keeps its JavaScript value against google-protobuf's real
 * Struct round trip, the promise wrapper against the SDK's debuggablePromise, microtask by
 * microtask; and the SDK is restored after every evaluation.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { ValueStruct, installOfflineShortcuts, plainPromise } from "../scripts/offline-runtime";

// The very modules the SDK uses (one copy of each in node_modules).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [require.resolve("@pulumi/pulumi")] }));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable");
const realRoundTrip = (v: Record<string, unknown>) => Struct.fromJavaScript(v).toJavaScript();
/** The keys of every object, in order, with every value: what a JSON report of it would show. */
const shape = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(shape) : v && typeof v === "object" ? Object.entries(v).map(([k, x]) => [k, shape(x)]) : Object.is(v, -0) ? "-0" : v;

describe("ValueStruct", () => {
  const key = fc.oneof(fc.string(), fc.constantFrom("10", "9", "0", "a", "B", "é", "$", "spec", "metadata", "4dabf18193072939515e22adb298388d"));
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: "small" }, fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie("v"), { maxLength: 4 }), tie("o")),
    o: fc.dictionary(key, tie("v"), { maxKeys: 5 }),
  }));

  it("gives what google-protobuf's Struct round trip gives: the same values, every object's keys in the same order", () => {
    fc.assert(
      fc.property(value.o as fc.Arbitrary<Record<string, unknown>>, (o) => {
        expect(shape(new ValueStruct(o).toJavaScript())).toEqual(shape(realRoundTrip(o)));
      }),
      { numRuns: 300 },
    );
    // A case the generator may miss: keys that sort differently as text and as numbers, and -0.
    const o = { b: 1, B: [{ z: 1, a: -0 }], "10": "x", "9": "y", a: { c: null, "": true } };
    expect(shape(new ValueStruct(o).toJavaScript())).toEqual(shape(realRoundTrip(o)));
    expect(Object.keys(new ValueStruct(o).toJavaScript())).toEqual(["9", "10", "B", "a", "b"]);
  });

  it("refuses what a Struct cannot hold, with google-protobuf's message, when it is built", () => {
    for (const bad of [{ a: undefined }, { a: [1, undefined] }, { a: { b: () => 1 } }, { a: [, 1] }]) {
      expect(() => realRoundTrip(bad)).toThrow("Unexpected struct type.");
      expect(() => new ValueStruct(bad)).toThrow("Unexpected struct type.");
    }
  });

  it("gives each reader its own copy, and a real map and encoding to anything else", () => {
    const o = { spec: { replicas: 2, labels: { app: "x" } }, list: [1, "two"] };
    const s = new ValueStruct(o);
    const first = s.toJavaScript();
    (first.spec as Record<string, unknown>).replicas = 3;
    expect(s.toJavaScript()).toEqual(realRoundTrip(o));
    expect(Buffer.from(s.serializeBinary()).equals(Buffer.from(Struct.fromJavaScript(o).serializeBinary()))).toBe(true);
    expect(s.getFieldsMap().get("list").toJavaScript()).toEqual([1, "two"]);
  });
});

describe("plainPromise", () => {
  /** The order in which a wrapped promise's continuation runs among other microtasks. */
  async function order(wrap: (p: Promise<number>) => Promise<number>, reject: boolean): Promise<string[]> {
    const seen: string[] = [];
    const p = reject ? Promise.reject(new Error("x")) : Promise.resolve(1);
    wrap(p).then(
      () => seen.push("wrapped"),
      (e: Error & { promise?: unknown }) => seen.push(`wrapped-rejected ${e.promise === p}`),
    );
    let chain = Promise.resolve();
    for (let i = 0; i < 6; i++) chain = chain.then(() => void seen.push(String(i)));
    await chain;
    await new Promise((r) => setTimeout(r, 0));
    return seen;
  }

  it("settles on the same microtask turn as the SDK's debuggablePromise, and marks a rejection the same way", async () => {
    for (const reject of [false, true]) {
      const sdk = await order((p) => debuggable.debuggablePromise(p, "test"), reject);
      expect(await order(plainPromise, reject)).toEqual(sdk);
      expect(sdk).toContain(reject ? "wrapped-rejected true" : "wrapped");
    }
  });
});

describe("installOfflineShortcuts", () => {
  it("is in place during an evaluation only: the SDK is restored after it; nested installations restore once the outer one ends", async () => {
    const fromJavaScript = Struct.fromJavaScript;
    const debuggablePromise = debuggable.debuggablePromise;
    const during: unknown[] = [];
    const config = readStackConfig(stackConfigFile("dev"));
    await evaluate({ config, stack: "dev", program: () => void during.push(Struct.fromJavaScript, debuggable.debuggablePromise) });
    expect(during[0]).not.toBe(fromJavaScript);
    expect(during[1]).not.toBe(debuggablePromise);
    expect(Struct.fromJavaScript).toBe(fromJavaScript);
    expect(debuggable.debuggablePromise).toBe(debuggablePromise);
    const restore = installOfflineShortcuts();
    const restoreNested = installOfflineShortcuts();
    restoreNested();
    expect(Struct.fromJavaScript).not.toBe(fromJavaScript);
    restore();
    restore();
    expect(Struct.fromJavaScript).toBe(fromJavaScript);
    expect(debuggable.debuggablePromise).toBe(debuggablePromise);
  });
});
