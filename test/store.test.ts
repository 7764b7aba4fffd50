import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunStore } from '../main/store/runs';
import { SettingsStore } from '../main/store/settings';
import { DEFAULT_SETTINGS } from '../shared/types';
import { runRecord, storeDir } from './helpers/records';

const record = (id: string, createdAt: number) => runRecord(id, createdAt);

test('settings survive a restart; a corrupt file keeps its valid fields and is set aside', () => {
  const dir = storeDir();
  try {
    new SettingsStore(dir.path).update({ warmPoolSize: 3 });
    assert.equal(new SettingsStore(dir.path).get().warmPoolSize, 3);
    writeFileSync(join(dir.path, 'settings.json'), '{"warmPoolSize": 2, "defaultLimits": {"timeoutMs": -5, "memoryMb": 1024}}');
    const s = new SettingsStore(dir.path).get();
    assert.equal(s.warmPoolSize, 2);
    assert.equal(s.defaultLimits.memoryMb, 1024, 'valid field kept');
    assert.equal(s.defaultLimits.timeoutMs, DEFAULT_SETTINGS.defaultLimits.timeoutMs, 'invalid field defaulted');
    writeFileSync(join(dir.path, 'settings.json'), '{not json');
    assert.deepEqual(new SettingsStore(dir.path).get(), DEFAULT_SETTINGS);
    assert.ok(
      readdirSync(dir.path).some((f) => f.startsWith('settings.json.corrupt-')),
      'corrupt file kept aside',
    );
  } finally {
    dir.cleanup();
  }
});

test('run history: newest first, output round trip, a torn last line is ignored', () => {
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    s.put(record('a', 1));
    s.put(record('b', 2));
    s.saveOutput('b', [{ stream: 'stderr', data: 'boom' }]);
    s.close();
    appendFileSync(join(dir.path, 'runs.jsonl'), '{"id":"c","templ');
    const again = new RunStore(dir.path);
    assert.deepEqual(
      again.list().map((r) => r.id),
      ['b', 'a'],
    );
    assert.deepEqual(again.readOutput('b').output, [{ stream: 'stderr', data: 'boom' }]);
    assert.throws(() => again.readOutput('../../etc/passwd'), /bad run id/);
    again.put(record('d', 3));
    again.close();
    assert.deepEqual(
      new RunStore(dir.path).list().map((r) => r.id),
      ['d', 'b', 'a'],
      'appends after a torn line still parse',
    );
  } finally {
    dir.cleanup();
  }
});

test('kill -9 at random moments always leaves readable, consistent state', async () => {
  const dir = storeDir();
  try {
    let lastCount = 0;
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/store-writer.ts', dir.path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 250));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      const runs = new RunStore(dir.path);
      const list = runs.list({ limit: 1_000_000 });
      // Every record written before the kill is there, as a contiguous prefix of the sequence.
      const ids = list.map((r) => r.id).sort();
      ids.forEach((id, i) => assert.equal(id, `r${String(i).padStart(8, '0')}`));
      assert.ok(list.length >= lastCount, 'nothing written before was lost');
      for (const r of list)
        if (r.status === 'finished') assert.equal(runs.readOutput(r.id).output[0]?.data.length, Number(r.id.slice(1)) % 5000);
      runs.close();
      new SettingsStore(dir.path).get();
      lastCount = list.length;
    }
    assert.ok(lastCount > 0, 'the writer got to write something');
  } finally {
    dir.cleanup();
  }
});

test('code and stdin are stored once per run in its own file, not in the log, and left out of list()', () => {
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    const code = 'print("x")\n'.repeat(1000);
    s.put(runRecord('c', 1, { status: 'queued', endReason: undefined, exitCode: null, code, stdin: 'in' }));
    s.put(runRecord('c', 1, { status: 'running', endReason: undefined, exitCode: null, code, stdin: 'in' }));
    s.put(runRecord('c', 1, { code, stdin: 'in' }));
    s.close();
    assert.ok(!readFileSync(join(dir.path, 'runs.jsonl'), 'utf8').includes('print('), 'the code is not in the log');
    const inputs = readFileSync(join(dir.path, 'inputs', 'c.json'), 'utf8');
    assert.equal(inputs.split('print(\\"x\\")').length - 1, 1000, 'the code is in its inputs file once');
    const again = new RunStore(dir.path);
    assert.equal(again.get('c')?.code, code);
    assert.equal(again.get('c')?.stdin, 'in');
    assert.equal(again.get('c')?.status, 'finished');
    assert.equal(again.list()[0]?.code, undefined);
    again.close();
  } finally {
    dir.cleanup();
  }
});

test("two Moat processes share the history: each sees the other's runs, across a compaction", () => {
  const dir = storeDir();
  try {
    const a = new RunStore(dir.path);
    const b = new RunStore(dir.path);
    a.put(record('from-a', 1));
    assert.deepEqual(
      b.list().map((r) => r.id),
      ['from-a'],
    );
    b.put(record('from-b', 2));
    assert.deepEqual(
      a.list().map((r) => r.id),
      ['from-b', 'from-a'],
    );
    // A compaction by one replaces the file; the other follows it for reading and appending.
    (a as unknown as { compact(): void }).compact();
    b.put(record('after-compaction', 3));
    assert.deepEqual(
      a.list().map((r) => r.id),
      ['after-compaction', 'from-b', 'from-a'],
    );
    a.close();
    b.close();
    assert.deepEqual(
      new RunStore(dir.path).list().map((r) => r.id),
      ['after-compaction', 'from-b', 'from-a'],
    );
  } finally {
    dir.cleanup();
  }
});
