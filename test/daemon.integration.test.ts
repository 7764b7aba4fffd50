// A running Moat serves the CLI: `moat run` through a daemon's socket and without one gives the
// same output, exit codes, Ctrl-C and history; a tampered socket is refused; a daemon killed with
// -9 leaves a socket and a claim that the next `moat run` and `moat daemon start` handle.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunDetail, RunRecord } from '../shared/types';
import { LABEL_MANAGED } from '../main/sandbox/labels';
import { checkSocket, connectOwner, UnsafeSocketError } from '../app/daemon/client';
import { startOwner } from '../app/daemon/host';
import { claimOwnership, readOwner } from '../app/daemon/owner';
import type { SocketServices } from '../app/daemon/socket-server';
import { defaultDataDir } from '../main/store/data-dir';
import { engineUnavailableReason, skipUnlessReady, tempDir } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'daemon tests');

interface Result {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ROOT = join(import.meta.dirname, '..');
const MOAT = join(ROOT, 'bin', 'moat.js');

function spawnCollect(argv: string[], dir: string, opts: { input?: string; onSpawn?: (c: ChildProcess) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...process.env, MOAT_DATA_DIR: dir },
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ args: argv, code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

const moat = (args: string[], dir: string, opts: { input?: string; onSpawn?: (c: ChildProcess) => void } = {}): Promise<Result> =>
  spawnCollect([join(ROOT, 'bin', 'moat.js'), ...args], dir, opts);
const daemon = (args: string[], dir: string): Promise<Result> => spawnCollect([MOAT, 'daemon', ...args], dir);

function assertStatus(r: Result, status: number): void {
  assert.equal(
    r.code,
    status,
    `${r.args.slice(-4).join(' ')}: exit ${r.code ?? r.signal}, expected ${status}; stderr: ${r.stderr || '(empty)'}`,
  );
}

/** Run ids differ between the two ways; everything else must not. */
const normal = (text: string): string => text.replace(/\br[a-z0-9]{15,30}\b/g, 'RUN');

function ownerPid(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'owner.lock'), 'utf8')) as { pid: number }).pid;
}

async function history(dir: string): Promise<RunRecord[]> {
  const r = await moat(['history', '--json', '-n', '100'], dir);
  assertStatus(r, 0);
  return JSON.parse(r.stdout) as RunRecord[];
}

const ownedBy = (run: RunRecord, pid: number): boolean => (run.owner ?? '').startsWith(`${hostname()}:${pid}:`);

async function containersOfRun(runId: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('docker', [
    'ps',
    '-a',
    '--filter',
    `label=${LABEL_MANAGED}=true`,
    '--filter',
    `label=moat.run=${runId}`,
    '-q',
  ]);
  return stdout.split('\n').filter(Boolean);
}

/** Running: a daemon reparented to an init that does not reap stays a zombie after it exits. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('the data directory: MOAT_DATA_DIR, else $XDG_DATA_HOME/moat, else ~/.local/share/moat', () => {
  assert.equal(defaultDataDir({ MOAT_DATA_DIR: '/x/moat', XDG_DATA_HOME: '/y' }), '/x/moat');
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/y' }), '/y/moat');
  assert.equal(defaultDataDir({}), join(homedir(), '.local', 'share', 'moat'));
});

describe('owning a data directory (no engine needed)', () => {
  /** Enough of the services for the socket: one method, no runs. */
  const fake = (): SocketServices =>
    ({
      handlers: { 'sandbox.live': async () => [] },
      onEvent: () => () => {},
      targets: { allManagers: () => [] },
    }) as unknown as SocketServices;

  test('one owner at a time; a claim left by a dead process is taken over', () => {
    const dir = tempDir();
    try {
      const first = claimOwnership(dir.path, 'daemon');
      assert.equal(first.owned, true);
      const second = claimOwnership(dir.path, 'serve');
      assert.equal(second.owned, false);
      assert.equal(second.info.pid, process.pid);
      if (first.owned) first.release();
      assert.equal(existsSync(join(dir.path, 'owner.lock')), false);
      // A daemon killed with -9: its claim names a process that is gone.
      const dead = { owner: `${hostname()}:999999:1`, pid: 999999, kind: 'daemon', socket: 'x', startedAt: 1 };
      writeFileSync(join(dir.path, 'owner.lock'), JSON.stringify(dead), { mode: 0o600 });
      const taken = claimOwnership(dir.path, 'daemon');
      assert.equal(taken.owned, true);
      assert.equal(readOwner(dir.path)?.pid, process.pid);
      if (taken.owned) taken.release();
    } finally {
      dir.cleanup();
    }
  });

  test('the socket answers calls, is removed at close; a stale one is replaced; a loose one is refused', async () => {
    const dir = tempDir();
    try {
      const owner = await startOwner({ services: fake(), dataDir: dir.path, kind: 'serve' });
      assert.equal(owner.owned, true);
      const sock = join(dir.path, 'moat.sock');
      assert.equal(statSync(sock).mode & 0o777, 0o600);
      const client = await connectOwner(dir.path);
      assert.ok(client);
      assert.equal(client.info.pid, process.pid);
      assert.equal(client.info.kind, 'serve');
      assert.deepEqual(await client.call('sandbox.live', undefined), []);
      await assert.rejects(client.call('runs.get', { id: '' }), /Invalid runs.get request/);
      await assert.rejects(client.shutdown(), /not a daemon/);
      client.close();
      // Refused: mode 0666.
      chmodSync(sock, 0o666);
      assert.throws(() => checkSocket(sock), UnsafeSocketError);
      await assert.rejects(connectOwner(dir.path), /its mode is 0666/);
      chmodSync(sock, 0o600);
      await owner.close();
      assert.equal(existsSync(sock), false);
      assert.equal(existsSync(join(dir.path, 'owner.lock')), false);
      assert.equal(await connectOwner(dir.path), null, 'nobody owns it: in-process');
    } finally {
      dir.cleanup();
    }
  });
});

