// The Firewall view's pure pieces: address checks, the wizard's plan requests, rule cells, and the
// launch steps with the locked start's firewall step.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import type { Finding, InstancePosture, Rule } from '../shared/firewall';
import { addressProblem, isAddressOrCidr, isIPv4, isIPv6, parseSourceList } from '../renderer/src/lib/addresses';
import { portsText, protocolText, sortPostures, sourceItems, topFinding } from '../renderer/src/lib/firewall';
import { LAUNCH_STEPS, LOCKED_LAUNCH_STEPS, stepRows } from '../renderer/src/lib/launch';
import { buildPlanRequests, defaultChoices, hasMyAddress, needsConfirmation, parseCustom } from '../renderer/src/lib/lockWizard';
import { newerOverview } from '../renderer/src/stores/firewall';

test('addresses: agree with node:net on valid and invalid forms (the oracle), both families', () => {
  const samples = [
    '1.2.3.4',
    '255.255.255.255',
    '0.0.0.0',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.-1',
    ' 1.2.3.4',
    '::',
    '::1',
    '2001:db8::1',
    '2001:db8:0:0:0:0:0:1',
    '2001:db8:0:0:0:0:0:0:1',
    '1::2::3',
    ':1',
    '1:',
    ':::',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3.4',
    '::ffff:300.1.1.1',
    'fe80::1%eth0',
    'g::1',
    '12345::1',
    'abcd',
    '',
  ];
  for (const s of samples) {
    assert.equal(isIPv4(s), isIP(s) === 4, `IPv4 ${JSON.stringify(s)}`);
    assert.equal(isIPv6(s), isIP(s) === 6 && !s.includes('%'), `IPv6 ${JSON.stringify(s)}`);
  }
});

test('addresses: CIDRs and lists; each bad item named', () => {
  assert.ok(isAddressOrCidr('10.0.0.0/8'));
  assert.ok(isAddressOrCidr('2001:db8::/32'));
  assert.ok(!isAddressOrCidr('10.0.0.0/33'));
  assert.ok(!isAddressOrCidr('2001:db8::/129'));
  assert.ok(!isAddressOrCidr('10.0.0.0/'));
  assert.ok(!isAddressOrCidr('example.com'));
  assert.deepEqual(parseSourceList(' 10.0.0.0/8, ,198.51.100.4 '), { items: ['10.0.0.0/8', '198.51.100.4'], errors: [] });
  const bad = parseSourceList('10.0.0.0/8, nope');
  assert.deepEqual(bad.items, ['10.0.0.0/8']);
  assert.match(bad.errors[0]!, /"nope" is not an address/);
});

test('my address: empty is fine, the wrong family is named, a prefix is refused', () => {
  assert.equal(addressProblem('', 4), null);
  assert.equal(addressProblem('203.0.113.7', 4), null);
  assert.match(addressProblem('2001:db8::7', 4)!, /IPv6 address; put it in the IPv6 field/);
  assert.match(addressProblem('203.0.113.0/24', 4)!, /without a \/prefix/);
  assert.match(addressProblem('hello', 6)!, /not an IPv6 address/);
  assert.ok(hasMyAddress({ ipv4: '', ipv6: '2001:db8::7' }));
  assert.ok(!hasMyAddress({ ipv4: 'x', ipv6: '' }));
  assert.ok(!hasMyAddress({ ipv4: '', ipv6: '' }));
});

test('custom ports: ports, ranges, udp, icmp; backwards, out of range and words refused', () => {
  assert.deepEqual(parseCustom('9000, 8000-8100, udp:60000, TCP:9001, icmp,'), {
    items: ['9000', '8000-8100', 'udp:60000', '9001', 'icmp'],
    errors: [],
  });
  const r = parseCustom('0, 70000, 9-1, web, udp:');
  assert.deepEqual(r.items, []);
  assert.equal(r.errors.length, 5);
  assert.match(r.errors[2]!, /runs backwards/);
  assert.match(r.errors[1]!, /1 to 65535/);
});

