import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlan } from '../main/firewall/apply';
import { FirewallConflictError, type RuleSet } from '../main/firewall/model';
import { planLock, type PlanInstance } from '../main/firewall/plan';
import { parseAllow } from '../main/firewall/validate';
import { lambdaGlobal, LAMBDA_DEFAULT_RULES, linodeFirewall, MemoryFirewall, port, rule } from './helpers/memory-firewall';

const ME = { ipv4: '203.0.113.7' };
const LAMBDA: PlanInstance = { id: 'i1', name: 'gpu-1', account: 'acct', provider: 'lambda', region: 'us-east-1' };
const LINODE: PlanInstance = { id: 'L1', name: 'box', account: 'acct', provider: 'linode', region: 'us-east' };
const GLOBAL = { provider: 'lambda' as const, account: 'acct', kind: 'lambda-global' as const, id: 'global' };
const FW7 = { provider: 'linode' as const, account: 'acct', kind: 'linode-firewall' as const, id: '7' };

function plan(instance: PlanInstance, sets: RuleSet[]) {
  const allows = parseAllow('ssh', 'me', ME);
  assert.ok(allows.ok);
  return planLock({
    instance,
    ruleSets: sets,
    allows: allows.value,
    accountInstances: [{ id: instance.id, name: instance.name }],
    protect: { sshFrom: ['203.0.113.7'], moatFrom: [] },
  });
}

function recorder() {
  const log: [string, 'ok' | 'failed', Record<string, unknown>][] = [];
  return { log, audit: (step: string, outcome: 'ok' | 'failed', details: Record<string, unknown>) => log.push([step, outcome, details]) };
}

const summary = (log: ReturnType<typeof recorder>['log']) => log.map(([s, o]) => `${s}:${o}`);

test('Lambda: applies the plan, reads it back, audits every step', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  const p = plan(LAMBDA, api.sets);
  const a = recorder();
  const r = await applyPlan(api, p, a);
  assert.equal(r.error, undefined);
  assert.equal(r.ok, true);
  assert.equal(r.verified, true);
  assert.equal(r.rolledBack, false);
  assert.equal(r.applied.length, 1);
  assert.deepEqual(api.find(GLOBAL)!.rules, [rule({ ports: port(22), ipv4: ['203.0.113.7/32'], label: 'moat-ssh' })]);
  assert.deepEqual(summary(a.log), ['check:ok', 'replace:ok', 'verify:ok']);
  assert.equal(r.written[0]!.version, api.find(GLOBAL)!.version);
});

test('Linode without a firewall: create, attach, verified', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('9', { appliesTo: ['L2'] })]);
  const r = await applyPlan(api, plan(LINODE, api.sets), recorder());
  assert.ok(r.ok, r.error);
  const made = api.sets.find((s) => s.label === 'moat-box')!;
  assert.deepEqual(made.appliesTo, ['L1']);
  assert.equal(made.inboundPolicy, 'deny');
  assert.deepEqual(
    api.calls.filter((c) => !c.startsWith('get') && c !== 'list'),
    ['create moat-box', `attach linode-firewall ${made.id} L1`],
  );
});

test('Linode with a disabled firewall: replace then enable, verified', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('7', { enabled: false, inboundPolicy: 'allow' })]);
  const r = await applyPlan(api, plan(LINODE, api.sets), recorder());
  assert.ok(r.ok, r.error);
  assert.equal(api.find(FW7)!.enabled, true);
  assert.equal(api.find(FW7)!.inboundPolicy, 'deny');
});

test('rules changed between plan and apply: stops, nothing written', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  const p = plan(LAMBDA, api.sets);
  api.external(GLOBAL, { rules: [...LAMBDA_DEFAULT_RULES, rule({ ports: port(443), ipv4: ['0.0.0.0/0'] })] });
  const before = structuredClone(api.sets);
  const a = recorder();
  const r = await applyPlan(api, p, a);
  assert.equal(r.ok, false);
  assert.match(r.error!, /changed since the plan was made; nothing was changed/);
  assert.equal(api.writes, 0);
  assert.deepEqual(api.sets, before);
  assert.deepEqual(summary(a.log), ['check:failed']);
});

