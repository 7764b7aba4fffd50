// What can reach one instance, from every rule set that applies to it: a list of (protocol, ports,
// IPv4 and IPv6 sources). Computed exactly, as sets of boxes (port interval x address interval) per
// protocol and address family, then written back in a canonical form (the same traffic always
// gives the same entries, so two exposures compare with deepEqual).
//
// - Lambda: the union of the allows of the global rules and the instance's attached rulesets,
//   default deny. In a region where Lambda does not enforce rules, unknown (and everything).
// - Linode: the one enabled firewall attached, first match wins over its ordered rules, the inbound
//   policy for the rest. A deny rule removes its traffic from every later rule, exactly. No enabled
//   firewall: everything is open. More than one enabled (Linode says it cannot happen): unknown.
//
// The one approximation: a rule for protocol 'all' that lists ports. Whether it matches ICMP
// (which has no ports) depends on the provider, so it is taken to let ICMP in when it allows, and
// not to stop ICMP when it denies or shadows: exposure is over-approximated, never under.
//
// Exposure covers TCP, UDP and ICMP. A rule for another protocol (Rule.nativeProtocol, such as
// Linode's IPENCAP) lets none of them in; one Moat does not know is assumed to let everything in.
//
// When exposure is unknown, `entries` is everything: callers that only look at entries stay safe.
import { LAMBDA_UNENFORCED_REGIONS, type Action, type PortRange, type Rule, type RuleSet, type RuleSetRef } from './model';
import type { ProviderKind } from '../providers/provider';
import {
  containsIntervals,
  fullInterval,
  intervalsOf,
  intervalsToCidrs,
  mergeIntervals,
  parseCidr,
  type Family,
  type Interval,
} from './net';

export type ExposureProtocol = 'tcp' | 'udp' | 'icmp';
export const PROTOCOLS: readonly ExposureProtocol[] = ['tcp', 'udp', 'icmp'];

export interface ExposureEntry {
  protocol: ExposureProtocol;
  /** null: every port (always null for icmp). Sorted, not overlapping, not adjacent. */
  ports: PortRange[] | null;
  /** Minimal, sorted CIDR lists. */
  ipv4: string[];
  ipv6: string[];
}

export type ExposureBasis =
  /** Computed from these rule sets (Lambda: global + attached rulesets; Linode: the enabled firewall). */
  | { kind: 'rules'; ruleSets: RuleSetRef[] }
  /** Linode with no enabled firewall; `disabled` lists attached but disabled ones. */
  | { kind: 'no-firewall'; disabled: RuleSetRef[] }
  | { kind: 'region-unenforced'; region: string }
  | { kind: 'unknown'; reason: string; ruleSets: RuleSetRef[] };

export interface Exposure {
  /** false: the rules in force could not be determined; entries are then everything. */
  known: boolean;
  entries: ExposureEntry[];
  basis: ExposureBasis;
}

export interface ExposureInstance {
  id: string;
  provider: ProviderKind;
  region: string;
}

const PORT_MIN = 1;
const PORT_MAX = 65535;
const FAMILIES: readonly Family[] = [4, 6];

interface Box {
  p0: number;
  p1: number;
  a0: bigint;
  a1: bigint;
}

/** Per protocol, per family: a union of boxes. ICMP boxes use the pseudo-port 0..0. */
type Space = Record<ExposureProtocol, Record<Family, Box[]>>;

function emptySpace(): Space {
  return { tcp: { 4: [], 6: [] }, udp: { 4: [], 6: [] }, icmp: { 4: [], 6: [] } };
}

function portSpan(protocol: ExposureProtocol, ports: PortRange[] | null): [number, number][] {
  if (protocol === 'icmp') return [[0, 0]];
  return ports === null ? [[PORT_MIN, PORT_MAX]] : ports.map((p) => [p.from, p.to]);
}

/**
 * The traffic a rule matches. `certain`: what it surely matches; `maybe`: what it may match (more,
 * only for an 'all' rule with ports, which may or may not match ICMP).
 */
/** Rule.nativeProtocol, typed here too so this module does not depend on when model.ts gained it. */
type RuleMatch = Pick<Rule, 'protocol' | 'ports' | 'ipv4' | 'ipv6'> & { nativeProtocol?: string };

