// Lambda Cloud's firewall in the normalized model (model.ts), both ways, and FirewallApi over the
// Lambda client. Lambda's rules only allow, only inbound, only IPv4, and each names one protocol,
// one port range and one source network; a model Rule may list several ports and sources, so it
// is written as several Lambda rules, and reading groups nothing back (one model Rule per Lambda
// rule). What Lambda cannot say (deny, outbound, IPv6, a policy other than deny-in/allow-out) is a
// FirewallLimitError before anything is sent, never dropped quietly.
//
// The round trip this file guarantees (test/firewall-mapping.test.ts checks it):
// - model → Lambda → model: for rules that pass checkLambdaRules, reading back what was written
//   gives `rules.flatMap(splitForLambda)`: the same rules, split into one per port range × source,
//   with CIDRs and ports in canonical form (cidr.ts). Nothing else changes, order included.
// - Lambda → model → Lambda: a list of Lambda rules with canonical source networks ("1.2.3.0/24",
//   not "1.2.3.4/24" or a bare "1.2.3.4") is written back exactly as it was read.
import { createHash } from 'node:crypto';
import type { LambdaClient, LambdaRuleBody } from '../providers/lambda/client';
import type { LambdaFirewallRule, LambdaFirewallRuleset } from '../providers/lambda/schemas';
import { ProviderError } from '../providers/provider';
import { ALL_PORTS, normalizeCidr, normalizeCidrList, normalizePorts, parseCidr, validPortRange } from './cidr';
import {
  FirewallConflictError,
  FirewallLimitError,
  LIMITS,
  type FirewallApi,
  type FirewallClientOptions,
  type NewRuleSet,
  type Protocol,
  type Rule,
  type RuleProblem,
  type RuleSet,
  type RuleSetContent,
  type RuleSetRef,
} from './model';

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'icmp', 'all'];
/** Lambda's limit on a ruleset's name (FirewallRulesetCreateRequest.name). */
const NAME_CHARS = 64;

/** One model Rule per Lambda rule, in Lambda's order. */
export function lambdaRulesToModel(rules: readonly LambdaFirewallRule[]): Rule[] {
  return rules.map((r) => {
    const known = PROTOCOLS.includes(r.protocol);
    const protocol = (known ? r.protocol : 'all') as Protocol;
    const range = r.port_range ? { from: r.port_range[0], to: r.port_range[1] } : ALL_PORTS;
    return {
      direction: 'inbound',
      action: 'allow',
      protocol,
      ports: protocol === 'icmp' ? null : normalizePorts([range]),
      // A source Lambda accepted but this code cannot read is kept as it came, not dropped.
      ipv4: [normalizeCidr(r.source_network) ?? r.source_network],
      ipv6: [],
      label: r.description,
      ...(known ? {} : { nativeProtocol: r.protocol }),
    };
  });
}

/** Everything in `content` Lambda cannot express, per rule (null: the whole set). */
export function checkLambdaRules(content: RuleSetContent): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (content.inboundPolicy !== 'deny')
    problems.push({ rule: null, message: 'Lambda drops inbound traffic no rule allows; its inbound policy cannot be allow.' });
  if (content.outboundPolicy !== 'allow')
    problems.push({ rule: null, message: 'Lambda never filters outbound traffic; its outbound policy cannot be deny.' });
  content.rules.forEach((r, i) => {
    const add = (message: string) => problems.push({ rule: i, message });
    if (r.direction !== 'inbound') add('Lambda rules are inbound only (outbound traffic is never filtered).');
    if (r.action !== 'allow') add('Lambda rules only allow traffic; there are no deny rules.');
    if (r.ipv6.length > 0) add('Lambda rules are IPv4 only; remove the IPv6 sources.');
    const notV4 = r.ipv4.filter((c) => parseCidr(c)?.family !== 4);
    if (notV4.length > 0) add(`not an IPv4 address or network: ${notV4.join(', ')}`);
    else if (r.ipv4.length === 0) add('a Lambda rule needs at least one IPv4 source.');
    if (r.protocol === 'icmp' && r.ports !== null && r.ports.length > 0) add('ICMP has no ports.');
    if (r.ports !== null && r.protocol !== 'icmp') {
      if (r.ports.length === 0) add('no ports: use null for every port.');
      const bad = r.ports.filter((p) => !validPortRange(p));
      if (bad.length > 0) add(`ports must be 1-65535, low to high: ${bad.map((p) => `${p.from}-${p.to}`).join(', ')}`);
    }
    if (r.nativeProtocol !== undefined && !/^[a-z]+$/.test(r.nativeProtocol)) add(`Lambda has no protocol ${r.nativeProtocol}.`);
    if (r.label.length > LIMITS.lambda.descriptionChars)
      add(`the description is ${r.label.length} characters; Lambda allows ${LIMITS.lambda.descriptionChars}.`);
  });
  if (problems.length === 0) {
    const n = content.rules.reduce((sum, r) => sum + splitForLambda(r).length, 0);
    if (n > LIMITS.lambda.rules)
      problems.push({
        rule: null,
        message: `these rules need ${n} Lambda rules (one per port range and source); Lambda allows ${LIMITS.lambda.rules}.`,
      });
  }
  return problems;
}

