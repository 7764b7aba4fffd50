// Instances across every account: list (one account failing does not hide the others), launch
// (capacity, name and SSH key checked first; launch time recorded for exact cost), terminate,
// and watch (polling with back-off) for progress views. Every launch and terminate, failed ones
// too, is audited with the account label, the target and the outcome.
import type { AccountsService } from '../accounts/accounts';
import type { Vault } from '../credentials/vault';
import type { Instance, InstanceStatus, InstanceType, Provider, ProviderKind, Region, RetryNotice } from '../providers/provider';
import { ownerId } from '../sandbox/labels';
import { AuditLog, type AuditEntry } from '../store/audit';
import { toErrorPayload, type ErrorPayload } from '../../shared/errors';
import { burnRateCents, costOf, type Cost } from './cost';
import { InstanceError, toInstanceError } from './errors';
import { KnownInstances, knownKey } from './known';
import { describeRef, resolveReference } from './references';
import { ensureSshKey, sshKeyLock } from './ssh-keys';
import { AppliedRules } from '../firewall/applied';
import type { RuleSet } from '../firewall/model';
import { firewallLabel } from '../firewall/plan';
import { validateCidr } from '../firewall/validate';

export interface InstanceView extends Instance {
  account: string;
  launchedByMoat: boolean;
  cost: Cost;
}

export interface AccountSummary {
  account: string;
  provider: ProviderKind;
  /** Cents per hour of the account's billed instances; null when the listing failed. */
  burnRateCentsPerHour: number | null;
  error?: ErrorPayload;
}

export interface InstancesList {
  at: number;
  accounts: AccountSummary[];
  instances: InstanceView[];
}

export interface LaunchInput {
  account: string;
  region: string;
  type: string;
  name: string;
  /** Start locked (default true): only SSH, from sshFrom (default: the user's detected address). */
  locked?: boolean;
  sshFrom?: string[];
}

export interface WatchOptions {
  /** First interval, and the interval after every change (default 2 s). */
  minMs?: number;
  /** Longest interval once nothing changes (default 30 s). */
  maxMs?: number;
  /** Longest interval while starting or stopping, when a change is due soon (default 5 s). */
  busyMaxMs?: number;
  /** Stop at these statuses (default running, terminated, stopped). */
  until?: InstanceStatus[];
  signal?: AbortSignal;
  /** Consecutive failed polls tolerated before giving up (default 5). */
  maxErrors?: number;
}

export interface InstancesServiceOptions {
  dataDir: string;
  vault: Vault;
  accounts: AccountsService;
  /** Defaults to the data dir's audit.jsonl (closed by close()). */
  audit?: AuditLog;
  now?: () => number;
  /** A request for this account is being retried (rate limited, busy, 5xx): for a visible "retrying" state. */
  onRetry?: (account: string, n: RetryNotice) => void;
  /** The user's public addresses, for a locked launch without sshFrom (main/firewall/address.ts). */
  myAddresses?: () => Promise<{ ipv4?: string; ipv6?: string; problem?: string }>;
}

/** What a launch is doing, for progress views: checks, the SSH key, then the provider's answer. */
export type LaunchHook = (step: 'checking' | 'ssh-key' | 'firewall' | 'requested', instance?: Instance) => void;

export interface LaunchOptionsView {
  account: string;
  provider: ProviderKind;
  regions: Region[];
  types: InstanceType[];
}

const NAME_RE = /^[\x21-\x7e]{1,64}$/;

export class InstancesService {
  private readonly known: KnownInstances;
  private readonly applied: AppliedRules;
  private readonly audit: AuditLog;
  private readonly now: () => number;

  constructor(private readonly o: InstancesServiceOptions) {
    this.known = new KnownInstances(o.dataDir);
    this.applied = new AppliedRules(o.dataDir);
    this.audit = o.audit ?? new AuditLog(o.dataDir);
    this.now = o.now ?? Date.now;
  }

