import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunStore } from '../main/store/runs';
import { runRecord, storeDir } from './helpers/records';

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

test('the data dir, its folders and files are made owner-only at every start, not only when created', () => {
  const dir = storeDir();
  const outside = storeDir();
  try {
    const first = new RunStore(dir.path);
    first.put(runRecord('r1', 1, { code: 'print(1)' }));
    first.saveOutput('r1', [{ stream: 'stdout', data: '1' }]);
    first.close();
    // Loosened after creation: restored from a backup, copied without -p, a chmod -R.
    writeFileSync(join(dir.path, 'settings.json'), '{}', { mode: 0o644 });
    writeFileSync(join(dir.path, 'audit.jsonl'), '', { mode: 0o644 });
    writeFileSync(join(dir.path, 'moat.log'), '', { mode: 0o666 });
    mkdirSync(join(dir.path, 'electron'), { mode: 0o755 });
    const target = join(outside.path, 'elsewhere');
    writeFileSync(target, '', { mode: 0o644 });
    symlinkSync(target, join(dir.path, 'link'));
    const loose = [
      [dir.path, 0o755],
      [join(dir.path, 'runs.jsonl'), 0o644],
      [join(dir.path, 'output'), 0o755],
      [join(dir.path, 'output', 'r1.json'), 0o644],
      [join(dir.path, 'inputs'), 0o775],
      [join(dir.path, 'inputs', 'r1.json'), 0o664],
      [join(dir.path, 'electron'), 0o755],
    ] as const;
    for (const [p, m] of loose) chmodSync(p, m);

    new RunStore(dir.path).close();

    for (const p of [dir.path, join(dir.path, 'output'), join(dir.path, 'inputs'), join(dir.path, 'electron')])
      assert.equal(mode(p), '700', p);
    for (const f of ['settings.json', 'audit.jsonl', 'moat.log', 'runs.jsonl', 'output/r1.json', 'inputs/r1.json']) {
      assert.equal(mode(join(dir.path, f)), '600', f);
    }
    assert.equal(mode(target), '644', 'a symlink is not followed out of the data dir');
  } finally {
    dir.cleanup();
    outside.cleanup();
  }
});