/**
 * The model rules that one Lambda rule each stands for: one per port range × IPv4 source, in the
 * rule's (canonical) port and source order. The "splitting" of the round-trip guarantee.
 */
export function splitForLambda(r: Rule): Rule[] {
  const ports = r.protocol === 'icmp' ? [null] : (normalizePorts(r.ports)?.map((p) => [p]) ?? [null]);
  const sources = normalizeCidrList(r.ipv4).cidrs;
  return ports.flatMap((p) => sources.map((s) => ({ ...r, ports: p, ipv4: [s], ipv6: [] })));
}

/** The Lambda rules for `content`, or FirewallLimitError listing everything Lambda cannot take. */
export function modelToLambdaRules(content: RuleSetContent): LambdaRuleBody[] {
  const problems = checkLambdaRules(content);
  if (problems.length > 0) throw new FirewallLimitError('lambda', problems);
  return content.rules.flatMap(splitForLambda).map((r) => {
    const protocol = (r.nativeProtocol ?? r.protocol) as LambdaRuleBody['protocol'];
    const range = r.ports?.[0] ?? ALL_PORTS;
    return {
      protocol,
      ...(r.protocol === 'icmp' ? {} : { port_range: [range.from, range.to] as [number, number] }),
      source_network: r.ipv4[0]!,
      description: r.label,
    };
  });
}

