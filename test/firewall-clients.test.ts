// FirewallApi over HTTP against the fakes: Linode firewalls listed (every page), created,
// replaced, attached, detached, enabled and deleted, the one-enabled-firewall rule, the version
// guard; Lambda's global rules and regional rulesets; a 429 and a 5xx on a write retried (a PUT
// that replaces everything is repeated, a create never duplicated); launches already locked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLambdaFake } from '../e2e/fakes/lambda';
import { startLinodeFake } from '../e2e/fakes/linode';
import { FirewallConflictError, FirewallLimitError, type Rule, type RuleSetContent, type RuleSetRef } from '../main/firewall/model';
import { LambdaProvider } from '../main/providers/lambda/provider';
import { LinodeProvider } from '../main/providers/linode';
import { ProviderError, type RetryNotice, type SshKeyRef } from '../main/providers/provider';

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
const p = (from: number, to = from) => ({ from, to });
const fast = { backoff: { baseMs: 1, maxMs: 2 }, sleep: async () => {}, timeoutMs: 3000 };

// --- Linode -------------------------------------------------------------------------------------

const TOKEN = 'linode-fw-token-5e8a0c2f4b6d';
const KEY: SshKeyRef = { id: '1', name: 'moat', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests moat' };
const locked: RuleSetContent = {
  inboundPolicy: 'deny',
  outboundPolicy: 'allow',
  rules: [rule({ ports: [p(22)], ipv4: ['203.0.113.7/32'], label: 'ssh-from-me' })],
};

async function linode(pageSizeCap?: number) {
  const fake = await startLinodeFake({ tokens: { [TOKEN]: '*' }, ...(pageSizeCap ? { pageSizeCap } : {}) });
  const notices: RetryNotice[] = [];
  const provider = new LinodeProvider({
    baseUrl: fake.url,
    key: async () => TOKEN,
    account: 'work',
    onRetry: (n) => notices.push(n),
    ...fast,
  });
  return { fake, provider, notices, fw: provider.firewall };
}

const launch = (pr: LinodeProvider, name: string, firewall?: string) =>
  pr.launch({ name, region: 'us-east', type: 'g6-standard-1', sshKey: KEY, ...(firewall ? { firewall: { ruleSetIds: [firewall] } } : {}) });

test('Linode: create attached, list every page, replace, detach, attach, disable, enable, delete', async () => {
  const { fake, provider, fw } = await linode(2);
  try {
    const a = await launch(provider, 'fw-a');
    const b = await launch(provider, 'fw-b');
    const made = await fw.createRuleSet({ ...locked, label: 'moat-locked', attachTo: [a.id] });
    assert.equal(made.kind, 'linode-firewall');
    assert.equal(made.account, 'work');
    assert.deepEqual(made.appliesTo, [a.id]);
    assert.ok(made.enabled);
    assert.deepEqual(made.rules, locked.rules);
    assert.match(made.version, /^1:[0-9a-f]{8}$/);
    for (const label of ['moat-two', 'moat-three']) await fw.createRuleSet({ ...locked, label });
    const all = await fw.listRuleSets();
    assert.deepEqual(all.map((r) => r.label).sort(), ['moat-locked', 'moat-three', 'moat-two']);
    assert.ok(
      fake.state.requests.some((r) => r.path.includes('/networking/firewalls?page=2')),
      'walked the second page',
    );

    const ref: RuleSetRef = made;
    const next: RuleSetContent = {
      inboundPolicy: 'deny',
      outboundPolicy: 'deny',
      rules: [...locked.rules, rule({ direction: 'outbound', protocol: 'udp', ports: [p(53)], ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] })],
    };
    const replaced = await fw.replaceRules(ref, next, made.version);
    assert.deepEqual(replaced.rules, next.rules);
    assert.equal(replaced.outboundPolicy, 'deny');
    assert.match(replaced.version, /^2:/);
    assert.equal(fake.state.firewalls.find((f) => String(f.id) === made.id)!.rules.outbound_policy, 'DROP');

    await fw.detach(ref, a.id);
    assert.deepEqual((await fw.getRuleSet(ref))!.appliesTo, []);
    await fw.detach(ref, a.id); // already detached: fine
    await fw.attach(ref, b.id);
    assert.deepEqual((await fw.getRuleSet(ref))!.appliesTo, [b.id]);
    await fw.setEnabled(ref, false);
    assert.equal((await fw.getRuleSet(ref))!.enabled, false);
    await fw.setEnabled(ref, true);
    assert.equal((await fw.getRuleSet(ref))!.enabled, true);
    await fw.deleteRuleSet(ref);
    assert.equal(await fw.getRuleSet(ref), null);
    await fw.deleteRuleSet(ref); // already gone: fine
  } finally {
    await fake.close();
  }
});

