// Carries out a lock plan against a provider, carefully:
// (a) re-reads every rule set the plan touches and stops, having written nothing, if any changed
//     since the plan was made (version, content or enabled; and no firewall attached meanwhile);
// (b) applies the steps in order, each replace guarded by the version it expects;
// (c) reads everything back and compares with what was asked (same rules in the same order, same
//     policies, enabled, attached; labels are ignored, providers may rewrite them);
// (d) on any failure or mismatch, rolls back in reverse order. A rollback never overwrites someone
//     else's change: a rule set is restored only if it still holds what Moat wrote (same content,
//     or the version Moat's write produced); otherwise it is left alone and reported.
//     What Moat created is deleted, what it attached detached, what it enabled disabled.
// A create that failed may still have happened at the provider; Moat does not delete by label (the
// label could be someone else's firewall), it reports it instead.
import { ruleSetsFor } from './exposure';
import { FirewallConflictError, type FirewallApi, type RuleSet, type RuleSetContent, type RuleSetRef } from './model';
import { contentOf, refOf, sameContent, sameRef, type Plan, type Step } from './plan';

export type AuditFn = (step: string, outcome: 'ok' | 'failed', details: Record<string, unknown>) => void;

export interface ApplyOptions {
  audit: AuditFn;
}

export interface ApplyResult {
  /** Every step applied and verified. */
  ok: boolean;
  /** The steps carried out, as their descriptions, in order. */
  applied: string[];
  verified: boolean;
  /** A rollback was needed and every part of it succeeded. */
  rolledBack: boolean;
  /** Rule sets the rollback did not restore, and why (changed by someone else, or an error). */
  leftAlone: { ruleSet: string; reason: string }[];
  /** On success, the rule sets as read back (for AppliedRules.record). */
  written: RuleSet[];
  /**
   * After a rollback, the rule sets restored to their content before, as the restoring write
   * returned them: their version is new though their rules are as before (for drift bookkeeping:
   * re-record them where Moat had recorded the earlier version).
   */
  restored: RuleSet[];
  error?: string;
}

