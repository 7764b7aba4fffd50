// One instance's firewall posture: locked, exposed or unknown, and the findings behind it, each
// with a sentence a non-expert understands and one that says what to do.
//
// Where the lines are drawn (Moat's decisions, tested in test/firewall-posture.test.ts):
// - "Open to the world" means a port reachable from more than a /8's worth of IPv4 addresses
//   (2^24) or more than a /32's worth of IPv6 addresses (2^96), counted over the exact exposure,
//   so 0.0.0.0/1 + 128.0.0.0/1, or 0.0.0.0/0 minus 10.0.0.0/8, is still the world. A /8 or
//   narrower counts as a named source (10.0.0.0/8 is a common private range).
// - Sources broader than a /16 (IPv4) or a /48 (IPv6) but not the world are a medium finding
//   (broad-source); they do not stop the instance being locked.
// - Locked: the rules in force are known, and no TCP or UDP port is open to the world (which also
//   means the inbound default is deny: an ACCEPT policy opens every port). ICMP from anywhere is a
//   low finding but not a port, so it does not make an instance exposed.
// - Exposed: some TCP or UDP port is open to the world, or a Linode has no enabled firewall.
// - Unknown: the rules could not be read, Lambda does not enforce them in the region, or a Linode
//   has more than one enabled firewall.
// - When every port of a protocol is open (or there is no firewall), that one finding replaces the
//   per-port ones, which would only repeat it.
import type { ProviderKind } from '../providers/provider';
import { computeExposure, everything, outboundOpen, ruleSetExposure, ruleSetsFor, type Exposure, type ExposureEntry } from './exposure';
import type { PortRange, RuleSet, RuleSetRef } from './model';
import { intervalsOf, intervalsSize, subtractIntervals } from './net';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type FindingId =
  | 'rules-unreadable'
  | 'region-unenforced'
  | 'several-firewalls'
  | 'no-firewall'
  | 'firewall-disabled'
  | 'all-ports-world'
  | 'ssh-world'
  | 'service-world'
  | 'broad-source'
  | 'icmp-world'
  | 'drift'
  | 'lambda-account-wide'
  | 'outbound-open';

export interface Finding {
  id: FindingId;
  severity: Severity;
  message: string;
  fix: string;
  port?: number;
  ruleSet?: RuleSetRef;
}

export type PostureLevel = 'locked' | 'exposed' | 'unknown';

export interface Posture {
  level: PostureLevel;
  findings: Finding[];
  exposure: Exposure;
  outbound: 'open' | 'restricted';
}

export interface PostureInstance {
  id: string;
  name?: string;
  provider: ProviderKind;
  region: string;
}

export interface PostureInput {
  instance: PostureInstance;
  /** The account's rule sets (all of them; those that apply to the instance are picked here). */
  ruleSets: readonly RuleSet[];
  /** The rules could not be read: the reason, shown as is. */
  readError?: string;
  /** Rule sets changed outside Moat since Moat last applied them (AppliedRules.drifted()). */
  drifted?: ReadonlyArray<RuleSetRef | { ref: RuleSetRef }>;
  /** Every instance of the account; for Lambda's account-wide rules. Defaults to the global rules' appliesTo. */
  accountInstances?: ReadonlyArray<{ id: string; name: string }>;
}

export const WORLD_V4 = 1n << 24n;
export const WORLD_V6 = 1n << 96n;
export const BROAD_V4 = 1n << 16n;
export const BROAD_V6 = 1n << 80n;

/** Ports that get their own finding, with what usually listens there. */
export const SERVICE_PORTS: Record<number, { what: string; severity: Severity }> = {
  3000: { what: 'a chat UI such as Open WebUI, which usually has no login', severity: 'critical' },
  8000: { what: 'an OpenAI-compatible API such as vLLM, which usually needs no key', severity: 'critical' },
  8888: { what: 'Jupyter, which runs any code for whoever has its token, at best', severity: 'critical' },
  80: { what: 'a web server (HTTP)', severity: 'medium' },
  443: { what: 'a web server (HTTPS)', severity: 'medium' },
};

