// The network allowlist as decisions: does a destination (a name or an address, and a port) match
// a run's AllowRule[], and may a name that matched be connected to at the addresses it resolves to.
// A name is allowed by domain rules; an address by CIDR rules only. An allowed name whose address
// is loopback, link-local (cloud metadata), private, CGNAT, unspecified, multicast or reserved is
// refused unless a CIDR rule allows that address too (DNS rebinding), and Moat's own ports on this
// machine's addresses are refused whatever the rules say.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AllowRule } from '../../../shared/egress';

export type AddressClass =
  'public' | 'loopback' | 'link-local' | 'private' | 'cgnat' | 'unspecified' | 'multicast' | 'reserved' | 'documentation';

/** An address as bytes (4 or 16). */
export interface IpBytes {
  family: 4 | 6;
  bytes: number[];
}

function v4Bytes(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return out.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? out : null;
}

function v6Bytes(s: string): number[] | null {
  let text = s.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = v4Bytes(text.slice(lastColon + 1));
    if (!v4) return null;
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return null;
  let words: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 0) return null;
    words = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else words = head;
  if (words.length !== 8) return null;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Parses an IPv4 or IPv6 literal (IPv6 may carry a zone); null when it is not one. */
export function parseIp(s: string): IpBytes | null {
  const t = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const fam = isIP(t.split('%')[0]!);
  if (fam === 4) {
    const b = v4Bytes(t);
    return b ? { family: 4, bytes: b } : null;
  }
  if (fam === 6) {
    const b = v6Bytes(t);
    return b ? { family: 6, bytes: b } : null;
  }
  return null;
}

/** IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6 addresses as the IPv4 they carry. */
export function unmapIp(ip: IpBytes): IpBytes {
  if (ip.family !== 6) return ip;
  const b = ip.bytes;
  const zeros10 = b.slice(0, 10).every((x) => x === 0);
  if (zeros10 && b[10] === 0xff && b[11] === 0xff) return { family: 4, bytes: b.slice(12) };
  // ::a.b.c.d (deprecated "compatible" form), but not :: and ::1
  if (zeros10 && b[10] === 0 && b[11] === 0 && (b[12]! | b[13]!) !== 0) return { family: 4, bytes: b.slice(12) };
  return ip;
}

export function formatIp(ip: IpBytes): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  // longest run of zeros (length >= 2) becomes ::
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function inPrefix(ip: IpBytes, prefix: IpBytes, bits: number): boolean {
  if (ip.family !== prefix.family) return false;
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((ip.bytes[byte]! & mask) !== (prefix.bytes[byte]! & mask)) return false;
  }
  return true;
}

const CLASS_TABLE: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['fc00::', 7, 'private'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['100::', 64, 'reserved'],
  // NAT64 and 6to4 embed an IPv4 address that could be anything: not public unless a CIDR says so
  ['64:ff9b::', 96, 'reserved'],
  ['64:ff9b:1::', 48, 'reserved'],
  ['2002::', 16, 'reserved'],
  ['::', 96, 'reserved'],
];
const CLASSES = CLASS_TABLE.map(([a, bits, cls]) => ({ prefix: parseIp(a)!, bits, cls }));

/** The class of an address (IPv4-mapped IPv6 is classed as the IPv4 it carries). */
export function addressClass(address: string | IpBytes): AddressClass {
  const parsed = typeof address === 'string' ? parseIp(address) : address;
  if (!parsed) return 'reserved';
  const ip = unmapIp(parsed);
  // Longest prefix wins ("::/128" before "::/96").
  let best: { bits: number; cls: AddressClass } | null = null;
  for (const c of CLASSES) if (inPrefix(ip, c.prefix, c.bits) && (!best || c.bits > best.bits)) best = c;
  return best?.cls ?? 'public';
}

/** Lowercases a name and drops a trailing dot; null when it is not a plausible host name. */
export function normalizeName(name: string): string | null {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > 253) return null;
  if (!/^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/.test(n)) return null;
  return n;
}

function portMatches(rule: AllowRule, port: number): boolean {
  return rule.port === null || rule.port === port;
}

