// durable.ts: files and logs written with sync 'background' are complete and readable at once
// (a killed process loses nothing), and their fsyncs run in the thread pool, never as fsyncSync
// on the main thread; the default still fsyncs before returning.
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AppendLog, backgroundSyncsDone, writeFileAtomic } from '../main/store/durable';
import { tempDir } from './helpers/engine';

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
const dir = tempDir('moat-durable-');
after(() => dir.cleanup());

/** Counts fsync (thread pool) and fsyncSync (main thread) calls while `fn` runs and its syncs finish. */
async function countSyncs(fn: () => void): Promise<{ pool: number; main: number }> {
  const counts = { pool: 0, main: 0 };
  const { fsync, fsyncSync } = fs;
  fs.fsync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    counts.pool++;
    fsync(fd, cb);
  }) as typeof fs.fsync;
  fs.fsyncSync = ((fd: number) => {
    counts.main++;
    fsyncSync(fd);
  }) as typeof fs.fsyncSync;
  syncBuiltinESMExports();
  try {
    fn();
    await backgroundSyncsDone();
  } finally {
    fs.fsync = fsync;
    fs.fsyncSync = fsyncSync;
    syncBuiltinESMExports();
  }
  return counts;
}

test("sync 'background': written at once, flushed in the thread pool", async () => {
  const file = join(dir.path, 'out', 'r1.json');
  const logPath = join(dir.path, 'runs.jsonl');
  const log = new AppendLog(logPath, { sync: 'background' });
  const reader = new AppendLog(logPath);
  const counts = await countSyncs(() => {
    writeFileAtomic(file, '{"output":[1]}', 0o600, { sync: 'background' });
    // Readable before any fsync has finished: another process sees it at once.
    assert.equal(readFileSync(file, 'utf8'), '{"output":[1]}');
    for (let i = 0; i < 20; i++) log.append({ i });
    assert.deepEqual(
      reader.readNew().values.map((v) => (v as { i: number }).i),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
  assert.equal(counts.main, 0, 'no fsync on the main thread');
  // The file and its directory, and the log: 20 appends coalesce into a few fsyncs.
  assert.ok(counts.pool >= 3, `${counts.pool} fsyncs in the thread pool`);
  assert.ok(counts.pool < 20, `${counts.pool} fsyncs for 20 appends: not coalesced`);
  log.close();
  reader.close();
});

test('closing a log flushes what a background fsync has not covered', async () => {
  const log = new AppendLog(join(dir.path, 'close.jsonl'), { sync: 'background' });
  log.append({ a: 1 });
  const counts = await countSyncs(() => {
    log.append({ a: 2 });
    log.close();
  });
  assert.ok(counts.main >= 1, 'close fsyncs the pending lines');
});

test('the default still fsyncs before returning', async () => {
  const counts = await countSyncs(() => {
    writeFileAtomic(join(dir.path, 'settings.json'), '{}');
    const log = new AppendLog(join(dir.path, 'audit.jsonl'));
    log.append({ x: 1 });
    log.close();
  });
  assert.ok(counts.main >= 2, `${counts.main} fsyncs on the main thread`);
  assert.equal(counts.pool, 0);
});

test("a log's own appends are not handed back to its reader; other writers' are", () => {
  const path = join(dir.path, 'own.jsonl');
  const mine = new AppendLog(path);
  const other = new AppendLog(path);
  assert.equal(mine.append({ n: 1 }), false, 'the first append opens the writer (and starts a fresh line): read back');
  assert.deepEqual(mine.readNew().values, [{ n: 1 }]);
  assert.equal(mine.append({ n: 2 }), true, 'the reader was at the end: moved past our line');
  assert.deepEqual(mine.readNew().values, [], 'not parsed again');
  other.append({ n: 3 });
  assert.equal(mine.append({ n: 4 }), false, "another writer's line is still unread: ours is read back with it");
  assert.deepEqual(mine.readNew().values, [{ n: 3 }, { n: 4 }]);
  assert.deepEqual(new AppendLog(path).readNew().values, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], 'every line is in the file');
  mine.close();
  other.close();
});
