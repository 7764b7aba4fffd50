// Firewalls end to end against the Lambda and Linode fakes, with the real Secret Service holding the
// keys (gnome-keyring in a dbus-run-session of its own): posture of a Lambda account on its
// defaults and of a Linode without a firewall, `moat firewall show` and a dry run, a failure
// injected during apply and a read-back that differs (the original rules stay), rules changed
// between preview and apply (nothing written), the lock through the CLI on both providers (both
// end locked, with exactly the asked rules), drift found, and the audit trail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { skipUnlessReady, tempDir } from './helpers/engine';
import { runInKeyringSession, keyringToolsMissing } from './helpers/keyring-session';
import { filesContaining } from './helpers/leaks';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'firewall-child.ts');
const ROOT = join(import.meta.dirname, '..');

const skip = skipUnlessReady(keyringToolsMissing(), 'the firewall tests');

const K = { lambda: `secret_moat-fw_${randomBytes(24).toString('hex')}`, linode: randomBytes(32).toString('hex') };
const ME = '203.0.113.7';

interface Cli {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}
interface Outcome {
  ok: boolean;
  applied: string[];
  verified: boolean;
  rolledBack: boolean;
  error?: string;
  after?: { posture: { level: string } };
}
type LambdaRule = { protocol: string; port_range?: [number, number]; source_network: string; description: string };

let home: ReturnType<typeof tempDir>;
let result: Record<string, unknown> & { cli: Cli[] };
let stderr = '';

before(async () => {
  if (skip) return;
  home = tempDir('moat-firewall-');
  const run = await runInKeyringSession({
    root: ROOT,
    home: home.path,
    fixture: FIXTURE,
    dataDir: join(home.path, 'data'),
    input: JSON.stringify(K),
    timeoutMs: 240_000,
  });
  result = run.result as typeof result;
  stderr = run.stderr;
  assert.equal(run.status, 0, `fixture failed:\n${run.stderr}`);
});
after(() => home?.cleanup());

const cliRun = (args: string[]) => {
  const c = result.cli.find((x) => x.args.join(' ') === args.join(' '));
  assert.ok(c, `the CLI ran ${args.join(' ')}`);
  return c;
};
const lambdaRule = (r: LambdaRule) => `${r.protocol} ${r.port_range?.join('-') ?? ''} ${r.source_network}`;

test('before: a Lambda instance on the account defaults and a Linode without a firewall are exposed, with the findings', { skip }, () => {
  const b = result.before as Record<string, { level: string; findings: string[] }>;
  assert.equal(b['lam/fw-1']?.level, 'exposed');
  for (const f of ['ssh-world', 'icmp-world', 'lambda-account-wide'])
    assert.ok(b['lam/fw-1']!.findings.includes(f), `lam: ${f} in ${b['lam/fw-1']!.findings}`);
  assert.equal(b['lin/fw-2']?.level, 'exposed');
  assert.ok(b['lin/fw-2']!.findings.includes('no-firewall'), `lin: ${b['lin/fw-2']!.findings}`);
  assert.deepEqual((result.lambdaDefaults as LambdaRule[]).map(lambdaRule), ['tcp 22-22 0.0.0.0/0', 'icmp  0.0.0.0/0']);
});

test('moat firewall show: the count, every instance, and one instance with findings, fixes and rule tables', { skip }, () => {
  const all = cliRun(['show']);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /^3 exposed, 0 locked, 0 unknown/);
  assert.match(all.stdout, /EXPOSED\s+lam\/fw-1/);
  const one = cliRun(['show', 'lam/fw-1']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /lam\/fw-1 .*EXPOSED/);
  assert.match(one.stdout, /fix: /);
  assert.match(one.stdout, /Lambda global rules/);
  assert.match(one.stdout, /ALLOW\s+TCP\s+22\s+0\.0\.0\.0\/0/);
  assert.match(one.stdout, /default: DENY everything else/);
  assert.match(one.stdout, /outbound:[\s\S]*default: ALLOW everything else/);
});

