// The credentials vault against the real Secret Service: gnome-keyring in a dbus-run-session of
// its own per test, with its own HOME and XDG dirs (a keyring left by an earlier run with another
// password could not be unlocked headless). Also: a locked keyring, no Secret Service at all, and
// the passphrase-protected file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VaultError } from '../main/credentials/errors';
import { interpretLocked, NO_SERVICE, type BackendStatus } from '../main/credentials/backend';
import { FileVault } from '../main/credentials/file-vault';
import type { KeyInfo } from '../main/credentials/vault';
import { BARE_BUS_CONFIG, keyringSessionArgv, keyringToolsMissing } from './helpers/keyring-session';
import { skipUnlessReady, tempDir } from './helpers/engine';
import { filesContaining } from './helpers/leaks';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'vault-child.ts');
const FAST_KDF = { N: 2 ** 14, r: 8, p: 1 };

const SILENT_POLICY = '<policy context="default"><allow send_destination="*"/><allow own="*"/></policy>';

const skip = skipUnlessReady(keyringToolsMissing(), 'the Secret Service vault tests');

// none: no session bus at all; bare-bus: a session bus on which nothing provides the Secret
// Service (no activatable services); empty: gnome-keyring activated on demand with no keyring yet.
// silent-bus: a bus whose policy lets no reply through, so every call to it hangs.
type Mode = 'unlocked' | 'locked' | 'none' | 'bare-bus' | 'empty' | 'silent-bus';

interface Attempt {
  value?: unknown;
  error?: { code: string; message: string; fix: string };
  ms: number;
}
interface ChildResult {
  backend: BackendStatus;
  info?: KeyInfo;
  kernel: string | null;
  ops: Record<string, Attempt>;
}

/** One operation's outcome from the child; a missing one is a broken fixture. */
function op(r: ChildResult, name: string): Attempt {
  const a = r.ops[name];
  assert.ok(a, `the child did not report ${name}`);
  return a;
}
/** The error an operation must have given. */
function err(r: ChildResult, name: string): { code: string; message: string; fix: string } {
  const e = op(r, name).error;
  assert.ok(e, `${name} should have failed: ${JSON.stringify(r.ops[name])}`);
  return e;
}

function runScenario(mode: Mode, scenario: string) {
  const home = tempDir('moat-vault-');
  const dirs = Object.fromEntries(
    ['HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k) => {
      const p = join(home.path, k.toLowerCase());
      mkdirSync(p, { mode: 0o700 });
      return [k, p];
    }),
  );
  const secret = `moat-test-${randomBytes(12).toString('hex')}`;
  const secret2 = `moat-test-${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...dirs,
    KEYRING_PW: randomBytes(8).toString('hex'),
    VAULT_TEST_SECRET: secret,
    VAULT_TEST_SECRET2: secret2,
  };
  const node = `exec "${process.execPath}" --import tsx "${FIXTURE}" ${scenario}`;
  // Lock the login keyring through the Secret Service itself, as a screen lock would.
  const lock =
    'dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null';
  const busConfig = join(home.path, 'bus.conf');
  writeFileSync(busConfig, mode === 'silent-bus' ? BARE_BUS_CONFIG.replace(/<policy[^]*<\/policy>/, SILENT_POLICY) : BARE_BUS_CONFIG);
  const args =
    mode === 'none'
      ? ['sh', '-c', node] // DBUS_SESSION_BUS_ADDRESS is not in env
      : mode === 'bare-bus' || mode === 'silent-bus'
        ? ['dbus-run-session', `--config-file=${busConfig}`, '--', 'sh', '-c', node]
        : mode === 'empty'
          ? ['dbus-run-session', '--', 'sh', '-c', node] // the default bus: gnome-keyring is activated on demand
          : keyringSessionArgv(home.path, mode === 'locked' ? `${lock} && ${node}` : node);
  const t0 = Date.now();
  const r = spawnSync(args[0]!, args.slice(1), { env, cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 60_000 });
  const elapsed = Date.now() - t0;
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let result: ChildResult;
  try {
    result = JSON.parse(last) as ChildResult;
  } catch {
    throw new Error(`vault child failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const plaintext = filesContaining(home.path, secret).concat(filesContaining(home.path, secret2));
  home.cleanup();
  return { result, elapsed, secret, secret2, plaintext };
}

