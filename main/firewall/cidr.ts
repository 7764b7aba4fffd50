// CIDRs and port ranges in the one canonical form the firewall model uses, so rule sets read from
// either provider compare by value: host bits zero, the prefix always written ('1.2.3.4/32',
// '2001:db8::1/128'), IPv6 compressed and lowercase; port ranges sorted and merged, and "every
// port" written as null. Pure functions, no provider knowledge.
import { isIPv4, isIPv6 } from 'node:net';
import type { PortRange, Rule } from './model';

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits zero) as an integer. */
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** '1.2.3.4', '1.2.3.4/24', '2001:DB8::1', '::/0'; null when it is not an address or network. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) && !addr.includes('%') ? 6 : null;
  if (family === null) return null;
  const bits = BITS[family];
  let prefix: number = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
    prefix = Number(p);
  }
  const value = family === 4 ? v4ToBig(addr) : v6ToBig(addr);
  if (value === null) return null;
  return { family, network: value & mask(family, prefix), prefix };
}

/** The canonical text of a CIDR, or null when `text` is not one. */
export function normalizeCidr(text: string): string | null {
  const c = parseCidr(text);
  return c ? formatCidr(c) : null;
}

export function formatCidr(c: Cidr): string {
  return `${c.family === 4 ? bigToV4(c.network) : bigToV6(c.network)}/${c.prefix}`;
}

/** Whether `outer` covers all of `inner` (same family, shorter or equal prefix, same network bits). */
export function cidrContains(outer: string | Cidr, inner: string | Cidr): boolean {
  const o = typeof outer === 'string' ? parseCidr(outer) : outer;
  const i = typeof inner === 'string' ? parseCidr(inner) : inner;
  if (!o || !i || o.family !== i.family || o.prefix > i.prefix) return false;
  return (i.network & mask(o.family, o.prefix)) === o.network;
}

/** 0.0.0.0/0 or ::/0: every address of its family. */
export function isWorld(cidr: string | Cidr): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  return c !== null && c.prefix === 0;
}

/** Canonical, de-duplicated and sorted (by network, then prefix); the invalid ones are returned apart. */
export function normalizeCidrList(list: readonly string[]): { cidrs: string[]; invalid: string[] } {
  const parsed: Cidr[] = [];
  const invalid: string[] = [];
  for (const t of list) {
    const c = parseCidr(t);
    if (c) parsed.push(c);
    else invalid.push(t);
  }
  parsed.sort((a, b) => a.family - b.family || (a.network < b.network ? -1 : a.network > b.network ? 1 : a.prefix - b.prefix));
  return { cidrs: [...new Set(parsed.map(formatCidr))], invalid };
}

export const ALL_PORTS: PortRange = { from: 1, to: 65535 };

export function validPortRange(r: PortRange): boolean {
  return Number.isInteger(r.from) && Number.isInteger(r.to) && r.from >= 1 && r.to <= 65535 && r.from <= r.to;
}

/**
 * Sorted, overlapping and adjacent ranges merged (22-22 and 23-25 become 22-25); null when they
 * cover every port (1-65535) or when given null. Invalid ranges are kept out: check them first.
 */
export function normalizePorts(ranges: readonly PortRange[] | null): PortRange[] | null {
  if (ranges === null) return null;
  const sorted = ranges.filter(validPortRange).sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  if (out.length === 1 && out[0]!.from === ALL_PORTS.from && out[0]!.to === ALL_PORTS.to) return null;
  return out;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

function v6ToBig(a: string): bigint | null {
  let text = a.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToBig(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

// RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as '::'.
function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/**
 * A rule in canonical form: each address list canonical, de-duplicated and sorted (anything
 * unreadable kept, at the end, for the limit checks to name), ports sorted and merged, and no
 * ports for ICMP. Two rules that mean the same compare equal after this.
 */
export function normalizeRule(r: Rule): Rule {
  const v4 = normalizeCidrList(r.ipv4);
  const v6 = normalizeCidrList(r.ipv6);
  return {
    ...r,
    ports: r.protocol === 'icmp' ? null : normalizePorts(r.ports),
    ipv4: [...v4.cidrs, ...v4.invalid],
    ipv6: [...v6.cidrs, ...v6.invalid],
  };
}
