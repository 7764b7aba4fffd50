// Remote sandboxes over SSH against a real sshd on 127.0.0.1 (test/helpers/sshd.ts) in front of
// this machine's real Docker + gVisor: the CLI story in a keyring session (hosts add/list/trust/
// remove, run --on, history), then the hardened checks of the local integration tests through the
// services API on the SSH engine, the sandbox's own deadline backstop on both engines, a dropped
// SSH connection mid-run, and a changed host key. Named to run before zz-engine-loss (which stops
// dockerd).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Duplex } from 'node:stream';
import { RemoteError } from '../main/remote/errors';
import { endpointOf, hostAuth, type HostRecord } from '../main/remote/hosts';
import { fetchHostKey, hostKeyInfo, MODERN_ALGORITHMS, SshConnection } from '../main/remote/ssh';
import { newExitNonce, programScript } from '../main/sandbox/bootstrap';
import { DockerEngine, SshDockerEngine } from '../main/sandbox/docker-engine';
import type { SandboxEngine } from '../main/sandbox/engine';
import { resolveImage } from '../main/sandbox/images';
import { hardenedCreateOptions } from '../main/sandbox/profile';
import { findTemplate } from '../main/sandbox/templates';
import { MoatError } from '../shared/errors';
import type { RunRecord } from '../shared/types';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices, tempDir } from './helpers/engine';
import { keyringToolsMissing, runInKeyringSession } from './helpers/keyring-session';
import { sshdUnavailableReason, startSshd, type TestSshd } from './helpers/sshd';
import { runAtLoweredBackstop } from './helpers/backstop';

const ROOT = join(import.meta.dirname, '..');
const skip = skipUnlessReady((await engineUnavailableReason()) ?? sshdUnavailableReason(), 'the remote-host tests');
const skipCli = skip || skipUnlessReady(keyringToolsMissing(), 'the remote-host CLI tests');

interface Cli {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}
const CLI_STEPS = [
  'noTty',
  'add',
  'addAgain',
  'noIdentity',
  'list',
  'listText',
  'run',
  'runPython',
  'history',
  'historyText',
  'unknownHost',
  'wrongPassphrase',
  'addLocked',
  'runLocked',
  'runChanged',
  'trustNoTty',
  'trust',
  'trustAgain',
  'runTrusted',
  'remove',
  'removeUnknown',
  'listAfter',
  'ttyDecline',
  'ttyAccept',
  'runTty',
] as const;
type ChildResult = Record<(typeof CLI_STEPS)[number], Cli> & {
  fingerprintBefore: string;
  fingerprintAfter: string;
  keyInVault: boolean;
  hostsFileMode: string;
  hostsFileHasKey: boolean;
  lockedInVault: { key: boolean; passphrase: boolean };
  lockedAfterRemove: { key: boolean; passphrase: boolean };
  error?: string;
};
/** A piece of test/helpers/sshd.ts's passphrase, which must never be echoed. */
const PASSPHRASE_FRAGMENT = 'horse battery';
const show = (c: Cli): string => `moat ${c.args.join(' ')} -> ${c.status}\n${c.stdout}\n${c.stderr}`;

