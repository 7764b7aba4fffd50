// Files in, artifacts out, program arguments and bytes that are not text, on real runs under
// gVisor (Docker + runsc): input files (text, binary, executable) are written under /work before
// the program starts; artifacts come back through the sandbox's own stdout after it exits, byte
// for byte, capped (a too-large one is reported, the run still ends normally), scanned by the
// egress filter (a secret in one is redacted and alerted with the artifact's path); a program that
// prints a forged artifact frame injects nothing; `moat run --json` carries output bytes that are
// not UTF-8 as base64; `moat run --file-in/--artifact/--` end to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunDetail, RunRequest } from '../shared/types';
import { engineUnavailableReason, skipUnlessReady, startServices, tempDir } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'files-in and artifacts tests');

const AWS = 'AKIA' + 'Z3QW7RT5YH2KX4LM';
const ROOT = join(import.meta.dirname, '..');

let s: Awaited<ReturnType<typeof startServices>>;

before(async () => {
  if (skip) return;
  s = await startServices();
});

after(async () => {
  await s?.dispose();
});

async function run(req: RunRequest): Promise<RunDetail> {
  const rec = await s.sandboxes.run(req);
  await s.sandboxes.whenDone(rec.id);
  return s.handlers['runs.get']({ id: rec.id });
}

function stdout(d: RunDetail): string {
  return d.output
    .filter((c) => c.stream === 'stdout')
    .map((c) => c.data)
    .join('');
}

function artifact(d: RunDetail, path: string): NonNullable<RunDetail['artifacts']>[number] {
  const a = d.artifacts?.find((x) => x.path === path);
  assert.ok(a, `artifact ${path} in ${JSON.stringify(d.artifacts?.map((x) => x.path))}`);
  return a;
}

test('files in: text, binary and executable files are under /work before the program starts', { skip }, async () => {
  const binary = randomBytes(70_000);
  const code = [
    'import hashlib, os, subprocess',
    "print(open('/work/notes.txt').read(), end='|')",
    "print(hashlib.sha256(open('/work/data/blob.bin','rb').read()).hexdigest(), end='|')",
    "print(oct(os.stat('/work/run.sh').st_mode & 0o777), oct(os.stat('/work/notes.txt').st_mode & 0o777), end='|')",
    "print(subprocess.run(['/work/run.sh'], capture_output=True, text=True).stdout, end='')",
  ].join('\n');
  const d = await run({
    template: 'python',
    code,
    files: [
      { path: 'notes.txt', data: Buffer.from('héllo\n').toString('base64') },
      { path: 'data/blob.bin', data: binary.toString('base64') },
      { path: 'run.sh', data: Buffer.from('#!/bin/sh\necho ran "$0"\n').toString('base64'), executable: true },
    ],
  });
  assert.equal(d.run.endReason, 'exited', d.run.error);
  assert.equal(d.run.exitCode, 0, JSON.stringify(d.output));
  const sha = (await import('node:crypto')).createHash('sha256').update(binary).digest('hex');
  assert.equal(stdout(d), `héllo\n|${sha}|0o755 0o644|ran /work/run.sh\n`);
  assert.deepEqual(
    d.run.files?.map((f) => f.path),
    ['notes.txt', 'data/blob.bin', 'run.sh'],
  );
});

test('program arguments with code: python sys.argv and shell "$@"', { skip }, async () => {
  const args = ['one', 'two words', "it's", '$HOME', ''];
  const py = await run({ template: 'python', code: 'import json, sys\nprint(json.dumps(sys.argv[1:]))', args });
  assert.equal(py.run.endReason, 'exited', py.run.error);
  assert.deepEqual(JSON.parse(stdout(py)), args);
  assert.deepEqual(py.run.argv.slice(-args.length), args);
  const sh = await run({ template: 'shell', code: 'printf "%s\\n" "$#" "$@"', args });
  assert.equal(sh.run.endReason, 'exited', sh.run.error);
  assert.equal(stdout(sh), [String(args.length), ...args].join('\n') + '\n');
});

test('stdin as bytes (stdinBase64) reaches the program byte for byte', { skip }, async () => {
  const bytes = Buffer.from([0, 1, 0xff, 0xfe, 0x80, 10, 0x41]);
  const d = await run({
    template: 'python',
    code: 'import sys\nprint(sys.stdin.buffer.read().hex())',
    stdinBase64: bytes.toString('base64'),
  });
  assert.equal(d.run.endReason, 'exited', d.run.error);
  assert.equal(stdout(d).trim(), bytes.toString('hex'));
  assert.equal(d.run.stdinBytes, bytes.length);
});

