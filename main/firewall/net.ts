// Address arithmetic for the firewall model: CIDRs as [start, end] intervals of bigints, so that
// exposure can be computed exactly (union, difference, size) and written back as a minimal list of
// CIDRs. IPv4 and IPv6 are kept apart everywhere; nothing here maps one onto the other.
import { isIP } from 'node:net';

export type Family = 4 | 6;

/** Inclusive interval of addresses of one family. */
export interface Interval {
  start: bigint;
  end: bigint;
}

export const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function familyMax(family: Family): bigint {
  return (1n << BigInt(BITS[family])) - 1n;
}

/** Parses a bare address (no prefix, no zone). */
export function parseAddress(text: string): { family: Family; value: bigint } | null {
  const kind = isIP(text);
  if (kind === 4) {
    const parts = text.split('.').map(Number);
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (kind === 6 && !text.includes('%')) return { family: 6, value: parseIpv6(text) };
  return null;
}

function parseIpv6(text: string): bigint {
  let s = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const dot = s.lastIndexOf('.');
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    const v4 = parseAddress(s.slice(colon + 1))!.value;
    s = `${s.slice(0, colon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatAddress(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface Cidr {
  family: Family;
  prefix: number;
  /** The address as written (may have host bits set). */
  address: bigint;
  /** The network: address with the host bits cleared. */
  network: bigint;
  hostBitsSet: boolean;
  /** The network, normalized: "10.0.0.0/24", "2001:db8::1/128". */
  text: string;
}

type Parsed = Omit<Cidr, 'text'>;

function parse(input: string): Parsed | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return null;
  const bits = BITS[addr.family];
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > bits) return null;
  }
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = addr.value & ~hostMask & familyMax(addr.family);
  return { family: addr.family, prefix, address: addr.value, network, hostBitsSet: network !== addr.value };
}

/**
 * Parses "a.b.c.d", "a.b.c.d/n", an IPv6 address or "v6/n". A bare address is a /32 or /128. Returns
 * null when it is not a CIDR at all; callers decide what to say (see validate.ts).
 */
export function parseCidr(input: string): Cidr | null {
  const c = parse(input);
  return c && { ...c, text: `${formatAddress(c.family, c.network)}/${c.prefix}` };
}

/** The interval of a CIDR the model already holds (normalized, so host bits are ignored if any). */
export function cidrInterval(cidr: string): { family: Family; interval: Interval } | null {
  const c = parse(cidr);
  if (!c) return null;
  const size = 1n << BigInt(BITS[c.family] - c.prefix);
  return { family: c.family, interval: { start: c.network, end: c.network + size - 1n } };
}

export function intervalsOf(cidrs: readonly string[]): Interval[] {
  const out: Interval[] = [];
  for (const c of cidrs) {
    const r = cidrInterval(c);
    if (r) out.push(r.interval);
  }
  return mergeIntervals(out);
}

/** Sorted, disjoint, adjacent ones joined. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end + 1n) {
      if (iv.end > last.end) last.end = iv.end;
    } else out.push({ ...iv });
  }
  return out;
}

export function subtractIntervals(from: readonly Interval[], remove: readonly Interval[]): Interval[] {
  return subtractSorted(mergeIntervals(from), mergeIntervals(remove));
}

/** `a` minus `b`, both canonical (sorted, disjoint), in one pass: exposure subtracts large lists. */
export function subtractSorted(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const iv of a) {
    let start = iv.start;
    while (j < b.length && b[j]!.end < start) j++;
    let k = j;
    while (k < b.length && b[k]!.start <= iv.end) {
      if (b[k]!.start > start) out.push({ start, end: b[k]!.start - 1n });
      if (b[k]!.end + 1n > start) start = b[k]!.end + 1n;
      if (start > iv.end) break;
      k++;
    }
    if (start <= iv.end) out.push({ start, end: iv.end });
  }
  return out;
}

export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of mergeIntervals(a))
    for (const y of mergeIntervals(b)) {
      const start = x.start > y.start ? x.start : y.start;
      const end = x.end < y.end ? x.end : y.end;
      if (start <= end) out.push({ start, end });
    }
  return mergeIntervals(out);
}

export function intervalsSize(list: readonly Interval[]): bigint {
  return mergeIntervals(list).reduce((n, iv) => n + iv.end - iv.start + 1n, 0n);
}

export function sameIntervals(a: readonly Interval[], b: readonly Interval[]): boolean {
  const x = mergeIntervals(a);
  const y = mergeIntervals(b);
  return x.length === y.length && x.every((iv, i) => iv.start === y[i]!.start && iv.end === y[i]!.end);
}

/** Is every address of `inner` in `outer`? */
export function containsIntervals(outer: readonly Interval[], inner: readonly Interval[]): boolean {
  return subtractIntervals(inner, outer).length === 0;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The fewest CIDRs that cover exactly these intervals. */
export function intervalsToCidrs(family: Family, list: readonly Interval[]): string[] {
  const bits = BITS[family];
  const out: string[] = [];
  for (const iv of mergeIntervals(list)) {
    let start = iv.start;
    while (start <= iv.end) {
      // The largest block aligned at `start` (its trailing zero bits) that does not run past the end.
      const align = start === 0n ? bits : bitLength(start & -start) - 1;
      const fits = bitLength(iv.end - start + 1n) - 1;
      const size = Math.min(align, fits);
      out.push(`${formatAddress(family, start)}/${bits - size}`);
      start += 1n << BigInt(size);
    }
  }
  return out;
}

/** The union of two canonical lists (sorted, disjoint), in one pass. */
export function unionIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]!.start <= b[j]!.start) ? a[i++]! : b[j++]!;
    const last = out[out.length - 1];
    if (last && next.start <= last.end + 1n) {
      if (next.end > last.end) last.end = next.end;
    } else out.push({ start: next.start, end: next.end });
  }
  return out;
}

export function fullInterval(family: Family): Interval[] {
  return [{ start: 0n, end: familyMax(family) }];
}
