import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileLock } from '../main/store/lock';
import { RunStore } from '../main/store/runs';
import { runRecord, storeDir } from './helpers/records';

function child(args: string[]): { exited: Promise<number | null>; pid: number; stdout: NodeJS.ReadableStream } {
  const p = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/store-racer.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { exited: new Promise((r) => p.once('exit', (code) => r(code))), pid: p.pid!, stdout: p.stdout };
}

test('CLI writers racing a compacting host lose no record', async () => {
  const dir = storeDir();
  try {
    const host = new RunStore(dir.path, { compactAfterLines: 50 });
    const writers = ['a', 'b', 'c'].map((prefix) => ({ prefix, ...child(['append', dir.path, prefix, '300']) }));
    let running = writers.length;
    for (const w of writers) void w.exited.then(() => running--);
    let compactions = 0;
    for (let i = 0; running > 0; i++) {
      // The host records runs of its own and compacts as often as it can while the CLIs append.
      host.put(runRecord(`host${i}`, Date.now()));
      host.compact();
      compactions++;
      await new Promise((r) => setTimeout(r, 1));
    }
    for (const w of writers) assert.equal(await w.exited, 0, `writer ${w.prefix} exited cleanly`);
    assert.ok(compactions > 20, `the host compacted while they wrote (${compactions} times)`);

    for (const store of [host, new RunStore(dir.path)]) {
      const runs = new Map(store.list({ limit: 1_000_000 }).map((r) => [r.id, r]));
      const expected = [
        ...writers.flatMap((w) => Array.from({ length: 300 }, (_, i) => `${w.prefix}${i}`)),
        ...Array.from({ length: compactions }, (_, i) => `host${i}`),
      ];
      assert.deepEqual(
        expected.filter((id) => runs.get(id)?.status !== 'finished'),
        [],
        'every run is in the history with its last state',
      );
      assert.equal(store.get('b299')?.code, 'print(299)');
      store.close();
    }
    assert.ok(!existsSync(join(dir.path, 'runs.jsonl.lock')), 'no lock left behind');
  } finally {
    dir.cleanup();
  }
});

test('a lock left by a writer killed with -9 does not block the next one', async () => {
  const dir = storeDir();
  try {
    const holder = child(['hold-lock', dir.path]);
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      assert.ok(existsSync(join(dir.path, 'runs.jsonl.lock')), 'the child holds the lock');
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      await holder.exited;
    }
    const store = new RunStore(dir.path);
    const t0 = Date.now();
    store.put(runRecord('after', 1));
    store.compact();
    assert.ok(Date.now() - t0 < 2000, `the dead holder's lock was taken over at once (${Date.now() - t0} ms)`);
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['after'],
    );
    store.close();
    assert.ok(!existsSync(join(dir.path, 'runs.jsonl.lock')));
  } finally {
    dir.cleanup();
  }
});

test('a lock held by a live process is waited for, then refused with a clear error', async () => {
  const dir = storeDir();
  const holder = child(['hold-lock', dir.path]);
  try {
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const t0 = Date.now();
    assert.throws(
      () => new FileLock(join(dir.path, 'runs.jsonl.lock'), 300).withLock(() => assert.fail('not while held')),
      /has been held by .*:\d+:/,
    );
    assert.ok(Date.now() - t0 >= 300, 'it waited for the holder');
  } finally {
    process.kill(holder.pid, 'SIGKILL');
    await holder.exited;
    dir.cleanup();
  }
});