  async list(): Promise<InstancesList> {
    const accounts = this.o.accounts.list();
    const per = await Promise.all(
      accounts.map(async (a): Promise<{ summary: AccountSummary; instances: InstanceView[] }> => {
        const started = this.now();
        try {
          const found = await this.provider(a.label).listInstances();
          const known = this.known.observe(
            a.label,
            a.provider,
            found.map((i) => i.id),
            started,
            this.now(),
          );
          const instances = found.map((i) => this.view(a.label, i, known));
          return { summary: { account: a.label, provider: a.provider, burnRateCentsPerHour: burnRateCents(found) }, instances };
        } catch (err) {
          const error = toErrorPayload(toInstanceError(err, a.provider, 'listing instances'));
          return { summary: { account: a.label, provider: a.provider, burnRateCentsPerHour: null, error }, instances: [] };
        }
      }),
    );
    return { at: this.now(), accounts: per.map((p) => p.summary), instances: per.flatMap((p) => p.instances) };
  }

  /** The instance a reference names (ID, unique ID prefix, ACCOUNT/NAME), freshly listed. */
  async find(ref: string): Promise<InstanceView> {
    const all = await this.list();
    try {
      return resolveReference(ref, all.instances);
    } catch (err) {
      const failed = all.accounts.filter((a) => a.error);
      if (err instanceof InstanceError && err.code === 'NOT_FOUND' && failed.length > 0) {
        throw new InstanceError(
          'PROVIDER_UNAVAILABLE',
          `${err.message} Accounts that could not be listed: ${failed.map((a) => `${a.account} (${a.error!.message})`).join('; ')}`,
          err.fix,
        );
      }
      throw err;
    }
  }

  /** Regions and types for a launch form; each type lists the regions with capacity for it now. */
  async options(account: string): Promise<LaunchOptionsView> {
    const p = this.provider(account);
    const [regions, types] = await Promise.all([
      p.listRegions().catch((e: unknown) => Promise.reject(toInstanceError(e, p.kind, 'listing regions'))),
      p.listInstanceTypes().catch((e: unknown) => Promise.reject(toInstanceError(e, p.kind, 'listing instance types'))),
    ]);
    return { account, provider: p.kind, regions, types };
  }

  async launch(input: LaunchInput, onStep: LaunchHook = () => {}): Promise<InstanceView> {
    const target = `${input.account}/${input.name}`;
    let provider: Provider | undefined;
    return this.audited(
      'instance.launch',
      input.account,
      target,
      { region: input.region, type: input.type },
      () => provider?.kind,
      async () => {
        if (!NAME_RE.test(input.name))
          throw new InstanceError(
            'INVALID_REQUEST',
            'An instance name is 1 to 64 printable characters without spaces.',
            'Pick a name such as gpu-eval-1.',
          );
        provider = this.provider(input.account);
        const p = provider;
        onStep('checking');
        const [types, existing] = await Promise.all([
          p.listInstanceTypes().catch((e: unknown) => Promise.reject(toInstanceError(e, p.kind, 'listing instance types'))),
          p.listInstances().catch((e: unknown) => Promise.reject(toInstanceError(e, p.kind, 'listing instances'))),
        ]);
        const type = types.find((t) => t.id === input.type);
        if (!type) {
          throw new InstanceError(
            'INVALID_REQUEST',
            `No instance type "${input.type.slice(0, 80)}" on account ${input.account}.`,
            `Types: ${types.map((t) => t.id).join(', ')}.`,
            types.map((t) => t.id),
          );
        }
        if (!type.regionsWithCapacity.includes(input.region)) {
          const where = type.regionsWithCapacity;
          throw new InstanceError(
            'INVALID_REQUEST',
            `${type.id} has no capacity in ${input.region.slice(0, 80)}. ${where.length ? `Regions with capacity for it now: ${where.join(', ')}.` : 'No region has capacity for it right now.'}`,
            where.length ? `Launch in one of: ${where.join(', ')}.` : 'Try another type, or later.',
            where,
          );
        }
        if (existing.some((i) => i.name === input.name && i.status !== 'terminated')) {
          throw new InstanceError(
            'INVALID_REQUEST',
            `Account ${input.account} already has an instance named "${input.name}".`,
            'Names are how ACCOUNT/NAME references find an instance: pick another.',
          );
        }
        onStep('ssh-key');
        const ssh = await ensureSshKey(this.o.vault, input.account, p, sshKeyLock(this.o.dataDir)).catch((e: unknown) => {
          throw toInstanceError(e, p.kind, 'registering the SSH key');
        });
        if (ssh.registered) {
          this.record('instance.ssh-key', input.account, ssh.key.name, { provider: p.kind, keyId: ssh.key.id, outcome: 'ok' });
        }
        let lock: RuleSet | null = null;
        if (input.locked !== false) {
          onStep('firewall');
          lock = await this.lockedStart(p, input);
        }
        // Billing cannot start before the request is sent: the cost shown is never less than the bill.
        const launchedAt = this.now();
        const inst = await p
          .launch({
            name: input.name,
            region: input.region,
            type: input.type,
            sshKey: ssh.key,
            ...(lock ? { firewall: { ruleSetIds: [lock.id] } } : {}),
          })
          .catch(async (e: unknown) => {
            // The rule set was made for this instance only: take it back (best effort; Lambda
            // refuses to delete a ruleset in use, which it would be if the launch did happen).
            if (lock) await p.firewall.deleteRuleSet(lock).catch(() => undefined);
            throw toInstanceError(e, p.kind, 'launching the instance');
          });
        this.known.recordLaunch(p.kind, inst.id, input.account, launchedAt);
        onStep('requested', inst);
        return this.view(input.account, inst, this.known.all());
      },
    );
  }

