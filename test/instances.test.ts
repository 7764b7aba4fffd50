// Instances end to end against the real Secret Service (gnome-keyring unlocked in a
// dbus-run-session of its own, own HOME and XDG dirs, as in test/accounts.test.ts) and the Lambda
// and Linode fakes. One child (test/fixtures/instances-child.ts) runs the InstancesService and the
// real `moat instances` CLI; this file checks the outcomes, the audit log, and greps everything the
// session wrote or said for the API keys (the child greps for the SSH private keys, which only it
// can read from the keychain).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditLog } from '../main/store/audit';
import { costOf, burnRateCents, formatDollars } from '../main/instances/cost';
import { resolveReference } from '../main/instances/references';
import { ensureSshKey, generateKeyPair, publicKeyOf, sameKey } from '../main/instances/ssh-keys';
import type { Provider, SshKeyRef } from '../main/providers/provider';
import { skipUnlessReady, tempDir } from './helpers/engine';
import { runInKeyringSession, keyringToolsMissing } from './helpers/keyring-session';
import { filesContaining } from './helpers/leaks';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'instances-child.ts');
const ROOT = join(import.meta.dirname, '..');

const skip = skipUnlessReady(keyringToolsMissing(), 'the instances tests');

const K = { lambda: `secret_moat-i_${randomBytes(24).toString('hex')}`, linode: randomBytes(32).toString('hex') };

interface Err {
  code: string;
  message: string;
  choices?: string[];
}
interface Attempt {
  value?: unknown;
  error?: Err;
}
interface Cli {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}
interface Brief {
  id: string;
  account: string;
  name: string;
  status: string;
  ipv4: string | null;
  launchedByMoat: boolean;
  cost: { since: number; basis: string; uptimeMs: number; costCents: number | null };
}
type Result = Record<string, unknown> & { cli: Cli[]; texts: string[] };

let home: ReturnType<typeof tempDir>;
let result: Result;
let childOut = '';
let childErr = '';

before(async () => {
  if (skip) return;
  home = tempDir('moat-instances-');
  // The keys go in on stdin: never as arguments or environment.
  const run = await runInKeyringSession({
    root: ROOT,
    home: home.path,
    fixture: FIXTURE,
    dataDir: join(home.path, 'home', 'data'),
    input: JSON.stringify(K),
  });
  childOut = run.stdout;
  childErr = run.stderr;
  result = run.result as Result;
  const status = run.status;
  assert.equal(status, 0, childErr);
});

after(() => home?.cleanup());

const a = (name: string, from: Record<string, unknown> = result) => from[name] as Attempt;
const c = (name: string) => result[name] as Cli;
const ok = <T>(name: string, from?: Record<string, unknown>): T => {
  assert.equal(a(name, from).error, undefined, `${name}: ${JSON.stringify(a(name, from).error)}`);
  return a(name, from).value as T;
};
const fail = (name: string, from?: Record<string, unknown>): Err => {
  const e = a(name, from).error;
  assert.ok(e, `${name} should have failed: ${JSON.stringify(a(name, from).value)}`);
  return e;
};

test('instances: the SSH key pair is OpenSSH ed25519, readable back to its public key', () => {
  const p = generateKeyPair('moat-unit');
  assert.match(p.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} moat-unit$/);
  assert.match(p.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
  assert.equal(`${publicKeyOf(p.privateKey)} moat-unit`, p.publicKey);
  const keygen = spawnSync('sh', ['-c', 'command -v ssh-keygen']);
  if (keygen.status === 0) {
    const dir = tempDir('moat-key-');
    try {
      const f = join(dir.path, 'k');
      spawnSync('sh', ['-c', `umask 077; cat > "${f}"`], { input: p.privateKey });
      assert.equal(spawnSync('ssh-keygen', ['-y', '-f', f]).stdout.toString().trim(), p.publicKey);
    } finally {
      dir.cleanup();
    }
  }
});

