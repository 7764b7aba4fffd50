import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuleSet } from '../main/firewall/model';
import { firewallLabel, planLock, sameContent, type LockInput, type PlanInstance } from '../main/firewall/plan';
import { parseAllow, type AllowSpec } from '../main/firewall/validate';
import { LAMBDA_DEFAULT_RULES, lambdaGlobal, lambdaRuleset, linodeFirewall, port, rule } from './helpers/memory-firewall';

const ME = { ipv4: '203.0.113.7', ipv6: '2001:db8::7' };
const LAMBDA: PlanInstance = { id: 'i1', name: 'gpu-1', account: 'acct', provider: 'lambda', region: 'us-east-1' };
const LINODE: PlanInstance = { id: 'L1', name: 'My Box #1', account: 'acct', provider: 'linode', region: 'us-east' };

function allows(spec: string, from = 'me'): AllowSpec[] {
  const r = parseAllow(spec, from, ME);
  assert.ok(r.ok);
  return r.value;
}

function input(instance: PlanInstance, ruleSets: RuleSet[], o: Partial<LockInput> = {}): LockInput {
  return {
    instance,
    ruleSets,
    allows: allows('ssh'),
    accountInstances: [{ id: instance.id, name: instance.name }],
    protect: { sshFrom: ['203.0.113.7'], moatFrom: ['203.0.113.7'] },
    now: 1,
    ...o,
  };
}

test('Lambda defaults -> the global rules become the allows, locked; ICMP dropped and said so; IPv6 left out with a warning', () => {
  const plan = planLock(input(LAMBDA, [lambdaGlobal()]));
  assert.equal(plan.postureBefore.level, 'exposed');
  assert.equal(plan.postureAfter.level, 'locked');
  assert.deepEqual(
    plan.steps.map((s) => [s.kind, s.ref?.id]),
    [['replace', 'global']],
  );
  assert.deepEqual(plan.steps[0]!.after, {
    inboundPolicy: 'deny',
    outboundPolicy: 'allow',
    rules: [rule({ ports: port(22), ipv4: ['203.0.113.7/32'], label: 'moat-ssh' })],
  });
  const diff = plan.diffs[0]!;
  assert.deepEqual(
    diff.rows.map((r) => [r.mark, r.rule.protocol, r.rule.ipv4[0]]),
    [
      ['added', 'tcp', '203.0.113.7/32'],
      ['removed', 'tcp', '0.0.0.0/0'],
      ['removed', 'icmp', '0.0.0.0/0'],
    ],
  );
  assert.ok(diff.notes.some((n) => /ICMP \(ping\) from 0\.0\.0\.0\/0 is removed/.test(n)));
  assert.deepEqual(
    plan.warnings.map((w) => w.id),
    ['ipv6-ignored'],
  );
  assert.deepEqual(plan.problems, []);
  assert.deepEqual(plan.touched, [
    {
      ref: { provider: 'lambda', account: 'acct', kind: 'lambda-global', id: 'global' },
      version: 'v-global',
      enabled: true,
      content: { inboundPolicy: 'deny', outboundPolicy: 'allow', rules: LAMBDA_DEFAULT_RULES },
    },
  ]);
});

test('Lambda: allowing icmp keeps it, and then there is no note about dropping it', () => {
  const plan = planLock(input(LAMBDA, [lambdaGlobal()], { allows: allows('ssh,icmp') }));
  assert.ok(!plan.diffs[0]!.notes.some((n) => /ICMP/.test(n)));
  assert.ok(plan.diffs[0]!.rows.some((r) => r.mark === 'added' && r.rule.protocol === 'icmp'));
});

