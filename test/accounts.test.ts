// Provider accounts end to end against the real Secret Service: gnome-keyring unlocked in a
// dbus-run-session of its own, with its own HOME and XDG dirs (as in test/vault.test.ts), and the
// Lambda and Linode fakes. One child (test/fixtures/accounts-child.ts) runs the AccountsService
// and the real `moat accounts` CLI; this file checks the outcomes, then greps everything the
// session wrote or said for every key used: files, logs, outputs, errors, command lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditLog } from '../main/store/audit';
import { skipUnlessReady, tempDir } from './helpers/engine';
import { runInKeyringSession, keyringToolsMissing } from './helpers/keyring-session';
import { filesContaining } from './helpers/leaks';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'accounts-child.ts');
const ROOT = join(import.meta.dirname, '..');

const skip = skipUnlessReady(keyringToolsMissing(), 'the accounts tests');

/** Keys shaped like the real ones (Lambda: secret_<name>_<hex>; Linode: 64 hex). */
const key = (prefix: string) => `${prefix}${randomBytes(24).toString('hex')}`;
const K = {
  lambda: key('secret_moat-a_'),
  lambda2: key('secret_moat-b_'),
  lambdaBad: key('secret_moat-x_'),
  linode: key(''),
  linodeNarrow: key(''),
  linodeBad: key(''),
  cliLambda: key('secret_moat-c_'),
  cliLambda2: key('secret_moat-d_'),
  marker: `control-marker-${randomBytes(8).toString('hex')}`,
};
const SECRETS = Object.entries(K).filter(([n]) => n !== 'marker');

interface Err {
  code: string;
  message: string;
  fix?: string;
  missingScopes?: string[];
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
  cmdline: string;
}
interface Keychain {
  accounts: string[];
  holds: Record<string, boolean>;
}
type Result = Record<string, unknown> & { cli: Cli[]; errors: string[]; selfCmdline: string };

let home: ReturnType<typeof tempDir>;
let result: Result;
let childOut = '';
let childErr = '';
const childCmdlines: string[] = [];

before(async () => {
  if (skip) return;
  home = tempDir('moat-accounts-');
  // Every process of the session, sampled while it runs, for the command-line check.
  const sampler = setInterval(() => {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(ROOT) || cmd.includes('dbus-run-session') || cmd.includes('gnome-keyring')) childCmdlines.push(cmd);
      } catch {
        // Gone meanwhile.
      }
    }
  }, 50);
  // The keys go in on stdin, as JSON.
  const run = await runInKeyringSession({
    root: ROOT,
    home: home.path,
    fixture: FIXTURE,
    dataDir: join(home.path, 'data'),
    input: JSON.stringify(K),
  }).finally(() => clearInterval(sampler));
  childOut = run.stdout;
  childErr = run.stderr;
  result = run.result as Result;
  const status = run.status;
  assert.equal(status, 0, childErr);
});

after(() => home?.cleanup());

const a = (name: string) => result[name] as Attempt;
const c = (name: string) => result[name] as Cli;
const ok = (name: string) => {
  assert.equal(a(name).error, undefined, `${name}: ${JSON.stringify(a(name).error)}`);
  return a(name).value as Record<string, unknown>;
};
const fail = (name: string): Err => {
  const e = a(name).error;
  assert.ok(e, `${name} should have failed: ${JSON.stringify(a(name).value)}`);
  return e;
};

test('accounts: a Lambda key and a Linode token are validated and stored; only label, provider and last four are shown', { skip }, () => {
  assert.deepEqual(
    { ...ok('addLambda'), createdAt: 0 },
    { label: 'lambda-work', provider: 'lambda', keyLast4: K.lambda.slice(-4), createdAt: 0 },
  );
  assert.equal(ok('addLinode').keyLast4, K.linode.slice(-4));
  assert.equal(fail('duplicate').code, 'INVALID_REQUEST');
  assert.equal(fail('badLabel').code, 'INVALID_REQUEST');
  const file = readFileSync(join(home.path, 'data', 'accounts.json'));
  assert.equal(statSync(join(home.path, 'data', 'accounts.json')).mode & 0o777, 0o600);
  assert.ok(file.includes('lambda-work'));
});