test('instances: one key pair per account even for concurrent launches; a name taken by another key gets a suffix (unit)', async () => {
  const secrets = new Map<string, string>();
  const vault = {
    set: async (k: string, v: string) => void secrets.set(k, v),
    get: async (k: string) => secrets.get(k) ?? null,
    delete: async (k: string) => secrets.delete(k),
  };
  const keys: SshKeyRef[] = [{ id: '1', name: 'moat-acct', publicKey: generateKeyPair('elsewhere').publicKey }];
  const provider = {
    listSshKeys: async () => [...keys],
    addSshKey: async (name: string, publicKey: string) => {
      await new Promise((r) => setTimeout(r, 10));
      const k = { id: String(keys.length + 1), name, publicKey };
      keys.push(k);
      return k;
    },
  } as unknown as Provider;
  const [x, y] = await Promise.all([ensureSshKey(vault, 'acct', provider), ensureSshKey(vault, 'acct', provider)]);
  assert.equal(secrets.size, 1);
  assert.equal(keys.length, 2);
  assert.match(keys[1]!.name, /^moat-acct-[A-Za-z0-9]{8}$/);
  assert.deepEqual([x.created, x.registered, y.created, y.registered], [true, true, false, false]);
  assert.ok(sameKey(keys[1]!.publicKey, publicKeyOf(secrets.get('ssh-key:acct')!)));
  assert.equal(y.key.id, x.key.id);
});

test('instances: references, cost and burn rate (unit)', () => {
  const list = [
    { account: 'a', id: 'abcd1234', name: 'x' },
    { account: 'a', id: 'abcd5678', name: 'y' },
    { account: 'b', id: '99990000', name: 'x' },
  ];
  assert.equal(resolveReference('abcd1234', list).id, 'abcd1234');
  assert.equal(resolveReference('abcd1', list).id, 'abcd1234');
  assert.equal(resolveReference('b/x', list).id, '99990000');
  assert.throws(
    () => resolveReference('abcd', list),
    (e: { code: string; choices: string[] }) => e.code === 'INVALID_REQUEST' && e.choices.length === 2,
  );
  assert.throws(() => resolveReference('abc', list), /at least 4/);
  const now = 10 * 3_600_000;
  assert.deepEqual(
    costOf(
      { createdAt: null, priceCentsPerHour: 100 },
      { account: 'a', provider: 'lambda', launchedByMoat: true, launchedAt: now - 3_600_000 },
      now,
    ).costCents,
    100,
  );
  assert.equal(
    costOf(
      { createdAt: null, priceCentsPerHour: 100 },
      { account: 'a', provider: 'lambda', launchedByMoat: false, firstSeenAt: now - 1_800_000 },
      now,
    ).basis,
    'first-seen',
  );
  assert.equal(costOf({ createdAt: now - 7_200_000, priceCentsPerHour: 50 }, undefined, now).costCents, 100);
  assert.equal(
    burnRateCents([
      { status: 'running', priceCentsPerHour: 75 },
      { status: 'starting', priceCentsPerHour: 1.8 },
      { status: 'terminated', priceCentsPerHour: 99 },
    ]),
    76.8,
  );
  assert.equal(formatDollars(75), '$0.75');
  assert.equal(formatDollars(1.8), '$0.018');
  assert.equal(formatDollars(2392), '$23.92');
});

test('instances: launch on a Lambda and a Linode account, each with one registered Moat SSH key held in the keychain', { skip }, () => {
  const lam = ok<Brief>('lamLaunch');
  const lin = ok<Brief>('linLaunch');
  assert.deepEqual([lam.account, lam.name, lam.launchedByMoat, lam.cost.basis], ['lam', 'eval-1', true, 'launched']);
  assert.deepEqual([lin.account, lin.name, lin.launchedByMoat, lin.cost.basis], ['lin', 'eval-1', true, 'launched']);
  const k = result.sshKeys as {
    lambda: { name: string; matches: boolean }[];
    linode: { name: string; matches: boolean }[];
    inKeychain: boolean[];
    linodeLaunchKeys: boolean[][];
  };
  assert.deepEqual(k.lambda, [{ name: 'moat-lam', matches: true }]);
  assert.deepEqual(k.linode, [{ name: 'moat-lin', matches: true }]);
  assert.deepEqual(k.inKeychain, [true, true]);
  assert.deepEqual(k.linodeLaunchKeys, [[true]], 'the Linode launch carried the account key in authorized_keys');
  assert.deepEqual(result.sshKeysAfterCli, { lambda: 1, linode: 1 }, 'a second launch reuses the registered key');
});

