// The lock wizard's plan: from the account's rule sets and what the user allows, the steps that
// make one instance "deny all inbound except what I allow, from where I allow it", with a diff per
// rule set, the posture before and after (computed on a copy with the steps applied), who else it
// touches, and warnings. Nothing here talks to a provider; apply.ts carries a plan out.
//
// - Lambda: the allows are a union over the global rules and the instance's rulesets, so anything
//   left open anywhere stays open. The global rules become exactly the allows, and every ruleset
//   attached to the instance is emptied (the allows live in one place; emptying them changes
//   nothing for other instances, which get the same allows from the global rules). The global
//   rules apply to every instance of the account: they are all in `affects`.
//   Lambda is IPv4 only: IPv6 sources are dropped with a warning.
// - Linode: an enabled attached firewall gets inbound deny + the allows (its outbound policy and
//   rules kept); with only disabled ones, the one shared with the fewest other Linodes gets the same
//   and is enabled; with none, `moat-<name>` is created (inbound deny, outbound allow) and attached.
// - Anything not allowed is dropped, ICMP included (said in the diff's notes).
// - A rule set whose content would not change gets no step.
import type { ProviderKind } from '../providers/provider';
import { sourcesFor, unreachableFrom } from './exposure';
import {
  LAMBDA_UNENFORCED_REGIONS,
  type NewRuleSet,
  type PortRange,
  type Rule,
  type RuleProblem,
  type RuleSet,
  type RuleSetContent,
  type RuleSetRef,
} from './model';
import { parseCidr } from './net';
import { computePosture, type Posture } from './posture';
import { checkLimits, linodeSplit, type AllowSpec } from './validate';

export interface PlanInstance {
  id: string;
  name: string;
  account: string;
  provider: ProviderKind;
  region: string;
}

export type StepKind = 'replace' | 'create' | 'attach' | 'enable' | 'disable' | 'detach';

export interface Step {
  kind: StepKind;
  /** The rule set; null for one this plan creates (then `created` is the index of its create step). */
  ref: RuleSetRef | null;
  created?: number;
  /** create: what to create. */
  spec?: NewRuleSet;
  /** attach, detach: the instance. */
  instanceId?: string;
  /** The content before this step (null for create) and after it. */
  before: RuleSetContent | null;
  after: RuleSetContent;
  /** One sentence, for the plan view and the audit log. */
  description: string;
}

export type DiffMark = 'added' | 'removed' | 'kept';

export interface RuleSetDiff {
  ref: RuleSetRef | null;
  label: string;
  created: boolean;
  policies: {
    before: Pick<RuleSetContent, 'inboundPolicy' | 'outboundPolicy'> | null;
    after: Pick<RuleSetContent, 'inboundPolicy' | 'outboundPolicy'>;
  };
  /** In order: for Lambda one row per port range per source, as Lambda stores them. */
  rows: { mark: DiffMark; rule: Rule }[];
  notes: string[];
}

export type WarningId =
  | 'ssh-lockout'
  | 'moat-lockout'
  | 'affects-others'
  | 'region-unenforced'
  | 'ipv6-ignored'
  | 'several-firewalls'
  | 'missing-global'
  | 'enable-refused';

export interface PlanWarning {
  id: WarningId;
  message: string;
}

/** An existing rule set the plan touches, as it was read when the plan was made. */
export interface Touched {
  ref: RuleSetRef;
  version: string;
  enabled: boolean;
  content: RuleSetContent;
}

export interface Plan {
  instance: PlanInstance;
  madeAt: number;
  steps: Step[];
  diffs: RuleSetDiff[];
  postureBefore: Posture;
  postureAfter: Posture;
  affects: { id: string; name: string }[];
  warnings: PlanWarning[];
  /** Provider limits the planned rules break; a plan with problems cannot be applied. */
  problems: { label: string; problems: RuleProblem[] }[];
  touched: Touched[];
  /** The rule sets that applied to the instance when planned (apply checks none appeared since). */
  applying: RuleSetRef[];
}

export interface LockInput {
  instance: PlanInstance;
  /** All of the account's rule sets. */
  ruleSets: RuleSet[];
  allows: AllowSpec[];
  accountInstances: { id: string; name: string }[];
  protect: {
    /** Addresses (or CIDRs) the user connects from with SSH. */
    sshFrom: string[];
    /** Addresses Moat itself connects from (SSH, tunnels). */
    moatFrom: string[];
  };
  drifted?: ReadonlyArray<RuleSetRef | { ref: RuleSetRef }>;
  now?: number;
}

