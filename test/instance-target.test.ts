// An instance as a sandbox target through the CLI, in a keyring session of its own (fixture:
// test/fixtures/instance-target-child.ts): before its host key is trusted, `moat run --on
// ACCOUNT/NAME` refuses with the fix; `moat hosts add-instance` shows the key (trust on first use)
// and pins it; then the run goes to the instance, under gVisor, and the history says where.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { engineUnavailableReason, skipUnlessReady, tempDir } from './helpers/engine';
import { keyringToolsMissing, runInKeyringSession } from './helpers/keyring-session';
import { sshdUnavailableReason } from './helpers/sshd';

const skip = skipUnlessReady(
  (await engineUnavailableReason()) ?? sshdUnavailableReason() ?? keyringToolsMissing(),
  'the instance-target tests',
);
const K = { linode: randomBytes(32).toString('hex') };

interface Cli {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}
let home: ReturnType<typeof tempDir>;
let r: Record<string, unknown>;

before(async () => {
  if (skip) return;
  home = tempDir('moat-instance-target-');
  const run = await runInKeyringSession({
    root: join(import.meta.dirname, '..'),
    home: home.path,
    fixture: join(import.meta.dirname, 'fixtures', 'instance-target-child.ts'),
    dataDir: join(home.path, 'data'),
    input: JSON.stringify(K),
    timeoutMs: 240_000,
  });
  assert.equal(run.status, 0, run.stderr);
  r = run.result;
});
after(() => home?.cleanup());

test('run --on an instance not yet trusted is refused with the fix', { skip }, () => {
  const c = r.notYet as Cli;
  assert.notEqual(c.status, 0);
  assert.match(c.stderr, /not a sandbox target yet/);
  assert.match(c.stderr, /moat hosts add-instance lin\/box/);
});

test('hosts add-instance shows the host key as trust on first use and pins it', { skip }, () => {
  const c = r.add as Cli;
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /trust on first use/);
  assert.ok(c.stderr.includes(String(r.fingerprint)), 'the fingerprint shown is the host key');
  assert.match(c.stdout, /^added lin-box: root@127\.0\.0\.3, host key ssh-ed25519 SHA256:/);
  const hosts = JSON.parse((r.list as Cli).stdout) as {
    name: string;
    instance?: { account: string; name: string };
    hostKey: { fingerprint: string };
  }[];
  assert.equal(hosts.length, 1);
  assert.deepEqual([hosts[0]!.instance?.account, hosts[0]!.instance?.name], ['lin', 'box']);
  assert.equal(hosts[0]!.hostKey.fingerprint, r.fingerprint);
  assert.deepEqual(r.audit, ['host.add lin-box ok'], 'the add is in the audit log');
});

test('run --on ACCOUNT/NAME runs there under gVisor, and the history says where', { skip }, () => {
  const c = r.run as Cli;
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /hello from Linux/);
  assert.match(c.stdout, /gVisor/i);
  assert.match((r.history as Cli).stdout, /lin-box/);
});