/** Lambda keeps no version: a stable hash of the rules as read, order ignored (they are a union of allows). */
export function lambdaVersion(rules: readonly Rule[]): string {
  const lines = rules.map((r) => JSON.stringify([r.nativeProtocol ?? r.protocol, r.ports, r.ipv4, r.label])).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

export type LambdaFirewallOptions = FirewallClientOptions;

export class LambdaFirewall implements FirewallApi {
  readonly kind = 'lambda' as const;

  constructor(
    private readonly api: LambdaClient,
    private readonly o: LambdaFirewallOptions = {},
  ) {}

  async listRuleSets(): Promise<RuleSet[]> {
    const [global, rulesets] = await Promise.all([this.api.firewallRules(), this.rulesetsOrNone()]);
    return [this.global(global), ...rulesets.map((r) => this.ruleset(r))];
  }

  async getRuleSet(ref: RuleSetRef): Promise<RuleSet | null> {
    if (ref.kind === 'lambda-global') return this.global(await this.api.firewallRules());
    if (ref.kind !== 'lambda-ruleset') return null;
    try {
      return this.ruleset(await this.api.ruleset(ref.id));
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  /**
   * Checks Lambda's limits, then (when `expectedVersion` is given) re-reads and compares: Lambda
   * has no version of its own, so this narrows the lost-update window but cannot close it. The
   * global rules are written with PUT /firewall-rules, a ruleset with PATCH; both replace the whole
   * list, so the client may repeat them after a 429 or 5xx.
   */
  async replaceRules(ref: RuleSetRef, next: RuleSetContent, expectedVersion?: string): Promise<RuleSet> {
    this.own(ref);
    const body = modelToLambdaRules(next);
    if (expectedVersion !== undefined) {
      const current = await this.getRuleSet(ref);
      if (!current) throw new ProviderError('lambda', 'not-found', `Lambda Cloud has no firewall ruleset ${ref.id}.`);
      if (current.version !== expectedVersion) throw new FirewallConflictError(ref, expectedVersion, current.version);
    }
    if (ref.kind === 'lambda-global') return this.global(await this.api.putFirewallRules(body));
    return this.ruleset(await this.api.patchRuleset(ref.id, { rules: body }));
  }

  /**
   * A regional ruleset (attached to instances at launch only). Creating is not idempotent: after a
   * lost answer (5xx, timeout, unreadable body) or a 429, the account is searched for a ruleset
   * with this name that was not there before, and only when none is found is the create repeated.
   */
  async createRuleSet(spec: NewRuleSet): Promise<RuleSet> {
    const problems: RuleProblem[] = [];
    if (!spec.region) problems.push({ rule: null, message: 'Lambda rulesets are regional: give a region.' });
    if (spec.attachTo?.length)
      problems.push({ rule: null, message: 'Lambda attaches rulesets to instances only at launch (LaunchRequest.firewall).' });
    if (spec.label.length < 1 || spec.label.length > NAME_CHARS)
      problems.push({ rule: null, message: `a ruleset name is 1 to ${NAME_CHARS} characters.` });
    problems.push(...checkLambdaRules(spec));
    if (problems.length > 0) throw new FirewallLimitError('lambda', problems);
    const body = { name: spec.label, region: spec.region!, rules: modelToLambdaRules(spec) };
    const before = new Set((await this.rulesetsOrNone()).map((r) => r.id));
    const max = this.o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let failure: ProviderError;
      try {
        return this.ruleset(await this.api.createRuleset(body));
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        failure = err;
      }
      if (failure.kind !== 'unavailable' && failure.kind !== 'rate-limited' && failure.kind !== 'malformed') throw failure;
      const found = (await this.rulesetsOrNone()).find((r) => r.name === spec.label && !before.has(r.id));
      if (found) return this.ruleset(found);
      // An answer we could not read may hide a ruleset not listed yet: never create again on a guess.
      if (failure.kind === 'malformed' || attempt >= max) throw failure;
      const b = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
      const delayMs = Math.min(b.maxMs, b.baseMs * 2 ** (attempt - 1));
      this.o.onRetry?.({ attempt, maxAttempts: max, delayMs, reason: failure.message });
      await (this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(delayMs);
    }
  }

  async deleteRuleSet(ref: RuleSetRef): Promise<void> {
    this.own(ref);
    if (ref.kind === 'lambda-global') throw this.unsupported('The global rules cannot be deleted; replace them instead.');
    try {
      await this.api.deleteRuleset(ref.id);
    } catch (err) {
      // Already gone (or a repeated delete after a lost answer) is what the caller wanted.
      if (err instanceof ProviderError && err.kind === 'not-found') return;
      throw err;
    }
  }

  attach(ref: RuleSetRef, instanceId: string): Promise<void> {
    return Promise.reject(this.unsupported(`Lambda attaches rulesets only at launch: ${ref.id} cannot be attached to ${instanceId} now.`));
  }

  detach(ref: RuleSetRef, instanceId: string): Promise<void> {
    return Promise.reject(this.unsupported(`Lambda cannot detach ruleset ${ref.id} from running instance ${instanceId}.`));
  }

  /** Lambda rule sets are always in force: enabling is a no-op, disabling is refused. */
  async setEnabled(ref: RuleSetRef, enabled: boolean): Promise<void> {
    this.own(ref);
    if (!enabled) throw this.unsupported('Lambda rule sets cannot be disabled.');
  }

  private global(rules: LambdaFirewallRule[]): RuleSet {
    const model = lambdaRulesToModel(rules);
    return {
      ...this.base(),
      kind: 'lambda-global',
      id: 'global',
      label: 'Global rules',
      rules: model,
      version: lambdaVersion(model),
      // Every instance of the account: the caller fills it from the instance list.
      appliesTo: [],
    };
  }

  private ruleset(r: LambdaFirewallRuleset): RuleSet {
    const model = lambdaRulesToModel(r.rules);
    return {
      ...this.base(),
      kind: 'lambda-ruleset',
      id: r.id,
      label: r.name,
      rules: model,
      version: lambdaVersion(model),
      region: r.region.name,
      appliesTo: r.instance_ids,
    };
  }

  private base() {
    return {
      provider: 'lambda' as const,
      account: this.o.account ?? '',
      enabled: true,
      inboundPolicy: 'deny' as const,
      outboundPolicy: 'allow' as const,
    };
  }

  /** Accounts without the rulesets API answer 404: they have only the global rules. */
  private async rulesetsOrNone(): Promise<LambdaFirewallRuleset[]> {
    try {
      return await this.api.rulesets();
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return [];
      throw err;
    }
  }

  private own(ref: RuleSetRef): void {
    if (ref.provider !== 'lambda' || (ref.kind !== 'lambda-global' && ref.kind !== 'lambda-ruleset'))
      throw this.unsupported(`${ref.kind} ${ref.id} is not a Lambda Cloud rule set.`);
  }

  private unsupported(message: string): FirewallLimitError {
    return new FirewallLimitError('lambda', [{ rule: null, message }]);
  }
}