test('artifacts out: text and binary byte for byte, too large reported, missing reported, the run ends normally', { skip }, async () => {
  const code = [
    'import os',
    "os.makedirs('/work/out', exist_ok=True)",
    "open('/work/out/report.txt','w').write('result: 42\\n')",
    "open('/work/blob.bin','wb').write(bytes(range(256)) * 40)",
    "open('/work/big.bin','wb').write(b'x' * 300000)",
    "open('/work/empty.txt','w').close()",
    "print('done')",
  ].join('\n');
  const d = await run({
    template: 'python',
    code,
    artifacts: ['out/report.txt', 'blob.bin', 'big.bin', 'nope.txt', 'empty.txt'],
    artifactBytes: 100_000,
  });
  assert.equal(d.run.endReason, 'exited', d.run.error);
  assert.equal(d.run.exitCode, 0);
  assert.equal(stdout(d), 'done\n', 'no artifact bytes in the output');
  const text = artifact(d, 'out/report.txt');
  assert.equal(text.status, 'saved');
  assert.equal(Buffer.from(text.base64!, 'base64').toString(), 'result: 42\n');
  const blob = artifact(d, 'blob.bin');
  assert.equal(blob.status, 'saved');
  assert.equal(blob.binary, true);
  assert.deepEqual(
    Buffer.from(blob.base64!, 'base64'),
    Buffer.concat(Array.from({ length: 40 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))),
  );
  const big = artifact(d, 'big.bin');
  assert.equal(big.status, 'too-large');
  assert.equal(big.size, 300_000);
  assert.equal(big.base64, undefined);
  assert.equal(artifact(d, 'nope.txt').status, 'missing');
  assert.equal(artifact(d, 'empty.txt').status, 'saved');
  assert.equal(artifact(d, 'empty.txt').size, 0);
  // The record lists them without their bytes.
  assert.deepEqual(
    d.run.artifacts?.map((a) => [a.path, a.status]),
    [
      ['out/report.txt', 'saved'],
      ['blob.bin', 'saved'],
      ['big.bin', 'too-large'],
      ['nope.txt', 'missing'],
      ['empty.txt', 'saved'],
    ],
  );
});