test('a firewall attached between plan and apply: the create plan stops, nothing written', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('9', { appliesTo: ['L2'] })]);
  const p = plan(LINODE, api.sets);
  api.find({ ...FW7, id: '9' })!.appliesTo.push('L1');
  const r = await applyPlan(api, p, recorder());
  assert.equal(r.ok, false);
  assert.match(r.error!, /was attached to the instance since the plan was made/);
  assert.equal(api.writes, 0);
});

test('only the version changed between plan and apply (same rules): still stops, nothing written', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('7', { rules: [rule({ ports: port(80), ipv4: ['0.0.0.0/0'] })] })]);
  const p = plan(LINODE, api.sets);
  api.external(FW7, {});
  const r = await applyPlan(api, p, recorder());
  assert.equal(r.ok, false);
  assert.match(r.error!, /changed since the plan was made/);
  assert.equal(api.writes, 0);
  // Positive control: untouched, the same plan applies.
  const api2 = new MemoryFirewall('linode', [linodeFirewall('7', { rules: [rule({ ports: port(80), ipv4: ['0.0.0.0/0'] })] })]);
  assert.ok((await applyPlan(api2, plan(LINODE, api2.sets), recorder())).ok);
});

test('an attach the provider acknowledges but does not do: verify fails, the created firewall is deleted', async () => {
  const api = new MemoryFirewall('linode', []);
  api.ignore.add('attach');
  const r = await applyPlan(api, plan(LINODE, []), recorder());
  assert.equal(r.ok, false);
  assert.match(r.error!, /is not attached to L1/);
  assert.deepEqual(api.sets, []);
});

test('a plan with limit problems is refused before any read or write', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  const p = plan(LAMBDA, api.sets);
  p.problems = [{ label: 'Global rules', problems: [{ rule: null, message: 'Too many rules.' }] }];
  const r = await applyPlan(api, p, recorder());
  assert.equal(r.ok, false);
  assert.match(r.error!, /limits: Too many rules\./);
  assert.deepEqual(api.calls, []);
});

test('the 2nd write fails: the 1st is rolled back (Linode: replace ok, enable fails)', async () => {
  const original = linodeFirewall('7', { enabled: false, inboundPolicy: 'allow', rules: [rule({ ports: port(80), ipv4: ['0.0.0.0/0'] })] });
  const api = new MemoryFirewall('linode', [original]);
  api.failWrite(2);
  const a = recorder();
  const r = await applyPlan(api, plan(LINODE, api.sets), a);
  assert.equal(r.ok, false);
  assert.match(r.error!, /Enable the firewall "fw-7".*HTTP 500/);
  assert.equal(r.rolledBack, true);
  assert.deepEqual(r.leftAlone, []);
  const now = api.find(FW7)!;
  assert.deepEqual([now.enabled, now.inboundPolicy, now.rules], [false, 'allow', original.rules]);
  // The failed enable did not happen, so undoing it is a no-op; the replace is restored.
  assert.ok(!api.calls.some((c) => c.startsWith('disable')), 'nothing to disable: the enable never happened');
  assert.deepEqual(summary(a.log), ['check:ok', 'replace:ok', 'enable:failed', 'rollback enable:ok', 'rollback replace:ok']);
  assert.deepEqual(
    r.restored.map((x) => [x.id, x.version, x.rules]),
    [['7', now.version, original.rules]],
  );
});

test('create ok, attach fails: the created firewall is deleted', async () => {
  const api = new MemoryFirewall('linode', []);
  api.failWrite(2);
  const r = await applyPlan(api, plan(LINODE, []), recorder());
  assert.equal(r.ok, false);
  assert.equal(r.rolledBack, true);
  assert.deepEqual(api.sets, []);
  assert.ok(api.calls.some((c) => c.startsWith('delete linode-firewall')));
});

test('a write that fails after it took effect (a timeout) is still rolled back', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  api.failWrite(1, new Error('socket hang up'), true);
  const r = await applyPlan(api, plan(LAMBDA, api.sets), recorder());
  assert.equal(r.ok, false);
  assert.equal(r.rolledBack, true);
  assert.deepEqual(api.find(GLOBAL)!.rules, LAMBDA_DEFAULT_RULES);
});

test('a write refused with a version conflict is not rolled back (it did not happen)', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('7', { rules: [rule({ ports: port(80), ipv4: ['0.0.0.0/0'] })] })]);
  api.failWrite(1, new FirewallConflictError(FW7, '1:fw7', '2:x'));
  const r = await applyPlan(api, plan(LINODE, api.sets), recorder());
  assert.equal(r.ok, false);
  assert.equal(api.writes, 1);
  assert.deepEqual(r.leftAlone, []);
});