export function refOf(rs: RuleSetRef): RuleSetRef {
  return { provider: rs.provider, account: rs.account, kind: rs.kind, id: rs.id };
}

export function sameRef(a: RuleSetRef, b: RuleSetRef): boolean {
  return a.provider === b.provider && a.account === b.account && a.kind === b.kind && a.id === b.id;
}

export function contentOf(rs: RuleSetContent): RuleSetContent {
  return { inboundPolicy: rs.inboundPolicy, outboundPolicy: rs.outboundPolicy, rules: rs.rules.map((r) => ({ ...r })) };
}

// ---- comparing rules by what they match (labels are for people and are ignored) ----

function normPorts(protocol: Rule['protocol'], ports: PortRange[] | null): PortRange[] | null {
  if (protocol === 'icmp' || ports === null) return null;
  const sorted = [...ports].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.from <= last.to + 1) last.to = Math.max(last.to, p.to);
    else out.push({ ...p });
  }
  return out.length === 1 && out[0]!.from === 1 && out[0]!.to === 65535 ? null : out;
}

function normCidrs(list: string[]): string[] {
  return [...new Set(list.map((c) => parseCidr(c)?.text ?? c))].sort();
}

export function ruleKey(r: Rule & { nativeProtocol?: string }): string {
  return JSON.stringify([
    r.direction,
    r.action,
    r.protocol,
    r.nativeProtocol ?? null,
    normPorts(r.protocol, r.ports),
    normCidrs(r.ipv4),
    normCidrs(r.ipv6),
  ]);
}

/** Lambda stores one rule per port range per source: the rules as it would list them. */
export function lambdaAtoms(rules: Rule[]): Rule[] {
  return rules.flatMap((r) =>
    (normPorts(r.protocol, r.ports) ?? [null]).flatMap((p) =>
      normCidrs(r.ipv4).map((src) => ({ ...r, ports: p ? [p] : null, ipv4: [src], ipv6: [] })),
    ),
  );
}

/**
 * The same traffic decisions? Lambda: the same set of allows (order and grouping do not matter,
 * it is a union). Linode: the same policies and, per direction, the same rules in the same order.
 */
export function sameContent(provider: ProviderKind, a: RuleSetContent, b: RuleSetContent): boolean {
  if (a.inboundPolicy !== b.inboundPolicy || a.outboundPolicy !== b.outboundPolicy) return false;
  if (provider === 'lambda') {
    const keys = (c: RuleSetContent) => [...new Set(lambdaAtoms(c.rules).map(ruleKey))].sort().join('\n');
    return keys(a) === keys(b);
  }
  // Linode writes a rule for every protocol as one per protocol, and reads those back.
  const seq = (c: RuleSetContent, d: Rule['direction']) =>
    c.rules
      .filter((r) => r.direction === d)
      .flatMap(linodeSplit)
      .map(ruleKey)
      .join('\n');
  return seq(a, 'inbound') === seq(b, 'inbound') && seq(a, 'outbound') === seq(b, 'outbound');
}

/** Ordered diff (longest common subsequence by ruleKey). */
export function diffRules(before: Rule[], after: Rule[]): { mark: DiffMark; rule: Rule }[] {
  const a = before.map(ruleKey);
  const b = after.map(ruleKey);
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const rows: { mark: DiffMark; rule: Rule }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      rows.push({ mark: 'kept', rule: after[j]! });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) rows.push({ mark: 'added', rule: after[j++]! });
    else rows.push({ mark: 'removed', rule: before[i++]! });
  }
  return rows;
}

// ---- building the target rules ----

function allowsToRules(allows: AllowSpec[], provider: ProviderKind): Rule[] {
  return allows
    .map((a) => ({
      direction: 'inbound' as const,
      action: 'allow' as const,
      protocol: a.protocol,
      ports: a.protocol === 'icmp' ? null : a.ports,
      ipv4: [...a.ipv4],
      ipv6: provider === 'lambda' ? [] : [...a.ipv6],
      label: a.label,
    }))
    .filter((r) => r.ipv4.length + r.ipv6.length > 0);
}