test("accounts: a wrong key gets the provider's reason and nothing is saved", { skip }, () => {
  const l = fail('wrongLambda');
  assert.equal(l.code, 'PROVIDER_AUTH');
  assert.match(l.message, /Lambda Cloud refused the key: .*API key/i);
  const n = fail('wrongLinode');
  assert.equal(n.code, 'PROVIDER_AUTH');
  assert.match(n.message, /Invalid Token/);
  const after = result.afterFailures as { labels: string[]; keychain: Keychain };
  assert.deepEqual(after.labels.sort(), ['lambda-work', 'linode-main']);
  assert.equal(after.keychain.holds.lambdaBad, false);
  assert.equal(after.keychain.holds.linodeBad, false);
  assert.equal(after.keychain.holds.linodeNarrow, false);
  assert.equal(after.keychain.accounts.length, 2);
});

test('accounts: a Linode token without the scopes Moat needs gets the list of what is missing', { skip }, () => {
  const e = fail('narrowLinode');
  assert.equal(e.code, 'PROVIDER_AUTH');
  assert.deepEqual(e.missingScopes?.sort(), ['account:read_write', 'firewall:read_write']);
  assert.match(e.message, /firewall:read_write/);
});

test('accounts: rotate stores the new key, then removes the old one; a wrong new key keeps the old', { skip }, () => {
  assert.equal(ok('rotate').keyLast4, K.lambda2.slice(-4));
  const r = result.afterRotate as { oldAccountGone: boolean; keychain: Keychain };
  assert.equal(r.oldAccountGone, true);
  assert.equal(r.keychain.holds.lambda, false, 'the old key is gone from the keychain');
  assert.equal(r.keychain.holds.lambda2, true);
  assert.equal(ok('providerAfterRotate') as unknown, 'ok', 'the account works with the new key after the old one was revoked');
  assert.equal(fail('rotateWrong').code, 'PROVIDER_AUTH');
  const w = result.afterRotateWrong as { keychain: Keychain; last4: string };
  assert.equal(w.keychain.holds.lambda2, true);
  assert.equal(w.keychain.holds.lambdaBad, false);
  assert.equal(w.last4, K.lambda2.slice(-4));
});

test('accounts: remove deletes the key from the keychain and the metadata', { skip }, () => {
  ok('remove');
  assert.equal(fail('removeUnknown').code, 'NOT_FOUND');
  const r = result.afterRemove as { labels: string[]; gone: boolean; keychain: Keychain };
  assert.deepEqual(r.labels, ['lambda-work']);
  assert.equal(r.gone, true);
  assert.equal(r.keychain.holds.linode, false);
  const log = new AuditLog(join(home.path, 'data'));
  const audit = log.read();
  log.close();
  const svcEntries = audit.filter((e) => !String(e.details.label).startsWith('cli-') && e.details.label !== 'nobody');
  assert.deepEqual(
    svcEntries.map((e) => `${e.action} ${String(e.details.label)} ${String(e.details.target)} ${String(e.details.outcome)}`),
    [
      'account.add lambda-work lambda ok',
      'account.add linode-main linode ok',
      'account.add lambda-work lambda failed',
      'account.add no spaces/allowed lambda failed',
      'account.add lambda-bad lambda failed',
      'account.add linode-bad linode failed',
      'account.add linode-narrow linode failed',
      'account.rotate lambda-work lambda ok',
      'account.rotate lambda-work lambda failed',
      'account.remove linode-main linode ok',
      'account.remove linode-main unknown failed',
    ],
  );
  assert.ok(audit.every((e) => typeof e.t === 'number' && e.t > 0));
  assert.deepEqual(audit.find((e) => e.details.label === 'linode-narrow')?.details.missingScopes, [
    'firewall:read_write',
    'account:read_write',
  ]);
});