test("Lambda: the instance's attached rulesets are emptied (a union leaves open what any of them opens); others are not touched", () => {
  const mine = lambdaRuleset('rs1', [rule({ ports: port(8888), ipv4: ['0.0.0.0/0'] })], ['i1', 'i2']);
  const theirs = lambdaRuleset('rs2', [rule({ ports: port(3000), ipv4: ['0.0.0.0/0'] })], ['i3']);
  const plan = planLock(input(LAMBDA, [lambdaGlobal(), mine, theirs]));
  assert.deepEqual(
    plan.steps.map((s) => [s.kind, s.ref?.id, s.after.rules.length]),
    [
      ['replace', 'global', 1],
      ['replace', 'rs1', 0],
    ],
  );
  assert.equal(plan.postureAfter.level, 'locked');
  // Positive control: without emptying rs1, 8888 would stay open to the world.
  const onlyGlobal = planLock(input(LAMBDA, [lambdaGlobal(), { ...mine, appliesTo: ['i2'] }]));
  assert.equal(onlyGlobal.steps.length, 1);
});

test('Lambda: already as asked -> no steps', () => {
  const plan = planLock(input(LAMBDA, [lambdaGlobal([rule({ ports: port(22), ipv4: ['203.0.113.7/32'], label: 'SSH (set by hand)' })])]));
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.postureAfter.level, 'locked');
});

test('Lambda: the global rules touch every other instance of the account: affects-others names them and what they lose', () => {
  const plan = planLock(
    input(LAMBDA, [lambdaGlobal()], {
      accountInstances: [
        { id: 'i1', name: 'gpu-1' },
        { id: 'i2', name: 'trainer' },
      ],
    }),
  );
  assert.deepEqual(plan.affects, [{ id: 'i2', name: 'trainer' }]);
  const w = plan.warnings.find((x) => x.id === 'affects-others')!;
  assert.match(w.message, /1 other instance \(trainer\)/);
  assert.match(w.message, /lose TCP 22 from 0\.0\.0\.0\/0; ICMP from 0\.0\.0\.0\/0/);
});

test('Lambda us-south-1: region-unenforced, posture after stays unknown', () => {
  const plan = planLock(input({ ...LAMBDA, region: 'us-south-1' }, [lambdaGlobal()]));
  assert.ok(plan.warnings.some((w) => w.id === 'region-unenforced'));
  assert.equal(plan.postureAfter.level, 'unknown');
});

test('Lambda: more sources than 20 rules can hold -> a problem, so the plan cannot be applied', () => {
  const from = Array.from({ length: 11 }, (_, i) => `198.51.100.${i}`).join(',');
  const plan = planLock(input(LAMBDA, [lambdaGlobal()], { allows: allows('ssh,8000', from), protect: { sshFrom: [], moatFrom: [] } }));
  assert.equal(plan.problems.length, 1);
  assert.match(plan.problems[0]!.problems[0]!.message, /at most 20 rules.*22/);
});

test('Linode without a firewall -> create moat-<name> (inbound deny, outbound allow) and attach it; locked', () => {
  const plan = planLock(input(LINODE, [linodeFirewall('9', { label: 'moat-My-Box-1', appliesTo: ['L2'] })], { allows: allows('ssh,api') }));
  assert.equal(plan.postureBefore.level, 'exposed');
  assert.deepEqual(
    plan.steps.map((s) => s.kind),
    ['create', 'attach'],
  );
  const [create, attach] = plan.steps;
  assert.equal(create!.spec!.label, 'moat-My-Box-1-2', 'sanitized, and unique on the account');
  assert.equal(create!.spec!.inboundPolicy, 'deny');
  assert.equal(create!.spec!.outboundPolicy, 'allow');
  assert.deepEqual(
    create!.spec!.rules.map((r) => [r.ports, r.ipv4, r.ipv6]),
    [
      [port(22), ['203.0.113.7/32'], ['2001:db8::7/128']],
      [port(8000), ['203.0.113.7/32'], ['2001:db8::7/128']],
    ],
  );
  assert.equal(create!.before, null);
  assert.equal(attach!.created, 0);
  assert.equal(attach!.instanceId, 'L1');
  assert.equal(plan.postureAfter.level, 'locked');
  assert.deepEqual(plan.affects, []);
  assert.deepEqual(plan.warnings, []);
});