test('instances: launches start locked: only SSH, from the detected address; a bad SSH source is refused first', { skip }, () => {
  const l = result.locked as {
    lambdaRulesets: {
      region: { name: string } | string;
      instances: boolean;
      rules: { protocol: string; port_range?: number[]; source_network: string }[];
    }[];
    linodeFirewalls: { policy: string; inbound: string[]; linodes: string[] }[];
    linodeLaunchFirewallId: boolean[];
  };
  assert.equal(l.lambdaRulesets.length, 1);
  assert.equal(l.lambdaRulesets[0]!.instances, true, 'the Lambda instance was launched with the ruleset');
  assert.deepEqual(
    l.lambdaRulesets[0]!.rules.map((r) => `${r.protocol} ${r.port_range?.join('-')} ${r.source_network}`),
    ['tcp 22-22 203.0.113.7/32'],
  );
  assert.equal(l.linodeFirewalls.length, 1);
  assert.deepEqual(l.linodeFirewalls[0]!.inbound, ['ACCEPT TCP 22 203.0.113.7/32']);
  assert.equal(l.linodeFirewalls[0]!.policy, 'DROP');
  assert.equal(l.linodeFirewalls[0]!.linodes.length, 1);
  assert.deepEqual(l.linodeLaunchFirewallId, [true], 'the create call carried firewall_id');
  const bad = result.badSshFrom as { error?: Err };
  assert.equal(bad.error?.code, 'INVALID_REQUEST');
  assert.match(bad.error?.message ?? '', /did you mean 10\.0\.0\.0\/24/);
  assert.equal(result.firewallsAfterBad, 1, 'nothing was created for the refused launch');
});

test("instances: two processes making an account's first SSH key at once end up with one pair, registered once", { skip }, () => {
  const r = result.race as { workers: unknown[]; samePublicKey: boolean; created: number; registeredAtProvider: number };
  assert.equal(r.workers.length, 2);
  for (const w of r.workers) assert.ok(w && typeof w === 'object' && 'publicKey' in w, `a worker failed: ${JSON.stringify(w)}`);
  assert.equal(r.samePublicKey, true, 'both use the key pair the keychain holds');
  assert.equal(r.created, 1, 'exactly one process made a pair');
  assert.equal(r.registeredAtProvider, 1, 'the public key was registered once');
});

test('instances: removing an account removes its SSH private key from the keychain', { skip }, () => {
  assert.deepEqual(ok('removeRace'), { removed: true, sshKeyRemoved: true });
  assert.equal(result.raceKeyAfterRemove, false);
});

test('instances: watch follows each instance until running, with its address', { skip }, () => {
  const w = result.watch as { seen: { lam: string[]; lin: string[] }; lamEnd: Brief; linEnd: Brief };
  assert.deepEqual(w.seen.lam, ['starting', 'running ip']);
  assert.deepEqual(w.seen.lin, ['provisioning', 'booting', 'running']);
  assert.equal(w.lamEnd.status, 'running');
  assert.ok(w.lamEnd.ipv4);
  assert.equal(w.linEnd.status, 'running');
});

test('instances: list shows both accounts with burn rates; cost so far grows; others are counted from first seen', { skip }, () => {
  const l = result.lists as {
    accounts: { account: string; burnRateCentsPerHour: number; error?: unknown }[];
    instances: Brief[];
    views: { id: string; gpu: string; price: number; region: string; type: string; ipv6: string | null }[];
    cost1: Record<string, Brief['cost']>;
    cost2: Record<string, Brief['cost']>;
  };
  // Lambda: the A10 (75) and two CPU instances Moat did not launch (15 each); Linode: one RTX6000 (150).
  assert.deepEqual(
    l.accounts.map((x) => [x.account, x.burnRateCentsPerHour, x.error]),
    [
      ['lam', 105, undefined],
      ['lin', 150, undefined],
    ],
  );
  const lamView = l.views.find((v) => v.type === 'gpu_1x_a10')!;
  assert.deepEqual([lamView.gpu, lamView.price, lamView.region], ['1x A10 (24 GB PCIe)', 75, 'us-west-1']);
  const linView = l.views.find((v) => v.type === 'g1-gpu-rtx6000-1')!;
  assert.deepEqual([linView.gpu, linView.price, linView.ipv6], ['1x RTX6000', 150, '1234::5678']);
  for (const k of ['lam', 'lin', 'dup']) {
    assert.ok(l.cost2[k]!.costCents! > l.cost1[k]!.costCents!, `${k}: cost so far grows`);
    assert.ok(l.cost2[k]!.uptimeMs > l.cost1[k]!.uptimeMs);
  }
  assert.equal(l.cost1.lam!.basis, 'launched');
  assert.equal(l.cost1.dup!.basis, 'first-seen');
  assert.ok(l.instances.filter((i) => i.name === 'dup').every((i) => !i.launchedByMoat));
});

