import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapArgv, newExitNonce, printfFormat, programScript, shQuote } from '../main/sandbox/bootstrap';
import { findTemplate } from '../main/sandbox/templates';
import { pySiteZip } from '../main/sandbox/py-site';

test('shQuote survives quotes, spaces, newlines and $ through a real sh', () => {
  const words = ["it's", 'a b', '$HOME', 'line\nbreak', '', '`id`', "'"];
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shQuote).join(' ')}`]);
  assert.deepEqual(out.toString().split('\0').slice(0, -1), words);
});

test('printfFormat reproduces every byte value through the real sh printf builtin', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const tricky = Buffer.from("%s %d \\ ' \\0 \\101 %% 7\n", 'utf8');
  // A leading '-' must not be taken for an option of printf ("Illegal option -1").
  const dashes = [Buffer.from('-1\nprint(1)\n'), Buffer.from('--'), Buffer.from('-')];
  for (const bytes of [all, tricky, Buffer.concat([Buffer.from([0o101]), Buffer.from('123')]), ...dashes]) {
    const out = execFileSync('sh', ['-c', `printf '${printfFormat(bytes)}'`]);
    assert.deepEqual(out, bytes);
  }
});

test('the program script writes the code byte for byte, runs the program and reports its exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-boot-'));
  try {
    // Code starting with '-', and a 32 KiB slice of it starting with '-' too.
    const head = "-print('MOAT_EOF')\n\r\n\u00e9 100% \\n no trailing newline";
    const code = head + 'x'.repeat(32 * 1024 - Buffer.byteLength(head)) + '-' + 'x'.repeat(40_000);
    // `cat` as the interpreter prints the code file back; the exit status is cat's (0).
    const template = { ...findTemplate('shell')!, interpreter: ['sh', '-c', 'cat "$0"; exit 7'] };
    const nonce = newExitNonce();
    const script = programScript({ template, code }, nonce).replaceAll('/work', dir);
    const r = spawnSync('sh', ['-c', script]);
    assert.equal(r.stdout.toString('utf8'), code + nonce);
    assert.equal(r.stderr.toString('utf8'), `${nonce}007`);
    assert.equal(r.status, 7);
    assert.equal(readFileSync(join(dir, 'main.sh'), 'utf8'), code);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the reading shell is the first process; the script prepares the interpreter, then runs the program', () => {
  const template = {
    ...findTemplate('shell')!,
    prepare: ['export GREETING=prepared'],
    warmup: 'echo "warming $GREETING" >&2',
    interpreter: ['sh', '-c', 'echo "$GREETING $RUNVAR"'],
  };
  const cold = bootstrapArgv(template, { warm: false });
  assert.deepEqual(cold, ['/bin/sh', '-s'], 'no shell handing over to another: one process start');
  const dir = mkdtempSync(join(tmpdir(), 'moat-prep-'));
  try {
    const nonce = newExitNonce();
    const script = programScript({ template, code: '', env: [{ name: 'RUNVAR', value: 'run' }] }, nonce).replaceAll('/work', dir);
    const out = execFileSync(cold[0]!, cold.slice(1), { input: script, stdio: 'pipe' }).toString();
    assert.equal(out, `prepared run\n${nonce}`);
    // The run's environment comes after the preparation: a run's variable wins over the template's.
    const over = programScript({ template, code: '', env: [{ name: 'GREETING', value: 'mine' }] }, nonce).replaceAll('/work', dir);
    assert.equal(execFileSync('/bin/sh', ['-s'], { input: over, stdio: 'pipe' }).toString(), `mine \n${nonce}`);
    // A warm sandbox with a warm-up runs it prepared, before it reads the script; a cold one never.
    const warm = bootstrapArgv(template, { warm: true });
    const r = spawnSync(warm[0]!, warm.slice(1), { input: 'echo "$GREETING"\nexec echo second\n' });
    assert.equal(r.stderr.toString(), 'warming prepared\n');
    assert.equal(r.stdout.toString(), 'prepared\nsecond\n');
    assert.doesNotMatch(cold.join(' '), /warming/, 'cold sandboxes skip the warm-up');
    // A warm sandbox that skips its warm-up (no CPU to spare) is the reading shell alone too.
    const { warmup: _skipped, ...noWarmup } = template;
    assert.deepEqual(bootstrapArgv(noWarmup, { warm: true }), ['/bin/sh', '-s']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shell parses the whole script before the program starts: a cut-off script runs nothing', () => {
  // One brace group: until its closing brace has arrived the shell runs none of it. A script cut
  // short (the attach stream dropped mid-write) therefore never starts the program, and nothing of
  // the script is still waiting in the pipe while the program runs.
  const template = { ...findTemplate('shell')!, interpreter: ['sh', '-c', 'echo PROGRAM-RAN; exit 3'] };
  const dir = mkdtempSync(join(tmpdir(), 'moat-pipe-'));
  try {
    const nonce = newExitNonce();
    const script = programScript({ template, code: '#'.repeat(50_000) + '\n' }, nonce).replaceAll('/work', dir);
    writeFileSync(join(dir, 'whole'), script);
    // Positive control: the whole script runs the program and reports its exit.
    const whole = spawnSync('sh', ['-c', 'cat "$0" | sh -s', join(dir, 'whole')]);
    assert.equal(whole.stdout.toString('utf8'), `PROGRAM-RAN\n${nonce}`);
    assert.equal(whole.status, 3);
    for (const cut of [2, 10, script.length - script.indexOf('s=$?')]) {
      writeFileSync(join(dir, 'cut'), script.slice(0, script.length - cut));
      // Through a real pipe, as in a sandbox (Node's own stdio pipes are socket pairs).
      const r = spawnSync('sh', ['-c', 'cat "$0" | sh -s', join(dir, 'cut')]);
      assert.doesNotMatch(r.stdout.toString('utf8'), /PROGRAM-RAN/, `cut ${cut} bytes short`);
      assert.notEqual(r.status, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files, program arguments and the artifact trailer through a real sh', async () => {
  const { ArtifactTrailer } = await import('../main/sandbox/artifacts');
  const { ExitMarker } = await import('../main/sandbox/exit-marker');
  const dir = mkdtempSync(join(tmpdir(), 'moat-boot-'));
  try {
    const template = findTemplate('shell')!;
    const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const code =
      'printf "%s|" "$@"; cat /work/sub/b.bin > /work/copy.bin; [ -x /work/x.sh ] && echo exec; head -c 5000 /dev/zero > /work/big; exit 4';
    const nonce = newExitNonce();
    const paths = ['copy.bin', 'big', 'none'];
    const script = programScript(
      {
        template,
        code,
        args: ['a b', "it's", ''],
        files: [
          { path: 'sub/b.bin', data: bin },
          { path: 'x.sh', data: Buffer.from('#!/bin/sh\n'), executable: true },
        ],
        artifacts: { paths, capBytes: 1000 },
      },
      nonce,
    ).replaceAll('/work', dir);
    // Not PID 1 here: the script does not kill anything.
    assert.match(script, /\[ "\$\$" -eq 1 \] && kill -9 -1/);
    const r = spawnSync('sh', ['-c', script]);
    assert.equal(r.status, 4, r.stderr.toString());
    const trailer = new ArtifactTrailer(paths, 1000);
    let exit: number | null | undefined;
    const marker = new ExitMarker(nonce, (s) => (exit = s), trailer);
    let out = Buffer.alloc(0);
    // stderr first, then stdout in small pieces: the order and the cuts do not matter.
    marker.filter('stderr', r.stderr);
    for (let i = 0; i < r.stdout.length; i += 5) out = Buffer.concat([out, marker.filter('stdout', r.stdout.subarray(i, i + 5))]);
    assert.equal(out.toString(), "a b|it's||exec\n");
    assert.equal(exit, 4);
    const got = trailer.result();
    assert.deepEqual(got[0]?.data, bin);
    assert.deepEqual(
      got.map((a) => [a.path, a.status, a.size]),
      [
        ['copy.bin', 'saved', 256],
        ['big', 'too-large', 5000],
        ['none', 'missing', -1],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the artifact trailer takes only the frames it expects, in order, within the cap', async () => {
  const { ArtifactTrailer } = await import('../main/sandbox/artifacts');
  const feed = (paths: string[], cap: number, text: string): ReturnType<InstanceType<typeof ArtifactTrailer>['result']> => {
    const t = new ArtifactTrailer(paths, cap);
    t.push(Buffer.from(text));
    return t.result();
  };
  // An index out of order, a size past the cap, a data line of the wrong length: the trailer ends.
  assert.equal(feed(['a', 'b'], 100, 'A1 3 D\nYWJj\nZ\n')[1]!.status, 'incomplete');
  assert.equal(feed(['a'], 2, 'A0 3 D\nYWJj\nZ\n')[0]!.status, 'incomplete');
  assert.equal(feed(['a'], 100, 'A0 4 D\nYWJj\nZ\n')[0]!.status, 'incomplete');
  assert.equal(feed(['a'], 100, 'A0 3 D\nYWJj\nZ\n')[0]!.status, 'saved');
  // Two artifacts share the cap.
  const two = feed(['a', 'b'], 4, 'A0 3 D\nYWJj\nA1 3 D\nYWJj\nZ\n');
  assert.deepEqual(
    two.map((a) => a.status),
    ['saved', 'incomplete'],
  );
});

test("Python's sitecustomize travels as a stored zip that Python imports from its path", () => {
  // The archive is checked by Python's own zipfile and zipimport (python3 on the test machine).
  const dir = mkdtempSync(join(tmpdir(), 'moat-pysite-'));
  try {
    const zip = join(dir, 'site.zip');
    writeFileSync(zip, pySiteZip());
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), z.namelist()); import sitecustomize; print(sitecustomize.__file__.endswith("site.zip/sitecustomize.py"), sys.stdout.line_buffering)',
        zip,
      ],
      {
        env: { ...process.env, PYTHONPATH: zip },
      },
    ).toString();
    assert.equal(out, "None ['sitecustomize.py']\nTrue True\n");
    // The template writes it with printf alone: its prepare lines start no process.
    const prepare = findTemplate('python')!.prepare!.join('\n');
    assert.doesNotMatch(prepare, /mkdir|cat |cp /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