test('read-back differs from what was asked: verify fails and the rule set is restored (its version is the one our write produced)', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  // A provider that quietly widens the source.
  api.mangle = (c) => ({ ...c, rules: c.rules.map((r) => ({ ...r, ipv4: ['0.0.0.0/0'] })) });
  const p = plan(LAMBDA, api.sets);
  const a = recorder();
  const r = await applyPlan(api, p, { audit: (s, o, d) => (s.startsWith('rollback') && (api.mangle = undefined), a.audit(s, o, d)) });
  assert.equal(r.ok, false);
  assert.equal(r.verified, false);
  assert.match(r.error!, /holds other rules than asked/);
  assert.equal(r.rolledBack, true);
  assert.deepEqual(api.find(GLOBAL)!.rules, LAMBDA_DEFAULT_RULES);
  assert.deepEqual(summary(a.log), ['check:ok', 'replace:ok', 'verify:failed', 'rollback replace:ok']);
});

test('someone else changes the rules between our write and the rollback: left alone and reported', async () => {
  const api = new MemoryFirewall('linode', [linodeFirewall('7', { enabled: false, inboundPolicy: 'allow' })]);
  const theirs = [rule({ ports: port(5432), ipv4: ['198.51.100.1/32'] })];
  api.afterWrite = (n, _op, self) => {
    if (n === 1) self.external(FW7, { rules: theirs });
  };
  api.failWrite(2);
  const a = recorder();
  const r = await applyPlan(api, plan(LINODE, api.sets), a);
  assert.equal(r.ok, false);
  assert.equal(r.rolledBack, false);
  assert.deepEqual(r.leftAlone, [
    { ruleSet: 'linode-firewall 7', reason: 'it was changed by someone else after Moat wrote it, so Moat left it as it is' },
  ]);
  assert.deepEqual(api.find(FW7)!.rules, theirs, 'their change survives');
  assert.deepEqual(summary(a.log).slice(-1), ['rollback replace:failed']);
  // Positive control: without the other actor, the same failure is rolled back.
  const api2 = new MemoryFirewall('linode', [linodeFirewall('7', { enabled: false, inboundPolicy: 'allow' })]);
  api2.failWrite(2);
  const r2 = await applyPlan(api2, plan(LINODE, api2.sets), recorder());
  assert.equal(r2.rolledBack, true);
  assert.equal(api2.find(FW7)!.inboundPolicy, 'allow');
});

test('Lambda: someone else writes between our write and the rollback: left alone (Lambda has no version guard)', async () => {
  const api = new MemoryFirewall('lambda', [lambdaGlobal()]);
  const p = plan(LAMBDA, api.sets);
  const theirs = [rule({ ports: port(22), ipv4: ['192.0.2.0/24'] })];
  api.afterWrite = (n, _op, self) => {
    if (n === 1) {
      self.external(GLOBAL, { rules: theirs });
    }
  };
  const r = await applyPlan(api, p, recorder());
  assert.equal(r.ok, false, 'verify sees their rules, not ours');
  assert.equal(r.leftAlone.length, 1);
  assert.deepEqual(api.find(GLOBAL)!.rules, theirs);
});

test('a failing rollback step is reported, and the rest of the rollback still runs', async () => {
  const api = new MemoryFirewall('linode', []);
  api.failWrite(2); // attach fails
  api.failWrite(3); // deleting the created firewall fails too
  const r = await applyPlan(api, plan(LINODE, []), recorder());
  assert.equal(r.ok, false);
  assert.equal(r.rolledBack, false);
  assert.equal(r.leftAlone.length, 1);
  assert.match(r.leftAlone[0]!.reason, /undoing "Create the firewall "moat-box"\." failed/);
});

test("a create that failed is not deleted by label (it could be someone else's); it is reported", async () => {
  const api = new MemoryFirewall('linode', []);
  api.failWrite(1, new Error('timeout'), true);
  const r = await applyPlan(api, plan(LINODE, []), recorder());
  assert.equal(r.ok, false);
  assert.equal(api.sets.length, 1, 'nothing deleted');
  assert.match(r.leftAlone[0]!.reason, /may exist at the provider.*moat-box/);
});