  /** Terminates the referenced instance; returns it as it was, with its cost so far. */
  async terminate(ref: string): Promise<InstanceView> {
    let inst: InstanceView | undefined;
    return this.audited(
      'instance.terminate',
      () => inst?.account ?? 'unknown',
      () => (inst ? describeRef(inst) : ref.slice(0, 80)),
      (): AuditEntry['details'] =>
        inst ? { costCents: Math.round((inst.cost.costCents ?? 0) * 100) / 100, costBasis: inst.cost.basis } : {},
      () => inst?.provider,
      async () => {
        inst = await this.find(ref);
        const i = inst;
        await this.o.accounts
          .providerFor(i.account)
          .terminate(i.id)
          .catch((e: unknown) => {
            throw toInstanceError(e, i.provider, 'terminating the instance');
          });
        this.known.markTerminated(i.provider, i.id, this.now());
        return i;
      },
    );
  }

  /**
   * Follows one instance until it reaches a final status (or vanishes: null), calling onChange at
   * every status or address change. Polls at minMs after a change, backing off to maxMs while
   * nothing changes (busyMaxMs while starting or stopping, when the next change is due soon).
   */
  async watch(ref: string, onChange: (i: InstanceView | null) => void, o: WatchOptions = {}): Promise<InstanceView | null> {
    const min = o.minMs ?? 2000;
    const until = o.until ?? ['running', 'terminated', 'stopped'];
    const first = await this.find(ref);
    const provider = this.provider(first.account);
    let last: InstanceView | null = first;
    onChange(first);
    let delay = min;
    let errors = 0;
    while (last && !until.includes(last.status)) {
      await sleep(delay, o.signal);
      let next: Instance | null;
      try {
        next = await provider.getInstance(first.id);
        errors = 0;
      } catch (err) {
        if (++errors >= (o.maxErrors ?? 5)) throw toInstanceError(err, first.provider, 'checking the instance');
        delay = Math.min(delay * 2, o.maxMs ?? 30_000);
        continue;
      }
      const view = next ? this.view(first.account, next, this.known.all()) : null;
      const changed =
        !view || view.status !== last.status || view.rawStatus !== last.rawStatus || view.ipv4 !== last.ipv4 || view.ipv6 !== last.ipv6;
      last = view;
      if (changed) onChange(view);
      const cap = view && (view.status === 'starting' || view.status === 'stopping') ? (o.busyMaxMs ?? 5000) : (o.maxMs ?? 30_000);
      delay = changed ? min : Math.min(delay * 2, cap);
    }
    return last;
  }

  close(): void {
    if (!this.o.audit) this.audit.close();
  }

