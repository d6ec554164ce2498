/**
 * The policy runner's own copies (scripts/check-policies.ts): the analyzer's view of a
 * resource's inputs (secrets unwrapped, their paths collected) and the per-policy copy of the
 * props, which must behave as the `structuredClone` it replaces for such values.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UNKNOWN, analyzerProps, plainClone } from "../scripts/check-policies";
import { SECRET_SIG } from "../scripts/harness";

const secret = (value: unknown) => ({ [SECRET_SIG]: true, value });
/** Keys in order and values, -0 told apart: what a report or a policy could tell apart. */
const shape = (v: unknown): unknown =>
  Array.isArray(v) ? ["array", v.length, ...v.map(shape)] : v && typeof v === "object" ? Object.entries(v).map(([k, x]) => [k, shape(x)]) : Object.is(v, -0) ? "-0" : v;

describe("plainClone", () => {
  it("copies what structuredClone copies for plain data: same keys in the same order, same values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(shape(plainClone(v))).toEqual(shape(structuredClone(v)));
      }),
      { numRuns: 300 },
    );
    // A key named __proto__ (fast-check found it) stays a key, not the copy's prototype.
    const proto = JSON.parse('{"__proto__": {"a": 1}, "b": 2}');
    expect(shape(plainClone(proto))).toEqual([["__proto__", [["a", 1]]], ["b", 2]]);
    expect(Object.getPrototypeOf(plainClone(proto))).toBe(Object.prototype);
    expect(shape(analyzerProps(proto).props)).toEqual([["__proto__", [["a", 1]]], ["b", 2]]);
    const holes = [1, , 3];
    expect(1 in plainClone(holes)).toBe(false);
    expect(plainClone(holes)).toHaveLength(3);
  });

  it("shares nothing with the original: a policy changing its copy changes no other policy's", () => {
    const original = { spec: { values: { replicas: 1, hosts: ["a"] } } };
    const copy = plainClone(original);
    copy.spec.values.replicas = 2;
    copy.spec.values.hosts.push("b");
    expect(original).toEqual({ spec: { values: { replicas: 1, hosts: ["a"] } } });
  });
});

describe("analyzerProps", () => {
  it("unwraps secrets however deep and names each one's path as the analyzer's dotted path", () => {
    const { props, secretPaths } = analyzerProps({
      metadata: { name: "x" },
      stringData: secret({ password: secret("p"), user: "u" }),
      list: [1, secret(2), { key: secret("k") }],
      gone: undefined,
      later: { __pulumiUnknown: true },
    });
    expect(props).toEqual({ metadata: { name: "x" }, stringData: { password: "p", user: "u" }, list: [1, 2, { key: "k" }], later: UNKNOWN });
    expect("gone" in props).toBe(false);
    expect([...secretPaths].sort()).toEqual(["list.1", "list.2.key", "stringData", "stringData.password"]);
  });

  it("gives the empty path to a secret that is the whole value, and none when nothing is secret", () => {
    expect([...analyzerProps(secret({ a: 1 }) as Record<string, unknown>).secretPaths]).toEqual([""]);
    expect(analyzerProps({ a: [{ b: "c" }] }).secretPaths.size).toBe(0);
  });
});
