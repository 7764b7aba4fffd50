// Firewalls across every account: each instance's posture (with the rule sets in force and any
// drift since Moat last wrote them), the lock wizard's plan, and its careful apply. Plans live
// here, by ID, for a few minutes: the UI previews one and applies that one, so what is applied is
// exactly what was shown, and the renderer never sends rules of its own. Every plan, apply step,
// verification and rollback goes to the audit log.
import { randomUUID } from 'node:crypto';
import type { AccountsService } from '../accounts/accounts';
import type { InstancesService, InstanceView } from '../instances/instances';
import { toInstanceError } from '../instances/errors';
import { ownerId } from '../sandbox/labels';
import type { AuditLog } from '../store/audit';
import { MoatError } from '../../shared/errors';
import type { AllowItem, ApplyOutcome, FirewallOverview, InstancePosture, PlanRequest, PlanView } from '../../shared/firewall';
import { detectAddresses } from './address';
import { AppliedRules } from './applied';
import { applyPlan } from './apply';
import { ruleSetsFor } from './exposure';
import type { RuleSet } from './model';
import { planLock, type Plan } from './plan';
import { computePosture } from './posture';
import { parseAllow, type AllowSpec, type Me } from './validate';

export interface FirewallServiceOptions {
  dataDir: string;
  accounts: AccountsService;
  instances: InstancesService;
  audit: AuditLog;
  addressUrls: () => { ipv4: string; ipv6: string };
  now?: () => number;
}

/** How long a previewed plan can be applied. */
export const PLAN_TTL_MS = 15 * 60_000;

/** Turns the wizard's items into the CLI's grammar, so one parser serves both. */
export function allowFromItems(items: AllowItem[]): string {
  return items.flatMap((i) => i.from.map((f) => `${i.what.trim()}@${f.trim()}`)).join(',');
}

export class FirewallError extends MoatError {}

interface AccountRules {
  ruleSets: RuleSet[];
  error?: string;
}

export class FirewallService {
  readonly applied: AppliedRules;
  private readonly plans = new Map<string, { plan: Plan; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly o: FirewallServiceOptions) {
    this.applied = new AppliedRules(o.dataDir);
    this.now = o.now ?? Date.now;
  }

  /** Every instance of every account with its posture. */
  async overview(): Promise<FirewallOverview> {
    const list = await this.o.instances.list();
    const live = list.instances.filter((i) => i.status !== 'terminated');
    const accounts: FirewallOverview['accounts'] = [];
    const instances: InstancePosture[] = [];
    await Promise.all(
      list.accounts.map(async (a) => {
        const mine = live.filter((i) => i.account === a.account);
        if (a.error) {
          accounts.push({
            account: a.account,
            provider: a.provider,
            error: { message: a.error.message, ...(a.error.fix ? { fix: a.error.fix } : {}) },
          });
          return;
        }
        const rules = await this.rulesOf(a.account, mine);
        if (rules.error) accounts.push({ account: a.account, provider: a.provider, error: { message: rules.error } });
        else accounts.push({ account: a.account, provider: a.provider });
        for (const i of mine) instances.push(this.postureOf(i, mine, rules));
      }),
    );
    instances.sort((x, y) => x.instance.account.localeCompare(y.instance.account) || x.instance.name.localeCompare(y.instance.name));
    accounts.sort((x, y) => x.account.localeCompare(y.account));
    const counts = { locked: 0, exposed: 0, unknown: 0 };
    for (const i of instances) counts[i.posture.level]++;
    return { at: this.now(), instances, accounts, counts };
  }

  /** One instance (any reference) with its posture and the rule sets in force. */
  async show(ref: string): Promise<InstancePosture> {
    const inst = await this.o.instances.find(ref);
    const mine = (await this.o.instances.list()).instances.filter((i) => i.account === inst.account && i.status !== 'terminated');
    return this.postureOf(inst, mine, await this.rulesOf(inst.account, mine));
  }

  detectAddresses() {
    return detectAddresses({ urls: this.o.addressUrls() });
  }

  /** The wizard's preview: parsed allows → the plan, kept for apply. */
  async plan(req: PlanRequest): Promise<PlanView> {
    return this.planFromAllow(req.ref, allowFromItems(req.allow), undefined, req.me);
  }

  /** The CLI's form: `--allow` and `--from` as typed. */
  async planFromAllow(ref: string, allow: string, from: string | undefined, me: Me): Promise<PlanView> {
    const parsed = parseAllow(allow, from, me);
    if (!parsed.ok)
      throw new FirewallError('INVALID_REQUEST', parsed.errors.join(' '), 'Fix what to allow and from where, then preview again.');
    const inst = await this.o.instances.find(ref);
    const mine = (await this.o.instances.list()).instances.filter((i) => i.account === inst.account && i.status !== 'terminated');
    const rules = await this.rulesOf(inst.account, mine);
    if (rules.error)
      throw new FirewallError('PROVIDER_UNAVAILABLE', `The firewall rules of ${inst.account} could not be read: ${rules.error}`);
    const plan = planLock({
      instance: { id: inst.id, name: inst.name, account: inst.account, provider: inst.provider, region: inst.region },
      ruleSets: rules.ruleSets,
      allows: parsed.value as AllowSpec[],
      accountInstances: mine.map((i) => ({ id: i.id, name: i.name })),
      protect: { sshFrom: meList(me), moatFrom: meList(me) },
      drifted: this.applied.drifted(rules.ruleSets),
      now: this.now(),
    });
    const planId = randomUUID();
    this.prune();
    this.plans.set(planId, { plan, expires: this.now() + PLAN_TTL_MS });
    this.record('firewall.plan', inst, {
      planId,
      steps: plan.steps.map((s) => s.description),
      warnings: plan.warnings.map((w) => w.id),
      before: plan.postureBefore.level,
      after: plan.postureAfter.level,
      outcome: plan.problems.length ? 'failed' : 'ok',
      ...(plan.problems.length ? { reason: problemsOf(plan).join(' ') } : {}),
    });
    return toView(planId, plan);
  }