function ruleSpace(rule: RuleMatch, maybe: boolean): Space {
  const space = emptySpace();
  if (rule.nativeProtocol !== undefined) {
    // A protocol the model cannot name (Linode's IPENCAP is IP-in-IP: none of TCP, UDP, ICMP). One
    // not known here may match anything when it allows, and is not trusted to stop anything.
    if (rule.nativeProtocol.toUpperCase() === 'IPENCAP' || !maybe) return space;
    return ruleSpace({ ...rule, nativeProtocol: undefined, protocol: 'all', ports: null }, true);
  }
  const protocols: ExposureProtocol[] = rule.protocol === 'all' ? ['tcp', 'udp', 'icmp'] : [rule.protocol];
  const addrs: Record<Family, Interval[]> = { 4: intervalsOf(rule.ipv4), 6: intervalsOf(rule.ipv6) };
  for (const p of protocols) {
    if (p === 'icmp' && rule.protocol === 'all' && rule.ports !== null && !maybe) continue;
    for (const f of FAMILIES)
      for (const [p0, p1] of portSpan(p, p === 'icmp' ? null : rule.ports))
        for (const iv of addrs[f]) space[p][f].push({ p0, p1, a0: iv.start, a1: iv.end });
  }
  return space;
}

function everythingSpace(): Space {
  const s = emptySpace();
  for (const p of PROTOCOLS)
    for (const f of FAMILIES) {
      const [[p0, p1]] = portSpan(p, null) as [[number, number]];
      s[p][f].push({ p0, p1, a0: 0n, a1: fullInterval(f)[0]!.end });
    }
  return s;
}

function subtractBox(a: Box, b: Box): Box[] {
  if (b.p1 < a.p0 || b.p0 > a.p1 || b.a1 < a.a0 || b.a0 > a.a1) return [a];
  const out: Box[] = [];
  if (a.p0 < b.p0) out.push({ ...a, p1: b.p0 - 1 });
  if (a.p1 > b.p1) out.push({ ...a, p0: b.p1 + 1 });
  const p0 = Math.max(a.p0, b.p0);
  const p1 = Math.min(a.p1, b.p1);
  if (a.a0 < b.a0) out.push({ p0, p1, a0: a.a0, a1: b.a0 - 1n });
  if (a.a1 > b.a1) out.push({ p0, p1, a0: b.a1 + 1n, a1: a.a1 });
  return out;
}

function subtractBoxes(from: Box[], remove: Box[]): Box[] {
  let current = from;
  for (const r of remove) {
    if (current.length === 0) break;
    current = current.flatMap((a) => subtractBox(a, r));
  }
  return current;
}

function addInto(target: Space, add: Space): void {
  for (const p of PROTOCOLS) for (const f of FAMILIES) target[p][f].push(...add[p][f]);
}

function minus(a: Space, b: Space): Space {
  const out = emptySpace();
  for (const p of PROTOCOLS) for (const f of FAMILIES) out[p][f] = subtractBoxes(a[p][f], b[p][f]);
  return out;
}

/** First match wins over `rules` (of one direction), `policy` for what none matches. */
function evaluate(rules: Rule[], policy: Action): Space {
  const allowed = emptySpace();
  const decided = emptySpace();
  for (const rule of rules) {
    if (rule.action === 'allow') addInto(allowed, minus(ruleSpace(rule, true), decided));
    // Only what the rule surely matches shadows later rules: an uncertain deny must not hide a later allow.
    addInto(decided, ruleSpace(rule, false));
  }
  if (policy === 'allow') addInto(allowed, minus(everythingSpace(), decided));
  return allowed;
}

/** The canonical entries for a space: sweep the ports, group equal source sets. */
function toEntries(space: Space): ExposureEntry[] {
  const out: ExposureEntry[] = [];
  for (const protocol of PROTOCOLS) {
    const boxes = FAMILIES.flatMap((f) => space[protocol][f]);
    if (boxes.length === 0) continue;
    const cuts = [...new Set(boxes.flatMap((b) => [b.p0, b.p1 + 1]))].sort((x, y) => x - y);
    // Segments [cuts[i], cuts[i+1]-1], each with its source set.
    const segments: { p0: number; p1: number; key: string; v4: Interval[]; v6: Interval[] }[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const p0 = cuts[i]!;
      const p1 = cuts[i + 1]! - 1;
      const pick = (f: Family) =>
        mergeIntervals(space[protocol][f].filter((b) => b.p0 <= p0 && b.p1 >= p1).map((b) => ({ start: b.a0, end: b.a1 })));
      const v4 = pick(4);
      const v6 = pick(6);
      if (v4.length === 0 && v6.length === 0) continue;
      const key = [...v4, { start: -1n, end: -1n }, ...v6].map((iv) => `${iv.start}-${iv.end}`).join(',');
      const last = segments[segments.length - 1];
      if (last && last.key === key && last.p1 + 1 === p0) last.p1 = p1;
      else segments.push({ p0, p1, key, v4, v6 });
    }
    const groups = new Map<string, ExposureEntry>();
    for (const s of segments) {
      let e = groups.get(s.key);
      if (!e) {
        e = { protocol, ports: [], ipv4: intervalsToCidrs(4, s.v4), ipv6: intervalsToCidrs(6, s.v6) };
        groups.set(s.key, e);
        out.push(e);
      }
      e.ports!.push({ from: s.p0, to: s.p1 });
    }
    for (const e of groups.values()) {
      const all = e.ports!.length === 1 && e.ports![0]!.from === PORT_MIN && e.ports![0]!.to === PORT_MAX;
      if (protocol === 'icmp' || all) e.ports = null;
    }
  }
  return out;
}