/** The domain rule allowing this name and port, if any (`*.x` matches subdomains of x, not x). */
export function matchName(rules: readonly AllowRule[], name: string, port: number): AllowRule | null {
  const n = normalizeName(name);
  if (!n) return null;
  for (const r of rules) {
    if (r.kind !== 'domain' || !portMatches(r, port)) continue;
    if (r.wildcard ? n.endsWith('.' + r.domain) : n === r.domain) return r;
  }
  return null;
}

/** The CIDR rule allowing this address and port, if any (IPv4-mapped IPv6 matches IPv4 rules). */
export function matchAddress(rules: readonly AllowRule[], address: string | IpBytes, port: number): AllowRule | null {
  const parsed = typeof address === 'string' ? parseIp(address) : address;
  if (!parsed) return null;
  const forms = [parsed, unmapIp(parsed)];
  for (const r of rules) {
    if (r.kind !== 'cidr' || !portMatches(r, port)) continue;
    const prefix = parseIp(r.address);
    if (prefix && forms.some((ip) => inPrefix(ip, prefix, r.bits))) return r;
  }
  return null;
}

/** This machine's own addresses (every interface's), plus the unspecified ones. */
export function localAddresses(): IpBytes[] {
  const out: IpBytes[] = [parseIp('0.0.0.0')!, parseIp('::')!];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const ip = parseIp(a.address);
      if (ip) out.push(ip);
    }
  }
  return out;
}

export interface PolicyContext {
  rules: readonly AllowRule[];
  /** Moat's own ports: refused on loopback, unspecified and this machine's addresses. */
  protectedPorts?: readonly number[];
  /** This machine's addresses (default: localAddresses()). */
  local?: readonly IpBytes[];
}

export type Decision = { allowed: true; rule: AllowRule | null } | { allowed: false; reason: string };

function isLocal(ip: IpBytes, ctx: PolicyContext): boolean {
  const u = unmapIp(ip);
  const cls = addressClass(u);
  if (cls === 'loopback' || cls === 'unspecified') return true;
  const local = ctx.local ?? localAddresses();
  return local.some((l) => {
    const lu = unmapIp(l);
    return lu.family === u.family && lu.bytes.every((b, i) => b === u.bytes[i]);
  });
}

/** May the proxy connect to this address? `viaName`: the name (already allowed by a domain rule) it was resolved from. */
export function checkAddress(ctx: PolicyContext, address: string, port: number, viaName?: string): Decision {
  const ip = parseIp(address);
  if (!ip) return { allowed: false, reason: `${address} is not an address` };
  const text = formatIp(unmapIp(ip));
  if (ctx.protectedPorts?.includes(port) && isLocal(ip, ctx))
    return { allowed: false, reason: `${text}:${port} is one of Moat's own ports` };
  const cidr = matchAddress(ctx.rules, ip, port);
  if (cidr) return { allowed: true, rule: cidr };
  const cls = addressClass(ip);
  if (viaName === undefined) return { allowed: false, reason: 'not in the allowlist' };
  if (cls !== 'public') return { allowed: false, reason: `${viaName} resolves to ${text} (${cls}), which no address rule allows` };
  return { allowed: true, rule: null };
}

/** May a name (before resolving it) be asked for? */
export function checkName(ctx: PolicyContext, name: string, port: number): Decision {
  if (parseIp(name)) return checkAddress(ctx, name, port);
  const n = normalizeName(name);
  if (!n) return { allowed: false, reason: 'not a valid host name' };
  const rule = matchName(ctx.rules, n, port);
  return rule ? { allowed: true, rule } : { allowed: false, reason: 'not in the allowlist' };
}

/**
 * The whole decision for a name and the addresses it resolved to: every address must pass (one
 * refused address refuses the name, so that a rebinding answer mixing a public and a private
 * address cannot be used either). Returns the addresses to connect to, in the order given.
 */
export function checkResolved(
  ctx: PolicyContext,
  name: string,
  port: number,
  addresses: readonly string[],
): { allowed: true; addresses: string[] } | { allowed: false; reason: string } {
  if (addresses.length === 0) return { allowed: false, reason: `${name} does not resolve` };
  for (const a of addresses) {
    const d = checkAddress(ctx, a, port, name);
    if (!d.allowed) return d;
  }
  return { allowed: true, addresses: [...addresses] };
}