interface Done {
  step: Step;
  ref: RuleSetRef | null;
  /** The call failed: it may or may not have taken effect. */
  uncertain: boolean;
  /** The call failed with a version conflict: it surely did not take effect. */
  refused: boolean;
  /** replace: the version our write produced. */
  wroteVersion?: string;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function name(ref: RuleSetRef | null, step?: Step): string {
  return ref ? `${ref.kind} ${ref.id}` : `new ${step?.spec?.label ?? 'rule set'}`;
}

export async function applyPlan(api: FirewallApi, plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { ok: false, applied: [], verified: false, rolledBack: false, leftAlone: [], written: [], restored: [] };
  const provider = plan.instance.provider;
  const fail = (error: string): ApplyResult => ({ ...result, error });

  // (a) Nothing is written unless the world still looks as it did when the plan was made.
  if (api.kind !== provider) return fail(`The plan is for ${provider} but this account is ${api.kind}.`);
  if (plan.problems.length) {
    const error = `The plan breaks the provider's limits: ${plan.problems.flatMap((p) => p.problems.map((q) => q.message)).join(' ')}`;
    opts.audit('check', 'failed', { error });
    return fail(error);
  }
  try {
    for (const t of plan.touched) {
      const cur = await api.getRuleSet(t.ref);
      const changed = !cur
        ? 'no longer exists'
        : cur.version !== t.version || !sameContent(provider, contentOf(cur), t.content) || cur.enabled !== t.enabled
          ? 'was changed since the plan was made'
          : null;
      if (changed) {
        const error = `The firewall ${name(t.ref)} ${changed}; nothing was changed. Review the plan again.`;
        opts.audit('check', 'failed', { ruleSet: t.ref, planned: t.version, found: cur?.version ?? null, error });
        return fail(error);
      }
    }
    if (plan.steps.some((s) => s.kind === 'create')) {
      const now = ruleSetsFor(plan.instance, await api.listRuleSets());
      const appeared = now.filter((rs) => !plan.applying.some((r) => sameRef(r, rs)));
      if (appeared.length) {
        const error = `A firewall (${appeared.map((rs) => rs.label || rs.id).join(', ')}) was attached to the instance since the plan was made; nothing was changed. Review the plan again.`;
        opts.audit('check', 'failed', { error });
        return fail(error);
      }
    }
  } catch (e) {
    opts.audit('check', 'failed', { error: message(e) });
    return fail(`Could not re-read the firewall rules before changing them: ${message(e)}. Nothing was changed.`);
  }
  opts.audit('check', 'ok', { ruleSets: plan.touched.map((t) => ({ ref: t.ref, version: t.version })) });

  // (b) Apply in order.
  const done: Done[] = [];
  const created: (RuleSetRef | undefined)[] = [];
  const versions = new Map(plan.touched.map((t) => [key(t.ref), t.version]));
  let error: string | undefined;
  for (const [i, step] of plan.steps.entries()) {
    const ref = step.ref ?? created[step.created ?? -1] ?? null;
    const entry: Done = { step, ref, uncertain: false, refused: false };
    try {
      if (step.kind !== 'create' && !ref) throw new Error('the rule set it needs was not created');
      switch (step.kind) {
        case 'replace': {
          const rs = await api.replaceRules(ref!, step.after, versions.get(key(ref!)));
          entry.wroteVersion = rs.version;
          versions.set(key(ref!), rs.version);
          break;
        }
        case 'create': {
          const rs = await api.createRuleSet(step.spec!);
          created[i] = refOf(rs);
          entry.ref = refOf(rs);
          break;
        }
        case 'attach':
          await api.attach(ref!, step.instanceId!);
          break;
        case 'detach':
          await api.detach(ref!, step.instanceId!);
          break;
        case 'enable':
        case 'disable':
          await api.setEnabled(ref!, step.kind === 'enable');
          break;
      }
      done.push(entry);
      result.applied.push(step.description);
      opts.audit(step.kind, 'ok', {
        ruleSet: entry.ref,
        description: step.description,
        ...(entry.wroteVersion ? { version: entry.wroteVersion } : {}),
      });
    } catch (e) {
      entry.uncertain = true;
      entry.refused = e instanceof FirewallConflictError;
      if (step.kind !== 'create' || !entry.refused) done.push(entry);
      error = `${step.description} failed: ${message(e)}`;
      opts.audit(step.kind, 'failed', { ruleSet: ref, description: step.description, error: message(e) });
      break;
    }
  }

  // (c) Read back and compare with what was asked.
  if (!error) {
    const v = await verify(api, plan, done);
    if (v.ok) {
      result.verified = true;
      result.written = v.read;
      opts.audit('verify', 'ok', { ruleSets: v.read.map((rs) => ({ ref: refOf(rs), version: rs.version })) });
      return { ...result, ok: true };
    }
    error = `The rules read back differ from what was asked: ${v.error}`;
    opts.audit('verify', 'failed', { error: v.error });
  }

  // (d) Roll back in reverse order, never over someone else's change.
  let clean = true;
  for (const d of [...done].reverse()) {
    const outcome = await rollbackOne(api, provider, d, result.leftAlone, result.restored);
    if (outcome === null) continue;
    opts.audit(`rollback ${d.step.kind}`, outcome.ok ? 'ok' : 'failed', { ruleSet: d.ref, ...outcome.details });
    if (!outcome.ok) clean = false;
  }
  result.rolledBack = clean && result.leftAlone.length === 0 && done.some((d) => !d.refused);
  return { ...result, error };
}

function key(ref: RuleSetRef): string {
  return `${ref.provider}:${ref.account}:${ref.kind}:${ref.id}`;
}

/** What the steps asked of each rule set, checked against one read per rule set. */
async function verify(api: FirewallApi, plan: Plan, done: Done[]): Promise<{ ok: true; read: RuleSet[] } | { ok: false; error: string }> {
  const expect = new Map<
    string,
    { ref: RuleSetRef; content?: RuleSetContent; enabled?: boolean; attached: string[]; detached: string[] }
  >();
  for (const d of done) {
    const ref = d.ref!;
    const e = expect.get(key(ref)) ?? { ref, attached: [], detached: [] };
    if (d.step.kind === 'replace' || d.step.kind === 'create') e.content = d.step.after;
    if (d.step.kind === 'create') e.enabled = true;
    if (d.step.kind === 'enable' || d.step.kind === 'disable') e.enabled = d.step.kind === 'enable';
    if (d.step.kind === 'attach') e.attached.push(d.step.instanceId!);
    if (d.step.kind === 'detach') e.detached.push(d.step.instanceId!);
    expect.set(key(ref), e);
  }
  const read: RuleSet[] = [];
  try {
    for (const e of expect.values()) {
      const rs = await api.getRuleSet(e.ref);
      const what = name(e.ref);
      if (!rs) return { ok: false, error: `${what} is gone.` };
      if (e.content && !sameContent(plan.instance.provider, contentOf(rs), e.content))
        return { ok: false, error: `${what} holds other rules than asked.` };
      if (e.enabled !== undefined && rs.enabled !== e.enabled)
        return { ok: false, error: `${what} is ${rs.enabled ? 'enabled' : 'disabled'}.` };
      const missing = e.attached.filter((id) => !rs.appliesTo.includes(id));
      if (missing.length) return { ok: false, error: `${what} is not attached to ${missing.join(', ')}.` };
      const still = e.detached.filter((id) => rs.appliesTo.includes(id));
      if (still.length) return { ok: false, error: `${what} is still attached to ${still.join(', ')}.` };
      read.push(rs);
    }
  } catch (err) {
    return { ok: false, error: `reading back failed: ${message(err)}` };
  }
  return { ok: true, read };
}

type RollbackOutcome = { ok: boolean; details: Record<string, unknown> } | null;

async function rollbackOne(
  api: FirewallApi,
  provider: Plan['instance']['provider'],
  d: Done,
  leftAlone: ApplyResult['leftAlone'],
  restoredSets: RuleSet[],
): Promise<RollbackOutcome> {
  const { step } = d;
  const what = name(d.ref, step);
  if (d.refused) return null;
  try {
    switch (step.kind) {
      case 'replace': {
        const cur = await api.getRuleSet(d.ref!);
        if (!cur) {
          leftAlone.push({ ruleSet: what, reason: 'it no longer exists' });
          return { ok: false, details: { skipped: 'gone' } };
        }
        const ours = (d.wroteVersion !== undefined && cur.version === d.wroteVersion) || sameContent(provider, contentOf(cur), step.after);
        if (!ours) {
          if (d.uncertain && sameContent(provider, contentOf(cur), step.before!))
            return { ok: true, details: { skipped: 'the failed write did not take effect' } };
          leftAlone.push({ ruleSet: what, reason: 'it was changed by someone else after Moat wrote it, so Moat left it as it is' });
          return { ok: false, details: { skipped: 'changed by someone else', found: cur.version } };
        }
        const restored = await api.replaceRules(d.ref!, step.before!, cur.version);
        restoredSets.push(restored);
        return { ok: true, details: { restoredVersion: restored.version } };
      }
      case 'create': {
        if (d.uncertain) {
          leftAlone.push({
            ruleSet: what,
            reason: `creating it failed, but it may exist at the provider; if a firewall labelled "${step.spec!.label}" is there, Moat may have made it`,
          });
          return { ok: false, details: { skipped: 'create outcome unknown' } };
        }
        await api.deleteRuleSet(d.ref!);
        return { ok: true, details: { deleted: true } };
      }
      case 'attach':
      case 'detach':
      case 'enable':
      case 'disable': {
        // Undo only what is still as this step left it (a failed call may not have taken effect).
        const cur = await api.getRuleSet(d.ref!);
        if (!cur) return { ok: true, details: { skipped: 'gone' } };
        const id = step.instanceId!;
        if (step.kind === 'attach' || step.kind === 'detach') {
          const attached = cur.appliesTo.includes(id);
          if (attached !== (step.kind === 'attach')) return { ok: true, details: { skipped: 'already as before' } };
          if (step.kind === 'attach') await api.detach(d.ref!, id);
          else await api.attach(d.ref!, id);
          return { ok: true, details: { [step.kind === 'attach' ? 'detached' : 'attached']: id } };
        }
        if (cur.enabled !== (step.kind === 'enable')) return { ok: true, details: { skipped: 'already as before' } };
        await api.setEnabled(d.ref!, step.kind !== 'enable');
        return { ok: true, details: { enabled: step.kind !== 'enable' } };
      }
    }
  } catch (e) {
    leftAlone.push({ ruleSet: what, reason: `undoing "${step.description}" failed: ${message(e)}` });
    return { ok: false, details: { error: message(e) } };
  }
}
