// Linode Cloud Firewalls in the normalized model (model.ts), both ways, and FirewallApi over the
// Linode client. The mapping:
// - ACCEPT/DROP ↔ allow/deny, for the rules and for both policies; inbound and outbound lists ↔
//   direction (a rule set reads inbound rules first, then outbound, each in Linode's order, which
//   matters: first match wins).
// - addresses {ipv4, ipv6} ↔ ipv4/ipv6 (canonical CIDRs, cidr.ts); ports "22,80-90" ↔ PortRange[]
//   (absent, or 1-65535, ↔ null: every port); rule label ↔ label (empty: no label).
// - protocol TCP/UDP/ICMP ↔ tcp/udp/icmp. Linode has no "every protocol" word. IPENCAP (IP-in-IP)
//   and any protocol Linode adds later are read as 'all' with `nativeProtocol` set, which overstates
//   what an ACCEPT opens (safe for posture) and is written back unchanged. A model 'all' without
//   nativeProtocol is written as one rule per protocol Linode has: TCP, UDP, ICMP and IPENCAP, or
//   only TCP and UDP when it names ports (ICMP and IPENCAP take none). Other IP protocols (GRE,
//   ESP, ...) match no Linode rule and fall to the policy.
// - version ↔ `${version}:${fingerprint}`; enabled ↔ status 'enabled'; appliesTo ↔ the Linodes
//   among the firewall's entities (or its devices, where an answer has no entities).
//
// The round trip (test/firewall-mapping.test.ts checks it):
// - model → Linode → model: for rules that pass checkLinodeRules, reading back gives
//   `rules.flatMap(splitForLinode).map(normalizeRule)`, inbound rules first then outbound, each in
//   the order given; the policies come back as written.
// - Linode → model → Linode: rules with canonical addresses and ports written as formatPorts writes
//   them ("22,80-90": no spaces, single ports bare) are written back exactly as read.
import type { FirewallRuleBody, FirewallRulesBody, LinodeClient } from '../providers/linode/client';
import type { LinodeFirewall, LinodeFirewallRule, LinodeFirewallRules } from '../providers/linode/schemas';
import { ProviderError } from '../providers/provider';
import { normalizeCidrList, normalizePorts, normalizeRule, parseCidr, validPortRange } from './cidr';
import {
  FirewallConflictError,
  FirewallLimitError,
  LIMITS,
  type Action,
  type Direction,
  type FirewallApi,
  type FirewallClientOptions,
  type NewRuleSet,
  type PortRange,
  type Rule,
  type RuleProblem,
  type RuleSet,
  type RuleSetContent,
  type RuleSetRef,
} from './model';

const NAMED: Record<string, Rule['protocol']> = { TCP: 'tcp', UDP: 'udp', ICMP: 'icmp' };
/** Firewall labels (spec): 3-32 characters, a letter first, no doubled separators. */
const FIREWALL_LABEL = /^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$/;
const RULE_LABEL = { min: 3, max: 32 };

/** "22", "80,443", "22-24, 80" → ranges; null when the text is not Linode's port syntax. */
export function parsePorts(text: string): PortRange[] | null {
  const out: PortRange[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(part);
    if (!m) return null;
    const r = { from: Number(m[1]), to: Number(m[2] ?? m[1]) };
    if (!validPortRange(r)) return null;
    out.push(r);
  }
  return out;
}

/** Ranges → Linode's text: "22,80-90" (a single port bare, since Linode wants end > start). */
export function formatPorts(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',');
}

/** Linode counts a single port as one piece and a range as two. */
function pieces(ranges: readonly PortRange[]): number {
  return ranges.reduce((n, r) => n + (r.from === r.to ? 1 : 2), 0);
}

export function linodeRuleToModel(r: LinodeFirewallRule, direction: Direction): Rule {
  const named = NAMED[r.protocol];
  let ports: PortRange[] | null = null;
  if ((named === 'tcp' || named === 'udp') && r.ports) {
    const parsed = parsePorts(r.ports);
    if (!parsed)
      throw new ProviderError('linode', 'malformed', `Linode returned a firewall rule with ports Moat cannot read: "${r.ports}".`);
    ports = normalizePorts(parsed);
  }
  return normalizeRule({
    direction,
    action: r.action === 'ACCEPT' ? 'allow' : 'deny',
    protocol: named ?? 'all',
    ports,
    ipv4: r.addresses.ipv4,
    ipv6: r.addresses.ipv6,
    label: r.label ?? '',
    ...(named ? {} : { nativeProtocol: r.protocol }),
  });
}

