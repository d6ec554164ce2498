/**
 * components/cidr.ts: strict parsing (what Hetzner and Kubernetes accept as a block) and the
 * address space of a list. Expected sizes are powers of two worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { addressSpace, cidrBlock, formatAddress, parseCidr, parseIpv6 } from "../components/cidr";

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/16", 4, 16],
    ["0.0.0.0/0", 4, 0],
    ["2001:db8::/32", 6, 32],
    ["::/0", 6, 0],
    ["::ffff:192.0.2.0/120", 6, 120],
    ["2001:DB8:4C1::/48", 6, 48],
  ])("accepts %s", (text, family, prefix) => {
    const r = parseCidr(text);
    expect(r.ok && r.cidr.family === family && r.cidr.prefix === prefix).toBe(true);
  });

  it.each([
    ["10.0.0.1/8", /host bits set \(the block is 10\.0\.0\.0\/8\)/],
    ["10.0.0.0/33", /prefix must be 0\.\.32/],
    ["010.0.0.0/8", /not a valid IPv4 address/],
    ["10.0.0/8", /not a valid IPv4 address/],
    ["2001:db8:::/48", /not a valid IPv6 address/],
    ["2001:db8::1::/64", /not a valid IPv6 address/],
    ["2001:db8:12345::/48", /not a valid IPv6 address/],
    ["1:2:3:4:5:6:7:8:9/128", /not a valid IPv6 address/],
    ["fe80::1%eth0/64", /not a valid IPv6 address/],
    ["2001:db8::/129", /prefix must be 0\.\.128/],
    ["2001:db8::1/48", /host bits set \(the block is 2001:db8::\/48\)/],
    ["::/01", /prefix/],
    ["10.0.0.0", /address\/prefix/],
    [":/0", /not a valid IPv6 address/],
  ])("refuses %s", (text, why) => {
    const r = parseCidr(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it("reads every IPv6 text form to the same number", () => {
    expect(parseIpv6("2001:db8:0:0:0:0:0:1")).toBe(parseIpv6("2001:db8::1"));
    expect(parseIpv6("::ffff:192.0.2.1")).toBe((0xffffn << 32n) + (192n << 24n) + (2n << 8n) + 1n);
    expect(formatAddress(6, parseIpv6("2001:db8:0:0:1:0:0:1")!)).toBe("2001:db8::1:0:0:1");
  });
});

describe("addressSpace", () => {
  it("counts the union once per family", () => {
    expect(addressSpace(["0.0.0.0/1", "128.0.0.0/1"]).ipv4).toBe(2n ** 32n);
    expect(addressSpace(["::/1", "8000::/1"]).ipv6).toBe(2n ** 128n);
    expect(addressSpace(["10.0.0.0/24", "10.0.0.0/25", "10.0.0.128/26"]).ipv4).toBe(256n);
    // Adjacent blocks merge; disjoint ones add up.
    expect(addressSpace(["10.0.0.0/25", "10.0.0.128/25", "192.0.2.0/24"]).ipv4).toBe(512n);
    expect(addressSpace(["203.0.113.5"]).ipv4).toBe(1n);
    expect(addressSpace(["::ffff:0:0/96"]).ipv4).toBe(2n ** 32n);
    expect(addressSpace(["bogus"]).invalid).toEqual(["bogus"]);
  });
});

describe("cidrBlock (validated config)", () => {
  it("parses a block, takes a bare address as its own block, and names what it refuses", () => {
    expect(cidrBlock("10.0.0.0/16")).toMatchObject({ family: 4, prefix: 16, network: 10n << 24n });
    expect(cidrBlock("10.0.0.5")).toMatchObject({ family: 4, prefix: 32, network: (10n << 24n) + 5n });
    expect(cidrBlock("2001:db8::1")).toMatchObject({ family: 6, prefix: 128 });
    expect(() => cidrBlock("10.0.0.1/8")).toThrow(/^10\.0\.0\.1\/8: host bits set/);
  });
});
