// How the Firewall view shows posture and rules: severity order, the finding that leads a row,
// and a rule's protocol, ports and sources as table cells.
import type { Finding, InstancePosture, PostureLevel, Rule, RuleSet, Severity } from '../../../shared/firewall';

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export function severityRank(s: Severity): number {
  const i = SEVERITY_ORDER.indexOf(s);
  return i < 0 ? SEVERITY_ORDER.length : i;
}

/** Most severe first; equal severities keep main's order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}

export function topFinding(findings: readonly Finding[]): Finding | null {
  return sortFindings(findings)[0] ?? null;
}

export const LEVEL_TONES: Record<PostureLevel, 'bad' | 'good' | 'warn'> = { exposed: 'bad', locked: 'good', unknown: 'warn' };

export const SEVERITY_TONES: Record<Severity, 'alarm' | 'bad' | 'warn' | 'neutral'> = {
  critical: 'alarm',
  high: 'bad',
  medium: 'warn',
  low: 'neutral',
  info: 'neutral',
};

const LEVEL_ORDER: Record<PostureLevel, number> = { exposed: 0, unknown: 1, locked: 2 };

/** Exposed first, then unknown, then locked; by account and name within each. */
export function sortPostures(list: readonly InstancePosture[]): InstancePosture[] {
  return [...list].sort(
    (a, b) =>
      LEVEL_ORDER[a.posture.level] - LEVEL_ORDER[b.posture.level] ||
      a.instance.account.localeCompare(b.instance.account) ||
      a.instance.name.localeCompare(b.instance.name),
  );
}

export function postureKey(p: Pick<InstancePosture, 'instance'>): string {
  return `${p.instance.account}/${p.instance.id}`;
}

export function protocolText(rule: Pick<Rule, 'protocol' | 'nativeProtocol'>): string {
  return rule.nativeProtocol ?? rule.protocol;
}

export function portsText(rule: Pick<Rule, 'protocol' | 'ports'>): string {
  if (rule.protocol === 'icmp') return '-';
  if (rule.ports === null) return 'all';
  return rule.ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(', ');
}

const WORLD = new Set(['0.0.0.0/0', '::/0']);

/** Each source, with "anywhere" spelled out for the whole-internet networks. */
export function sourceItems(rule: Pick<Rule, 'ipv4' | 'ipv6'>): { text: string; world: boolean }[] {
  return [...rule.ipv4, ...rule.ipv6].map((s) => ({ text: WORLD.has(s) ? `${s} (anywhere)` : s, world: WORLD.has(s) }));
}

export const RULESET_KINDS: Record<RuleSet['kind'], string> = {
  'lambda-global': 'Lambda account-wide rules',
  'lambda-ruleset': 'Lambda regional ruleset',
  'linode-firewall': 'Linode firewall',
};

export function policyText(policy: 'allow' | 'deny'): string {
  return policy === 'deny' ? 'Everything else: denied' : 'Everything else: allowed';
}

/** Rules of one direction, in the order the provider evaluates them. */
export function rulesOf(ruleSet: Pick<RuleSet, 'rules'>, direction: Rule['direction']): Rule[] {
  return ruleSet.rules.filter((r) => r.direction === direction);
}

/** "2 exposed", for the status bar. */
export function exposedText(count: number): string {
  return `${count} exposed`;
}