/**
 * Address space no one on the internet sends from: private (RFC 1918, unique-local), loopback,
 * link-local, shared (CGNAT) and unspecified. Left out when deciding "open to the world", so that
 * 10.0.0.0/8 plus one's own address is a named source, not the world. (Such sources can still be
 * broad: another tenant on a provider's private network; the broad-source finding says so.)
 */
const NON_INTERNET_V4 = intervalsOf([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
]);
const NON_INTERNET_V6 = intervalsOf(['::/127', 'fc00::/7', 'fe80::/10']);

export function isWorld(e: Pick<ExposureEntry, 'ipv4' | 'ipv6'>): boolean {
  return (
    intervalsSize(subtractIntervals(intervalsOf(e.ipv4), NON_INTERNET_V4)) > WORLD_V4 ||
    intervalsSize(subtractIntervals(intervalsOf(e.ipv6), NON_INTERNET_V6)) > WORLD_V6
  );
}

function isBroad(e: ExposureEntry): boolean {
  return intervalsSize(intervalsOf(e.ipv4)) > BROAD_V4 || intervalsSize(intervalsOf(e.ipv6)) > BROAD_V6;
}

function portText(ranges: PortRange[]): string {
  const parts = ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`));
  return parts.length === 1 ? `port ${parts[0]}` : `ports ${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function refOf(rs: RuleSetRef): RuleSetRef {
  return { provider: rs.provider, account: rs.account, kind: rs.kind, id: rs.id };
}

function sameRef(a: RuleSetRef, b: RuleSetRef): boolean {
  return a.provider === b.provider && a.account === b.account && a.kind === b.kind && a.id === b.id;
}

const LOCK = 'run "moat firewall lock" (or the Firewall view) to allow only what you need, from your own address';

export function computePosture(input: PostureInput): Posture {
  const { instance } = input;
  const applying = ruleSetsFor(instance, input.ruleSets);
  const findings: Finding[] = [];
  const outbound: Posture['outbound'] = input.readError || outboundOpen(instance, input.ruleSets) ? 'open' : 'restricted';

  if (input.readError) {
    findings.push({
      id: 'rules-unreadable',
      severity: 'high',
      message: `Moat could not read the firewall rules, so it cannot tell what can reach this instance (${input.readError}).`,
      fix: 'Check the account key or token and its firewall permission, then refresh.',
    });
    return finish(
      'unknown',
      findings,
      { known: false, entries: everything(), basis: { kind: 'unknown', reason: input.readError, ruleSets: [] } },
      outbound,
    );
  }

  const exposure = computeExposure(instance, input.ruleSets);
  let level: PostureLevel = 'locked';
  const basis = exposure.basis;

  if (basis.kind === 'region-unenforced') {
    level = 'unknown';
    findings.push({
      id: 'region-unenforced',
      severity: 'high',
      message: `Lambda does not enforce firewall rules in ${basis.region}, so every port of this instance may be reachable from anywhere.`,
      fix: 'Keep services bound to localhost and reach them through an SSH tunnel, or launch in another region.',
    });
  } else if (basis.kind === 'unknown') {
    level = 'unknown';
    findings.push({
      id: basis.reason.startsWith('more than one') ? 'several-firewalls' : 'rules-unreadable',
      severity: 'medium',
      message: `Moat cannot tell which rules protect this instance: ${basis.reason}.`,
      fix: basis.reason.startsWith('more than one')
        ? 'Disable or detach all but one firewall on this Linode.'
        : 'Refresh; if it persists, check the account key and its permissions.',
      ...(basis.ruleSets[0] ? { ruleSet: basis.ruleSets[0] } : {}),
    });
  } else if (basis.kind === 'no-firewall') {
    level = 'exposed';
    if (basis.disabled.length)
      findings.push({
        id: 'firewall-disabled',
        severity: 'critical',
        message: 'The firewall attached to this Linode is disabled, so every port is open to the whole internet.',
        fix: `Enable the firewall, or ${LOCK}.`,
        ruleSet: basis.disabled[0],
      });
    else
      findings.push({
        id: 'no-firewall',
        severity: 'critical',
        message: 'This Linode has no firewall, so every port is open to the whole internet.',
        fix: `${LOCK[0]!.toUpperCase()}${LOCK.slice(1)}; Moat creates a firewall for it.`,
      });
  } else {
    if (portFindings(exposure.entries, applying, findings)) level = 'exposed';
  }

  // Findings that do not depend on knowing the exposure.
  const drifted = (input.drifted ?? []).map((d) => ('ref' in d ? d.ref : d));
  for (const rs of applying)
    if (drifted.some((d) => sameRef(d, rs)))
      findings.push({
        id: 'drift',
        severity: 'medium',
        message: `The rules of "${rs.label || rs.id}" were changed outside Moat since Moat last set them.`,
        fix: 'Review the changes in the Firewall view, then keep them or lock again.',
        ruleSet: refOf(rs),
      });

  if (instance.provider === 'lambda') {
    const global = applying.find((rs) => rs.kind === 'lambda-global');
    const others = (input.accountInstances ?? (global?.appliesTo ?? []).map((id) => ({ id, name: id }))).filter(
      (i) => i.id !== instance.id,
    );
    if (global && others.length) {
      const globalWorld = ruleSetExposure(global).some((e) => e.protocol !== 'icmp' && isWorld(e));
      const names = others.map((o) => o.name).slice(0, 5);
      const more = others.length > names.length ? ` and ${others.length - names.length} more` : '';
      findings.push({
        id: 'lambda-account-wide',
        severity: globalWorld ? 'medium' : 'info',
        message: `Lambda's global firewall rules also apply to the account's ${others.length} other instance${others.length === 1 ? '' : 's'} (${names.join(', ')}${more}), so changing them changes those too.`,
        fix: 'Lock with every instance of the account in mind, or move instance-specific allows to a regional ruleset.',
        ruleSet: refOf(global),
      });
    }
  }

  if (outbound === 'open')
    findings.push({
      id: 'outbound-open',
      severity: 'info',
      message:
        instance.provider === 'lambda'
          ? 'Lambda does not filter outbound traffic, so code on this instance can connect anywhere.'
          : 'Outbound traffic is not filtered, so code on this instance can connect anywhere.',
      fix:
        instance.provider === 'lambda'
          ? 'Run untrusted code in a Moat sandbox, whose egress policy limits where it can connect.'
          : "Run untrusted code in a Moat sandbox, or set the firewall's outbound policy to drop with rules for what it needs.",
    });

  return finish(level, findings, exposure, outbound);
}

/** Adds the per-port findings; true when a TCP or UDP port is open to the world. */
function portFindings(entries: ExposureEntry[], applying: RuleSet[], findings: Finding[]): boolean {
  // The rule set that opens a port to the world (Lambda: the first of the union that does).
  const perSet = new Map<RuleSet, ExposureEntry[]>();
  const exposureOf = (r: RuleSet) => perSet.get(r) ?? perSet.set(r, ruleSetExposure(r)).get(r)!;
  const culprit = (protocol: 'tcp' | 'udp' | 'icmp', port: number): RuleSetRef | undefined => {
    const rs = applying.find((r) =>
      exposureOf(r).some(
        (e) => e.protocol === protocol && isWorld(e) && (e.ports === null || e.ports.some((p) => p.from <= port && port <= p.to)),
      ),
    );
    return rs && refOf(rs);
  };
  const withRef = (f: Finding, protocol: 'tcp' | 'udp' | 'icmp', port: number): Finding => {
    const ref = culprit(protocol, port);
    return ref ? { ...f, ruleSet: ref } : f;
  };
  let exposed = false;
  for (const protocol of ['tcp', 'udp'] as const) {
    const P = protocol.toUpperCase();
    const world = entries.filter((e) => e.protocol === protocol && isWorld(e));
    if (world.length) exposed = true;
    if (world.some((e) => e.ports === null)) {
      findings.push(
        withRef(
          {
            id: 'all-ports-world',
            severity: 'critical',
            message: `Every ${P} port of this instance is open to the whole internet, so anything listening on it can be reached by anyone.`,
            fix: `${LOCK[0]!.toUpperCase()}${LOCK.slice(1)}.`,
          },
          protocol,
          1,
        ),
      );
      continue;
    }
    const ranges = world.flatMap((e) => e.ports ?? []).sort((a, b) => a.from - b.from);
    const rest: PortRange[] = [];
    for (const r of ranges) {
      let from = r.from;
      const named = (protocol === 'tcp' ? [22, ...Object.keys(SERVICE_PORTS).map(Number)] : [])
        .filter((p) => r.from <= p && p <= r.to)
        .sort((a, b) => a - b);
      for (const port of named) {
        if (from < port) rest.push({ from, to: port - 1 });
        from = port + 1;
        if (port === 22) {
          findings.push(
            withRef(
              {
                id: 'ssh-world',
                severity: 'high',
                message: 'SSH (port 22) accepts connections from the whole internet, so anyone can try to log in.',
                fix: 'Allow port 22 only from the addresses you connect from: moat firewall lock --allow ssh --from me.',
                port,
              },
              protocol,
              port,
            ),
          );
        } else {
          const s = SERVICE_PORTS[port]!;
          findings.push(
            withRef(
              {
                id: 'service-world',
                severity: s.severity,
                message: `Port ${port} is open to the whole internet; it usually serves ${s.what}, so anyone could use it.`,
                fix: `Allow port ${port} only from your own address, or reach it through an SSH tunnel instead.`,
                port,
              },
              protocol,
              port,
            ),
          );
        }
      }
      if (from <= r.to) rest.push({ from, to: r.to });
    }
    if (rest.length)
      findings.push(
        withRef(
          {
            id: 'service-world',
            severity: 'high',
            message: `${P} ${portText(rest)} ${rest.length === 1 && rest[0]!.from === rest[0]!.to ? 'is' : 'are'} open to the whole internet, so any service listening there can be reached by anyone.`,
            fix: 'Allow these ports only from the addresses that need them, or close them.',
            port: rest[0]!.from,
          },
          protocol,
          rest[0]!.from,
        ),
      );
  }
  for (const e of entries) {
    if (e.protocol === 'icmp' && isWorld(e))
      findings.push(
        withRef(
          {
            id: 'icmp-world',
            severity: 'low',
            message: 'Anyone on the internet can ping this instance, which tells them it is there.',
            fix: 'Leave ICMP out of the allows (Moat drops it when it locks) unless you need ping.',
          },
          'icmp',
          0,
        ),
      );
    else if (!isWorld(e) && isBroad(e)) {
      const port = e.ports?.[0]?.from;
      findings.push({
        id: 'broad-source',
        severity: 'medium',
        message: `${e.protocol.toUpperCase()} ${e.ports ? portText(e.ports) : 'traffic'} is open to a very large range of addresses (${[...e.ipv4, ...e.ipv6].slice(0, 3).join(', ')}).`,
        fix: 'Narrow the source to the addresses that need it.',
        ...(port !== undefined ? { port } : {}),
      });
    }
  }
  return exposed;
}

function finish(level: PostureLevel, findings: Finding[], exposure: Exposure, outbound: Posture['outbound']): Posture {
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  // Stable: within a severity, the order they were found in (ports ascending).
  const sorted = findings.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f.severity) - rank(b.f.severity) || a.i - b.i);
  return { level, findings: sorted.map((x) => x.f), exposure, outbound };
}
