// User input for the firewall wizard and `moat firewall lock`: CIDRs, ports, protocols, the named
// presets and the `--allow`/`--from` grammar, each refused with one sentence that says what is
// wrong and what would be right. Plus the providers' limits for a planned rule set, checked before
// the plan is shown (the provider clients check them again before they send anything).
//
// A CIDR with host bits set ("10.0.0.5/24") is refused, not normalized: silently widening what the
// user typed to a whole network is the wrong surprise for a security setting. The message names
// the network they probably meant.
import type { ProviderKind } from '../providers/provider';
import { LIMITS, type PortRange, type Protocol, type Rule, type RuleProblem, type RuleSetContent } from './model';
import { parseCidr, type Family } from './net';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ParsedCidr {
  family: Family;
  /** Normalized: "1.2.3.4/32", "2001:db8::1/128". */
  cidr: string;
}

export function validateCidr(input: string): Result<ParsedCidr> {
  const text = input.trim();
  if (!text) return { ok: false, error: 'An address is empty; give an IP address or a network such as 203.0.113.7 or 10.0.0.0/8.' };
  if (text.includes('%')) return { ok: false, error: `"${text}" has a zone (%…); firewall rules take plain addresses without one.` };
  const c = parseCidr(text);
  if (!c) {
    const slash = text.indexOf('/');
    if (slash >= 0 && parseCidr(text.slice(0, slash))) {
      const fam = parseCidr(text.slice(0, slash))!.family;
      return {
        ok: false,
        error: `"${text}" has an invalid prefix length; an IPv${fam} prefix is a number from 0 to ${fam === 4 ? 32 : 128}.`,
      };
    }
    return {
      ok: false,
      error: `"${text}" is not an IP address or network; write it like 203.0.113.7, 10.0.0.0/8, 2001:db8::1 or 2001:db8::/32.`,
    };
  }
  if (c.hostBitsSet)
    return { ok: false, error: `${text} has host bits set; did you mean ${c.text}? (or ${text.split('/')[0]} for that one address)` };
  return { ok: true, value: { family: c.family, cidr: c.text } };
}

const PORT_RE = /^[1-9][0-9]*$/;

function portNumber(text: string): Result<number> {
  if (!PORT_RE.test(text)) return { ok: false, error: `"${text}" is not a port number; a port is a whole number from 1 to 65535.` };
  const n = Number(text);
  if (n < 1 || n > 65535) return { ok: false, error: `Port ${text} is out of range; a port is a whole number from 1 to 65535.` };
  return { ok: true, value: n };
}

/** "22" or "8000-8100". */
export function validatePorts(input: string): Result<PortRange> {
  const text = input.trim();
  if (text === '0') return { ok: false, error: 'Port 0 cannot be allowed; a port is a whole number from 1 to 65535.' };
  const m = /^([^-]+)-([^-]+)$/.exec(text);
  if (!m) {
    const p = portNumber(text);
    return p.ok ? { ok: true, value: { from: p.value, to: p.value } } : p;
  }
  const from = portNumber(m[1]!.trim());
  if (!from.ok) return from;
  const to = portNumber(m[2]!.trim());
  if (!to.ok) return to;
  if (from.value > to.value)
    return { ok: false, error: `The port range ${text} runs backwards; write the lower port first (${to.value}-${from.value}).` };
  return { ok: true, value: { from: from.value, to: to.value } };
}

/** null when the combination is fine. */
export function protocolPortsProblem(protocol: Protocol, ports: PortRange[] | null): string | null {
  if (protocol === 'icmp' && ports !== null) return 'ICMP (ping) has no ports; allow "icmp" on its own.';
  if (ports) {
    for (const p of ports) {
      if (!Number.isInteger(p.from) || !Number.isInteger(p.to) || p.from < 1 || p.to > 65535)
        return `Port range ${p.from}-${p.to} is out of range; ports run from 1 to 65535.`;
      if (p.from > p.to) return `The port range ${p.from}-${p.to} runs backwards.`;
    }
    if (ports.length === 0) return 'A rule lists no ports; leave the ports out to mean every port.';
  }
  return null;
}