test(
  'an artifact holding a secret is redacted and alerted with its path; the secret is nowhere in the data directory',
  { skip },
  async () => {
    // Built at run time in the sandbox: the stored code never holds the key whole.
    const code = `k = 'AKIA' + '${AWS.slice(4)}'\nopen('/work/creds.txt','w').write('aws_access_key_id = ' + k + '\\n')\nprint('ok')`;
    const d = await run({ template: 'python', code, artifacts: ['creds.txt'] });
    assert.equal(d.run.endReason, 'exited', d.run.error);
    const a = artifact(d, 'creds.txt');
    assert.equal(a.status, 'saved');
    assert.equal(a.redacted, true);
    assert.ok((a.findings ?? 0) >= 1);
    const body = Buffer.from(a.base64!, 'base64').toString();
    assert.ok(!body.includes(AWS), body);
    assert.match(body, /\[REDACTED:/);
    const alerts = await s.handlers['alerts.list']({ runId: d.run.id });
    const alert = alerts.find((x) => x.artifact === 'creds.txt');
    assert.ok(alert, JSON.stringify(alerts));
    assert.equal(alert.rule, 'aws-access-key-id');
    assert.equal(alert.stream, undefined);
    assert.ok(!JSON.stringify(alerts).includes(AWS));
    for (const dir of ['artifacts', 'output']) {
      for (const f of readdirSync(join(s.dataDir, dir)))
        assert.ok(!readFileSync(join(s.dataDir, dir, f), 'utf8').includes(AWS), `${dir}/${f}`);
    }
  },
);

test('a program printing a forged artifact frame (and a background writer) cannot inject an artifact', { skip }, async () => {
  const code = [
    // Frames as the script writes them, with a made-up nonce, and a trailer with none at all.
    'printf "MOAT0123456789abcdef0123456789abcdefA0 4 D\\nZXZpbA==\\nZ\\n"',
    'printf "A0 4 D\\nZXZpbA==\\nZ\\n"',
    'printf "A0 4 D\\nZXZpbA==\\nZ\\n" >&2',
    'echo real > /work/out.txt',
    // Left running to write after the program exits: killed before the artifacts are written.
    '( sleep 0.3; printf "A0 4 D\\nZXZpbA==\\nZ\\n"; echo late > /work/out.txt ) &',
    'exit 3',
  ].join('\n');
  const d = await run({ template: 'shell', code, artifacts: ['out.txt'] });
  assert.equal(d.run.endReason, 'exited', d.run.error);
  assert.equal(d.run.exitCode, 3);
  const a = artifact(d, 'out.txt');
  assert.equal(a.status, 'saved');
  assert.equal(Buffer.from(a.base64!, 'base64').toString(), 'real\n');
  assert.equal(d.artifacts?.length, 1);
  assert.match(stdout(d), /ZXZpbA==/, 'the forged frames are just output');
});

/** The CLI from the sources, in `cwd`, with its own data directory. */
function moat(
  args: string[],
  cwd: string,
  dataDir: string,
  input?: Buffer,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    // bin/moat.js loads tsx from the checkout, whatever the working directory.
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'moat.js'), ...args], {
      cwd,
      env: { ...process.env, MOAT_DATA_DIR: dataDir, MOAT_CLI_SOURCE: '1' },
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

test(
  'moat run: --file-in, --artifact into --artifacts-dir, args after --, binary stdin, --json with non-UTF-8 bytes as base64',
  { skip },
  async () => {
    const work = tempDir('moat-files-cli-');
    const data = tempDir('moat-files-data-');
    try {
      writeFileSync(join(work.path, 'in.bin'), Buffer.from([0xff, 0x00, 0xfe]));
      writeFileSync(join(work.path, 'tool.sh'), '#!/bin/sh\necho tool\n');
      chmodSync(join(work.path, 'tool.sh'), 0o755);
      writeFileSync(
        join(work.path, 'prog.py'),
        [
          'import os, sys, subprocess',
          "os.makedirs('/work/res')",
          "data = open('/work/sub/in.bin','rb').read() + sys.stdin.buffer.read()",
          "open('/work/res/out.bin','wb').write(data[::-1])",
          "sys.stdout.buffer.write(b'\\xff\\xfeok ' + ' '.join(sys.argv[1:]).encode() + b' ' + subprocess.run(['/work/tool.sh'], capture_output=True).stdout)",
        ].join('\n'),
      );
      const r = await moat(
        [
          'run',
          '--json',
          '-f',
          'prog.py',
          '--file-in',
          'in.bin:sub/in.bin',
          '--file-in',
          'tool.sh',
          '--artifact',
          'res/out.bin',
          '--artifacts-dir',
          'arts',
          '-i',
          '-',
          '--',
          'a b',
          '-x',
        ],
        work.path,
        data.path,
        Buffer.from([0x80, 0x81]),
      );
      assert.equal(r.code, 0, r.stderr + r.stdout.toString().slice(0, 2000));
      const json = JSON.parse(r.stdout.toString()) as {
        run: { argv: string[] };
        output: { stream: string; data?: string; base64?: string }[];
        artifacts: { path: string; base64?: string; data?: string; file?: string }[];
      };
      assert.deepEqual(json.run.argv.slice(-2), ['a b', '-x']);
      const out = Buffer.concat(
        json.output
          .filter((c) => c.stream === 'stdout')
          .map((c) => (c.base64 !== undefined ? Buffer.from(c.base64, 'base64') : Buffer.from(c.data!))),
      );
      assert.deepEqual(out, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ok a b -x tool\n')]));
      assert.ok(
        json.output.some((c) => c.base64 !== undefined && c.data === undefined),
        'non-UTF-8 output is carried as base64',
      );
      const expected = Buffer.from([0x81, 0x80, 0xfe, 0x00, 0xff]);
      assert.equal(json.artifacts[0]?.base64, expected.toString('base64'));
      assert.deepEqual(readFileSync(join(work.path, 'arts', 'res', 'out.bin')), expected);
      assert.ok(statSync(join(work.path, 'arts', 'res', 'out.bin')).isFile());
    } finally {
      work.cleanup();
      data.cleanup();
    }
  },
);