describe('moat hosts and moat run --on, through the CLI in a keyring session', { skip: skipCli }, () => {
  let r: ChildResult;
  let home: ReturnType<typeof tempDir>;
  let data: ReturnType<typeof tempDir>;

  before(async () => {
    home = tempDir('moat-remote-home-');
    data = tempDir('moat-remote-data-');
    const run = await runInKeyringSession({
      root: ROOT,
      home: home.path,
      fixture: join(ROOT, 'test', 'fixtures', 'remote-child.ts'),
      dataDir: data.path,
      input: '',
      timeoutMs: 300_000,
    });
    r = run.result as unknown as ChildResult;
    assert.equal(r.error, undefined, r.error);
    for (const step of CLI_STEPS) assert.ok(r[step], `the child ran ${step}`);
  });
  after(() => {
    home?.cleanup();
    data?.cleanup();
  });

  test('add: refuses to ask without a terminal, then trusts with --yes, pins the key and checks the engine', () => {
    assert.equal(r.noTty.status, 2, show(r.noTty));
    assert.match(r.noTty.stderr, /--yes/);
    assert.equal(r.add.status, 0, show(r.add));
    assert.ok(r.add.stderr.includes(r.fingerprintBefore), 'the fingerprint was shown before trusting it');
    assert.match(r.add.stdout, /gVisor runtime "runsc"/);
    assert.equal(r.addAgain.status, 2, show(r.addAgain));
    assert.match(r.addAgain.stderr, /HOST_EXISTS/);
    assert.equal(r.noIdentity.status, 2, show(r.noIdentity));
    assert.match(r.noIdentity.stderr, /NO_IDENTITY.*SSH_AUTH_SOCK/s);
  });

  test('the key is in the keychain only; hosts.json is owner-only and holds the pin', () => {
    assert.equal(r.keyInVault, true);
    assert.equal(r.hostsFileMode, '600');
    assert.equal(r.hostsFileHasKey, false);
    const list = JSON.parse(r.list.stdout) as HostRecord[];
    assert.equal(list.length, 1);
    const box = list[0]!;
    assert.equal(box.name, 'box');
    assert.equal(box.user, 'root');
    assert.equal(box.host, '127.0.0.1');
    assert.deepEqual(box.identity, { kind: 'vault', account: 'host-key:box', passphrase: false });
    assert.deepEqual(box.hostKey, { fingerprint: r.fingerprintBefore, keyType: 'ssh-ed25519' });
    assert.match(r.listText.stdout, /^box\s+root@127\.0\.0\.1:\d+\s+keychain\s+ssh-ed25519 SHA256:/m);
  });

  test('run --on runs on the host under gVisor, passes output and exit status through, and history says where', () => {
    assert.equal(r.run.status, 3, show(r.run));
    assert.match(r.run.stdout, /^hi from remote\n.*Starting gVisor/s);
    assert.equal(r.runPython.status, 0, show(r.runPython));
    assert.equal(r.runPython.stdout, '42\n');
    const runs = JSON.parse(r.history.stdout) as RunRecord[];
    assert.ok(runs.length >= 2);
    assert.ok(
      runs.every((x) => x.target === 'ssh:box'),
      runs.map((x) => x.target).join(),
    );
    assert.match(r.historyText.stdout, /ON\n/);
    assert.match(r.historyText.stdout, / box\n/);
    assert.equal(r.unknownHost.status, 125, show(r.unknownHost));
    assert.match(r.unknownHost.stderr, /No host named "nosuch"/);
  });

  test('a passphrase-protected key: a wrong passphrase is refused, the right one is kept in the keychain and used', () => {
    assert.equal(r.wrongPassphrase.status, 2, show(r.wrongPassphrase));
    assert.match(r.wrongPassphrase.stderr, /SSH_KEY_LOCKED/);
    assert.equal(r.addLocked.status, 0, show(r.addLocked));
    assert.deepEqual(r.lockedInVault, { key: true, passphrase: true });
    assert.equal(r.runLocked.status, 0, show(r.runLocked));
    assert.equal(r.runLocked.stdout, 'unlocked\n');
  });

  test('a changed host key is refused with both fingerprints until `hosts trust` re-pins it', () => {
    assert.notEqual(r.fingerprintAfter, r.fingerprintBefore);
    assert.equal(r.runChanged.status, 125, show(r.runChanged));
    assert.match(r.runChanged.stderr, /HOST_KEY_CHANGED/);
    assert.ok(r.runChanged.stderr.includes(r.fingerprintBefore), 'shows the trusted fingerprint');
    assert.ok(r.runChanged.stderr.includes(r.fingerprintAfter), 'shows the new fingerprint');
    assert.match(r.runChanged.stderr, /moat hosts trust box/);
    assert.doesNotMatch(r.runChanged.stdout, /should not run/);
    assert.equal(r.trustNoTty.status, 2, show(r.trustNoTty));
    assert.equal(r.trust.status, 0, show(r.trust));
    assert.ok(r.trust.stderr.includes(r.fingerprintBefore) && r.trust.stderr.includes(r.fingerprintAfter));
    assert.match(r.trustAgain.stdout, /unchanged/);
    assert.equal(r.runTrusted.status, 0, show(r.runTrusted));
    assert.equal(r.runTrusted.stdout, 'trusted again\n');
  });

  test('at a terminal: the key is shown and asked about; no adds nothing (exit 5), yes after the hidden passphrase adds it', () => {
    assert.equal(r.ttyDecline.status, 5, show(r.ttyDecline));
    assert.ok(r.ttyDecline.stdout.includes(r.fingerprintAfter), 'the fingerprint was shown at the prompt');
    assert.match(r.ttyDecline.stdout, /Trust this key\? \[y\/N\] <typed>/);
    assert.doesNotMatch(r.ttyDecline.stdout, /^added/m);
    assert.equal(r.ttyAccept.status, 0, show(r.ttyAccept));
    assert.match(r.ttyAccept.stdout, /\(not shown\): <typed>\n/);
    assert.ok(!r.ttyAccept.stdout.includes(PASSPHRASE_FRAGMENT), 'the passphrase was not echoed');
    assert.match(r.ttyAccept.stdout, /^added ttybox: /m);
    assert.equal(r.runTty.status, 0, show(r.runTty));
    assert.equal(r.runTty.stdout, 'typed in\n');
    const names = (JSON.parse(r.listAfter.stdout) as HostRecord[]).map((h) => h.name);
    assert.ok(!names.includes('nope'));
  });

  test('remove deletes the key and passphrase from the keychain', () => {
    assert.equal(r.remove.status, 0, show(r.remove));
    assert.match(r.remove.stdout, /2 keychain entries/);
    assert.deepEqual(r.lockedAfterRemove, { key: false, passphrase: false });
    assert.equal(r.removeUnknown.status, 2, show(r.removeUnknown));
    assert.deepEqual(
      (JSON.parse(r.listAfter.stdout) as HostRecord[]).map((h) => h.name),
      ['box', 'ttybox'],
    );
  });
});