/** Linode firewall labels: 3-32 of letters, digits, - _ . ; alphanumeric at both ends; no doubled separators; unique. */
export function firewallLabel(instanceName: string, taken: readonly string[]): string {
  const clean = (s: string) =>
    s
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/[-_.]{2,}/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .replace(/[^A-Za-z0-9]+$/, '');
  let base = clean(`moat-${instanceName}`).slice(0, 32);
  base = clean(base);
  if (base.length < 3) base = 'moat-fw';
  const used = new Set(taken.map((t) => t.toLowerCase()));
  if (!used.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const label = `${clean(base.slice(0, 32 - suffix.length))}${suffix}`;
    if (!used.has(label.toLowerCase())) return label;
  }
}

function describeRule(r: Rule & { nativeProtocol?: string }): string {
  const ports =
    r.protocol === 'icmp'
      ? ''
      : r.ports
        ? ` ${r.ports.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)).join(',')}`
        : ' (every port)';
  return `${(r.nativeProtocol ?? r.protocol).toUpperCase()}${ports} from ${[...r.ipv4, ...r.ipv6].join(', ')}`;
}

// ---- the plan ----

export function planLock(input: LockInput): Plan {
  const { instance } = input;
  const account = input.ruleSets.filter((rs) => rs.provider === instance.provider && rs.account === instance.account);
  const steps: Step[] = [];
  const warnings: PlanWarning[] = [];
  const touched: Touched[] = [];
  const affects = new Map<string, string>();
  const nameOf = (id: string) => input.accountInstances.find((i) => i.id === id)?.name ?? id;
  const touch = (rs: RuleSet) => {
    if (!touched.some((t) => sameRef(t.ref, rs)))
      touched.push({ ref: refOf(rs), version: rs.version, enabled: rs.enabled, content: contentOf(rs) });
    for (const id of rs.kind === 'lambda-global' ? input.accountInstances.map((i) => i.id) : rs.appliesTo)
      if (id !== instance.id) affects.set(id, nameOf(id));
  };
  const replace = (rs: RuleSet, after: RuleSetContent, why: string) => {
    if (sameContent(instance.provider, contentOf(rs), after)) return;
    touch(rs);
    steps.push({
      kind: 'replace',
      ref: refOf(rs),
      before: contentOf(rs),
      after,
      description: `Replace the rules of "${rs.label || rs.id}": ${why}.`,
    });
  };
  const applying = account.filter((rs) => rs.kind === 'lambda-global' || rs.appliesTo.includes(instance.id));

  const allows = allowsToRules(input.allows, instance.provider);
  if (instance.provider === 'lambda') {
    const v6 = input.allows.filter((a) => a.ipv6.length);
    if (v6.length)
      warnings.push({
        id: 'ipv6-ignored',
        message: `Lambda firewalls are IPv4 only, so the IPv6 sources (${[...new Set(v6.flatMap((a) => a.ipv6))].join(', ')}) are left out${
          allows.length < input.allows.length ? ', and allows with only IPv6 sources are dropped' : ''
        }.`,
      });
    if (LAMBDA_UNENFORCED_REGIONS.includes(instance.region))
      warnings.push({
        id: 'region-unenforced',
        message: `Lambda does not enforce firewall rules in ${instance.region}: this plan changes the account's rules but leaves this instance as open as before.`,
      });
    const target: RuleSetContent = { inboundPolicy: 'deny', outboundPolicy: 'allow', rules: allows };
    const global = account.find((rs) => rs.kind === 'lambda-global');
    if (!global)
      warnings.push({
        id: 'missing-global',
        message: "The account's global rules were not read, so the plan cannot change them; refresh and plan again.",
      });
    else replace(global, target, 'only what you allow, for every instance of the account');
    for (const rs of applying.filter((r) => r.kind === 'lambda-ruleset'))
      replace(rs, { inboundPolicy: 'deny', outboundPolicy: 'allow', rules: [] }, 'emptied, since the global rules now hold the allows');
  } else {
    const attached = applying.filter((rs) => rs.kind === 'linode-firewall');
    const enabled = attached.filter((rs) => rs.enabled);
    const target = (fw: RuleSet | null): RuleSetContent => ({
      inboundPolicy: 'deny',
      outboundPolicy: fw ? fw.outboundPolicy : 'allow',
      rules: [...allows, ...(fw ? fw.rules.filter((r) => r.direction === 'outbound') : [])],
    });
    if (enabled.length > 1)
      warnings.push({
        id: 'several-firewalls',
        message: `This Linode has ${enabled.length} enabled firewalls, which Linode should not allow; the plan sets the same rules on each of them.`,
      });
    if (enabled.length) for (const fw of enabled) replace(fw, target(fw), 'deny inbound except what you allow; outbound kept as it is');
    else if (attached.length) {
      // Linode refuses to enable a firewall on a Linode that already has an enabled one: prefer a
      // firewall none of whose other Linodes has one, then the one shared with the fewest.
      const clashes = (fw: RuleSet) =>
        fw.appliesTo.filter((id) => id !== instance.id && account.some((o) => o !== fw && o.enabled && o.appliesTo.includes(id)));
      const fw = [...attached].sort((a, b) => clashes(a).length - clashes(b).length || a.appliesTo.length - b.appliesTo.length)[0]!;
      if (clashes(fw).length)
        warnings.push({
          id: 'enable-refused',
          message: `Enabling "${fw.label || fw.id}" will likely be refused: it is also attached to ${clashes(fw)
            .map(nameOf)
            .join(
              ', ',
            )}, which already ${clashes(fw).length === 1 ? 'has' : 'have'} an enabled firewall. Detach it from ${clashes(fw).length === 1 ? 'that Linode' : 'those'} first.`,
        });
      replace(fw, target(fw), 'deny inbound except what you allow; outbound kept as it is');
      touch(fw);
      steps.push({
        kind: 'enable',
        ref: refOf(fw),
        before: target(fw),
        after: target(fw),
        description: `Enable the firewall "${fw.label || fw.id}", which is attached but disabled.`,
      });
    } else {
      const spec: NewRuleSet = {
        label: firewallLabel(
          instance.name,
          account.map((rs) => rs.label),
        ),
        ...target(null),
      };
      steps.push({
        kind: 'create',
        ref: null,
        spec,
        before: null,
        after: target(null),
        description: `Create the firewall "${spec.label}".`,
      });
      steps.push({
        kind: 'attach',
        ref: null,
        created: steps.length - 1,
        instanceId: instance.id,
        before: target(null),
        after: target(null),
        description: `Attach "${spec.label}" to ${instance.name}.`,
      });
    }
  }

  // The plan applied to a copy, for the posture after.
  const after = simulate(account, steps, instance);
  const postureInput = { instance, accountInstances: input.accountInstances };
  const postureBefore = computePosture({ ...postureInput, ruleSets: account, ...(input.drifted ? { drifted: input.drifted } : {}) });
  const postureAfter = computePosture({ ...postureInput, ruleSets: after });

  const diffs = buildDiffs(instance.provider, account, steps, input.allows);
  const others = [...affects].map(([id, name]) => ({ id, name }));
  if (others.length) {
    const removed = diffs.flatMap((d) => d.rows.filter((r) => r.mark === 'removed').map((r) => describeRule(r.rule)));
    warnings.push({
      id: 'affects-others',
      message: `This also changes the firewall of ${others.length} other instance${others.length === 1 ? '' : 's'} (${others.map((o) => o.name).join(', ')})${
        removed.length ? `, which lose ${[...new Set(removed)].join('; ')} too` : ''
      }.`,
    });
  }
  lockoutWarnings(input, postureAfter, warnings);

  const problems = steps
    .filter((s) => s.kind === 'replace' || s.kind === 'create')
    .map((s) => ({ label: s.spec?.label ?? labelOf(account, s.ref), problems: checkLimits(instance.provider, s.after) }))
    .filter((p) => p.problems.length);

  return {
    instance,
    madeAt: input.now ?? Date.now(),
    steps,
    diffs,
    postureBefore,
    postureAfter,
    affects: others,
    warnings,
    problems,
    touched,
    applying: applying.map(refOf),
  };
}