export function linodeRulesToModel(r: LinodeFirewallRules): RuleSetContent & { version: string } {
  return {
    inboundPolicy: policy(r.inbound_policy),
    outboundPolicy: policy(r.outbound_policy),
    rules: [...r.inbound.map((x) => linodeRuleToModel(x, 'inbound')), ...r.outbound.map((x) => linodeRuleToModel(x, 'outbound'))],
    version: `${r.version}:${r.fingerprint}`,
  };
}

/**
 * The model rules one Linode rule each stands for: the rule itself, except a model 'all' (without
 * nativeProtocol), which becomes TCP, UDP, ICMP and IPENCAP, or TCP and UDP when it names ports.
 */
export function splitForLinode(r: Rule): Rule[] {
  if (r.protocol !== 'all' || r.nativeProtocol !== undefined) return [r];
  const tcpUdp: Rule[] = [
    { ...r, protocol: 'tcp' },
    { ...r, protocol: 'udp' },
  ];
  if (r.ports !== null) return tcpUdp;
  return [...tcpUdp, { ...r, protocol: 'icmp' }, { ...r, protocol: 'all', nativeProtocol: 'IPENCAP' }];
}

/** Everything in `content` Linode would refuse, per rule (null: the whole set). */
export function checkLinodeRules(content: RuleSetContent): RuleProblem[] {
  const problems: RuleProblem[] = [];
  content.rules.forEach((r, i) => {
    const add = (message: string) => problems.push({ rule: i, message });
    const notV4 = r.ipv4.filter((c) => parseCidr(c)?.family !== 4);
    const notV6 = r.ipv6.filter((c) => parseCidr(c)?.family !== 6);
    if (notV4.length > 0) add(`not an IPv4 address or network: ${notV4.join(', ')}`);
    if (notV6.length > 0) add(`not an IPv6 address or network: ${notV6.join(', ')}`);
    const count = normalizeCidrList(r.ipv4).cidrs.length + normalizeCidrList(r.ipv6).cidrs.length;
    if (r.ipv4.length + r.ipv6.length === 0) add('a Linode rule needs at least one address or network.');
    if (count > LIMITS.linode.addressesPerRule) add(`${count} addresses; a Linode rule takes at most ${LIMITS.linode.addressesPerRule}.`);
    const portless = r.protocol === 'icmp' || r.nativeProtocol !== undefined;
    if (r.ports !== null && portless) add(`${r.nativeProtocol ?? 'ICMP'} takes no ports.`);
    else if (r.ports !== null) {
      const bad = r.ports.filter((p) => !validPortRange(p));
      if (r.ports.length === 0) add('no ports: use null for every port.');
      else if (bad.length > 0) add(`ports must be 1-65535, low to high: ${bad.map((p) => `${p.from}-${p.to}`).join(', ')}`);
      else {
        const n = pieces(normalizePorts(r.ports) ?? []);
        if (n > LIMITS.linode.portsPerRule)
          add(`the ports make ${n} pieces (a range counts 2); Linode allows ${LIMITS.linode.portsPerRule}.`);
      }
    }
    if (r.nativeProtocol !== undefined && !/^[A-Z]+$/.test(r.nativeProtocol)) add(`Linode has no protocol ${r.nativeProtocol}.`);
    if (r.label !== '' && (r.label.length < RULE_LABEL.min || r.label.length > RULE_LABEL.max))
      add(`a Linode rule label is ${RULE_LABEL.min} to ${RULE_LABEL.max} characters (or empty); this one has ${r.label.length}.`);
  });
  if (problems.length === 0) {
    const n = content.rules.reduce((sum, r) => sum + splitForLinode(r).length, 0);
    if (n > LIMITS.linode.rules)
      problems.push({ rule: null, message: `these rules make ${n} Linode rules; a firewall takes at most ${LIMITS.linode.rules}.` });
  }
  return problems;
}

