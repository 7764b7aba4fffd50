import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapArgv, newExitNonce, printfFormat, programScript, shQuote } from '../main/sandbox/bootstrap';
import { findTemplate } from '../main/sandbox/templates';

test('shQuote survives quotes, spaces, newlines and $ through a real sh', () => {
  const words = ["it's", 'a b', '$HOME', 'line\nbreak', '', '`id`', "'"];
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shQuote).join(' ')}`]);
  assert.deepEqual(out.toString().split('\0').slice(0, -1), words);
});

test('printfFormat reproduces every byte value through the real sh printf builtin', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const tricky = Buffer.from("%s %d \\ ' \\0 \\101 %% 7\n", 'utf8');
  for (const bytes of [all, tricky, Buffer.concat([Buffer.from([0o101]), Buffer.from('123')])]) {
    const out = execFileSync('sh', ['-c', `printf '${printfFormat(bytes)}'`]);
    assert.deepEqual(out, bytes);
  }
});

test('the program script writes the code byte for byte, runs the program and reports its exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-boot-'));
  try {
    const code = "print('MOAT_EOF')\n\r\n\u00e9 100% \\n no trailing newline" + 'x'.repeat(70_000);
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

test('the bootstrap prepares the interpreter, then runs the script it reads from stdin', () => {
  const template = { ...findTemplate('shell')!, prepare: ['export GREETING=prepared'], warmup: 'echo warming >&2' };
  const cold = bootstrapArgv(template, { warm: false });
  const out = execFileSync(cold[0]!, cold.slice(1), { input: 'echo "$GREETING"\nexec echo second\n' }).toString();
  assert.equal(out, 'prepared\nsecond\n');
  assert.doesNotMatch(cold.join(' '), /warming/, 'cold sandboxes skip the warm-up');
  assert.match(bootstrapArgv(template, { warm: true }).join(' '), /warming/);
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