  /**
   * The rule set a locked launch attaches: inbound deny except SSH from the user's addresses
   * (outbound open). Linode: a firewall, attached through the create call; Lambda: a regional
   * ruleset. Lambda's account-wide rules still apply on top (SSH and ICMP from anywhere on a new
   * account): the Firewall view shows that, and its wizard locks them.
   */
  private async lockedStart(p: Provider, input: LaunchInput): Promise<RuleSet> {
    let from = input.sshFrom;
    if (!from?.length) {
      const me = (await this.o.myAddresses?.()) ?? { problem: 'no address detection is configured' };
      from = [me.ipv4, me.ipv6].filter((a): a is string => Boolean(a));
      if (from.length === 0) {
        throw new InstanceError(
          'INVALID_REQUEST',
          `Moat could not find your public address to start the instance locked (SSH from your address only)${me.problem ? `: ${me.problem}` : ''}.`,
          'Give the addresses SSH may come from (CLI: --ssh-from ADDRESS,CIDR), or launch unlocked (--no-lock) and lock it later in the Firewall view.',
        );
      }
    }
    const ipv4: string[] = [];
    const ipv6: string[] = [];
    for (const f of from) {
      const c = validateCidr(f);
      if (!c.ok) throw new InstanceError('INVALID_REQUEST', `SSH source: ${c.error}`, 'Fix the address, then launch again.');
      (c.value.family === 4 ? ipv4 : ipv6).push(c.value.cidr);
    }
    if (p.kind === 'lambda' && ipv4.length === 0) {
      throw new InstanceError(
        'INVALID_REQUEST',
        'Lambda Cloud firewall rules are IPv4 only, and no IPv4 address was given for SSH.',
        'Give an IPv4 address or network for SSH.',
      );
    }
    const existing = await p.firewall.listRuleSets().catch((e: unknown) => {
      throw toInstanceError(e, p.kind, 'reading the firewall rules');
    });
    const label = firewallLabel(
      input.name,
      existing.map((r) => r.label),
    );
    const rs = await p.firewall
      .createRuleSet({
        label,
        ...(p.kind === 'lambda' ? { region: input.region } : {}),
        inboundPolicy: 'deny',
        outboundPolicy: 'allow',
        rules: [
          {
            direction: 'inbound',
            action: 'allow',
            protocol: 'tcp',
            ports: [{ from: 22, to: 22 }],
            ipv4,
            ipv6: p.kind === 'lambda' ? [] : ipv6,
            label: 'moat-ssh',
          },
        ],
      })
      .catch((e: unknown) => {
        throw toInstanceError(e, p.kind, 'creating the firewall for a locked start');
      });
    this.applied.record(rs, this.now());
    this.record('firewall.launch-lock', input.account, `${input.account}/${input.name}`, {
      provider: p.kind,
      ruleSet: `${rs.kind} ${rs.id}`,
      sshFrom: [...ipv4, ...ipv6],
      outcome: 'ok',
    });
    return rs;
  }

  private provider(account: string): Provider {
    const onRetry = this.o.onRetry;
    return this.o.accounts.providerFor(account, onRetry ? { onRetry: (n) => onRetry(account, n) } : {});
  }

  private view(account: string, i: Instance, known: ReturnType<KnownInstances['all']>): InstanceView {
    const k = known[knownKey(i.provider, i.id)];
    return { ...i, account, launchedByMoat: Boolean(k?.launchedByMoat), cost: costOf(i, k, this.now()) };
  }

  private record(action: AuditEntry['action'], account: string, target: string, details: AuditEntry['details']): void {
    this.audit.record({ action, by: ownerId(), details: { label: account.slice(0, 80), target, ...details } });
  }

  /** Runs an action and records its outcome; the values are read after it ran (or failed). */
  private async audited<T>(
    action: AuditEntry['action'],
    account: string | (() => string),
    target: string | (() => string),
    details: AuditEntry['details'] | (() => AuditEntry['details']),
    provider: () => ProviderKind | undefined,
    f: () => Promise<T>,
  ): Promise<T> {
    const read = <V>(v: V | (() => V)): V => (typeof v === 'function' ? (v as () => V)() : v);
    try {
      const out = await f();
      const extra: AuditEntry['details'] = out && typeof out === 'object' && 'id' in out ? { id: String((out as { id: unknown }).id) } : {};
      this.record(action, read(account), read(target), { ...read(details), ...extra, provider: provider() ?? 'unknown', outcome: 'ok' });
      return out;
    } catch (err) {
      const e = toInstanceError(err, provider(), action === 'instance.launch' ? 'launching the instance' : 'terminating the instance');
      this.record(action, read(account), read(target), {
        ...read(details),
        provider: provider() ?? 'unknown',
        outcome: 'failed',
        code: e.code,
        reason: e.message,
      });
      throw e;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InstanceError('INVALID_REQUEST', 'Stopped following the instance.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new InstanceError('INVALID_REQUEST', 'Stopped following the instance.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