test(
  'accounts CLI: add with --key-stdin, list, wrong key (exit 3), missing scopes (exit 3), no TTY (exit 2), rotate, remove',
  { skip },
  () => {
    const add = c('cliAdd');
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, new RegExp(`cli-lambda +Lambda Cloud +…${K.cliLambda.slice(-4)}`));
    assert.equal(c('cliList').status, 0);
    assert.match(c('cliList').stdout, /lambda-work .*…/);
    const json = JSON.parse(c('cliListJson').stdout) as { label: string; keyLast4: string }[];
    assert.deepEqual(json.map((x) => x.label).sort(), ['cli-lambda', 'lambda-work']);
    assert.ok(json.every((x) => !('keychainAccount' in x)));
    const wrong = c('cliWrong');
    assert.equal(wrong.status, 3, wrong.stderr);
    assert.match(wrong.stderr, /Lambda Cloud refused the key/);
    const narrow = c('cliNarrow');
    assert.equal(narrow.status, 3, narrow.stderr);
    assert.match(narrow.stderr, /missing scopes: .*firewall:read_write/);
    const noTty = c('cliNoTty');
    assert.equal(noTty.status, 2, noTty.stderr);
    assert.match(noTty.stderr, /--key-stdin/);
    const rot = c('cliRotate');
    assert.equal(rot.status, 0, rot.stderr);
    assert.match(rot.stdout, new RegExp(`…${K.cliLambda2.slice(-4)}`));
    assert.equal(c('cliRotateUnknown').status, 2);
    assert.equal(c('cliRemove').status, 0, c('cliRemove').stderr);
    assert.equal(c('cliRemoveUnknown').status, 2);
    const end = result.cliEnd as { labels: string[]; keychain: Keychain };
    assert.deepEqual(end.labels, ['lambda-work']);
    assert.equal(end.keychain.holds.cliLambda, false);
    assert.equal(end.keychain.holds.cliLambda2, false);
    assert.deepEqual(end.keychain.accounts.length, 1);
  },
);

test('accounts: no key used appears in any file, log, output, error message or command line', { skip }, () => {
  const files = readdirSync(home.path, { recursive: true }) as string[];
  for (const f of ['data/accounts.json', 'data/audit.jsonl']) assert.ok(files.includes(f), `${f} was written`);
  const texts: [string, string][] = [
    ['child stdout', childOut],
    ['child stderr', childErr],
    ['child cmdline', result.selfCmdline],
    ...result.errors.map((e, i): [string, string] => [`error ${i}`, e]),
    ...result.cli.flatMap((r): [string, string][] => [
      [`${r.args.join(' ')} stdout`, r.stdout],
      [`${r.args.join(' ')} stderr`, r.stderr],
      [`${r.args.join(' ')} cmdline`, r.cmdline],
    ]),
    ...childCmdlines.map((cmd, i): [string, string] => [`sampled cmdline ${i}`, cmd]),
  ];
  assert.ok(result.cli.length >= 10 && result.errors.length >= 8 && childCmdlines.length > 0, 'the channels were captured');
  // Positive control: the same grep finds what was deliberately written.
  assert.deepEqual(filesContaining(home.path, K.marker), [join(home.path, 'data', 'control.txt')]);
  for (const [name, secret] of SECRETS) {
    assert.deepEqual(filesContaining(home.path, secret), [], `${name} found in files`);
    for (const [where, text] of texts) assert.ok(!text.includes(secret), `${name} found in ${where}`);
  }
});

test('accounts CLI: with no keychain, a valid key is refused with exit 4 and nothing is saved', { skip }, async () => {
  const { startLambdaFake } = await import('../e2e/fakes/lambda');
  const fake = await startLambdaFake({ keys: [K.lambda] });
  const dir = tempDir('moat-accounts-nobus-');
  try {
    // No DBUS_SESSION_BUS_ADDRESS: no Secret Service can answer, and Moat must not fall back.
    const env = { PATH: process.env.PATH, HOME: dir.path, MOAT_DATA_DIR: join(dir.path, 'data'), MOAT_LAMBDA_API_URL: fake.url };
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        ['--import', 'tsx', 'app/cli/main.ts', 'accounts', 'add', 'lambda', '--label', 'nobus', '--key-stdin'],
        {
          cwd: ROOT,
          env,
        },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdin.end(K.lambda);
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /No keychain is available/);
    assert.ok(!r.stdout.includes(K.lambda) && !r.stderr.includes(K.lambda));
    assert.equal(readdirSync(join(dir.path, 'data')).includes('accounts.json'), false);
    assert.deepEqual(filesContaining(dir.path, K.lambda), []);
  } finally {
    await fake.close();
    dir.cleanup();
  }
});