test('instances: references by ID, unique prefix and ACCOUNT/NAME; ambiguous ones refused with the candidates', { skip }, () => {
  const refs = result.refs as Record<string, unknown>;
  const lamId = ok<Brief>('lamLaunch').id;
  const linId = ok<Brief>('linLaunch').id;
  assert.equal(ok('id', refs), lamId);
  assert.equal(ok('prefix', refs), lamId);
  assert.equal(ok('accountName', refs), linId);
  const p = fail('ambiguousPrefix', refs);
  assert.equal(p.code, 'INVALID_REQUEST');
  assert.equal(p.choices?.length, 2);
  assert.ok(p.choices?.some((x) => x.includes(lamId)));
  const n = fail('ambiguousName', refs);
  assert.equal(n.code, 'INVALID_REQUEST');
  assert.match(n.message, /feedfacefeedfacefeedfacefeedface/);
  assert.equal(fail('tooShort', refs).code, 'NOT_FOUND');
  assert.equal(fail('unknown', refs).code, 'NOT_FOUND');
});

test(
  'instances: a region without capacity is refused with the regions that have it; taken names and unknown accounts too',
  { skip },
  () => {
    const l = fail('noCapacityLambda');
    assert.equal(l.code, 'INVALID_REQUEST');
    assert.deepEqual(l.choices, ['us-west-1', 'us-east-1']);
    assert.match(l.message, /us-south-1.*us-west-1, us-east-1/);
    assert.deepEqual(fail('noCapacityLinode').choices, ['us-east']);
    assert.equal(fail('nameTaken').code, 'INVALID_REQUEST');
    assert.equal(fail('unknownAccount').code, 'NOT_FOUND');
    assert.equal(result.launchedNothing, true);
  },
);

test(
  'instances CLI: launch --wait, list, list --json, no capacity (exit 2), terminate without --yes off a TTY (exit 2), ambiguous (exit 2), terminate --yes',
  { skip },
  () => {
    const launch = c('cliLaunch');
    assert.equal(launch.status, 0, launch.stderr);
    assert.match(launch.stdout, /^launched lam\/cli-1 \([0-9a-f]{32}\): gpu_1x_a10 in us-east-1, \$0\.75\/h/);
    assert.match(launch.stdout, /running 198\.51\.100\.\d+\n$/);
    const list = c('cliList');
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      /^lam \(lambda\): 4 instance\(s\), burn rate \$1\.80\/h\nlin \(linode\): 1 instance\(s\), burn rate \$1\.50\/h\n/,
    );
    assert.match(
      list.stdout,
      /lin +linode +52557263 +eval-1 +us-east +g1-gpu-rtx6000-1 +1x RTX6000 +running +192\.0\.2\.\d+ +\$1\.50 +\S+ +\$0\.\d+\n/,
    );
    assert.match(list.stdout, /dup .* ~\$0\.\d+ \(since first seen\)/);
    const json = c('cliListJson');
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { accounts: { account: string }[]; instances: { account: string; name: string }[] };
    assert.deepEqual(
      parsed.accounts.map((x) => x.account),
      ['lam', 'lin'],
    );
    assert.equal(parsed.instances.length, 5);
    const cap = c('cliNoCapacity');
    assert.equal(cap.status, 2, cap.stderr);
    assert.match(cap.stderr, /Regions with capacity for it now: us-east/);
    const noTty = c('cliNoTty');
    assert.equal(noTty.status, 2, noTty.stderr);
    assert.match(noTty.stderr, /--yes/);
    const amb = c('cliAmbiguous');
    assert.equal(amb.status, 2, amb.stderr);
    assert.match(amb.stderr, /matches 2 instances: lam\/dup \(/);
    // On a terminal: the question names the instance and its cost; only "y" terminates.
    const no = c('cliTtyNo');
    assert.equal(no.status, 0, no.stdout + no.stderr);
    assert.match(
      no.stdout,
      /Terminate dup \(feedfacefeedfacefeedfacefeedface\) on lam, cost so far ~\$0\.\d+ \(since first seen\)\? \[y\/N\] /,
    );
    assert.match(no.stdout, /not terminated/);
    const yes = c('cliTtyYes');
    assert.equal(yes.status, 0, yes.stdout + yes.stderr);
    assert.match(yes.stdout, /terminated lam\/dup \(feedfacefeedfacefeedfacefeedface\)/);
    const term = c('cliTerminate');
    assert.equal(term.status, 0, term.stderr);
    assert.match(term.stdout, /^terminated lam\/cli-1 \([0-9a-f]{32}\), cost so far \$0\.\d+\n$/);
  },
);

