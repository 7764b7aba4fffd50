// An in-memory FirewallApi for the model's tests (plan, apply), with failure injection. It keeps
// the contract's guarantees (limits checked before a write, Linode's expectedVersion guard, a new
// version on every write; Lambda's version is a hash of its rules, as the real client makes it) so
// a test cannot pass by leaning on behaviour no provider has. The HTTP fakes of the providers are
// tested elsewhere; the service is tested against them end to end.
import { createHash } from 'node:crypto';
import {
  FirewallConflictError,
  FirewallLimitError,
  type FirewallApi,
  type NewRuleSet,
  type Rule,
  type RuleSet,
  type RuleSetContent,
  type RuleSetRef,
} from '../../main/firewall/model';
import { checkLimits } from '../../main/firewall/validate';
import type { ProviderKind } from '../../main/providers/provider';

export type WriteOp = 'replace' | 'create' | 'delete' | 'attach' | 'detach' | 'enable' | 'disable';

function clone<T>(x: T): T {
  return structuredClone(x);
}

function same(a: RuleSetRef, b: RuleSetRef): boolean {
  return a.provider === b.provider && a.account === b.account && a.kind === b.kind && a.id === b.id;
}

export class MemoryFirewall implements FirewallApi {
  sets: RuleSet[];
  /** Every call, in order: "get lambda-global global", "replace linode-firewall 7", ... */
  calls: string[] = [];
  writes = 0;
  private counter = 100;
  private failures = new Map<number, { error: Error; afterEffect: boolean }>();
  /** Runs after the nth write took effect, before the call returns (another actor, meanwhile). */
  afterWrite?: (n: number, op: WriteOp, api: MemoryFirewall) => void;
  /** Writes the provider acknowledges but does not carry out (attach, detach, enable, disable, delete). */
  ignore = new Set<WriteOp>();
  /** What a replace or create really stores (a provider that rewrites what it is given). */
  mangle?: (content: RuleSetContent) => RuleSetContent;

  constructor(
    readonly kind: ProviderKind,
    sets: RuleSet[],
  ) {
    this.sets = clone(sets);
  }

  /** The nth write (1-based) throws; with afterEffect it first takes effect (a timeout after success). */
  failWrite(n: number, error: Error = new Error('HTTP 500 from the provider'), afterEffect = false): void {
    this.failures.set(n, { error, afterEffect });
  }

  find(ref: RuleSetRef): RuleSet | undefined {
    return this.sets.find((s) => same(s, ref));
  }

  /** Someone else changes the rules (the console, a teammate): a new version. */
  external(ref: RuleSetRef, change: Partial<RuleSetContent> & { enabled?: boolean }): void {
    const rs = this.find(ref);
    if (!rs) throw new Error('no such rule set');
    Object.assign(rs, clone(change));
    this.bump(rs);
  }

  private bump(rs: RuleSet): void {
    rs.version =
      this.kind === 'lambda'
        ? createHash('sha256').update(JSON.stringify(rs.rules)).digest('hex').slice(0, 16)
        : `${++this.counter}:fp${this.counter}`;
  }

  private async write<T>(op: WriteOp, what: string, effect: () => T): Promise<T> {
    const n = ++this.writes;
    this.calls.push(`${op} ${what}`);
    const failure = this.failures.get(n);
    if (failure && !failure.afterEffect) throw failure.error;
    const out = this.ignore.has(op) ? (undefined as T) : effect();
    this.afterWrite?.(n, op, this);
    if (failure) throw failure.error;
    return out;
  }

  private need(ref: RuleSetRef): RuleSet {
    const rs = this.find(ref);
    if (!rs) throw new Error(`${ref.kind} ${ref.id} does not exist`);
    return rs;
  }

  async listRuleSets(): Promise<RuleSet[]> {
    this.calls.push('list');
    return clone(this.sets);
  }

  async getRuleSet(ref: RuleSetRef): Promise<RuleSet | null> {
    this.calls.push(`get ${ref.kind} ${ref.id}`);
    const rs = this.find(ref);
    return rs ? clone(rs) : null;
  }

  async replaceRules(ref: RuleSetRef, next: RuleSetContent, expectedVersion?: string): Promise<RuleSet> {
    const problems = checkLimits(this.kind, next);
    if (problems.length) throw new FirewallLimitError(this.kind, problems);
    return this.write('replace', `${ref.kind} ${ref.id}`, () => {
      const rs = this.need(ref);
      if (this.kind === 'linode' && expectedVersion !== undefined && expectedVersion !== rs.version)
        throw new FirewallConflictError(ref, expectedVersion, rs.version);
      const stored = clone(this.mangle ? this.mangle(next) : next);
      rs.inboundPolicy = stored.inboundPolicy;
      rs.outboundPolicy = stored.outboundPolicy;
      rs.rules = stored.rules;
      this.bump(rs);
      return clone(rs);
    });
  }