test('plan requests: SSH from me by default, one request per instance, me as confirmed', () => {
  const r = buildPlanRequests(['i-1', 'i-2'], { ipv4: ' 203.0.113.7 ', ipv6: '' }, defaultChoices());
  assert.ok(r.ok);
  assert.deepEqual(r.requests, [
    { ref: 'i-1', allow: [{ what: 'ssh', from: ['me'] }], me: { ipv4: '203.0.113.7' } },
    { ref: 'i-2', allow: [{ what: 'ssh', from: ['me'] }], me: { ipv4: '203.0.113.7' } },
  ]);
});

test('plan requests: presets with extra networks, custom items sharing one source list', () => {
  const c = defaultChoices();
  c.presets['chat-ui'] = { on: true, fromMe: false, cidrs: '10.0.0.0/8, 198.51.100.4' };
  c.custom = { text: '9000, udp:60000', fromMe: true, cidrs: '192.0.2.0/24' };
  const r = buildPlanRequests(['i-1'], { ipv4: '', ipv6: '2001:db8::7' }, c);
  assert.ok(r.ok);
  assert.deepEqual(r.requests[0]!.allow, [
    { what: 'ssh', from: ['me'] },
    { what: 'chat-ui', from: ['10.0.0.0/8', '198.51.100.4'] },
    { what: '9000', from: ['me', '192.0.2.0/24'] },
    { what: 'udp:60000', from: ['me', '192.0.2.0/24'] },
  ]);
  assert.deepEqual(r.requests[0]!.me, { ipv6: '2001:db8::7' });
});

test('plan requests refused: "my address" without one, an item with no source, bad networks, nothing chosen', () => {
  const noMe = buildPlanRequests(['i-1'], { ipv4: '', ipv6: '' }, defaultChoices());
  assert.ok(!noMe.ok);
  assert.equal(noMe.problems[0]!.item, 'ssh');
  assert.match(noMe.problems[0]!.message, /needs your IPv4 or IPv6 address/);

  // Positive control for the same choice with networks instead.
  const c = defaultChoices();
  c.presets.ssh = { on: true, fromMe: false, cidrs: '198.51.100.0/24' };
  assert.ok(buildPlanRequests(['i-1'], { ipv4: '', ipv6: '' }, c).ok);

  c.presets.ssh = { on: true, fromMe: false, cidrs: '' };
  const none = buildPlanRequests(['i-1'], { ipv4: '1.2.3.4', ipv6: '' }, c);
  assert.ok(!none.ok && /say where from/.test(none.problems[0]!.message));

  c.presets.ssh = { on: true, fromMe: true, cidrs: 'nope' };
  const bad = buildPlanRequests(['i-1'], { ipv4: '1.2.3.4', ipv6: '' }, c);
  assert.ok(!bad.ok && /"nope"/.test(bad.problems[0]!.message));

  c.presets.ssh = { on: false, fromMe: true, cidrs: '' };
  const nothing = buildPlanRequests(['i-1'], { ipv4: '1.2.3.4', ipv6: '' }, c);
  assert.ok(!nothing.ok && /Nothing is allowed/.test(nothing.problems[0]!.message));

  const noInstance = buildPlanRequests([], { ipv4: '1.2.3.4', ipv6: '' }, defaultChoices());
  assert.ok(!noInstance.ok && /No instance/.test(noInstance.problems[0]!.message));

  const c2 = defaultChoices();
  c2.custom.text = '9000, bogus';
  const custom = buildPlanRequests(['i-1'], { ipv4: '1.2.3.4', ipv6: '' }, c2);
  assert.ok(!custom.ok && custom.problems.some((p) => p.item === 'custom' && /"bogus"/.test(p.message)));
});

test('confirmation: needed for lockout and affects-others warnings only', () => {
  assert.ok(!needsConfirmation([{ warnings: [] }, { warnings: [{ id: 'ipv6-ignored', message: '' }] }]));
  for (const id of ['ssh-lockout', 'moat-lockout', 'affects-others']) {
    assert.ok(needsConfirmation([{ warnings: [] }, { warnings: [{ id, message: '' }] }]), id);
  }
});

