// The `moat` command as a script or CI job uses it: output passed through, exit status the
// sandbox's, and crash leftovers found by `moat ps` and removed by `moat reap`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { engineUnavailableReason, tempDir } from './helpers/engine';

const skip = await engineUnavailableReason();
if (skip) console.log(`# skipping CLI tests: ${skip}`);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dataDir: ReturnType<typeof tempDir>;

function moat(args: string[], opts: { onSpawn?: (c: ChildProcess) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/moat.js', ...args], { env: { ...process.env, MOAT_DATA_DIR: dataDir.path } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

describe('moat CLI', { skip: skip ?? false }, () => {
  before(() => {
    dataDir = tempDir();
  });
  after(() => dataDir.cleanup());

  test('run -- COMMAND passes stdout/stderr through and exits with the sandbox status', async () => {
    const r = await moat(['run', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
    assert.equal(r.code, 3);
  });

  test('run --template python --file runs a file', async () => {
    const file = join(dataDir.path, 'x.py');
    writeFileSync(file, 'import platform\nprint("kernel", platform.release())\n');
    const r = await moat(['run', '--template', 'python', '--file', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kernel 4.4.0\n', "gVisor's kernel");
  });

  test('--input gives a file to the program on stdin', async () => {
    const code = join(dataDir.path, 'sum.py');
    const input = join(dataDir.path, 'in.txt');
    writeFileSync(code, 'print(sum(int(x) for x in input().split()))\n');
    writeFileSync(input, '1 2 3 4\n');
    const r = await moat(['run', '--file', code, '--input', input]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '10\n');
  });

  test('limits as flags; a timeout exits 124 and says so', async () => {
    const r = await moat(['run', '--timeout', '1s', '--memory', '128m', '--cpus', '0.5', '--', 'sh', '-c', 'echo start; sleep 30']);
    assert.equal(r.code, 124);
    assert.equal(r.stdout, 'start\n');
    assert.match(r.stderr, /timed out after 1000 ms/);
  });

  test('bad flags get a clear error and exit 2', async () => {
    const r = await moat(['run', '--timeout', 'soon', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid duration "soon"/);
    const r2 = await moat(['run', '--template', 'cobol', '--', 'true']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, /Unknown template "cobol"/);
  });

  test('Ctrl-C cancels the sandbox and exits 130', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    child!.kill('SIGINT');
    const r = await running;
    assert.equal(r.code, 130);
    assert.match(r.stderr, /was cancelled/);
    const ps = await moat(['ps']);
    assert.doesNotMatch(ps.stdout, new RegExp(`\\b${child!.pid}\\b`), 'its sandbox is gone');
  });

  test('the next start removes orphans by itself', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    const pid = child!.pid!;
    child!.kill('SIGKILL');
    await running;
    assert.match((await moat(['ps'])).stdout, new RegExp(`${pid} \\(gone: orphan\\)`));
    await moat(['run', '--', 'true']);
    assert.doesNotMatch((await moat(['ps'])).stdout, new RegExp(`\\b${pid}\\b`));
  });

  test('status reports gVisor', async () => {
    const r = await moat(['status']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /gvisor: yes \(runtime "runsc"\)/);
  });

  test('a sandbox left by a killed moat is listed as an orphan by ps and removed by reap', async () => {
    let child: ChildProcess | null = null;
    const running = moat(['run', '--', 'sh', '-c', 'echo up; sleep 60'], { onSpawn: (c) => (child = c) });
    await new Promise<void>((resolve) => child!.stdout!.once('data', () => resolve()));
    const pid = child!.pid!;
    const live = await moat(['ps']);
    assert.match(live.stdout, new RegExp(`\\brun\\s+${pid}\\b`), live.stdout);
    child!.kill('SIGKILL');
    await running;

    const ps = await moat(['ps']);
    assert.match(ps.stdout, new RegExp(`${pid} \\(gone: orphan\\)`), ps.stdout);
    const reap = await moat(['reap']);
    assert.equal(reap.code, 0);
    assert.match(reap.stdout, /removed [1-9]\d* sandbox/);
    const after = await moat(['ps']);
    assert.doesNotMatch(after.stdout, new RegExp(`${pid} \\(gone`));

    // The next start marks the interrupted run as failed instead of leaving it "running".
    const hist = await moat(['run', '--', 'true']);
    assert.equal(hist.code, 0);
    const runs = JSON.parse((await moat(['history', '--json', '-n', '50'])).stdout) as {
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