/** Linode's rules body for `content`, or FirewallLimitError listing everything Linode would refuse. */
export function modelToLinodeRules(content: RuleSetContent): FirewallRulesBody {
  const problems = checkLinodeRules(content);
  if (problems.length > 0) throw new FirewallLimitError('linode', problems);
  const rules = content.rules.flatMap(splitForLinode).map(normalizeRule);
  const body = (r: Rule): FirewallRuleBody => ({
    action: r.action === 'allow' ? 'ACCEPT' : 'DROP',
    protocol: r.nativeProtocol ?? r.protocol.toUpperCase(),
    addresses: { ...(r.ipv4.length > 0 ? { ipv4: r.ipv4 } : {}), ...(r.ipv6.length > 0 ? { ipv6: r.ipv6 } : {}) },
    ...(r.ports !== null ? { ports: formatPorts(r.ports) } : {}),
    ...(r.label !== '' ? { label: r.label } : {}),
  });
  return {
    inbound: rules.filter((r) => r.direction === 'inbound').map(body),
    inbound_policy: content.inboundPolicy === 'allow' ? 'ACCEPT' : 'DROP',
    outbound: rules.filter((r) => r.direction === 'outbound').map(body),
    outbound_policy: content.outboundPolicy === 'allow' ? 'ACCEPT' : 'DROP',
  };
}

function policy(p: 'ACCEPT' | 'DROP'): Action {
  return p === 'ACCEPT' ? 'allow' : 'deny';
}

export type LinodeFirewallOptions = FirewallClientOptions;

export class LinodeFirewallApi implements FirewallApi {
  readonly kind = 'linode' as const;

  constructor(
    private readonly client: LinodeClient,
    private readonly o: LinodeFirewallOptions = {},
  ) {}

  async listRuleSets(): Promise<RuleSet[]> {
    return Promise.all((await this.client.firewalls()).map((f) => this.toRuleSet(f)));
  }