const rule = (r: Partial<Rule>): Rule => ({
  direction: 'inbound',
  action: 'allow',
  protocol: 'tcp',
  ports: null,
  ipv4: [],
  ipv6: [],
  label: '',
  ...r,
});

test('rule cells: ports "all" when null and "-" for icmp, native protocol shown, world sources spelled out', () => {
  assert.equal(portsText(rule({ ports: null })), 'all');
  assert.equal(portsText(rule({ protocol: 'icmp', ports: null })), '-');
  assert.equal(
    portsText(
      rule({
        ports: [
          { from: 22, to: 22 },
          { from: 8000, to: 8100 },
        ],
      }),
    ),
    '22, 8000-8100',
  );
  assert.equal(protocolText(rule({ protocol: 'all', nativeProtocol: 'IPENCAP' })), 'IPENCAP');
  assert.equal(protocolText(rule({ protocol: 'udp' })), 'udp');
  assert.deepEqual(sourceItems(rule({ ipv4: ['0.0.0.0/0', '10.0.0.0/8'], ipv6: ['::/0'] })), [
    { text: '0.0.0.0/0 (anywhere)', world: true },
    { text: '10.0.0.0/8', world: false },
    { text: '::/0 (anywhere)', world: true },
  ]);
});

test('findings and rows: the most severe finding leads; exposed instances first', () => {
  const f = (id: string, severity: Finding['severity']): Finding => ({ id, severity, message: id, fix: '' });
  assert.equal(topFinding([f('a', 'low'), f('b', 'critical'), f('c', 'high'), f('d', 'critical')])!.id, 'b');
  assert.equal(topFinding([]), null);
  const p = (name: string, level: InstancePosture['posture']['level']) =>
    ({ instance: { account: 'work', name, id: name }, posture: { level, findings: [] } }) as unknown as InstancePosture;
  assert.deepEqual(
    sortPostures([p('a', 'locked'), p('b', 'exposed'), p('c', 'unknown'), p('a2', 'exposed')]).map((x) => x.instance.name),
    ['a2', 'b', 'c', 'a'],
  );
});

test('overview: an older answer never replaces a newer one', () => {
  const o = (at: number) => ({ at, instances: [], accounts: [], counts: { locked: 0, exposed: at, unknown: 0 } });
  assert.equal(newerOverview(o(5), o(3)).at, 5);
  assert.equal(newerOverview(o(3), o(5)).at, 5);
  assert.equal(newerOverview(null, o(1)).at, 1);
});

test('launch steps: a locked launch shows the firewall step between SSH key and requested', () => {
  assert.deepEqual([...LOCKED_LAUNCH_STEPS], ['checking', 'ssh-key', 'firewall', 'requested', 'booting', 'ready']);
  assert.ok(!LAUNCH_STEPS.includes('firewall'));
  const ev = (step: (typeof LOCKED_LAUNCH_STEPS)[number], at: number) => ({ step, at });
  const states = (rows: ReturnType<typeof stepRows>) => rows.map((r) => `${r.step}:${r.state}`);
  assert.deepEqual(states(stepRows([], false, true)), [
    'checking:current',
    'ssh-key:pending',
    'firewall:pending',
    'requested:pending',
    'booting:pending',
    'ready:pending',
  ]);
  assert.deepEqual(states(stepRows([ev('checking', 1), ev('ssh-key', 2), ev('firewall', 3)], false, true)), [
    'checking:done',
    'ssh-key:done',
    'firewall:current',
    'requested:pending',
    'booting:pending',
    'ready:pending',
  ]);
  // Failing while the rule set is made marks that step.
  assert.equal(stepRows([ev('checking', 1), ev('ssh-key', 2), ev('firewall', 3)], true, true)[2]!.state, 'failed');
  // A reported firewall step shows even when the caller did not say the launch was locked.
  assert.ok(stepRows([ev('firewall', 3)]).some((r) => r.step === 'firewall'));
  // Unlocked: no firewall row at all.
  assert.ok(!stepRows([ev('requested', 3)], false, false).some((r) => r.step === 'firewall'));
});