test('keychain: store, read, rotate (new stored, then old removed), delete in the real Secret Service', { skip }, () => {
  const { result: r, secret, secret2, plaintext } = runScenario('unlocked', 'crud');
  assert.deepEqual(r.backend, { available: true, backend: 'secret-service' });
  assert.deepEqual(r.info, { account: 'lambda:1', label: 'Lambda work', provider: 'lambda', last4: secret.slice(-4) });
  assert.equal(op(r, 'set').error, undefined);
  assert.equal(op(r, 'get').value, secret);
  assert.equal(op(r, 'missing').value, null);
  assert.match(err(r, 'badRotate').message, /provider refused/);
  assert.equal(op(r, 'afterBadRotate').value, secret, 'a failed validation keeps the old key');
  assert.equal((op(r, 'rotate').value as KeyInfo).last4, secret2.slice(-4));
  assert.equal(op(r, 'newAfterRotate').value, secret2);
  assert.equal(op(r, 'oldAfterRotate').value, null, 'the old key is removed after the new one is stored');
  assert.equal(r.kernel, null, 'nothing went to the kernel keyring');
  assert.equal(op(r, 'delete').value, true);
  assert.equal(op(r, 'afterDelete').value, null);
  assert.equal(op(r, 'deleteAgain').value, false);
  assert.deepEqual(plaintext, [], 'the keyring file on disk is encrypted');
});

test('keychain: a locked keyring is reported as LOCKED within seconds, never read as "no key"', { skip }, () => {
  const { result: r, elapsed, plaintext } = runScenario('locked', 'refused');
  assert.equal(r.backend.available, false);
  assert.equal(r.backend.code, 'LOCKED');
  for (const name of ['set', 'get', 'delete']) {
    const e = err(r, name);
    assert.equal(e.code, 'LOCKED');
    assert.match(e.message, /The keyring is locked/);
    assert.match(e.fix, /Unlock it/);
    assert.ok(op(r, name).ms < 10_000, `${name} took ${op(r, name).ms} ms`);
  }
  assert.ok(elapsed < 30_000, `the whole scenario took ${elapsed} ms`);
  assert.equal(r.kernel, null);
  assert.deepEqual(plaintext, []);
});

test('keychain: no Secret Service at all gives NO_KEYCHAIN with the fix, and nothing is written anywhere', { skip }, () => {
  const { result: r, plaintext } = runScenario('none', 'refused');
  assert.equal(r.backend.available, false);
  assert.equal(r.backend.backend, 'none');
  for (const name of ['set', 'get', 'delete']) {
    const e = err(r, name);
    assert.equal(e.code, 'NO_KEYCHAIN');
    assert.match(e.message, /No keychain is available/);
    assert.match(e.fix, /gnome-keyring-daemon/);
    assert.ok(op(r, name).ms < 10_000);
  }
  assert.equal(r.kernel, null, 'no silent fallback to the kernel keyring');
  assert.deepEqual(plaintext, [], 'no plaintext fallback');
});

test('keychain: a session bus on which no Secret Service answers gives NO_KEYCHAIN with the fix', { skip }, () => {
  const { result: r, plaintext } = runScenario('bare-bus', 'refused');
  assert.equal(r.backend.code, 'NO_KEYCHAIN');
  const e = err(r, 'set');
  assert.equal(e.code, 'NO_KEYCHAIN');
  assert.match(e.message, /No Secret Service answers on the session bus/);
  assert.match(e.fix, /gnome-keyring-daemon|KeePassXC/);
  assert.equal(err(r, 'get').code, 'NO_KEYCHAIN');
  assert.equal(r.kernel, null, 'no silent fallback to the kernel keyring');
  assert.deepEqual(plaintext, []);
});