test('Linode: a second enabled firewall on one Linode is refused with Linode’s reason; a disabled one attaches', async () => {
  const { fake, provider, fw } = await linode();
  try {
    const a = await launch(provider, 'fw-a');
    await fw.createRuleSet({ ...locked, label: 'first', attachTo: [a.id] });
    const second = await fw.createRuleSet({ ...locked, label: 'second' });
    const err = await fw.attach(second, a.id).then(
      () => assert.fail('attached a second enabled firewall'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProviderError && err.kind === 'invalid', String(err));
    assert.match(err.message, /enabled Firewall/);
    await fw.setEnabled(second, false);
    await fw.attach(second, a.id); // the positive control: disabled, it attaches
    await assert.rejects(fw.setEnabled(second, true), (e: unknown) => e instanceof ProviderError && /enabled Firewall/.test(e.message));
  } finally {
    await fake.close();
  }
});

test('Linode: the version guard stops a replace when the rules changed behind Moat’s back', async () => {
  const { fake, fw } = await linode();
  try {
    const made = await fw.createRuleSet({ ...locked, label: 'guarded' });
    fake.state.tamper(Number(made.id), (r) => ({ ...r, inbound_policy: 'ACCEPT' }));
    const before = fake.state.firewalls[0]!.version;
    const err = await fw.replaceRules(made, locked, made.version).then(
      () => assert.fail('replaced over a change'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FirewallConflictError, String(err));
    assert.equal(err.expected, made.version);
    assert.match(err.found, /^2:/);
    assert.equal(fake.state.firewalls[0]!.version, before, 'nothing was written');
    assert.equal(fake.state.firewalls[0]!.rules.inbound_policy, 'ACCEPT');
    // With the version just read, it goes through.
    const now = (await fw.getRuleSet(made))!;
    assert.equal((await fw.replaceRules(made, locked, now.version)).inboundPolicy, 'deny');
  } finally {
    await fake.close();
  }
});

test('Linode: limits are checked before anything is sent', async () => {
  const { fake, fw } = await linode();
  try {
    const made = await fw.createRuleSet({ ...locked, label: 'limits' });
    const writes = () => fake.state.requests.filter((r) => r.method !== 'GET').length;
    const n = writes();
    const tooMany = Array.from({ length: 26 }, (_, i) => rule({ ports: [p(1000 + i)], ipv4: ['0.0.0.0/0'] }));
    await assert.rejects(fw.replaceRules(made, { ...locked, rules: tooMany }), FirewallLimitError);
    await assert.rejects(fw.createRuleSet({ ...locked, label: 'x' }), FirewallLimitError);
    assert.equal(writes(), n);
  } finally {
    await fake.close();
  }
});

test('Linode: a 429 and a 5xx on a rules PUT are retried; the read-back shows a dropped rule', async () => {
  const { fake, fw, notices } = await linode();
  try {
    const made = await fw.createRuleSet({ ...locked, label: 'retried' });
    const puts = () => fake.state.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/rules')).length;
    fake.knobs.firewallWriteFault = { nth: 1, status: 429, retryAfterS: 0 };
    await fw.replaceRules(made, locked);
    fake.knobs.firewallWriteFault = { nth: 1, status: 503, commit: true };
    const two: RuleSetContent = { ...locked, rules: [...locked.rules, rule({ ports: [p(443)], ipv4: ['0.0.0.0/0'] })] };
    const after = await fw.replaceRules(made, two);
    assert.equal(puts(), 4);
    assert.equal(notices.length, 2);
    assert.deepEqual(after.rules, two.rules);
    // The provider accepted the write but kept less: the answer says so, it is not papered over.
    fake.knobs.dropLastRule = 1;
    const dropped = await fw.replaceRules(made, two);
    assert.deepEqual(dropped.rules, locked.rules);
  } finally {
    await fake.close();
  }
});

test('Linode: a create whose answer is lost (5xx after creating) is found by label, never made twice', async () => {
  const { fake, fw, notices } = await linode();
  try {
    fake.knobs.firewallWriteFault = { nth: 1, status: 500, commit: true };
    const made = await fw.createRuleSet({ ...locked, label: 'lost-answer' });
    assert.equal(made.label, 'lost-answer');
    assert.equal(fake.state.firewalls.filter((f) => f.label === 'lost-answer').length, 1);
    assert.equal(fake.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/networking/firewalls')).length, 1);
    // A 5xx that created nothing is retried, once, and makes one.
    fake.knobs.firewallWriteFault = { nth: 1, status: 503 };
    await fw.createRuleSet({ ...locked, label: 'retry-once' });
    assert.equal(fake.state.firewalls.filter((f) => f.label === 'retry-once').length, 1);
    assert.equal(notices.length, 1);
    // A lost answer on an attach: the device is found, not posted again.
    const pr = new LinodeProvider({ baseUrl: fake.url, key: async () => TOKEN, ...fast });
    const a = await launch(pr, 'fw-a');
    fake.knobs.firewallWriteFault = { nth: 1, status: 502, commit: true };
    await fw.attach(made, a.id);
    assert.deepEqual((await fw.getRuleSet(made))!.appliesTo, [a.id]);
  } finally {
    await fake.close();
  }
});

test('Linode: launch with a firewall sends firewall_id (the first ID) and the Linode is attached', async () => {
  const { fake, provider, fw } = await linode();
  try {
    const made = await fw.createRuleSet({ ...locked, label: 'at-launch' });
    const i = await provider.launch({
      name: 'locked-1',
      region: 'us-east',
      type: 'g6-standard-1',
      sshKey: KEY,
      firewall: { ruleSetIds: [made.id, '999'] },
    });
    assert.equal(fake.state.launches.at(-1)!.firewall_id, Number(made.id));
    assert.deepEqual((await fw.getRuleSet(made))!.appliesTo, [i.id]);
    await launch(provider, 'open-1');
    assert.equal(fake.state.launches.at(-1)!.firewall_id, undefined);
  } finally {
    await fake.close();
  }
});

// --- Lambda -------------------------------------------------------------------------------------

const LKEY = 'lambda-fw-key-9c1d3e5f7a';

async function lambda() {
  const fake = await startLambdaFake({ keys: [LKEY], sshKeys: [{ name: 'moat', public_key: KEY.publicKey }] });
  const notices: RetryNotice[] = [];
  const provider = new LambdaProvider({
    baseUrl: fake.url,
    key: async () => LKEY,
    account: 'gpu',
    onRetry: (n) => notices.push(n),
    launchChecks: 2,
    ...fast,
  });
  return { fake, provider, notices, fw: provider.firewall };
}

const GLOBAL: RuleSetRef = { provider: 'lambda', account: 'gpu', kind: 'lambda-global', id: 'global' };

test('Lambda: the global rules (the defaults) and rulesets are listed; replacing the global rules splits and reads back', async () => {
  const { fake, fw } = await lambda();
  try {
    const [global, ...rest] = await fw.listRuleSets();
    assert.equal(rest.length, 0);
    assert.equal(global!.kind, 'lambda-global');
    assert.equal(global!.id, 'global');
    assert.deepEqual(global!.appliesTo, []);
    assert.deepEqual(
      global!.rules.map((r) => [r.protocol, r.ports, r.ipv4]),
      [
        ['tcp', [p(22)], ['0.0.0.0/0']],
        ['icmp', null, ['0.0.0.0/0']],
      ],
    );
    const next: RuleSetContent = {
      inboundPolicy: 'deny',
      outboundPolicy: 'allow',
      rules: [rule({ ports: [p(22), p(8888)], ipv4: ['203.0.113.7', '198.51.100.0/24'], label: 'me' })],
    };
    const after = await fw.replaceRules(GLOBAL, next, global!.version);
    assert.equal(after.rules.length, 4);
    assert.equal(fake.state.firewallRules.length, 4);
    assert.deepEqual(after.rules.map((r) => r.ipv4[0]).sort(), ['198.51.100.0/24', '198.51.100.0/24', '203.0.113.7/32', '203.0.113.7/32']);
    // The version guard Lambda can offer: a re-read compared just before the write.
    fake.state.tamper('global', (r) => r.slice(1));
    await assert.rejects(fw.replaceRules(GLOBAL, next, after.version), FirewallConflictError);
    assert.equal(fake.state.firewallRules.length, 3, 'nothing was written');
    // Limits before sending.
    const puts = fake.state.log.filter((e) => e.method === 'PUT').length;
    await assert.rejects(
      fw.replaceRules(GLOBAL, { ...next, rules: [rule({ action: 'deny', ports: [p(22)], ipv4: ['0.0.0.0/0'] })] }),
      FirewallLimitError,
    );
    assert.equal(fake.state.log.filter((e) => e.method === 'PUT').length, puts);
  } finally {
    await fake.close();
  }
});

test('Lambda: a 429 and a 5xx on a global PUT are retried (a PUT replaces the whole list)', async () => {
  const { fake, fw, notices } = await lambda();
  try {
    fake.knobs.firewallWriteFault = { nth: 1, status: 429, times: 2 };
    const after = await fw.replaceRules(GLOBAL, locked);
    fake.knobs.firewallWriteFault = { nth: 1, status: 500, commit: true };
    await fw.replaceRules(GLOBAL, locked);
    assert.equal(notices.length, 3);
    assert.deepEqual(after.rules, locked.rules);
    assert.deepEqual(fake.state.firewallRules, [
      { protocol: 'tcp', port_range: [22, 22], source_network: '203.0.113.7/32', description: 'ssh-from-me' },
    ]);
  } finally {
    await fake.close();
  }
});

test('Lambda: rulesets created (a lost answer never makes two), replaced, launched with, kept while in use, deleted', async () => {
  const { fake, provider, fw } = await lambda();
  try {
    await assert.rejects(fw.createRuleSet({ ...locked, label: 'no-region' }), FirewallLimitError);
    fake.knobs.firewallWriteFault = { nth: 1, status: 500, commit: true };
    const made = await fw.createRuleSet({ ...locked, label: 'moat-west', region: 'us-west-1' });
    assert.equal([...fake.state.rulesets.values()].filter((r) => r.name === 'moat-west').length, 1);
    assert.equal(made.kind, 'lambda-ruleset');
    assert.equal(made.region, 'us-west-1');
    // A 503 that made nothing is retried and makes exactly one.
    fake.knobs.firewallWriteFault = { nth: 1, status: 503 };
    await fw.createRuleSet({ ...locked, label: 'moat-east', region: 'us-east-1' });
    assert.equal([...fake.state.rulesets.values()].filter((r) => r.name === 'moat-east').length, 1);

    const two: RuleSetContent = { ...locked, rules: [...locked.rules, rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'] })] };
    const replaced = await fw.replaceRules(made, two, made.version);
    assert.deepEqual(replaced.rules, two.rules);
    fake.knobs.dropLastRule = 1;
    assert.deepEqual((await fw.replaceRules(made, two)).rules, locked.rules, 'the read-back shows what Lambda kept');

    const inst = await provider.launch({
      name: 'locked-1',
      region: 'us-west-1',
      type: 'gpu_1x_a10',
      sshKey: KEY,
      firewall: { ruleSetIds: [made.id] },
    });
    assert.deepEqual((await fw.getRuleSet(made))!.appliesTo, [inst.id]);
    const sets = await fw.listRuleSets();
    assert.deepEqual(
      sets.map((s) => s.kind),
      ['lambda-global', 'lambda-ruleset', 'lambda-ruleset'],
    );
    // A ruleset from another region is refused by Lambda at launch.
    await assert.rejects(
      provider.launch({ name: 'wrong-region', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: KEY, firewall: { ruleSetIds: [made.id] } }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'invalid',
    );
    const inUse = await fw.deleteRuleSet(made).then(
      () => assert.fail('deleted a ruleset in use'),
      (e: unknown) => e,
    );
    assert.ok(inUse instanceof ProviderError && inUse.details.providerCode === 'firewall-rulesets/firewall-ruleset-in-use', String(inUse));
    await provider.terminate(inst.id);
    await new Promise((r) => setTimeout(r, 150));
    await fw.deleteRuleSet(made);
    assert.equal(await fw.getRuleSet(made), null);
    // Lambda cannot attach, detach, disable or delete the global rules.
    await assert.rejects(fw.attach(made, inst.id), FirewallLimitError);
    await assert.rejects(fw.setEnabled(GLOBAL, false), FirewallLimitError);
    await fw.setEnabled(GLOBAL, true);
    await assert.rejects(fw.deleteRuleSet(GLOBAL), FirewallLimitError);
  } finally {
    await fake.close();
  }
});