test('Linode with a disabled firewall -> replace its rules, then enable it', () => {
  const fw = linodeFirewall('7', { enabled: false, inboundPolicy: 'allow', rules: [rule({ ports: port(22), ipv4: ['0.0.0.0/0'] })] });
  const plan = planLock(input(LINODE, [fw]));
  assert.deepEqual(
    plan.steps.map((s) => [s.kind, s.ref?.id]),
    [
      ['replace', '7'],
      ['enable', '7'],
    ],
  );
  assert.equal(plan.postureBefore.level, 'exposed');
  assert.ok(plan.postureBefore.findings.some((f) => f.id === 'firewall-disabled'));
  assert.equal(plan.postureAfter.level, 'locked');
  assert.ok(plan.diffs[0]!.notes.some((n) => /now dropped \(it was accepted\)/.test(n)));
});

test('Linode with two disabled firewalls: the one Linode would let Moat enable is chosen; a clash is warned about', () => {
  const shared = linodeFirewall('5', { enabled: false, appliesTo: ['L1', 'L2'] });
  const clashing = linodeFirewall('6', { enabled: false, appliesTo: ['L1', 'L3'] });
  const onL3 = linodeFirewall('8', { appliesTo: ['L3'] });
  const plan = planLock(input(LINODE, [clashing, shared, onL3]));
  assert.deepEqual(
    plan.steps.map((s) => [s.kind, s.ref?.id]),
    [
      ['replace', '5'],
      ['enable', '5'],
    ],
  );
  assert.ok(!plan.warnings.some((w) => w.id === 'enable-refused'));
  const only = planLock(input(LINODE, [clashing, onL3]));
  assert.match(only.warnings.find((w) => w.id === 'enable-refused')!.message, /also attached to L3, which already has an enabled firewall/);
});

test('Linode with an enabled firewall: inbound replaced, outbound policy and rules kept', () => {
  const out = rule({ direction: 'outbound', protocol: 'tcp', ports: port(443), ipv4: ['0.0.0.0/0'], label: 'https-out' });
  const fw = linodeFirewall('7', {
    outboundPolicy: 'deny',
    rules: [rule({ ports: port(8888), ipv4: ['0.0.0.0/0'] }), out],
  });
  const plan = planLock(input(LINODE, [fw]));
  assert.equal(plan.steps.length, 1);
  const after = plan.steps[0]!.after;
  assert.equal(after.outboundPolicy, 'deny');
  assert.deepEqual(
    after.rules.filter((r) => r.direction === 'outbound'),
    [out],
  );
  assert.equal(plan.postureAfter.outbound, 'restricted');
  assert.deepEqual(
    plan.diffs[0]!.rows.map((r) => r.mark),
    ['added', 'removed', 'kept'],
  );
});

test('Linode: a firewall shared with other Linodes -> affects-others', () => {
  const fw = linodeFirewall('7', { appliesTo: ['L1', 'L2', 'L3'], rules: [rule({ ports: port(22), ipv4: ['0.0.0.0/0'] })] });
  const plan = planLock(
    input(LINODE, [fw], {
      accountInstances: [
        { id: 'L1', name: 'a' },
        { id: 'L2', name: 'b' },
      ],
    }),
  );
  assert.deepEqual(plan.affects, [
    { id: 'L2', name: 'b' },
    { id: 'L3', name: 'L3' },
  ]);
  assert.ok(plan.warnings.some((w) => w.id === 'affects-others'));
});

test('ssh-lockout: when no allow covers port 22 from every address the user connects from', () => {
  const cut = planLock(
    input(LINODE, [], { allows: allows('ssh', '198.51.100.0/24'), protect: { sshFrom: ['203.0.113.7', '198.51.100.9'], moatFrom: [] } }),
  );
  const w = cut.warnings.find((x) => x.id === 'ssh-lockout')!;
  assert.match(w.message, /from 203\.0\.113\.7;/);
  assert.doesNotMatch(w.message, /198\.51\.100\.9/);
  // Nothing allows 22 at all, and nobody is named: still a lockout.
  assert.ok(
    planLock(input(LINODE, [], { allows: allows('api'), protect: { sshFrom: [], moatFrom: [] } })).warnings.some(
      (x) => x.id === 'ssh-lockout',
    ),
  );
  // Positive control: covered by a wider allow.
  const ok = planLock(
    input(LINODE, [], {
      allows: allows('ssh', '203.0.113.0/24,198.51.100.0/24'),
      protect: { sshFrom: ['203.0.113.7', '198.51.100.9'], moatFrom: [] },
    }),
  );
  assert.ok(!ok.warnings.some((x) => x.id === 'ssh-lockout'));
});