export interface Preset {
  name: string;
  protocol: 'tcp';
  port: number;
  /** What usually listens there, for the wizard and for posture findings. */
  description: string;
}

export const PRESETS: Record<string, Preset> = {
  ssh: { name: 'ssh', protocol: 'tcp', port: 22, description: 'SSH' },
  'chat-ui': { name: 'chat-ui', protocol: 'tcp', port: 3000, description: 'a chat UI such as Open WebUI; usually no login' },
  api: { name: 'api', protocol: 'tcp', port: 8000, description: 'an OpenAI-compatible API such as vLLM; usually no key' },
  http: { name: 'http', protocol: 'tcp', port: 80, description: 'a web server (HTTP)' },
  https: { name: 'https', protocol: 'tcp', port: 443, description: 'a web server (HTTPS)' },
  jupyter: { name: 'jupyter', protocol: 'tcp', port: 8888, description: 'Jupyter; a token at best' },
};

/** One thing to let in: a protocol, its ports, and from where. */
export interface AllowSpec {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** null only for icmp. */
  ports: PortRange[] | null;
  /** Normalized CIDRs. At least one of the two is non-empty. */
  ipv4: string[];
  ipv6: string[];
  /** Short, provider-safe (3-32 chars of letters, digits, '-'): "moat-ssh", "moat-tcp-8000-8100". */
  label: string;
}

/** The user's own public addresses, found by the caller (main/firewall/address.ts). */
export interface Me {
  ipv4?: string;
  ipv6?: string;
}

function resolveSource(text: string, me: Me): Result<ParsedCidr[]> {
  if (text === 'me') {
    const out: ParsedCidr[] = [];
    for (const a of [me.ipv4, me.ipv6]) {
      if (!a) continue;
      const c = validateCidr(a);
      if (!c.ok) return { ok: false, error: `Your own address (${a}) could not be used: ${c.error}` };
      out.push(c.value);
    }
    if (out.length === 0)
      return { ok: false, error: 'Moat could not find your public address for "me"; give it as an address or CIDR instead.' };
    return { ok: true, value: out };
  }
  const c = validateCidr(text);
  return c.ok ? { ok: true, value: [c.value] } : c;
}

function parseSources(list: string[], me: Me, what: string): Result<ParsedCidr[]> {
  const out: ParsedCidr[] = [];
  for (const raw of list) {
    const r = resolveSource(raw.trim(), me);
    if (!r.ok) return { ok: false, error: `${what}: ${r.error}` };
    out.push(...r.value);
  }
  return { ok: true, value: out };
}

interface Target {
  protocol: 'tcp' | 'udp' | 'icmp';
  ports: PortRange | null;
  name: string;
}

function parseTarget(text: string): Result<Target> {
  const t = text.trim().toLowerCase();
  if (!t) return { ok: false, error: 'An --allow item is empty; list presets or ports separated by commas, such as ssh,8000.' };
  const preset = PRESETS[t];
  if (preset) return { ok: true, value: { protocol: 'tcp', ports: { from: preset.port, to: preset.port }, name: preset.name } };
  if (t === 'icmp' || t === 'ping') return { ok: true, value: { protocol: 'icmp', ports: null, name: 'icmp' } };
  const m = /^(tcp|udp|icmp):(.*)$/.exec(t);
  const protocol = (m ? m[1] : 'tcp') as Target['protocol'];
  const portText = m ? m[2]! : t;
  if (protocol === 'icmp') return { ok: false, error: `"${text}": ICMP (ping) has no ports; allow "icmp" on its own.` };
  if (!/^[0-9\s-]+$/.test(portText)) {
    return {
      ok: false,
      error: `"${text}" is not a preset or a port; use one of ${Object.keys(PRESETS).join(', ')}, icmp, a port (8000), a range (8000-8100) or udp:PORT.`,
    };
  }
  const p = validatePorts(portText);
  if (!p.ok) return p;
  const range = p.value.from === p.value.to ? String(p.value.from) : `${p.value.from}-${p.value.to}`;
  return { ok: true, value: { protocol, ports: p.value, name: `${protocol}-${range}` } };
}