test('moat firewall lock --dry-run prints the diff and the posture after, and changes nothing', { skip }, () => {
  const d = cliRun(['lock', 'lam/fw-1', '--allow', 'ssh', '--dry-run']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stderr, new RegExp(`your address: ${ME.replace(/\./g, '\\.')}`));
  assert.match(d.stdout, /\+ ALLOW\s+TCP\s+22\s+203\.0\.113\.7\/32/);
  assert.match(d.stdout, /- ALLOW\s+TCP\s+22\s+0\.0\.0\.0\/0/);
  assert.match(d.stdout, /Posture: EXPOSED -> LOCKED/);
  assert.match(d.stdout, /Also affects: fw-3 \(/, 'the account-wide change names the other instance');
  assert.deepEqual(result.afterDryRun, result.lambdaDefaults);
});

test('bad input is refused with the reason; no terminal and no --yes applies nothing', { skip }, () => {
  const bad = cliRun(['lock', 'lam/fw-1', '--allow', 'ssh', '--from', '10.0.0.5/24', '--dry-run']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /10\.0\.0\.0\/24/, 'names the network that was probably meant');
  const noTty = cliRun(['lock', 'lam/fw-1', '--allow', 'ssh']);
  assert.equal(noTty.status, 2);
  assert.match(noTty.stderr, /--yes/);
});

test('a failure injected during apply leaves the original rules in place', { skip }, () => {
  const o = result.failedApply as Outcome;
  assert.equal(o.ok, false);
  assert.ok(o.error, 'the failure is reported');
  assert.deepEqual(result.afterFailed, result.lambdaDefaults);
  assert.equal(o.after?.posture.level, 'exposed');
});

test('a read-back that differs from what was written is rolled back to the original rules', { skip }, () => {
  const o = result.lyingApply as Outcome;
  assert.equal(o.ok, false);
  assert.equal(o.verified, false);
  assert.equal(o.rolledBack, true);
  assert.deepEqual(result.afterLying, result.lambdaDefaults);
});

test('rules changed between the preview and the apply: nothing is written; a plan applies once', { skip }, () => {
  const o = result.staleApply as Outcome;
  assert.equal(o.ok, false);
  assert.match(o.error ?? '', /changed since the plan was made/);
  assert.deepEqual(o.applied, []);
  assert.ok(
    (result.afterStale as LambdaRule[]).some((r) => r.description === 'someone else'),
    "someone else's rule is kept",
  );
  assert.equal((result.applyTwice as { error?: { code: string } }).error?.code, 'NOT_FOUND');
});

test('Lambda on its defaults, locked through the CLI: SSH from one /32 only, and locked', { skip }, () => {
  const c = cliRun(['lock', 'lam/fw-1', '--allow', 'ssh', '--from', `${ME}/32`, '--yes']);
  assert.equal(c.status, 0, `${c.stdout}\n${c.stderr}`);
  assert.match(c.stdout, /Applied and verified\. Posture now: LOCKED/);
  assert.deepEqual((result.lambdaAfterLock as LambdaRule[]).map(lambdaRule), [`tcp 22-22 ${ME}/32`]);
  assert.equal((result.afterLock as Record<string, { level: string }>)['lam/fw-1']?.level, 'locked');
  assert.equal(
    (result.afterLock as Record<string, { level: string }>)['lam/fw-3']?.level,
    'locked',
    'the global rules locked the other one too',
  );
});

test('Linode without a firewall, locked through the CLI: one attached firewall, DROP inbound, SSH and 8000 from one /32', { skip }, () => {
  const c = cliRun(['lock', 'lin/fw-2', '--allow', 'ssh,8000', '--yes']);
  assert.equal(c.status, 0, `${c.stdout}\n${c.stderr}`);
  const fws = result.linodeFirewalls as {
    status: string;
    devices: unknown[];
    rules: {
      inbound_policy: string;
      outbound_policy: string;
      inbound: { action: string; protocol: string; ports?: string; addresses: { ipv4?: string[] } }[];
    };
  }[];
  assert.equal(fws.length, 1);
  const fw = fws[0]!;
  assert.equal(fw.status, 'enabled');
  assert.equal(fw.devices.length, 1);
  assert.equal(fw.rules.inbound_policy, 'DROP');
  assert.equal(fw.rules.outbound_policy, 'ACCEPT');
  assert.deepEqual(fw.rules.inbound.map((r) => `${r.action} ${r.protocol} ${r.ports} ${r.addresses.ipv4?.join(',')}`).sort(), [
    `ACCEPT TCP 22 ${ME}/32`,
    `ACCEPT TCP 8000 ${ME}/32`,
  ]);
  assert.equal((result.afterLock as Record<string, { level: string }>)['lin/fw-2']?.level, 'locked');
});

test('drift made behind Moat’s back is found, and what it opened is named', { skip }, () => {
  const d = result.afterDrift as Record<string, { level: string; findings: string[] }>;
  assert.equal(d['lin/fw-2']?.level, 'exposed');
  assert.ok(d['lin/fw-2']!.findings.includes('drift'), `${d['lin/fw-2']!.findings}`);
  assert.ok(d['lin/fw-2']!.findings.includes('service-world'), `${d['lin/fw-2']!.findings}`);
  assert.equal(d['lam/fw-1']?.level, 'locked', 'the other instance is unaffected');
  const json = JSON.parse(cliRun(['show', 'lin/fw-2', '--json']).stdout) as {
    drifted: unknown[];
    posture: { findings: { id: string; port?: number }[] };
  };
  assert.equal(json.drifted.length, 1);
  assert.ok(json.posture.findings.some((f) => f.id === 'service-world' && f.port === 3000));
});

test('the audit log has the plans, every apply step and the results, failures included', { skip }, () => {
  const a = result.audit as { action: string; step?: string; outcome: string; label: string; target: string }[];
  assert.ok(a.some((e) => e.action === 'firewall.plan' && e.outcome === 'ok' && e.target.startsWith('lam/fw-1')));
  assert.ok(a.some((e) => e.action === 'firewall.apply' && e.step === 'done' && e.outcome === 'ok' && e.label === 'lin'));
  assert.ok(a.filter((e) => e.action === 'firewall.apply' && e.step === 'done' && e.outcome === 'failed').length >= 3);
  assert.ok(
    a.some((e) => e.action === 'firewall.apply' && e.step !== 'done' && e.outcome === 'failed'),
    'the failing step itself is recorded',
  );
});

test('no key in any file written, any CLI output or the fixture’s stderr', { skip }, () => {
  for (const [name, key] of Object.entries(K)) {
    assert.deepEqual(filesContaining(home.path, key), [], `${name} key in a file`);
    for (const c of result.cli) assert.ok(!c.stdout.includes(key) && !c.stderr.includes(key), `${name} key in ${c.args.join(' ')}`);
    assert.ok(!stderr.includes(key));
  }
});