test('moat-lockout: when Moat itself would be cut off', () => {
  const plan = planLock(input(LINODE, [], { protect: { sshFrom: ['203.0.113.7'], moatFrom: ['192.0.2.50'] } }));
  assert.deepEqual(
    plan.warnings.map((w) => w.id),
    ['moat-lockout'],
  );
  assert.match(plan.warnings[0]!.message, /192\.0\.2\.50/);
  const ok = planLock(
    input(LINODE, [], { allows: allows('ssh', 'me,192.0.2.50'), protect: { sshFrom: ['203.0.113.7'], moatFrom: ['192.0.2.50'] } }),
  );
  assert.deepEqual(ok.warnings, []);
});

test('Lambda: an IPv6 address to protect is not a lockout (Lambda instances have no IPv6)', () => {
  const plan = planLock(input(LAMBDA, [lambdaGlobal()], { protect: { sshFrom: ['203.0.113.7', '2001:db8::7'], moatFrom: [] } }));
  assert.ok(!plan.warnings.some((w) => w.id === 'ssh-lockout'));
});

test("firewall labels follow Linode's rules", () => {
  for (const [name, want] of [
    ['gpu', 'moat-gpu'],
    ['My Box #1', 'moat-My-Box-1'],
    ['__x..y--z__', 'moat-x-y-z'],
    ['a'.repeat(40), `moat-${'a'.repeat(27)}`],
    ['---', 'moat'],
  ] as const)
    assert.equal(firewallLabel(name, []), want, name);
  assert.equal(firewallLabel('gpu', ['moat-gpu', 'MOAT-GPU-2']), 'moat-gpu-3');
  for (const l of [firewallLabel('a'.repeat(40), [`moat-${'a'.repeat(27)}`]), firewallLabel('x-', [])]) {
    assert.ok(l.length >= 3 && l.length <= 32, l);
    assert.match(l, /^[A-Za-z0-9](?:[A-Za-z0-9]|[-_.](?=[A-Za-z0-9]))*$/, l);
  }
});

test('sameContent: Lambda compares a union (order and grouping ignored); Linode compares order, and reads a rule for every protocol back as its parts', () => {
  const c = (rules: RuleSet['rules']) => ({ inboundPolicy: 'deny' as const, outboundPolicy: 'allow' as const, rules });
  const a = rule({ ports: port(22), ipv4: ['1.2.3.4/32'] });
  const b = rule({ ports: port(80), ipv4: ['1.2.3.4/32'] });
  const grouped = rule({ ports: [...port(22), ...port(80)], ipv4: ['1.2.3.4'] });
  assert.ok(sameContent('lambda', c([a, b]), c([b, a])));
  assert.ok(sameContent('lambda', c([a, b]), c([grouped])));
  assert.ok(!sameContent('lambda', c([a]), c([a, b])));
  assert.ok(!sameContent('linode', c([a, b]), c([b, a])), 'first match wins: order matters on Linode');
  assert.ok(sameContent('linode', c([a, b]), c([{ ...a, label: 'renamed' }, b])), 'labels are ignored');
  const every = rule({ protocol: 'all', ipv4: ['1.2.3.4/32'] });
  const parts = [
    rule({ ipv4: ['1.2.3.4/32'] }),
    rule({ protocol: 'udp', ipv4: ['1.2.3.4/32'] }),
    rule({ protocol: 'icmp', ipv4: ['1.2.3.4/32'] }),
    rule({ protocol: 'all', nativeProtocol: 'IPENCAP', ipv4: ['1.2.3.4/32'] }),
  ];
  assert.ok(sameContent('linode', c([every]), c(parts)));
  assert.ok(!sameContent('linode', c([every]), c(parts.slice(0, 3))));
  assert.ok(!sameContent('linode', c([a]), { ...c([a]), outboundPolicy: 'deny' }));
});