test('keychain: a session bus that never answers gives TIMEOUT within seconds, never a wait', { skip }, () => {
  const { result: r, plaintext } = runScenario('silent-bus', 'refused');
  assert.equal(r.backend.code, 'TIMEOUT');
  for (const name of ['set', 'get', 'delete']) {
    const e = err(r, name);
    assert.equal(e.code, 'TIMEOUT');
    assert.match(e.message, /did not answer a status request within 3 s/);
    assert.ok(op(r, name).ms < 10_000, `${name} took ${op(r, name).ms} ms`);
  }
  assert.equal(r.kernel, null);
  assert.deepEqual(plaintext, []);
});

test('keychain: a Secret Service without a default keyring gives NO_KEYCHAIN saying so', { skip }, () => {
  const { result: r, plaintext } = runScenario('empty', 'refused');
  assert.equal(r.backend.backend, 'secret-service');
  const e = err(r, 'set');
  assert.equal(e.code, 'NO_KEYCHAIN');
  assert.match(e.message, /has no default keyring/);
  assert.match(e.fix, /Create a default keyring/);
  assert.equal(r.kernel, null);
  assert.deepEqual(plaintext, []);
});

test('backend: replies of dbus-send and gdbus are read right', () => {
  const run = (ok: boolean, out: string, killed = false) => interpretLocked({ ok, out, notFound: false, killed });
  assert.equal(run(true, '   variant       boolean false').available, true);
  assert.equal(run(true, '(<false>,)').available, true);
  assert.equal(run(true, '   variant       boolean true').code, 'LOCKED');
  assert.equal(run(true, '(<true>,)').code, 'LOCKED');
  assert.equal(run(false, 'Error org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable').problem, NO_SERVICE.problem);
  assert.equal(run(false, 'Error org.freedesktop.DBus.Error.NoReply: Did not receive a reply').code, 'TIMEOUT');
  assert.equal(run(false, '', true).code, 'TIMEOUT');
  assert.equal(run(false, 'Error org.freedesktop.DBus.Error.UnknownMethod: Object does not exist at path').code, 'NO_KEYCHAIN');
  assert.equal(run(false, 'something else entirely').available, false, 'an unknown answer never counts as available');
});

test('file vault: round trip, owner-only, the secret not in the file, a fresh IV per write', async () => {
  const dir = tempDir('moat-filevault-');
  try {
    const path = join(dir.path, 'keys.enc');
    const secret = `linode-${randomBytes(16).toString('hex')}`;
    const v = await FileVault.open(path, 'correct horse', FAST_KDF);
    await v.set('linode:1', secret);
    const first = readFileSync(path);
    await v.set('linode:1', secret);
    const second = readFileSync(path);
    assert.notEqual(JSON.parse(first.toString()).iv, JSON.parse(second.toString()).iv);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    for (const bytes of [first, second]) {
      assert.equal(bytes.includes(secret), false);
      assert.equal(bytes.includes(Buffer.from(secret).toString('base64')), false);
    }
    const again = await FileVault.open(path, 'correct horse');
    assert.equal(await again.get('linode:1'), secret);
    assert.equal(await again.get('linode:2'), null);
    assert.equal(await again.delete('linode:1'), true);
    assert.equal(await (await FileVault.open(path, 'correct horse')).get('linode:1'), null);
  } finally {
    dir.cleanup();
  }
});

test('file vault: a wrong passphrase is a clear error and nothing is overwritten', async () => {
  const dir = tempDir('moat-filevault-');
  try {
    const path = join(dir.path, 'keys.enc');
    const v = await FileVault.open(path, 'right one', FAST_KDF);
    await v.set('lambda:1', 'secret-value-1234');
    const before = readFileSync(path);
    await assert.rejects(FileVault.open(path, 'wrong one'), (err: unknown) => {
      assert.ok(err instanceof VaultError);
      assert.equal(err.code, 'BAD_PASSPHRASE');
      assert.match(err.message, /Wrong passphrase/);
      assert.doesNotMatch(err.message, /secret-value/);
      return true;
    });
    assert.deepEqual(readFileSync(path), before);
    // A tampered file is refused too, not half-read.
    const f = JSON.parse(before.toString()) as { data: string };
    f.data = Buffer.from('x'.repeat(40)).toString('base64');
    writeFileSync(path, JSON.stringify(f));
    await assert.rejects(FileVault.open(path, 'right one'), { code: 'BAD_PASSPHRASE' });
  } finally {
    dir.cleanup();
  }
});