  /** Applies a previewed plan: re-checked against the provider, verified, rolled back on failure. */
  async apply(planId: string): Promise<ApplyOutcome> {
    this.prune();
    const held = this.plans.get(planId);
    if (!held) {
      throw new FirewallError('NOT_FOUND', 'That firewall plan is unknown or has expired.', 'Preview the change again, then apply it.');
    }
    this.plans.delete(planId);
    const { plan } = held;
    const inst = plan.instance;
    const api = this.o.accounts.providerFor(inst.account).firewall;
    const result = await applyPlan(api, plan, {
      audit: (step, outcome, details) => this.record('firewall.apply', inst, { planId, step, outcome, ...flatten(details) }),
    });
    if (result.ok) for (const rs of result.written) this.applied.record(rs, this.now());
    for (const rs of result.restored ?? []) this.applied.recordIfKnown(rs, this.now());
    const after = await this.show(inst.id).catch(() => undefined);
    this.record('firewall.apply', inst, {
      planId,
      step: 'done',
      outcome: result.ok ? 'ok' : 'failed',
      verified: result.verified,
      rolledBack: result.rolledBack,
      ...(result.error ? { reason: result.error } : {}),
      ...(after ? { posture: after.posture.level } : {}),
    });
    return {
      ok: result.ok,
      applied: result.applied,
      verified: result.verified,
      rolledBack: result.rolledBack,
      leftAlone: result.leftAlone,
      ...(result.error ? { error: result.error } : {}),
      ...(after ? { after } : {}),
    };
  }

  private postureOf(inst: InstanceView, accountInstances: InstanceView[], rules: AccountRules): InstancePosture {
    const drifted = this.applied.drifted(rules.ruleSets);
    const posture = computePosture({
      instance: { id: inst.id, name: inst.name, provider: inst.provider, region: inst.region },
      ruleSets: rules.ruleSets,
      ...(rules.error ? { readError: rules.error } : {}),
      drifted,
      accountInstances: accountInstances.map((i) => ({ id: i.id, name: i.name })),
    });
    return { instance: inst, posture, ruleSets: ruleSetsFor(inst, rules.ruleSets), drifted: drifted.map((d) => d.ref) };
  }

  /** The account's rule sets, with Lambda's global rules applying to every instance of the account. */
  private async rulesOf(account: string, instances: InstanceView[]): Promise<AccountRules> {
    try {
      const sets = await this.o.accounts.providerFor(account).firewall.listRuleSets();
      return {
        ruleSets: sets.map((rs) => (rs.kind === 'lambda-global' ? { ...rs, appliesTo: instances.map((i) => i.id) } : rs)),
      };
    } catch (err) {
      const e = toInstanceError(err, undefined, 'reading the firewall rules');
      return { ruleSets: [], error: e.message };
    }
  }

  private record(
    action: 'firewall.plan' | 'firewall.apply',
    inst: { account: string; name: string; id: string; provider: string },
    details: Record<string, string | number | boolean | string[]>,
  ): void {
    this.o.audit.record({
      action,
      by: ownerId(),
      details: { label: inst.account, target: `${inst.account}/${inst.name} (${inst.id})`, provider: inst.provider, ...details },
    });
  }

  private prune(): void {
    const now = this.now();
    for (const [id, p] of this.plans) if (p.expires < now) this.plans.delete(id);
  }
}

function meList(me: Me): string[] {
  return [me.ipv4, me.ipv6].filter((a): a is string => Boolean(a));
}

function problemsOf(plan: Plan): string[] {
  return plan.problems.flatMap((p) => p.problems.map((q) => `${p.label}: ${q.rule === null ? '' : `rule ${q.rule + 1}: `}${q.message}`));
}

function toView(planId: string, plan: Plan): PlanView {
  return {
    planId,
    instance: plan.instance,
    madeAt: plan.madeAt,
    steps: plan.steps.map((s) => s.description),
    diffs: plan.diffs,
    postureBefore: plan.postureBefore,
    postureAfter: plan.postureAfter,
    affects: plan.affects,
    warnings: plan.warnings,
    problems: problemsOf(plan),
  };
}

/** Audit details are flat: nested values become JSON text. */
function flatten(d: Record<string, unknown>): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else if (v !== undefined && v !== null) out[k] = JSON.stringify(v).slice(0, 500);
  }
  return out;
}