function labelOf(sets: RuleSet[], ref: RuleSetRef | null): string {
  const rs = ref && sets.find((s) => sameRef(s, ref));
  return rs ? rs.label || rs.id : '(new)';
}

/** The account's rule sets with the steps applied, as the provider would hold them. */
export function simulate(sets: RuleSet[], steps: Step[], instance: PlanInstance): RuleSet[] {
  const copy: RuleSet[] = sets.map((rs) => ({ ...rs, rules: rs.rules.map((r) => ({ ...r })), appliesTo: [...rs.appliesTo] }));
  const created: RuleSet[] = [];
  steps.forEach((s, i) => {
    const target = s.ref ? copy.find((rs) => sameRef(rs, s.ref!)) : created[s.created ?? -1];
    switch (s.kind) {
      case 'create': {
        const rs: RuleSet = {
          provider: instance.provider,
          account: instance.account,
          kind: instance.provider === 'lambda' ? 'lambda-ruleset' : 'linode-firewall',
          id: `planned-${i}`,
          label: s.spec!.label,
          enabled: true,
          ...contentOf(s.after),
          version: '',
          ...(s.spec!.region ? { region: s.spec!.region } : {}),
          appliesTo: [...(s.spec!.attachTo ?? [])],
        };
        created[i] = rs;
        copy.push(rs);
        break;
      }
      case 'replace':
        if (target) Object.assign(target, contentOf(s.after));
        break;
      case 'attach':
        if (target && !target.appliesTo.includes(s.instanceId!)) target.appliesTo.push(s.instanceId!);
        break;
      case 'detach':
        if (target) target.appliesTo = target.appliesTo.filter((id) => id !== s.instanceId);
        break;
      case 'enable':
      case 'disable':
        if (target) target.enabled = s.kind === 'enable';
        break;
    }
  });
  return copy;
}