/**
 * `--allow ssh,8000,udp:60000-61000,8000@10.0.0.0/8,icmp` with `--from me,203.0.113.0/24`.
 * An item with `@SOURCE` is allowed from that source only (SOURCE is `me` or a CIDR); the others
 * from every `--from` source. Without `--from`, the sources are `me`: the safe default for a lock.
 * The same protocol and port named twice merge their sources.
 */
export function parseAllow(
  allow: string,
  from: string | undefined,
  me: Me,
): { ok: true; value: AllowSpec[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const fromList = (from ?? 'me').split(',').map((s) => s.trim());
  if (fromList.some((s) => !s)) errors.push('--from has an empty item; list "me" or CIDRs separated by commas.');
  const defaults = errors.length ? null : parseSources(fromList, me, '--from');
  if (defaults && !defaults.ok) errors.push(defaults.error);

  const items = allow.split(',');
  if (!allow.trim()) errors.push('--allow is empty; name what to let in, such as ssh or 8000.');
  const byKey = new Map<string, { target: Target; sources: ParsedCidr[] }>();
  for (const item of allow.trim() ? items : []) {
    const at = item.indexOf('@');
    const target = parseTarget(at < 0 ? item : item.slice(0, at));
    if (!target.ok) {
      errors.push(target.error);
      continue;
    }
    let sources: ParsedCidr[];
    if (at >= 0) {
      const s = parseSources([item.slice(at + 1)], me, `"${item.trim()}"`);
      if (!s.ok) {
        errors.push(s.error);
        continue;
      }
      sources = s.value;
    } else {
      if (!defaults || !defaults.ok) continue;
      sources = defaults.value;
    }
    const key = `${target.value.protocol}:${target.value.ports?.from}-${target.value.ports?.to}`;
    const entry = byKey.get(key) ?? { target: target.value, sources: [] };
    entry.sources.push(...sources);
    byKey.set(key, entry);
  }
  if (errors.length) return { ok: false, errors };
  const value = [...byKey.values()].map(({ target, sources }) => ({
    protocol: target.protocol,
    ports: target.ports ? [target.ports] : null,
    ipv4: uniq(sources.filter((s) => s.family === 4).map((s) => s.cidr)),
    ipv6: uniq(sources.filter((s) => s.family === 6).map((s) => s.cidr)),
    label: `moat-${target.name}`.slice(0, 32),
  }));
  return { ok: true, value };
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}

/**
 * The Linode rules one model rule is written as (as main/firewall/linode.ts writes it): a rule for
 * every protocol (without nativeProtocol) becomes TCP, UDP, ICMP and IPENCAP, or TCP and UDP when it
 * names ports; any other rule stays one.
 */
export function linodeSplit<R extends Rule & { nativeProtocol?: string }>(r: R): R[] {
  if (r.protocol !== 'all' || r.nativeProtocol !== undefined) return [r];
  const tcpUdp: R[] = [
    { ...r, protocol: 'tcp' },
    { ...r, protocol: 'udp' },
  ];
  return r.ports !== null ? tcpUdp : [...tcpUdp, { ...r, protocol: 'icmp' }, { ...r, protocol: 'all', nativeProtocol: 'IPENCAP' }];
}

/** Linode counts a single port as one piece of its ports string and a range as two. */
export function linodePortPieces(ports: PortRange[] | null): number {
  return (ports ?? []).reduce((n, p) => n + (p.from === p.to ? 1 : 2), 0);
}

/** How many rules Lambda stores for these: one per port range per source. */
export function lambdaRuleCount(content: RuleSetContent): number {
  return content.rules.reduce((n, r) => n + Math.max(1, r.ports?.length ?? 1) * r.ipv4.length, 0);
}

/**
 * What the provider would refuse in a planned rule set, before anything is sent. The provider
 * clients check the same limits again (FirewallLimitError); this is for the plan and the wizard.
 */
export function checkLimits(provider: ProviderKind, content: RuleSetContent): RuleProblem[] {
  const problems: RuleProblem[] = [];
  content.rules.forEach((r, i) => {
    const pp = protocolPortsProblem(r.protocol, r.ports);
    if (pp) problems.push({ rule: i, message: pp });
    for (const c of [...r.ipv4, ...r.ipv6]) {
      const v = validateCidr(c);
      if (!v.ok) problems.push({ rule: i, message: v.error });
    }
  });
  if (provider === 'lambda') {
    if (content.inboundPolicy !== 'deny' || content.outboundPolicy !== 'allow')
      problems.push({
        rule: null,
        message: 'Lambda rules cannot change the policies: inbound is always deny-unless-allowed and outbound always open.',
      });
    content.rules.forEach((r, i) => {
      if (r.direction !== 'inbound')
        problems.push({ rule: i, message: 'Lambda filters inbound traffic only; outbound rules are not possible.' });
      if (r.action !== 'allow') problems.push({ rule: i, message: 'Lambda rules can only allow traffic; there are no deny rules.' });
      if (r.ipv6.length) problems.push({ rule: i, message: 'Lambda rules are IPv4 only; IPv6 sources are not possible.' });
      if (r.ipv4.length === 0) problems.push({ rule: i, message: 'A Lambda rule needs at least one IPv4 source.' });
      if (r.label.length > LIMITS.lambda.descriptionChars)
        problems.push({ rule: i, message: `The description is longer than Lambda's ${LIMITS.lambda.descriptionChars} characters.` });
    });
    const n = lambdaRuleCount(content);
    if (n > LIMITS.lambda.rules)
      problems.push({
        rule: null,
        message: `Lambda allows at most ${LIMITS.lambda.rules} rules, and this needs ${n} (one per port range per source); use fewer sources or wider networks.`,
      });
  } else {
    const n = content.rules.reduce((sum, r) => sum + linodeSplit(r).length, 0);
    if (n > LIMITS.linode.rules)
      problems.push({
        rule: null,
        message: `A Linode firewall holds at most ${LIMITS.linode.rules} rules, and this needs ${n}${n > content.rules.length ? ' (a rule for every protocol is one per protocol there)' : ''}.`,
      });
    content.rules.forEach((r, i) => {
      const addresses = r.ipv4.length + r.ipv6.length;
      if (addresses === 0) problems.push({ rule: i, message: 'A Linode rule needs at least one address.' });
      if (addresses > LIMITS.linode.addressesPerRule)
        problems.push({
          rule: i,
          message: `A Linode rule holds at most ${LIMITS.linode.addressesPerRule} addresses, and this one has ${addresses}.`,
        });
      const pieces = linodePortPieces(r.ports);
      if (pieces > LIMITS.linode.portsPerRule)
        problems.push({
          rule: i,
          message: `A Linode rule takes at most ${LIMITS.linode.portsPerRule} port pieces (a range counts as two), and this one has ${pieces}.`,
        });
      if (r.label && (r.label.length < 3 || r.label.length > LIMITS.linode.labelChars))
        problems.push({ rule: i, message: `A Linode rule label must be 3 to ${LIMITS.linode.labelChars} characters long.` });
      const native = (r as Rule & { nativeProtocol?: string }).nativeProtocol;
      if (native !== undefined && r.ports !== null) problems.push({ rule: i, message: `${native} has no ports; leave them out.` });
    });
  }
  return problems;
}