  async createRuleSet(spec: NewRuleSet): Promise<RuleSet> {
    const problems = checkLimits(this.kind, spec);
    if (problems.length) throw new FirewallLimitError(this.kind, problems);
    return this.write('create', spec.label, () => {
      if (this.kind === 'linode' && this.sets.some((s) => s.label === spec.label)) throw new Error(`Label "${spec.label}" must be unique`);
      const stored = clone(this.mangle ? this.mangle(spec) : spec);
      const rs: RuleSet = {
        provider: this.kind,
        account: this.sets[0]?.account ?? 'acct',
        kind: this.kind === 'lambda' ? 'lambda-ruleset' : 'linode-firewall',
        id: String(++this.counter),
        label: spec.label,
        enabled: true,
        inboundPolicy: stored.inboundPolicy,
        outboundPolicy: stored.outboundPolicy,
        rules: stored.rules,
        version: '',
        ...(spec.region ? { region: spec.region } : {}),
        appliesTo: [...(spec.attachTo ?? [])],
      };
      this.bump(rs);
      this.sets.push(rs);
      return clone(rs);
    });
  }

  async deleteRuleSet(ref: RuleSetRef): Promise<void> {
    await this.write('delete', `${ref.kind} ${ref.id}`, () => {
      this.need(ref);
      this.sets = this.sets.filter((s) => !same(s, ref));
    });
  }

  async attach(ref: RuleSetRef, instanceId: string): Promise<void> {
    await this.write('attach', `${ref.kind} ${ref.id} ${instanceId}`, () => {
      const rs = this.need(ref);
      if (!rs.appliesTo.includes(instanceId)) rs.appliesTo.push(instanceId);
    });
  }

  async detach(ref: RuleSetRef, instanceId: string): Promise<void> {
    await this.write('detach', `${ref.kind} ${ref.id} ${instanceId}`, () => {
      const rs = this.need(ref);
      rs.appliesTo = rs.appliesTo.filter((id) => id !== instanceId);
    });
  }

  async setEnabled(ref: RuleSetRef, enabled: boolean): Promise<void> {
    await this.write(enabled ? 'enable' : 'disable', `${ref.kind} ${ref.id}`, () => {
      this.need(ref).enabled = enabled;
    });
  }
}

// ---- builders for the tests' rule sets ----

export function rule(r: Partial<Rule> & { nativeProtocol?: string } = {}): Rule {
  return { direction: 'inbound', action: 'allow', protocol: 'tcp', ports: null, ipv4: [], ipv6: [], label: '', ...r };
}

export const port = (from: number, to = from) => [{ from, to }];

/** Lambda's defaults on a new account: TCP 22 and ICMP from anywhere. */
export const LAMBDA_DEFAULT_RULES: Rule[] = [
  rule({ protocol: 'tcp', ports: port(22), ipv4: ['0.0.0.0/0'], label: 'SSH' }),
  rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'], label: 'ICMP' }),
];

export function lambdaGlobal(rules: Rule[] = LAMBDA_DEFAULT_RULES, appliesTo: string[] = ['i1'], version = 'v-global'): RuleSet {
  return {
    provider: 'lambda',
    account: 'acct',
    kind: 'lambda-global',
    id: 'global',
    label: 'Global rules',
    enabled: true,
    inboundPolicy: 'deny',
    outboundPolicy: 'allow',
    rules,
    version,
    appliesTo,
  };
}

export function lambdaRuleset(id: string, rules: Rule[], appliesTo: string[], region = 'us-east-1'): RuleSet {
  return { ...lambdaGlobal(rules, appliesTo, `v-${id}`), kind: 'lambda-ruleset', id, label: `ruleset ${id}`, region };
}

export function linodeFirewall(id: string, o: Partial<RuleSet> = {}): RuleSet {
  return {
    provider: 'linode',
    account: 'acct',
    kind: 'linode-firewall',
    id,
    label: `fw-${id}`,
    enabled: true,
    inboundPolicy: 'deny',
    outboundPolicy: 'allow',
    rules: [],
    version: `1:fw${id}`,
    appliesTo: ['L1'],
    ...o,
  };
}