function buildDiffs(provider: ProviderKind, sets: RuleSet[], steps: Step[], allows: AllowSpec[]): RuleSetDiff[] {
  const diffs: RuleSetDiff[] = [];
  const icmpAllowed = allows.some((a) => a.protocol === 'icmp');
  for (const s of steps) {
    if (s.kind !== 'replace' && s.kind !== 'create') continue;
    const before = s.before?.rules ?? [];
    const rows = provider === 'lambda' ? diffRules(lambdaAtoms(before), lambdaAtoms(s.after.rules)) : diffRules(before, s.after.rules);
    const notes: string[] = [];
    const droppedIcmp = rows.filter((r) => r.mark === 'removed' && r.rule.direction === 'inbound' && r.rule.protocol === 'icmp');
    if (droppedIcmp.length && !icmpAllowed)
      notes.push(
        `ICMP (ping) from ${[...new Set(droppedIcmp.flatMap((r) => [...r.rule.ipv4, ...r.rule.ipv6]))].join(', ')} is removed because it is not among your allows; add "icmp" to keep it.`,
      );
    const removedOther = rows.filter((r) => r.mark === 'removed' && r.rule.direction === 'inbound' && r.rule.protocol !== 'icmp');
    if (removedOther.length)
      notes.push(
        `${removedOther.length} other inbound rule${removedOther.length === 1 ? ' is' : 's are'} removed because they are not among your allows.`,
      );
    if (s.before && s.before.inboundPolicy !== s.after.inboundPolicy)
      notes.push(
        `Inbound traffic that no rule allows is now dropped (it was ${s.before.inboundPolicy === 'allow' ? 'accepted' : 'dropped'}).`,
      );
    diffs.push({
      ref: s.ref,
      label: s.spec?.label ?? labelOf(sets, s.ref),
      created: s.kind === 'create',
      policies: {
        before: s.before ? { inboundPolicy: s.before.inboundPolicy, outboundPolicy: s.before.outboundPolicy } : null,
        after: { inboundPolicy: s.after.inboundPolicy, outboundPolicy: s.after.outboundPolicy },
      },
      rows,
      notes,
    });
  }
  return diffs;
}

function lockoutWarnings(input: LockInput, after: Posture, warnings: PlanWarning[]): void {
  const entries = after.exposure.entries;
  // A Lambda instance has no IPv6 address, so nobody reaches it over IPv6 anyway.
  const relevant = (list: string[]) => (input.instance.provider === 'lambda' ? list.filter((a) => parseCidr(a)?.family !== 6) : list);
  const ssh = relevant(input.protect.sshFrom);
  const sshSources = sourcesFor(entries, 'tcp', 22);
  if (ssh.length === 0 && sshSources[4].length === 0 && sshSources[6].length === 0)
    warnings.push({ id: 'ssh-lockout', message: 'After this change nobody can connect with SSH (port 22 is not allowed from anywhere).' });
  else {
    const cut = unreachableFrom(entries, 'tcp', 22, ssh);
    if (cut.length)
      warnings.push({
        id: 'ssh-lockout',
        message: `After this change you cannot connect with SSH from ${cut.join(', ')}; allow ssh from ${cut.length === 1 ? 'it' : 'them'} to keep access.`,
      });
  }
  const moatCut = unreachableFrom(entries, 'tcp', 22, relevant(input.protect.moatFrom));
  if (moatCut.length)
    warnings.push({
      id: 'moat-lockout',
      message: `After this change Moat itself cannot reach the instance over SSH from ${moatCut.join(', ')}, so it cannot run sandboxes or watch it there.`,
    });
}