test('instances: terminate by ID and by ACCOUNT/NAME; the instances vanish and their records go', { skip }, () => {
  assert.equal(ok<Brief>('terminateLam').id, ok<Brief>('lamLaunch').id);
  assert.ok(ok<Brief>('terminateLam').cost.costCents! > 0);
  assert.equal(ok<Brief>('terminateLin').id, ok<Brief>('linLaunch').id);
  const final = result.final as Brief[];
  assert.deepEqual(
    final.map((i) => i.id),
    [ok<Brief>('lamLaunch').id.slice(0, 6) + '0'.repeat(26)],
    'only the instance nobody terminated is left',
  );
  assert.equal(fail('terminateAgain').code, 'NOT_FOUND');
  const known = result.known as { instances: Record<string, { launchedByMoat: boolean }> };
  assert.deepEqual(
    Object.values(known.instances).map((r) => r.launchedByMoat),
    [false],
  );
  assert.equal(result.knownMode, 0o600);
});

test('instances: launches, SSH key registrations and terminations are audited with account, target and outcome', { skip }, () => {
  const log = new AuditLog(join(home.path, 'home', 'data'));
  const audit = log.read().filter((e) => e.action.startsWith('instance.'));
  log.close();
  const lines = audit.map((e) => `${e.action} ${String(e.details.label)} ${String(e.details.target)} ${String(e.details.outcome)}`);
  const lamId = ok<Brief>('lamLaunch').id;
  const linId = ok<Brief>('linLaunch').id;
  assert.deepEqual(lines.slice(0, 4), [
    'instance.ssh-key lam moat-lam ok',
    'instance.launch lam lam/eval-1 ok',
    'instance.ssh-key lin moat-lin ok',
    'instance.launch lin lin/eval-1 ok',
  ]);
  for (const want of [
    'instance.launch lam lam/x-1 failed',
    'instance.launch lin lin/x-1 failed',
    'instance.launch lam lam/eval-1 failed',
    'instance.launch nobody nobody/x-2 failed',
    'instance.launch lam lam/cli-1 ok',
    'instance.launch lin lin/x-3 failed',
    `instance.terminate lam lam/eval-1 (${lamId}) ok`,
    `instance.terminate lin lin/eval-1 (${linId}) ok`,
    'instance.terminate lam lam/dup (feedfacefeedfacefeedfacefeedface) ok',
    `instance.terminate lam lam/cli-1 (${String(audit.find((e) => e.details.target?.toString().startsWith('lam/cli-1 ('))?.details.id)}) ok`,
    // Terminating what is already gone fails at the reference, before any account is known.
    `instance.terminate unknown ${lamId} failed`,
  ])
    assert.ok(lines.includes(want), `audit has "${want}":\n${lines.join('\n')}`);
  assert.equal(lines.filter((l) => l.startsWith('instance.ssh-key')).length, 2);
  assert.ok(audit.every((e) => typeof e.t === 'number' && e.t > 0 && typeof e.details.provider === 'string'));
  const capacity = audit.find((e) => e.details.target === 'lam/x-1')!;
  assert.match(String(capacity.details.reason), /us-west-1, us-east-1/);
});

test('instances: no API key in any file or output, and the SSH private keys only in the keychain', { skip }, () => {
  const files = readdirSync(home.path, { recursive: true }) as string[];
  for (const f of ['home/data/accounts.json', 'home/data/audit.jsonl', 'home/data/instances.json'])
    assert.ok(files.includes(f), `${f} was written`);
  const texts = [childOut, childErr, ...result.texts, ...result.cli.flatMap((r) => [r.stdout, r.stderr])];
  assert.ok(result.cli.length >= 7 && result.texts.length >= 6, 'the channels were captured');
  for (const [name, secret] of Object.entries(K)) {
    assert.deepEqual(filesContaining(home.path, secret), [], `${name} key found in files`);
    for (const t of texts) assert.ok(!t.includes(secret), `${name} key found in an output`);
  }
  const leaks = result.privateKeyLeaks as { files: string[]; outputs: number; pieces: number };
  assert.ok(leaks.pieces >= 4, 'the private keys were there to look for');
  assert.deepEqual(leaks.files, []);
  assert.equal(leaks.outputs, 0);
  for (const t of texts) assert.ok(!t.includes('PRIVATE KEY'), 'no private key block in any output');
});