  async getRuleSet(ref: RuleSetRef): Promise<RuleSet | null> {
    this.own(ref);
    try {
      return await this.toRuleSet(await this.client.firewall(ref.id));
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  /**
   * Checks Linode's limits; with `expectedVersion`, reads the current version and stops with a
   * FirewallConflictError when it changed; then PUTs the rules and policies (a PUT that replaces
   * everything, so the client may repeat it after a 429 or 5xx) and reads the firewall back.
   */
  async replaceRules(ref: RuleSetRef, next: RuleSetContent, expectedVersion?: string): Promise<RuleSet> {
    this.own(ref);
    const body = modelToLinodeRules(next);
    if (expectedVersion !== undefined) {
      const current = await this.client.firewallRules(ref.id);
      const found = `${current.version}:${current.fingerprint}`;
      if (found !== expectedVersion) throw new FirewallConflictError(ref, expectedVersion, found);
    }
    await this.client.putFirewallRules(ref.id, body);
    return this.toRuleSet(await this.client.firewall(ref.id));
  }

  /**
   * Creating is not idempotent. After a lost answer (5xx, timeout, unreadable body) or a 429, the
   * account is searched for a firewall with this label (labels are unique on Linode) before the
   * create is repeated; on a repeat, "label must be unique" means the earlier attempt made it.
   */
  async createRuleSet(spec: NewRuleSet): Promise<RuleSet> {
    const problems: RuleProblem[] = [];
    if (spec.label.length < 3 || spec.label.length > LIMITS.linode.labelChars || !FIREWALL_LABEL.test(spec.label))
      problems.push({
        rule: null,
        message: `a firewall label is 3 to ${LIMITS.linode.labelChars} letters, digits, "-", "_" or "." (no two in a row), starting with a letter.`,
      });
    const devices = (spec.attachTo ?? []).map(Number);
    if (devices.some((d) => !Number.isInteger(d))) problems.push({ rule: null, message: 'Linode IDs are numbers.' });
    problems.push(...checkLinodeRules(spec));
    if (problems.length > 0) throw new FirewallLimitError('linode', problems);
    const body = { label: spec.label, rules: modelToLinodeRules(spec), ...(devices.length > 0 ? { devices: { linodes: devices } } : {}) };
    return this.retrying(
      async () => this.toRuleSet(await this.client.createFirewall(body)),
      async (err, attempt) => {
        const maybeMade = temporary(err) || (attempt > 1 && err.kind === 'invalid' && /unique/i.test(err.message));
        if (!maybeMade) return null;
        const hit = (await this.client.firewalls({ label: spec.label })).find((f) => f.label === spec.label);
        return hit ? this.toRuleSet(hit) : null;
      },
    );
  }

  async deleteRuleSet(ref: RuleSetRef): Promise<void> {
    this.own(ref);
    try {
      await this.client.deleteFirewall(ref.id);
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return;
      throw err;
    }
  }

  /**
   * Attaching is a POST: after a lost answer, or "already assigned" on a repeat, the devices are
   * read to see whether the Linode is attached. Linode refuses (400) a second enabled firewall on
   * one Linode; that comes back as ProviderError 'invalid' with Linode's reason.
   */
  async attach(ref: RuleSetRef, instanceId: string): Promise<void> {
    this.own(ref);
    const linodeId = Number(instanceId);
    await this.retrying(
      async () => {
        await this.client.addFirewallDevice(ref.id, linodeId);
      },
      async (err) => {
        if (!temporary(err) && !(err.kind === 'invalid' && /already/i.test(err.message) && !/enabled/i.test(err.message))) return null;
        return (await this.linodesOf(ref.id)).includes(instanceId) ? undefined : null;
      },
    );
  }

  async detach(ref: RuleSetRef, instanceId: string): Promise<void> {
    this.own(ref);
    const device = (await this.client.firewallDevices(ref.id)).find(
      (d) => d.entity.type === 'linode' && String(d.entity.id) === instanceId,
    );
    if (!device) return; // not attached: what the caller wanted
    try {
      await this.client.removeFirewallDevice(ref.id, device.id);
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return;
      throw err;
    }
  }

  async setEnabled(ref: RuleSetRef, enabled: boolean): Promise<void> {
    this.own(ref);
    await this.client.updateFirewall(ref.id, { status: enabled ? 'enabled' : 'disabled' });
  }

  private async toRuleSet(f: LinodeFirewall): Promise<RuleSet> {
    const content = linodeRulesToModel(f.rules);
    const appliesTo = f.entities
      ? f.entities.filter((e) => e.type === 'linode').map((e) => String(e.id))
      : await this.linodesOf(String(f.id));
    return {
      provider: 'linode',
      account: this.o.account ?? '',
      kind: 'linode-firewall',
      id: String(f.id),
      label: f.label,
      enabled: f.status === 'enabled',
      ...content,
      appliesTo,
    };
  }

  private async linodesOf(firewallId: string): Promise<string[]> {
    return (await this.client.firewallDevices(firewallId)).filter((d) => d.entity.type === 'linode').map((d) => String(d.entity.id));
  }

  /**
   * Runs a POST once per attempt. After a failure, `settle` looks at the account: a value (or
   * undefined for "done") ends it, null means nothing happened and a temporary failure is retried
   * after the back-off (Linode's wait hint is already honoured by the client for its own retries).
   */
  private async retrying<T>(once: () => Promise<T>, settle: (err: ProviderError, attempt: number) => Promise<T | null>): Promise<T> {
    const max = this.o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let failure: ProviderError;
      try {
        return await once();
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        failure = err;
      }
      const settled = await settle(failure, attempt);
      if (settled !== null) return settled as T;
      // An unreadable answer may hide a change not visible yet: never repeat on a guess.
      if (!temporary(failure) || failure.kind === 'malformed' || attempt >= max) throw failure;
      const b = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
      const delayMs = Math.min(b.maxMs, b.baseMs * 2 ** (attempt - 1));
      this.o.onRetry?.({ attempt, maxAttempts: max, delayMs, reason: failure.message });
      await (this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(delayMs);
    }
  }

  private own(ref: RuleSetRef): void {
    if (ref.provider !== 'linode' || ref.kind !== 'linode-firewall' || !/^\d+$/.test(ref.id))
      throw new FirewallLimitError('linode', [{ rule: null, message: `${ref.kind} ${ref.id} is not a Linode firewall.` }]);
  }
}

function temporary(err: ProviderError): boolean {
  return err.kind === 'unavailable' || err.kind === 'rate-limited' || err.kind === 'malformed';
}