describe('moat run through a daemon', { skip, timeout: 600_000 }, () => {
  let served: ReturnType<typeof tempDir>;
  let plain: ReturnType<typeof tempDir>;
  let daemonPid = 0;
  const pids: number[] = [];

  before(async () => {
    served = tempDir('moat-daemon-');
    plain = tempDir('moat-nodaemon-');
    const r = await daemon(['start'], served.path);
    assertStatus(r, 0);
    assert.match(r.stdout, /moat daemon started \(pid \d+\)/);
    daemonPid = ownerPid(served.path);
    pids.push(daemonPid);
  });

  after(async () => {
    if (!served) return;
    await daemon(['stop'], served.path);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    // A daemon killed with -9 leaves its warm pool: removed as orphans of a dead owner.
    await moat(['reap'], served.path);
    served.cleanup();
    plain.cleanup();
  });

  test('the socket is owner-only in an owner-only directory', () => {
    const st = statSync(join(served.path, 'moat.sock'));
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(served.path).mode & 0o777, 0o700);
  });

  const cases: { name: string; args: string[]; input?: string; status: number }[] = [
    { name: 'a passing program', args: ['--code', 'import sys\nprint("out")\nprint("err", file=sys.stderr)'], status: 0 },
    { name: 'a failing program (exit 3)', args: ['--code', 'import sys\nprint("bye")\nsys.exit(3)'], status: 3 },
    { name: 'a timeout (124)', args: ['--timeout', '1s', '--', 'sh', '-c', 'echo started; sleep 30'], status: 124 },
    {
      name: 'stdin passthrough (--input -)',
      args: ['--input', '-', '--code', 'import sys\nprint(sys.stdin.read().upper())'],
      input: 'hello\n',
      status: 0,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: same output and exit status both ways`, async () => {
      const opts = c.input !== undefined ? { input: c.input } : {};
      const [viaDaemon, inProcess] = await Promise.all([
        moat(['run', ...c.args], served.path, opts),
        moat(['run', ...c.args], plain.path, opts),
      ]);
      assertStatus(viaDaemon, c.status);
      assertStatus(inProcess, c.status);
      assert.equal(viaDaemon.stdout, inProcess.stdout);
      assert.equal(normal(viaDaemon.stderr), normal(inProcess.stderr));
    });
  }

  test('the runs went through the daemon (its pid owns them), the others did not', async () => {
    const served_ = await history(served.path);
    assert.equal(served_.length, cases.length);
    assert.ok(
      served_.every((r) => ownedBy(r, daemonPid)),
      'every run made with the daemon up is the daemon`s',
    );
    const plain_ = await history(plain.path);
    assert.equal(plain_.length, cases.length);
    assert.ok(plain_.every((r) => !ownedBy(r, daemonPid)));
  });

  test('--json: the same record and output both ways', async () => {
    const args = ['run', '--json', '--code', 'print("json")'];
    const [a, b] = await Promise.all([moat(args, served.path), moat(args, plain.path)]);
    assertStatus(a, 0);
    assertStatus(b, 0);
    const da = JSON.parse(a.stdout) as RunDetail;
    const db = JSON.parse(b.stdout) as RunDetail;
    assert.deepEqual(da.output, db.output);
    for (const k of ['status', 'endReason', 'exitCode', 'template', 'code', 'argv', 'limits', 'runtime'] as const)
      assert.deepEqual(da.run[k], db.run[k], k);
    assert.ok(ownedBy(da.run, daemonPid));
  });

  test('Ctrl-C cancels the run on the daemon: exit 130, recorded cancelled, no sandbox left', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], served.path, { onSpawn: (c) => (child = c) });
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    const sentAt = Date.now();
    child!.kill('SIGINT');
    const r = await running;
    assertStatus(r, 130);
    assert.ok(Date.now() - sentAt < 20_000);
    const m = /moat: run (\S+) was cancelled/.exec(r.stderr);
    assert.ok(m, `stderr says the run was cancelled: ${r.stderr}`);
    const rec = (await history(served.path)).find((x) => x.id === m[1]);
    assert.equal(rec?.endReason, 'cancelled');
    assert.ok(rec && ownedBy(rec, daemonPid));
    assert.deepEqual(await containersOfRun(m[1]!), [], 'its sandbox is gone');
  });

  test('a client killed with -9 has its run cancelled by the daemon', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], served.path, { onSpawn: (c) => (child = c) });
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    child!.kill('SIGKILL');
    await running;
    const deadline = Date.now() + 20_000;
    let live: RunRecord[] = [];
    do {
      await new Promise((r) => setTimeout(r, 200));
      live = (await history(served.path)).filter((x) => x.status !== 'finished');
    } while (live.length && Date.now() < deadline);
    assert.deepEqual(live, []);
    assert.equal((await history(served.path))[0]?.endReason, 'cancelled');
  });

  test('a second `daemon start` says it is already running, with its pid', async () => {
    const r = await daemon(['start'], served.path);
    assertStatus(r, 0);
    assert.match(r.stdout, new RegExp(`already running .*pid ${daemonPid}`));
    const s = await daemon(['status'], served.path);
    assertStatus(s, 0);
    assert.match(s.stdout, new RegExp(`running \\(daemon, pid ${daemonPid}`));
  });

  test('a socket open to other users is refused, with the reason', async () => {
    const sock = join(served.path, 'moat.sock');
    chmodSync(sock, 0o666);
    try {
      const r = await moat(['run', '--code', 'print(1)'], served.path);
      assertStatus(r, 2);
      assert.match(r.stderr, /refusing the Moat socket .*: its mode is 0666, open to other users/);
      assert.equal(r.stdout, '');
      const s = await daemon(['status'], served.path);
      assertStatus(s, 2);
      assert.match(s.stderr, /refusing the Moat socket/);
    } finally {
      chmodSync(sock, 0o600);
    }
    chmodSync(served.path, 0o755);
    try {
      const r = await moat(['run', '--code', 'print(1)'], served.path);
      assertStatus(r, 2);
      assert.match(r.stderr, /its directory .* is open to other users/);
    } finally {
      chmodSync(served.path, 0o700);
    }
  });

  test('a daemon killed with -9: the next run is in-process, the next start takes over', async () => {
    process.kill(daemonPid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(daemonPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(statSync(join(served.path, 'moat.sock')).isSocket(), 'the socket is left behind');
    const s = await daemon(['status'], served.path);
    assertStatus(s, 3);
    assert.match(s.stdout, new RegExp(`not running \\(a claim left by pid ${daemonPid}, which is gone`));

    const r = await moat(['run', '--code', 'print(1)'], served.path);
    assertStatus(r, 0);
    assert.equal(r.stdout, '1\n');
    const runs = await history(served.path);
    assert.ok(!ownedBy(runs[0]!, daemonPid), 'the run after the kill ran in-process');
    assert.ok(
      runs.slice(1).some((x) => ownedBy(x, daemonPid)),
      'history has the runs made both ways',
    );

    const started = await daemon(['start'], served.path);
    assertStatus(started, 0);
    assert.match(started.stdout, /moat daemon started \(pid \d+\)/);
    const next = ownerPid(served.path);
    pids.push(next);
    assert.notEqual(next, daemonPid);
    const again = await moat(['run', '--code', 'print(2)'], served.path);
    assertStatus(again, 0);
    assert.equal(again.stdout, '2\n');
    assert.ok(ownedBy((await history(served.path))[0]!, next));

    const stopped = await daemon(['stop'], served.path);
    assertStatus(stopped, 0);
    assert.match(stopped.stdout, new RegExp(`moat daemon stopped \\(pid ${next}\\)`));
    assert.ok(!alive(next));
    assertStatus(await daemon(['status'], served.path), 3);
  });
});
