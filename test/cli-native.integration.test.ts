// The native `moat run` client (native/moat-run.c, built by `npm run build` where a C compiler
// exists) against a real `moat daemon`: for every case it takes, its stdout, stderr and exit status
// are the Node CLI's (MOAT_NATIVE_CLIENT=0 runs the Node CLI through the same binary); Ctrl-C
// cancels the run; a killed client cancels its run; an owner killed mid-run is reported; and what
// it does not take (another option, no owner, an unsafe socket) runs the Node CLI with the same
// arguments. bin/moat starts it for `moat run`: shown by running with no `node` on PATH.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { RunRecord } from '../shared/types';
import { engineUnavailableReason, skipUnlessReady, tempDir } from './helpers/engine';

const ROOT = join(import.meta.dirname, '..');
const NODE_CLI = join(ROOT, 'bin', 'moat.js');
const LAUNCHER = join(ROOT, 'bin', 'moat');
const CC = process.env.CC || 'cc';
const noCompiler = spawnSync(CC, ['--version'], { stdio: 'ignore' }).status !== 0;
if (noCompiler) console.log(`# skipping the native client's tests: no C compiler (${CC}); \`moat run\` is the Node CLI's here`);
const skip = noCompiler || skipUnlessReady(await engineUnavailableReason(), "the native client's tests");

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

let nativeBin = '';

function collect(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: Buffer | string; onSpawn?: (c: ChildProcess) => void } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr }));
    opts.onSpawn?.(child);
  });
}

/**
 * `moat run ARGS` by the native client, or (node: MOAT_NATIVE_CLIENT=0) by the Node CLI through the
 * same binary, which hands the arguments back to bin/moat.
 */
const run = (dir: string, args: string[], opts: { node?: boolean; input?: Buffer | string; onSpawn?: (c: ChildProcess) => void } = {}) =>
  collect(nativeBin, [LAUNCHER, 'run', ...args], { ...process.env, MOAT_DATA_DIR: dir, MOAT_NATIVE_CLIENT: opts.node ? '0' : '1' }, opts);

const moat = (dir: string, args: string[]) => collect(process.execPath, [NODE_CLI, ...args], { ...process.env, MOAT_DATA_DIR: dir });

/** Run ids differ between two runs; nothing else may. */
const normal = (text: string): string => text.replace(/\br[a-z0-9]{15,30}\b/g, 'RUN');

async function history(dir: string): Promise<RunRecord[]> {
  const r = await moat(dir, ['history', '--json', '-n', '50']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString()) as RunRecord[];
}

function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout!.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) resolve();
    });
  });
}