describe('sandboxes on a host over SSH (services API)', { skip }, () => {
  let sshd: TestSshd;
  let host: HostRecord;
  let engine: SshDockerEngine;
  let services: Awaited<ReturnType<typeof startServices>>;

  const sshEngine = (h: HostRecord): SshDockerEngine =>
    new SshDockerEngine({ host: h, auth: async () => ({ privateKey: sshd.privateKey }), ssh: { backoff: { baseMs: 100, maxMs: 2000 } } });

  before(async () => {
    sshd = await startSshd();
    const seen = await fetchHostKey({ name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' });
    assert.equal(seen.fingerprint, sshd.fingerprint(), 'the fingerprint is the one ssh-keygen shows');
    host = {
      name: 'box',
      user: 'root',
      host: '127.0.0.1',
      port: sshd.port,
      identity: { kind: 'vault', account: 'host-key:box', passphrase: false },
      hostKey: seen,
      addedAt: Date.now(),
    };
    engine = sshEngine(host);
    services = await startServices({ engine });
  });
  after(async () => {
    await services?.dispose();
    engine?.close();
    await sshd?.close();
  });
  afterEach(async () => {
    assert.deepEqual(await myContainers(), [], 'a sandbox container was left behind');
  });

  test("the engine is the host's Docker with gVisor, reached over one SSH connection", async () => {
    assert.equal(engine.id, 'ssh:box');
    assert.equal(engine.current.connected, true, engine.current.error);
    assert.equal(engine.current.gvisorRuntime, 'runsc');
    for (let i = 0; i < 5; i++) assert.equal(await engine.ping(), true);
    assert.equal(sshd.connections().length, 1, 'requests share one SSH connection');
    const r = await engine.connection.exec('echo checked; echo oops >&2; exit 3');
    assert.deepEqual(r, { code: 3, stdout: 'checked\n', stderr: 'oops\n' });
    assert.equal(sshd.connections().length, 1, 'exec uses the same connection');
  });

  test('runs under gVisor with output streamed as it comes, and the record names the target', async () => {
    const seen: number[] = [];
    let id = '';
    const off = services.onEvent((e, p) => {
      const o = p as { runId: string; data: string };
      if (e === 'run.output' && o.runId === id) seen.push(Date.now());
    });
    const rec = await services.sandboxes.run({
      template: 'shell',
      code: 'echo one; sleep 1; echo two; dmesg | head -1; grep -E "^CapEff" /proc/self/status; id -u; exit 7',
    });
    id = rec.id;
    const run = (await services.sandboxes.whenDone(rec.id))!;
    off();
    const { output } = await services.handlers['runs.get']({ id: rec.id });
    const stdout = output.map((c) => c.data).join('');
    assert.equal(run.endReason, 'exited', run.error);
    assert.equal(run.exitCode, 7);
    assert.equal(run.target, 'ssh:box');
    assert.equal(run.runtime.gvisor, true);
    assert.match(stdout, /^one\ntwo\n.*Starting gVisor.*CapEff:\s+0+\n65534\n$/s);
    assert.ok(seen.length >= 2 && seen[seen.length - 1]! - seen[0]! >= 800, 'the first line arrived before the program ended');
  });

  test('no network, and a read-only root filesystem', async () => {
    const { run, stdout } = await runToEnd(services, {
      template: 'python',
      code: [
        'import socket',
        'try:',
        '    socket.create_connection(("1.1.1.1", 53), timeout=3); print("CONNECTED")',
        'except OSError as e:',
        '    print("BLOCKED", type(e).__name__)',
        'print("IFACES", sorted(n for _, n in socket.if_nameindex()))',
        'try:',
        '    open("/x", "w"); print("WROTE")',
        'except OSError as e:',
        '    print("DENIED", e.errno)',
      ].join('\n'),
    });
    assert.equal(run.endReason, 'exited', run.error);
    assert.match(stdout, /^BLOCKED /m);
    assert.match(stdout, /^IFACES \[('lo')?\]$/m);
    assert.match(stdout, /^DENIED (30|13)$/m);
  });

  test('OOM, timeout and the output cap end runs as they do locally', async () => {
    const oom = await runToEnd(services, { template: 'python', code: 'b = bytearray(2 * 1024 ** 3)\n', limits: { memoryMb: 256 } });
    assert.equal(oom.run.endReason, 'oom', oom.run.error);
    const t = await runToEnd(services, { template: 'python', code: 'while True:\n    pass\n', limits: { timeoutMs: 2000 } });
    assert.equal(t.run.endReason, 'timeout', t.run.error);
    assert.ok(t.run.durationMs! >= 2000 && t.run.durationMs! < 10_000, `duration ${t.run.durationMs}`);
    const cap = await runToEnd(services, {
      template: 'python',
      code: 'import sys\nwhile True:\n    sys.stdout.write("x" * 65536)\n',
      limits: { outputBytes: 100_000 },
    });
    assert.equal(cap.run.endReason, 'output-limit', cap.run.error);
    assert.equal(cap.stdout.length, 100_000);
  });

  test('cancel stops a running sandbox on the host', async () => {
    const rec = await services.sandboxes.run({ template: 'shell', code: 'echo begin\nsleep 60\n' });
    await firstOutput(rec.id);
    const t0 = Date.now();
    assert.deepEqual(await services.handlers['sandbox.cancel']({ runId: rec.id }), { cancelled: true });
    const run = (await services.sandboxes.whenDone(rec.id))!;
    assert.equal(run.endReason, 'cancelled');
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('a dropped SSH connection ends the run as failed, naming SSH; the next run reconnects', async () => {
    const rec = await services.sandboxes.run({ template: 'shell', code: 'echo begin\nsleep 60\necho never\n' });
    await firstOutput(rec.id);
    const t0 = Date.now();
    assert.ok(sshd.dropConnections() >= 1, 'there was a connection to drop');
    const run = (await services.sandboxes.whenDone(rec.id))!;
    assert.equal(run.endReason, 'failed');
    assert.match(run.error ?? '', /SSH connection to box .* was lost/);
    assert.ok(Date.now() - t0 < 10_000, `ended ${Date.now() - t0} ms after the drop`);
    // The sandbox it left on the host is removed once the connection is back (tracker), and
    // afterEach checks that nothing is left; the next run reconnects by itself.
    const next = await runToEnd(services, { template: 'shell', code: 'echo again' });
    assert.equal(next.run.endReason, 'exited', next.run.error);
    assert.equal(next.stdout, 'again\n');
    await until(async () => (await myContainers()).length === 0, 15_000);
  });

  test('a changed host key is refused with HOST_KEY_CHANGED; re-pinning the new key lets runs through', async () => {
    const before = sshd.fingerprint();
    await sshd.rotateHostKey();
    const after = sshd.fingerprint();
    assert.notEqual(after, before);
    await engine.refresh();
    assert.equal(engine.current.connected, false);
    assert.equal(engine.remoteError?.reason, 'HOST_KEY_CHANGED');
    await assert.rejects(
      () => services.sandboxes.run({ template: 'shell', code: 'echo should not run' }),
      (err: MoatError) => {
        assert.match(err.message, /^HOST_KEY_CHANGED: The host key of box .* has CHANGED/);
        assert.ok(err.message.includes(before) && err.message.includes(after), err.message);
        assert.match(err.fix ?? '', /moat hosts trust box/);
        return true;
      },
    );
    // A fresh connection with the old pin is refused the same way (nothing cached lets it in).
    const fresh = sshEngine(host);
    try {
      await assert.rejects(
        () => fresh.connection.ready(),
        (err: RemoteError) => err.reason === 'HOST_KEY_CHANGED' && err.seen?.fingerprint === after,
      );
    } finally {
      fresh.close();
    }
    // Positive control: the same host with the new key pinned works.
    engine.setPin(await fetchHostKey({ name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' }));
    await engine.refresh();
    const ok = await runToEnd(services, { template: 'shell', code: 'echo repinned' });
    assert.equal(ok.run.endReason, 'exited', ok.run.error);
    assert.equal(ok.stdout, 'repinned\n');
  });

  test("a sandbox killed by its PID backstop on the host ends as process-limit (the host's cgroup watched over SSH)", async () => {
    const out = await runAtLoweredBackstop(engine);
    assert.equal(out.endReason, 'process-limit', `${out.endReason} (${out.exitCode}): ${out.error ?? ''}`);
    assert.match(out.error ?? '', /limit of 300/);
    assert.ok((out.peakTasks ?? 0) > 150, `peak tasks seen: ${out.peakTasks}`);
  });

  test('a host without a pin is refused with HOST_KEY_UNKNOWN carrying its fingerprint', async () => {
    const unpinned = new SshConnection({ name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' }, null, async () => ({
      privateKey: sshd.privateKey,
    }));
    try {
      await assert.rejects(
        () => unpinned.ready(),
        (err: RemoteError) => err.reason === 'HOST_KEY_UNKNOWN' && err.seen?.fingerprint === sshd.fingerprint(),
      );
    } finally {
      unpinned.close();
    }
  });

  test('a connection closed while it is being established is ended, and not re-established', async () => {
    const before = sshd.connections().length;
    const endpoint = { name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' };
    const c = new SshConnection(endpoint, await fetchHostKey(endpoint), async () => ({
      privateKey: sshd.privateKey,
    }));
    const pending = c.ready();
    c.close();
    await assert.rejects(pending, (err: RemoteError) => err.reason === 'SSH_UNREACHABLE' && /closed/.test(err.message));
    await assert.rejects(() => c.ready(), /closed/);
    await until(async () => sshd.connections().length === before, 5000);
  });

  test('without an identity the ssh-agent logs in (hostAuth), and no agent is an error with the fix', async () => {
    const dir = tempDir('moat-agent-');
    const sock = join(dir.path, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await until(async () => existsSync(sock), 5000);
      execFileSync('ssh-add', ['-q', sshd.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const viaAgent: HostRecord = { ...host, identity: { kind: 'agent' }, hostKey: engine.host.hostKey };
      const noVault = { get: async () => null, set: async () => {}, delete: async () => false };
      const c = new SshConnection(endpointOf(viaAgent), await fetchHostKey(endpointOf(viaAgent)), () =>
        hostAuth(viaAgent, noVault, { SSH_AUTH_SOCK: sock }),
      );
      try {
        assert.deepEqual(await c.exec('echo via-agent'), { code: 0, stdout: 'via-agent\n', stderr: '' });
      } finally {
        c.close();
      }
      await assert.rejects(
        () => hostAuth(viaAgent, noVault, {}),
        (err: RemoteError) => err.reason === 'NO_IDENTITY' && /SSH_AUTH_SOCK/.test(err.message) && /--identity/.test(err.fix ?? ''),
      );
    } finally {
      agent.kill();
      dir.cleanup();
    }
  });

  async function firstOutput(runId: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const off = services.onEvent((e, p) => {
        if (e === 'run.output' && (p as { runId: string }).runId === runId) {
          off();
          resolve();
        }
      });
    });
  }
});

describe('only modern SSH algorithms are negotiated', { skip }, () => {
  test('a host that offers only SHA-1 key exchange is refused at the handshake; the default one is accepted', async () => {
    const legacy = await startSshd({ extraConfig: ['KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group1-sha1'] });
    try {
      const endpoint = { name: 'old', host: '127.0.0.1', port: legacy.port, user: 'root' };
      await assert.rejects(
        () => fetchHostKey(endpoint),
        (err: RemoteError) => err.reason === 'SSH_UNREACHABLE' && /handshake/i.test(err.message),
      );
    } finally {
      await legacy.close();
    }
    // Positive control: the same sshd with its defaults.
    const modern = await startSshd();
    try {
      const k = await fetchHostKey({ name: 'new', host: '127.0.0.1', port: modern.port, user: 'root' });
      assert.equal(k.fingerprint, modern.fingerprint());
    } finally {
      await modern.close();
    }
    assert.ok(hostKeyInfo(Buffer.alloc(0)).fingerprint.startsWith('SHA256:'));
    for (const list of Object.values(MODERN_ALGORITHMS) as string[][]) {
      assert.ok(!list.some((a) => /cbc|sha1|md5|group1-|group14-sha1|ssh-rsa$|ssh-dss|3des/.test(a)), list.join());
    }
  });
});

describe('reconnecting', { skip }, () => {
  test('a host that drops every connection is retried with a doubling delay, bounded; a caller waits at most for the retry due next', async () => {
    // A TCP server that hangs up on every connection: each attempt fails in the SSH handshake.
    const attempts: number[] = [];
    const server = createServer((sock) => {
      attempts.push(Date.now());
      sock.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const c = new SshConnection({ name: 'flaky', host: '127.0.0.1', port, user: 'root' }, { fingerprint: 'SHA256:x' }, async () => ({}), {
      backoff: { baseMs: 100, maxMs: 400 },
    });
    try {
      await assert.rejects(
        () => c.ready(),
        (err: RemoteError) => err.reason === 'SSH_UNREACHABLE',
      );
      await new Promise((r) => setTimeout(r, 2500));
      const n = attempts.length;
      // 0, +100, +200, +400, +400, ... in 2.5 s: about 7 attempts; never a tight loop.
      assert.ok(n >= 4 && n <= 10, `${n} attempts in 2.5 s`);
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      assert.ok(
        gaps.every((g) => g >= 80 && g <= 1000),
        `gaps ${gaps.join(',')}`,
      );
      assert.ok(gaps[2]! >= gaps[0]!, `the delay grows: ${gaps.join(',')}`);
      // A caller joins a retry that is due soon rather than failing at once.
      const t0 = Date.now();
      await assert.rejects(() => c.ready());
      assert.ok(Date.now() - t0 < 1500, 'bounded wait');
    } finally {
      c.close();
      await new Promise((r) => server.close(r));
    }
    const settled = attempts.length;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(attempts.length, settled, 'no attempt after close');
  });
});

describe("the sandbox's own deadline backstop (no Moat left to stop it)", { skip }, () => {
  let sshd: TestSshd;
  let remote: SshDockerEngine;
  const local = new DockerEngine();

  before(async () => {
    sshd = await startSshd();
    const hostKey = await fetchHostKey({ name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' });
    remote = new SshDockerEngine({
      host: { name: 'box', user: 'root', host: '127.0.0.1', port: sshd.port, identity: { kind: 'agent' }, hostKey, addedAt: Date.now() },
      auth: async () => ({ privateKey: sshd.privateKey }),
    });
    await remote.refresh();
    await local.refresh();
  });
  after(async () => {
    remote?.close();
    await sshd?.close();
  });

  /** Starts a sandbox, sends it the script and walks away (as a crashed Moat would). */
  async function abandoned(engine: SandboxEngine, deadlineMs: number | undefined): Promise<string> {
    const template = findTemplate('shell')!;
    const { image } = await resolveImage(engine.docker, template, { preferOfficial: false });
    assert.ok(image, 'the shell image is present');
    const limits = { timeoutMs: 1000, memoryMb: 256, cpus: 1, processes: 32, outputBytes: 1 << 20, onOutputLimit: 'stop' as const };
    const id = await engine.create(
      hardenedCreateOptions({
        template,
        image,
        runtime: engine.current.gvisorRuntime!,
        limits,
        runId: null,
        sandboxKey: `backstop-${Date.now()}`,
      }),
    );
    const stream: Duplex = await engine.attach(id);
    stream.on('data', () => {});
    await engine.start(id);
    // The program ignores SIGTERM and leaves a child behind: only SIGKILL of the group ends it.
    const code = "trap '' TERM\nsleep 600 &\nsleep 600\n";
    stream.end(programScript({ template, code, ...(deadlineMs !== undefined ? { deadlineMs } : {}) }, newExitNonce()));
    await new Promise((r) => setTimeout(r, 300));
    stream.destroy();
    return id;
  }

  for (const which of ['local', 'ssh'] as const) {
    test(`on the ${which} engine the sandbox ends at its deadline by itself; without one it keeps running`, async () => {
      const engine: SandboxEngine = which === 'local' ? local : remote;
      const withDeadline = await abandoned(engine, 2000);
      const control = await abandoned(engine, undefined);
      try {
        const t0 = Date.now();
        await until(async () => (await engine.inspect(withDeadline))?.running === false, 12_000);
        const took = Date.now() - t0;
        assert.ok(took < 8000, `ended ${took} ms after it was abandoned`);
        const state = await engine.inspect(withDeadline);
        assert.equal(state?.exitCode, 137, 'the program was killed (SIGKILL), and the bootstrap reported it');
        assert.equal((await engine.inspect(control))?.running, true, 'positive control: without the backstop it still runs');
      } finally {
        await engine.remove(withDeadline);
        await engine.remove(control);
      }
    });
  }
});

async function until(f: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