/** Everything, as entries: what an unknown or unfiltered instance is exposed to. */
export function everything(): ExposureEntry[] {
  return toEntries(everythingSpace());
}

function refOf(rs: RuleSetRef): RuleSetRef {
  return { provider: rs.provider, account: rs.account, kind: rs.kind, id: rs.id };
}

/** The rule sets attached to this instance (for Lambda, the global rules always apply). */
export function ruleSetsFor(instance: ExposureInstance, ruleSets: readonly RuleSet[]): RuleSet[] {
  return ruleSets.filter((rs) => rs.provider === instance.provider && (rs.kind === 'lambda-global' || rs.appliesTo.includes(instance.id)));
}

/** What one rule set alone lets in (ignores whether it is enabled or attached). */
export function ruleSetExposure(rs: Pick<RuleSet, 'rules' | 'inboundPolicy'>): ExposureEntry[] {
  return toEntries(evaluate(inbound(rs.rules), rs.inboundPolicy));
}

function inbound(rules: Rule[]): Rule[] {
  return rules.filter((r) => r.direction === 'inbound');
}

export function computeExposure(instance: ExposureInstance, ruleSets: readonly RuleSet[]): Exposure {
  const applying = ruleSetsFor(instance, ruleSets);
  if (instance.provider === 'lambda') {
    if (LAMBDA_UNENFORCED_REGIONS.includes(instance.region))
      return { known: false, entries: everything(), basis: { kind: 'region-unenforced', region: instance.region } };
    if (!applying.some((rs) => rs.kind === 'lambda-global'))
      return {
        known: false,
        entries: everything(),
        basis: { kind: 'unknown', reason: "the account's global rules were not read", ruleSets: applying.map(refOf) },
      };
    // Lambda rules only allow; the union of every allow, default deny.
    const rules = applying.flatMap((rs) => inbound(rs.rules).filter((r) => r.action === 'allow'));
    return { known: true, entries: toEntries(evaluate(rules, 'deny')), basis: { kind: 'rules', ruleSets: applying.map(refOf) } };
  }
  const enabled = applying.filter((rs) => rs.enabled);
  if (enabled.length === 0) return { known: true, entries: everything(), basis: { kind: 'no-firewall', disabled: applying.map(refOf) } };
  if (enabled.length > 1)
    return {
      known: false,
      entries: everything(),
      basis: { kind: 'unknown', reason: 'more than one enabled firewall is attached', ruleSets: enabled.map(refOf) },
    };
  const fw = enabled[0]!;
  return { known: true, entries: ruleSetExposure(fw), basis: { kind: 'rules', ruleSets: [refOf(fw)] } };
}

/** Is outbound traffic filtered at all? (Lambda never filters it; no firewall filters nothing.) */
export function outboundOpen(instance: ExposureInstance, ruleSets: readonly RuleSet[]): boolean {
  if (instance.provider === 'lambda') return true;
  const enabled = ruleSetsFor(instance, ruleSets).filter((rs) => rs.enabled);
  if (enabled.length !== 1) return true;
  const fw = enabled[0]!;
  const out = toEntries(
    evaluate(
      fw.rules.filter((r) => r.direction === 'outbound'),
      fw.outboundPolicy,
    ),
  );
  return sameEntries(out, everything());
}

export function sameEntries(a: ExposureEntry[], b: ExposureEntry[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function portIn(ports: PortRange[] | null, port: number): boolean {
  return ports === null || ports.some((p) => p.from <= port && port <= p.to);
}

/** The sources (per family) that reach this protocol and port. For icmp, `port` is ignored. */
export function sourcesFor(entries: ExposureEntry[], protocol: ExposureProtocol, port: number): Record<Family, Interval[]> {
  const v4: Interval[] = [];
  const v6: Interval[] = [];
  for (const e of entries)
    if (e.protocol === protocol && (protocol === 'icmp' || portIn(e.ports, port))) {
      v4.push(...intervalsOf(e.ipv4));
      v6.push(...intervalsOf(e.ipv6));
    }
  return { 4: mergeIntervals(v4), 6: mergeIntervals(v6) };
}

/** Can every one of these addresses/CIDRs reach protocol/port? Lists the ones that cannot. */
export function unreachableFrom(entries: ExposureEntry[], protocol: ExposureProtocol, port: number, from: readonly string[]): string[] {
  const sources = sourcesFor(entries, protocol, port);
  return from.filter((c) => {
    const p = parseCidr(c);
    if (!p) return true;
    return !containsIntervals(sources[p.family], intervalsOf([p.text]));
  });
}
