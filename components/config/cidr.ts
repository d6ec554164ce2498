/**
 * IP addresses and CIDR blocks, parsed strictly and measured (pure, no dependency).
 *
 * Used by the config schema (every CIDR of the estate is parsed here, IPv4 and IPv6) and by
 * the policies that judge what a list of sources opens: `addressSpace` is the number of
 * addresses the union of the blocks covers, overlaps counted once, so that
 * `[0.0.0.0/1, 128.0.0.0/1]` is seen as the whole IPv4 Internet it is.
 *
 * IPv4-mapped IPv6 blocks (`::ffff:0:0/96`) are counted in the IPv4 space as well: the
 * addresses they name are IPv4 hosts.
 */

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** First address of the block. */
  network: bigint;
  prefix: number;
  /** Number of address bits of the family (32 or 128). */
  bits: number;
}

const DEC_OCTET = /^(0|[1-9]\d{0,2})$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

/** A dotted-quad IPv4 address as a number, or undefined when it is not one (no leading zeros). */
export function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!DEC_OCTET.test(p) || Number(p) > 255) return undefined;
    n = n * 256n + BigInt(p);
  }
  return n;
}

/** An IPv6 address (RFC 4291 text forms, `::` once, optional trailing dotted quad; no zone). */
export function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const all = [...head, ...tail];
  // A trailing dotted quad stands for the last two groups.
  const words: bigint[] = [];
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    if (g.includes(".")) {
      if (i !== all.length - 1) return undefined;
      const v4 = parseIpv4(g);
      if (v4 === undefined) return undefined;
      words.push(v4 >> 16n, v4 & 0xffffn);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(BigInt(`0x${g}`));
    }
  }
  const headWords = head.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  if (halves.length === 2) {
    if (words.length > 7) return undefined;
    const zeros = Array<bigint>(8 - words.length).fill(0n);
    words.splice(headWords, 0, ...zeros);
  } else if (words.length !== 8) return undefined;
  return words.reduce((n, w) => (n << 16n) | w, 0n);
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/**
 * Parses `address/prefix` strictly: a valid address of either family, a prefix within the
 * family's bits, and no host bit set (`10.0.0.1/8` is refused with the block it probably means).
 */
export function parseCidr(text: string): CidrResult {
  if (typeof text !== "string") return { ok: false, reason: "not a string" };
  const slash = text.indexOf("/");
  if (slash < 0 || text.indexOf("/", slash + 1) >= 0) return { ok: false, reason: "expected address/prefix" };
  const addr = text.slice(0, slash);
  const p = text.slice(slash + 1);
  const family: Family | undefined = addr.includes(":") ? 6 : addr.includes(".") ? 4 : undefined;
  if (!family) return { ok: false, reason: "not an IPv4 or IPv6 address" };
  const value = family === 4 ? parseIpv4(addr) : parseIpv6(addr);
  if (value === undefined) return { ok: false, reason: `not a valid IPv${family} address` };
  const bits = family === 4 ? 32 : 128;
  if (!PREFIX.test(p) || Number(p) > bits) return { ok: false, reason: `prefix must be 0..${bits}` };
  const prefix = Number(p);
  const size = 1n << BigInt(bits - prefix);
  const network = (value / size) * size;
  if (network !== value) return { ok: false, reason: `host bits set (the block is ${formatAddress(family, network)}/${prefix})` };
  return { ok: true, cidr: { family, network, prefix, bits } };
}

export function formatAddress(family: Family, n: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
  const words = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // Longest run of zero words becomes `::` (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== "0") { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLen).join(":")}`;
}

/** First and last address of a block. */
export const rangeOf = (c: Cidr): [bigint, bigint] => [c.network, c.network + (1n << BigInt(c.bits - c.prefix)) - 1n];

/** Size of the union of closed ranges (overlaps and adjacency counted once). */
function unionSize(ranges: Array<[bigint, bigint]>): bigint {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let total = 0n;
  let cur: [bigint, bigint] | undefined;
  for (const r of sorted) {
    if (!cur) cur = [...r];
    else if (r[0] <= cur[1] + 1n) { if (r[1] > cur[1]) cur[1] = r[1]; }
    else { total += cur[1] - cur[0] + 1n; cur = [...r]; }
  }
  if (cur) total += cur[1] - cur[0] + 1n;
  return total;
}

const MAPPED_V4: [bigint, bigint] = [0xffffn << 32n, (0xffffn << 32n) + 0xffffffffn];

export interface AddressSpace {
  /** IPv4 addresses covered (including those named through IPv4-mapped IPv6 blocks). */
  ipv4: bigint;
  ipv6: bigint;
  /** Entries that are not CIDR blocks (the caller decides: a policy counts them as the world). */
  invalid: string[];
}

/** The number of addresses a list of sources covers, per family, overlaps counted once. */
export function addressSpace(sources: readonly string[]): AddressSpace {
  const v4: Array<[bigint, bigint]> = [];
  const v6: Array<[bigint, bigint]> = [];
  const invalid: string[] = [];
  for (const s of sources) {
    const text = String(s).trim();
    // A bare address is a single host (the hcloud API and Kubernetes both accept that).
    const parsed = parseCidr(text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`);
    if (!parsed.ok) { invalid.push(text); continue; }
    const r = rangeOf(parsed.cidr);
    if (parsed.cidr.family === 4) v4.push(r);
    else {
      v6.push(r);
      const lo = r[0] > MAPPED_V4[0] ? r[0] : MAPPED_V4[0];
      const hi = r[1] < MAPPED_V4[1] ? r[1] : MAPPED_V4[1];
      if (lo <= hi) v4.push([lo - MAPPED_V4[0], hi - MAPPED_V4[0]]);
    }
  }
  return { ipv4: unionSize(v4), ipv6: unionSize(v6), invalid };
}

/**
 * A block already validated (the config schema parses every CIDR of the estate): parsed, or an
 * error naming it. A bare address is its own block (`/32`, `/128`).
 */
export function cidrBlock(text: string): Cidr {
  const r = parseCidr(text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`);
  if (!r.ok) throw new Error(`${text}: ${r.reason}`);
  return r.cidr;
}

/** Whether two blocks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const [a0, a1] = rangeOf(a);
  const [b0, b1] = rangeOf(b);
  return a0 <= b1 && b0 <= a1;
}

/** `2^n` as a readable size: "a /16 (65536 addresses)". */
export const blockSize = (bits: number, prefix: number): bigint => 1n << BigInt(bits - prefix);
