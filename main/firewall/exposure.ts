// What can reach one instance, from every rule set that applies to it: a list of (protocol, ports,
// IPv4 and IPv6 sources). Computed exactly: per protocol, the ports are cut where any rule starts
// or ends, and each stretch is an interval problem over addresses (bigints, net.ts). Written back in
// a canonical form (the same traffic always gives the same entries, so two exposures compare with
// deepEqual). A full Linode firewall (25 rules of 255 addresses) takes under a second.
//
// - Lambda: the union of the allows of the global rules and the instance's attached rulesets,
//   default deny. In a region where Lambda does not enforce rules, unknown (and everything).
// - Linode: the one enabled firewall attached, first match wins over its ordered rules, the inbound
//   policy for the rest. A deny rule removes its traffic from every later rule, exactly. No enabled
//   firewall: everything is open. More than one enabled (Linode says it cannot happen): unknown.
//
// The one approximation (checked against first-match-wins packet by packet in the tests, with
// everything else): a rule for protocol 'all' that lists ports. Whether it matches ICMP
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
  subtractSorted,
  unionIntervals,
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

/** Rule.nativeProtocol, typed here too so this module does not depend on when model.ts gained it. */
type RuleMatch = Pick<Rule, 'protocol' | 'ports' | 'ipv4' | 'ipv6' | 'action'> & { nativeProtocol?: string };

/** What one rule does to one protocol: the port spans and addresses it covers, surely or maybe. */
interface Match {
  spans: [number, number][];
  addrs: Record<Family, Interval[]>;
  allow: boolean;
  /** It surely matches this traffic (so it shadows every later rule). */
  certain: boolean;
  /** It may match (so, when it allows, it counts as letting the traffic in). */
  maybe: boolean;
}

function portSpan(protocol: ExposureProtocol, ports: PortRange[] | null): [number, number][] {
  if (protocol === 'icmp') return [[0, 0]];
  return ports === null ? [[PORT_MIN, PORT_MAX]] : ports.map((p) => [p.from, p.to]);
}

function matchFor(rule: RuleMatch, protocol: ExposureProtocol, addrs: Record<Family, Interval[]>): Match | null {
  const allow = rule.action === 'allow';
  if (rule.nativeProtocol !== undefined) {
    // A protocol the model cannot name. Linode's IPENCAP is IP-in-IP: none of TCP, UDP, ICMP. One
    // not known here may match anything when it allows, and is not trusted to stop anything.
    if (rule.nativeProtocol.toUpperCase() === 'IPENCAP') return null;
    return { spans: portSpan(protocol, null), addrs, allow, certain: false, maybe: true };
  }
  if (rule.protocol !== 'all' && rule.protocol !== protocol) return null;
  // An 'all' rule that names ports may or may not match ICMP, which has none.
  const unsure = protocol === 'icmp' && rule.protocol === 'all' && rule.ports !== null;
  return { spans: portSpan(protocol, protocol === 'icmp' ? null : rule.ports), addrs, allow, certain: !unsure, maybe: true };
}

/** One stretch of ports of one protocol and the sources that reach all of it. */
interface Segment {
  p0: number;
  p1: number;
  v4: Interval[];
  v6: Interval[];
}

type Space = Record<ExposureProtocol, Segment[]>;

function union(a: Interval[], b: Interval[]): Interval[] {
  return b.length === 0 ? a : a.length === 0 ? b : unionIntervals(a, b);
}

/**
 * First match wins over `rules`, `policy` for what none matches. Swept over the ports: between
 * two consecutive rule boundaries the same rules apply, so each stretch is a 1-D problem over
 * addresses, and stretches with the same applicable rules share one answer.
 */
function evaluate(rules: RuleMatch[], policy: Action): Space {
  const space: Space = { tcp: [], udp: [], icmp: [] };
  const addrs = rules.map((r) => ({ 4: intervalsOf(r.ipv4), 6: intervalsOf(r.ipv6) }));
  for (const protocol of PROTOCOLS) {
    const matches = rules.map((r, i) => matchFor(r, protocol, addrs[i]!)).filter((m): m is Match => m !== null);
    const [[lo, hi]] = portSpan(protocol, null) as [[number, number]];
    const cuts = [...new Set([lo, hi + 1, ...matches.flatMap((m) => m.spans.flatMap(([a, b]) => [a, b + 1]))])].sort((x, y) => x - y);
    const cache = new Map<string, { v4: Interval[]; v6: Interval[] }>();
    for (let i = 0; i + 1 < cuts.length; i++) {
      const p0 = cuts[i]!;
      const p1 = cuts[i + 1]! - 1;
      const here = matches.filter((m) => m.spans.some(([a, b]) => a <= p0 && p1 <= b));
      const sig = here.map((m) => matches.indexOf(m)).join(',');
      let result = cache.get(sig);
      if (!result) {
        const allowed: Record<Family, Interval[]> = { 4: [], 6: [] };
        const decided: Record<Family, Interval[]> = { 4: [], 6: [] };
        for (const m of here)
          for (const f of FAMILIES) {
            if (m.allow && m.maybe) allowed[f] = union(allowed[f], subtractSorted(m.addrs[f], decided[f]));
            // Only what a rule surely matches shadows later rules: an uncertain deny must not hide a later allow.
            if (m.certain) decided[f] = union(decided[f], m.addrs[f]);
          }
        if (policy === 'allow') for (const f of FAMILIES) allowed[f] = union(allowed[f], subtractSorted(fullInterval(f), decided[f]));
        result = { v4: allowed[4], v6: allowed[6] };
        cache.set(sig, result);
      }
      if (result.v4.length || result.v6.length) space[protocol].push({ p0, p1, ...result });
    }
  }
  return space;
}

function everythingSpace(): Space {
  return evaluate([], 'allow');
}

/** The canonical entries for a space: adjacent stretches with equal sources joined, equal source sets grouped. */
function toEntries(space: Space): ExposureEntry[] {
  const out: ExposureEntry[] = [];
  for (const protocol of PROTOCOLS) {
    const segments: (Segment & { key: string })[] = [];
    for (const s of space[protocol]) {
      const key = [...s.v4, { start: -1n, end: -1n }, ...s.v6].map((iv) => `${iv.start}-${iv.end}`).join(',');
      const last = segments[segments.length - 1];
      if (last && last.key === key && last.p1 + 1 === s.p0) last.p1 = s.p1;
      else segments.push({ ...s, key });
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
