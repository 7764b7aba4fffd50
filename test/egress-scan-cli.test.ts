// `moat scan`: the real CLI spawned on temp files and stdin. Needs no engine.
//   node --import tsx --test test/egress-scan-cli.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// Not AWS's documented example key, which the rules may treat as a placeholder.
const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';
const dir = mkdtempSync(join(tmpdir(), 'moat-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function moat(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'scan', ...args], {
    encoding: 'utf8',
    input: input ?? '',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const json = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('--json: one line per finding with line and column; exit 1; the key itself never printed', () => {
  const p = file('leak.log', `first line\nsecond ${KEY} here\n\n   ${KEY}\n`);
  const r = moat(['--json', p]);
  assert.equal(r.status, 1, r.stderr);
  const rows = json(r.stdout);
  assert.deepEqual(
    rows.map((f) => [f.file, f.line, f.column, f.rule, f.severity]),
    [
      [p, 2, 8, 'aws-access-key-id', 'critical'],
      [p, 4, 4, 'aws-access-key-id', 'critical'],
    ],
  );
  for (const f of rows) assert.equal(typeof f.preview, 'string');
  assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
});

test('clean file: exit 0, nothing on stdout (positive control for the exit 1 above)', () => {
  const r = moat(['--json', file('clean.log', 'nothing here\njust logs\n')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
});

test('stdin: file "-", and the readable form with a summary on stderr', () => {
  const r = moat(['--json'], `a\nb ${KEY}\n`);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(
    json(r.stdout).map((f) => [f.file, f.line, f.column]),
    [['-', 2, 3]],
  );
  const t = moat([], `${KEY}\n`);
  assert.equal(t.status, 1);
  assert.match(t.stdout, /^-:1:1: critical aws-access-key-id /);
  assert.match(t.stderr, /1 finding/);
});

test('a key past the first 64 KiB, across a read boundary: line and column still right', () => {
  const filler = 'x'.repeat(99) + '\n';
  const lines = 700; // 70,000 bytes before the key
  const p = file('big.log', filler.repeat(lines) + 'k'.repeat(10) + ' ' + KEY + '\n');
  const r = moat(['--json', p]);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(
    json(r.stdout).map((f) => [f.line, f.column]),
    [[lines + 1, 12]],
  );
});

test('an unreadable file: named on stderr, the others still scanned, exit 2', () => {
  const secret = file('secret.log', `${KEY}\n`);
  const missing = join(dir, 'does-not-exist.log');
  const locked = file('locked.log', 'x\n');
  chmodSync(locked, 0o000);
  const r = moat(['--json', missing, secret, locked]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /does-not-exist\.log/);
  assert.equal(json(r.stdout).length, 1, 'the readable file was still scanned');
  assert.equal(json(r.stdout)[0]!.file, secret);
  // Root reads anything; the missing file alone still proves exit 2.
  if (process.getuid?.() !== 0) assert.match(r.stderr, /locked\.log/);
});
