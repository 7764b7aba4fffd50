// The `moat` command as a script or CI job uses it: output passed through, exit status the
// sandbox's, Ctrl-C at any moment, and crash leftovers found by `moat ps` and removed by `moat reap`.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { constants, hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { LABEL_MANAGED, LABEL_OWNER } from '../main/sandbox/labels';
import { engineUnavailableReason, skipUnlessReady, tempDir } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'CLI tests');

interface Result {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let dataDir: ReturnType<typeof tempDir>;

function moat(args: string[], opts: { onSpawn?: (c: ChildProcess) => void; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/moat.js', ...args], {
      env: { ...process.env, MOAT_DATA_DIR: dataDir.path, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ args, code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

/** Checked before any output: when a run fails, its stderr says why, not a mismatched stdout. */
function assertStatus(r: Result, status: number): void {
  const got = r.code ?? r.signal;
  assert.equal(r.code, status, `moat ${r.args.join(' ')}: exit status ${got}, expected ${status}; stderr: ${r.stderr || '(empty)'}`);
}

/**
 * Ctrl-C's exit status as the shell that started Moat sees it: 130, whether Moat exited with it
 * or was ended by the SIGINT itself (which a signal arriving before Node has started does).
 */
function assertInterrupted(r: Result): void {
  const status = r.code ?? (r.signal ? 128 + constants.signals[r.signal] : null);
  assert.equal(status, 130, `moat ${r.args.join(' ')}: exit ${r.code} signal ${r.signal}; stderr: ${r.stderr || '(empty)'}`);
}

function whenOutput(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.stdout!.once('data', () => resolve()));
}

/** Moat's containers (running or not) whose owner label names this process id on this host. */
async function containersOwnedBy(pid: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)('docker', [
    'ps',
    '-a',
    '--filter',
    `label=${LABEL_MANAGED}=true`,
    '--format',
    `{{.ID}} {{.Label "${LABEL_OWNER}"}}`,
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.split(' ')[1]?.startsWith(`${hostname()}:${pid}:`))
    .map((line) => line.split(' ')[0]!);
}

const UPSTREAM = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';

/**
 * A Docker socket in front of the real one, for a child's DOCKER_HOST: shows the test each request
 * line Moat sends, so it can act at an exact point of Moat's conversation with the engine, and
 * leaves the requests matching `hold` unanswered (an engine that is slow to reply).
 */
async function dockerProxy(opts: { onRequest(line: string): void; hold?: RegExp }): Promise<{ host: string; close(): void }> {
  const dir = tempDir('moat-proxy-');
  const path = join(dir.path, 'docker.sock');
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(UPSTREAM);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    let held = false;
    client.on('data', (chunk: Buffer) => {
      // Each request starts a chunk; after an attach upgrade, chunks are the sandbox's stdin.
      const line = /^[A-Z]+ \S+ HTTP\/1\.[01]/.exec(chunk.toString('latin1'))?.[0];
      if (line) {
        opts.onRequest(line);
        if (opts.hold?.test(line)) held = true;
      }
      if (!held) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    host: `unix://${path}`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
      dir.cleanup();
    },
  };
}

describe('moat CLI', { skip }, () => {
  before(() => {
    dataDir = tempDir();
  });
  after(() => dataDir.cleanup());

  test('run -- COMMAND passes stdout/stderr through and exits with the sandbox status', async () => {
    const r = await moat(['run', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assertStatus(r, 3);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
  });

  test('run --template python --file runs a file', async () => {
    const file = join(dataDir.path, 'x.py');
    writeFileSync(file, 'import platform\nprint("kernel", platform.release())\n');
    const r = await moat(['run', '--template', 'python', '--file', file]);
    assertStatus(r, 0);
    assert.equal(r.stdout, 'kernel 4.4.0\n', "gVisor's kernel");
  });

  test('--input gives a file to the program on stdin', async () => {
    const code = join(dataDir.path, 'sum.py');
    const input = join(dataDir.path, 'in.txt');
    writeFileSync(code, 'print(sum(int(x) for x in input().split()))\n');
    writeFileSync(input, '1 2 3 4\n');
    const r = await moat(['run', '--file', code, '--input', input]);
    assertStatus(r, 0);
    assert.equal(r.stdout, '10\n');
  });

  test('limits as flags; a timeout exits 124 and says so', async () => {
    const r = await moat(['run', '--timeout', '1s', '--memory', '128m', '--cpus', '0.5', '--', 'sh', '-c', 'echo start; sleep 30']);
    assertStatus(r, 124);
    assert.equal(r.stdout, 'start\n');
    assert.match(r.stderr, /timed out after 1000 ms/);
  });

  test('bad flags get a clear error and exit 2', async () => {
    const r = await moat(['run', '--timeout', 'soon', '--', 'true']);
    assertStatus(r, 2);
    assert.match(r.stderr, /invalid duration "soon"/);
    const r2 = await moat(['run', '--template', 'cobol', '--', 'true']);
    assertStatus(r2, 125);
    assert.match(r2.stderr, /Unknown template "cobol"/);
  });

  test('Ctrl-C cancels the sandbox and exits 130', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await whenOutput(child!);
    child!.kill('SIGINT');
    const r = await running;
    assertStatus(r, 130);
    assert.match(r.stderr, /was cancelled/);
    assert.deepEqual(await containersOwnedBy(child!.pid!), [], 'its sandbox is gone');
  });

  describe('Ctrl-C before the run has an id', () => {
    type Proxy = Awaited<ReturnType<typeof dockerProxy>>;

    /**
     * Runs `moat run` on a command that would take a minute and sends it SIGINT: a given time
     * after spawning it, or when a Docker proxy in front of its engine calls `signal`.
     */
    async function interrupted(
      how: { afterSpawnMs: number } | { proxy(signal: () => void): Promise<Proxy> },
    ): Promise<{ r: Result; pid: number; afterSignalMs: number }> {
      let child: ChildProcess | null = null;
      let signalledAt = 0;
      let timer: NodeJS.Timeout | undefined;
      const signal = (): void => {
        if (signalledAt || !child) return;
        signalledAt = Date.now();
        child.kill('SIGINT');
        // A Moat that ignores the signal would otherwise wait out the minute (or a held request).
        const c = child;
        timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      };
      const proxy = 'proxy' in how ? await how.proxy(signal) : null;
      try {
        const r = await moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], {
          ...(proxy ? { env: { DOCKER_HOST: proxy.host } } : {}),
          onSpawn: (c) => {
            child = c;
            if (!('afterSpawnMs' in how)) return;
            if (how.afterSpawnMs === 0) signal();
            else timer = setTimeout(signal, how.afterSpawnMs);
          },
        });
        assert.ok(signalledAt, `the signal was sent; exit ${r.code}, stderr: ${r.stderr}`);
        return { r, pid: child!.pid!, afterSignalMs: Date.now() - signalledAt };
      } finally {
        clearTimeout(timer);
        proxy?.close();
      }
    }

    // From Node's start-up through the engine checks to the sandbox running: whatever the moment,
    // the command ends promptly (a cancelled sandbox takes about a second to stop and remove).
    for (const afterSpawnMs of [0, 50, 200, 500, 1000, 2000]) {
      test(`SIGINT ${afterSpawnMs} ms after spawn: 130, promptly, no sandbox left`, async (t) => {
        const { r, pid, afterSignalMs } = await interrupted({ afterSpawnMs });
        // Which moment it hit: killed by the signal itself, before the run existed, or cancelled.
        t.diagnostic(`exit ${r.code ?? r.signal} ${afterSignalMs} ms after the signal; stderr: ${r.stderr.trim() || '(empty)'}`);
        assertInterrupted(r);
        assert.ok(afterSignalMs < 10_000, `ended ${afterSignalMs} ms after the signal`);
        assert.deepEqual(await containersOwnedBy(pid), []);
      });
    }

    test('while the engine does not answer its first check: exits 130 at once', async () => {
      const info = /^GET \S*\/info /;
      const { r, pid, afterSignalMs } = await interrupted({
        proxy: (signal) => dockerProxy({ hold: info, onRequest: (line) => info.test(line) && signal() }),
      });
      assertStatus(r, 130);
      assert.match(r.stderr, /cancelled before the run started/);
      assert.ok(afterSignalMs < 2000, `ended ${afterSignalMs} ms after the signal (the engine check alone waits 5 s)`);
      assert.deepEqual(await containersOwnedBy(pid), []);
    });

    test("while the run's image is looked up: exits 130 at once", async () => {
      const image = /^GET \S*\/images\/\S+\/json /;
      const { r, pid, afterSignalMs } = await interrupted({
        proxy: (signal) => dockerProxy({ hold: image, onRequest: (line) => image.test(line) && signal() }),
      });
      assertStatus(r, 130);
      assert.match(r.stderr, /cancelled before the run started/);
      assert.ok(afterSignalMs < 2000, `ended ${afterSignalMs} ms after the signal`);
      assert.deepEqual(await containersOwnedBy(pid), []);
    });

    test('while its sandbox is being created: cancelled, 130, the sandbox removed', async () => {
      const create = /^POST \S*\/containers\/create/;
      const { r, pid, afterSignalMs } = await interrupted({
        proxy: (signal) => dockerProxy({ onRequest: (line) => create.test(line) && signal() }),
      });
      assertStatus(r, 130);
      assert.match(r.stderr, /was cancelled/);
      assert.ok(afterSignalMs < 10_000, `ended ${afterSignalMs} ms after the signal`);
      assert.deepEqual(await containersOwnedBy(pid), []);
    });
  });

  test('the next start removes orphans by itself', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await whenOutput(child!);
    const pid = child!.pid!;
    child!.kill('SIGKILL');
    assert.equal((await running).signal, 'SIGKILL');
    const ps = await moat(['ps']);
    assertStatus(ps, 0);
    assert.match(ps.stdout, new RegExp(`${pid} \\(gone: orphan\\)`));
    assertStatus(await moat(['run', '--', 'true']), 0);
    const after = await moat(['ps']);
    assertStatus(after, 0);
    assert.doesNotMatch(after.stdout, new RegExp(`\\b${pid}\\b`));
  });

  test('status reports gVisor', async () => {
    const r = await moat(['status']);
    assertStatus(r, 0);
    assert.match(r.stdout, /gvisor: yes \(runtime "runsc"\)/);
  });

  test('a sandbox left by a killed moat is listed as an orphan by ps and removed by reap', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await whenOutput(child!);
    const pid = child!.pid!;
    const live = await moat(['ps']);
    assertStatus(live, 0);
    assert.match(live.stdout, new RegExp(`\\brun\\s+${pid}\\b`), live.stdout);
    child!.kill('SIGKILL');
    assert.equal((await running).signal, 'SIGKILL');

    const ps = await moat(['ps']);
    assertStatus(ps, 0);
    assert.match(ps.stdout, new RegExp(`${pid} \\(gone: orphan\\)`), ps.stdout);
    const reap = await moat(['reap']);
    assertStatus(reap, 0);
    assert.match(reap.stdout, /removed [1-9]\d* sandbox/);
    const after = await moat(['ps']);
    assertStatus(after, 0);
    assert.doesNotMatch(after.stdout, new RegExp(`${pid} \\(gone`));

    // The next start marks the interrupted run as failed instead of leaving it "running".
    assertStatus(await moat(['run', '--', 'true']), 0);
    const history = await moat(['history', '--json', '-n', '50']);
    assertStatus(history, 0);
    const runs = JSON.parse(history.stdout) as {
      id: string;
      owner?: string;
      status: string;
      endReason?: string;
      error?: string;
    }[];
    const killed = runs.find((r) => r.owner?.split(':')[1] === String(pid));
    assert.ok(killed, 'the killed run is in the history');
    assert.equal(killed.status, 'finished');
    assert.equal(killed.endReason, 'failed');
    assert.match(killed.error ?? '', /Moat stopped while this run was in progress/);
  });
});
