import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RunStore } from '../main/store/runs';
import { DEFAULT_RETENTION } from '../shared/types';
import { runRecord, storeDir } from './helpers/records';

/** Every file under dir, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

test('a run that is not kept records only its summary: no code, stdin, arguments, output or samples', () => {
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    const base = { keep: false, code: 'SECRET_CODE', stdin: 'SECRET_STDIN', argv: ['python3', '/work/main.py'] };
    s.put(runRecord('k', 1, { ...base, status: 'queued', endReason: undefined, exitCode: null }));
    s.put(runRecord('k', 1, { ...base, status: 'running', endReason: undefined, exitCode: null }));
    const sample = { runId: 'k', t: 1, cpuPercent: 1, memoryBytes: 1, memoryLimitBytes: 2, pids: 3 };
    s.saveOutput('k', [{ stream: 'stdout', data: 'SECRET_OUTPUT' }], [sample]);
    s.put(runRecord('k', 1, { ...base, exitCode: 3, stdoutBytes: 14 }));
    // A command run: its arguments are its code.
    s.put(runRecord('cmd', 2, { keep: false, argv: ['sh', '-c', 'echo SECRET_ARG'] }));
    s.put(runRecord('kept', 3, { code: 'KEPT_CODE' }));

    const disk = allText(dir.path);
    for (const secret of ['SECRET_CODE', 'SECRET_STDIN', 'SECRET_OUTPUT', 'SECRET_ARG'])
      assert.ok(!disk.includes(secret), `${secret} is not on disk`);
    const inMemory = JSON.stringify([...(s as unknown as { byId: Map<string, unknown> }).byId.values()]);
    assert.ok(inMemory.includes('"k"') && !inMemory.includes('SECRET'), 'nor in memory');
    assert.ok(disk.includes('KEPT_CODE'), 'a kept run still has its code');

    for (const store of [s, new RunStore(dir.path)]) {
      const k = store.get('k');
      assert.equal(k?.keep, false);
      assert.equal(k?.code, undefined);
      assert.equal(k?.stdin, undefined);
      assert.deepEqual(k?.argv, ['python3'], 'the program name stays, its arguments go');
      assert.equal(k?.exitCode, 3, 'the summary is kept');
      assert.equal(k?.stdoutBytes, 14);
      assert.deepEqual(store.readOutput('k'), { output: [], stats: [] });
      assert.deepEqual(store.get('cmd')?.argv, ['sh']);
      assert.equal(store.get('kept')?.code, 'KEPT_CODE');
      assert.deepEqual(
        store.list().map((r) => r.id),
        ['kept', 'cmd', 'k'],
      );
      store.close();
    }
  } finally {
    dir.cleanup();
  }
});

test("the store does not hold runs' code and stdin in memory", () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 40; i++) {
      const big = `${i}`.padEnd(1024 * 1024, 'x');
      s.put(runRecord(`r${i}`, i, { code: big, stdin: big }));
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 16 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB with 40 runs of 1 MiB code and stdin`);
    assert.equal(s.get('r7')?.code?.slice(0, 3), '7xx', 'yet get() reads it back');
    s.close();
  } finally {
    dir.cleanup();
  }
});

test('history written by an older Moat, with code and stdin in the log, still reads and is moved out of the log', () => {
  const dir = storeDir();
  try {
    const t = Date.now();
    // As it wrote them: code and stdin inline in a run's first line.
    const old = [
      runRecord('old', t, { status: 'running', endReason: undefined, exitCode: null, code: 'OLD_CODE', stdin: 'OLD_IN' }),
      runRecord('old', t),
    ];
    writeFileSync(join(dir.path, 'runs.jsonl'), old.map((r) => JSON.stringify(r) + '\n').join(''));
    const s = new RunStore(dir.path);
    assert.equal(s.get('old')?.code, 'OLD_CODE');
    assert.equal(s.get('old')?.stdin, 'OLD_IN');
    assert.equal(s.get('old')?.status, 'finished');
    assert.equal(s.list()[0]?.code, undefined);
    s.prune(DEFAULT_RETENTION);
    s.close();
    assert.ok(!readFileSync(join(dir.path, 'runs.jsonl'), 'utf8').includes('OLD_CODE'), 'compacted out of the log');
    assert.equal(new RunStore(dir.path).get('old')?.code, 'OLD_CODE', 'still there after');
  } finally {
    dir.cleanup();
  }
});