describe('the native moat run client', { skip }, () => {
  const data = tempDir('moat-native-');
  const work = tempDir('moat-native-work-');

  before(async () => {
    const { buildNative } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build.mjs')).href)) as {
      buildNative: (o: { outDir: string; quiet: boolean }) => { out: string };
    };
    nativeBin = buildNative({ outDir: join(work.path, 'bin'), quiet: true }).out;
    const r = await moat(data.path, ['daemon', 'start']);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await moat(data.path, ['daemon', 'stop']);
    data.cleanup();
    work.cleanup();
  });

  test('the same output, stderr and exit status as the Node CLI', async () => {
    const f = (name: string, text: string | Buffer): string => {
      const p = join(work.path, name);
      writeFileSync(p, text);
      return p;
    };
    const binaryInput = f('in.bin', Buffer.from([0, 1, 2, 0xff, 0xfe, 10]));
    const cases: { name: string; args: string[]; input?: string; status: number; stdout?: RegExp; stderr?: RegExp }[] = [
      { name: 'a file', args: ['-f', f('ok.py', 'print("hello from a file")\n')], status: 0, stdout: /^hello from a file\n$/ },
      {
        name: 'its own exit status and stderr',
        args: ['--code', 'import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.exit(3)'],
        status: 3,
        stderr: /^err\n$/,
      },
      {
        name: 'input from stdin',
        args: ['--code', 'print(input()[::-1])', '-i', '-'],
        input: 'stressed\n',
        status: 0,
        stdout: /^desserts\n$/,
      },
      {
        name: 'binary input from a file, byte for byte',
        args: ['-c', 'import sys; print(sys.stdin.buffer.read().hex())', '-i', binaryInput],
        status: 0,
        stdout: /^000102fffe0a\n$/,
      },
      {
        name: "the program's arguments",
        args: ['--code=import sys; print(sys.argv[1:])', '--', 'a b', '-x', "it's"],
        status: 0,
        stdout: /\['a b', '-x', "it's"\]/,
      },
      { name: 'a template by extension', args: ['-f', f('s.sh', 'echo "shell: $0"\n')], status: 0, stdout: /^shell: / },
      { name: 'code from stdin', args: ['-f', '-'], input: 'print(6 * 7)\n', status: 0, stdout: /^42\n$/ },
      { name: 'a timeout', args: ['--timeout', '1s', '-c', 'import time; time.sleep(10)'], status: 124, stderr: /timed out after 1000 ms/ },
      {
        name: 'a secret in the output',
        args: ['-c', 'print("key AKIAIOSFODNN7EXAMPLQ here")'],
        status: 0,
        stdout: /^key \[REDACTED:aws-access-key-id\] here\n$/,
        stderr: /the egress filter redacted 1 finding/,
      },
      { name: 'a flag that does not parse', args: ['--memory', 'lots', '-c', 'print(1)'], status: 2, stderr: /^moat: / },
      { name: 'nothing to run', args: ['--timeout', '5s'], status: 2, stderr: /nothing to run/ },
      { name: 'stdin twice', args: ['-f', '-', '-i', '-'], input: 'x', status: 2, stderr: /stdin cannot be both/ },
      { name: 'a template the owner does not have', args: ['-t', 'cobol', '-c', 'x'], status: 125, stderr: /Unknown template "cobol"/ },
      {
        name: 'the environment',
        args: ['--env', 'A=1', '--env=B=two', '-c', 'import os; print(os.environ["A"], os.environ["B"])'],
        status: 0,
        stdout: /^1 two\n$/,
      },
    ];
    for (const c of cases) {
      const native = await run(data.path, c.args, { input: c.input });
      const node = await run(data.path, c.args, { input: c.input, node: true });
      const what = `${c.name} (${c.args.join(' ')})`;
      assert.equal(native.code, c.status, `${what}: native exit ${native.code}; stderr ${native.stderr}`);
      assert.equal(node.code, c.status, `${what}: node exit ${node.code}; stderr ${node.stderr}`);
      assert.equal(native.stdout.toString('hex'), node.stdout.toString('hex'), `${what}: stdout differs`);
      assert.equal(normal(native.stderr), normal(node.stderr), `${what}: stderr differs`);
      if (c.stdout) assert.match(native.stdout.toString(), c.stdout, what);
      if (c.stderr) assert.match(native.stderr, c.stderr, what);
    }
    // Every run went to the daemon (both ways): it recorded them.
    const pid = (JSON.parse(readFileSync(join(data.path, 'owner.lock'), 'utf8')) as { pid: number }).pid;
    const runs = await history(data.path);
    assert.ok(runs.length >= 2 * 10, `${runs.length} runs in the history`);
    for (const r of runs) assert.match(r.owner ?? '', new RegExp(`:${pid}:`), `run ${r.id} was not the daemon's`);
  });

  test('Ctrl-C cancels the run (130), as with the Node CLI', async () => {
    for (const node of [false, true]) {
      let child!: ChildProcess;
      const done = run(data.path, ['-c', 'import time\nprint("started", flush=True)\ntime.sleep(30)'], {
        node,
        onSpawn: (c) => (child = c),
      });
      await waitForOutput(child, 'started');
      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 130, `${node ? 'node' : 'native'}: ${r.stderr}`);
      assert.match(r.stderr, /moat: run r\S+ was cancelled/);
    }
    const [last, before] = await history(data.path);
    assert.equal(last!.endReason, 'cancelled');
    assert.equal(before!.endReason, 'cancelled');
  });

  test('a client killed mid-run: the owner cancels its run', async () => {
    let child!: ChildProcess;
    const done = run(data.path, ['-c', 'import time\nprint("started", flush=True)\ntime.sleep(30)'], { onSpawn: (c) => (child = c) });
    await waitForOutput(child, 'started');
    child.kill('SIGKILL');
    await done;
    for (let i = 0; i < 100; i++) {
      const [last] = await history(data.path);
      if (last?.status === 'finished') {
        assert.equal(last.endReason, 'cancelled');
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the run of a killed client did not end');
  });

  test('what it does not take runs the Node CLI: another option, no owner, an unsafe socket', async () => {
    // --json is not the native client's: the same arguments reach the Node CLI.
    const json = await run(data.path, ['--json', '-c', 'print(5)']);
    assert.equal(json.code, 0, json.stderr);
    const detail = JSON.parse(json.stdout.toString()) as { output: { data?: string }[]; run: RunRecord };
    assert.equal(detail.run.endReason, 'exited');
    assert.equal(detail.output.map((o) => o.data).join(''), '5\n');

    // No owner: the Node CLI runs it in-process (no pool: not warm).
    const lone = tempDir('moat-native-lone-');
    try {
      const r = await run(lone.path, ['-c', 'print("in process")']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'in process\n');
      const [rec] = await history(lone.path);
      assert.equal(rec!.warm, false);
    } finally {
      lone.cleanup();
    }

    // A socket someone loosened: not used; the Node CLI says why, as without the native client.
    const sock = join(data.path, 'moat.sock');
    chmodSync(sock, 0o666);
    try {
      const native = await run(data.path, ['-c', 'print(1)']);
      const node = await run(data.path, ['-c', 'print(1)'], { node: true });
      assert.notEqual(native.code, 0);
      assert.match(native.stderr, /refusing the Moat socket/);
      assert.equal(native.code, node.code);
      assert.equal(native.stderr, node.stderr);
    } finally {
      chmodSync(sock, 0o600);
    }
  });

  test('bin/moat starts it for `moat run` (here with no node on PATH at all)', async () => {
    // A copy of the checkout's launcher beside a fresh build: bin/moat picks dist/native/moat-run.
    const root = join(work.path, 'checkout');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'native'), { recursive: true });
    mkdirSync(join(root, 'dist', 'native'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'moat'), join(root, 'bin', 'moat'));
    chmodSync(join(root, 'bin', 'moat'), 0o755);
    copyFileSync(join(ROOT, 'native', 'moat-run.c'), join(root, 'native', 'moat-run.c'));
    copyFileSync(nativeBin, join(root, 'dist', 'native', 'moat-run'));
    chmodSync(join(root, 'dist', 'native', 'moat-run'), 0o755);
    const env = { MOAT_DATA_DIR: data.path, PATH: dirname('/nonexistent/x'), HOME: process.env.HOME ?? '/root' };
    const r = await collect('/bin/sh', [join(root, 'bin', 'moat'), 'run', '-c', 'print("no node needed")'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'no node needed\n');
    // Anything else is Node's: with no node on PATH that fails, which shows who took it.
    const other = await collect('/bin/sh', [join(root, 'bin', 'moat'), '--version'], env);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /node/);
  });

  test('the owner killed mid-run: said as the Node CLI says it (125)', async () => {
    const own = tempDir('moat-native-kill-');
    try {
      for (const node of [false, true]) {
        const started = await moat(own.path, ['daemon', 'start']);
        assert.equal(started.code, 0, started.stderr);
        const pid = (JSON.parse(readFileSync(join(own.path, 'owner.lock'), 'utf8')) as { pid: number }).pid;
        let child!: ChildProcess;
        const done = run(own.path, ['-c', 'import time\nprint("started", flush=True)\ntime.sleep(30)'], {
          node,
          onSpawn: (c) => (child = c),
        });
        await waitForOutput(child, 'started');
        process.kill(pid, 'SIGKILL');
        const r = await done;
        assert.equal(r.code, 125, `${node ? 'node' : 'native'}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^moat: the Moat daemon \\(pid ${pid}\\) went away during run r\\S+; see \`moat history\`\\n$`));
        await moat(own.path, ['reap']); // the killed daemon's sandboxes
      }
    } finally {
      own.cleanup();
    }
  });
});
