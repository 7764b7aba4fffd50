// `moat batch`: results carry their ids (each once in the output file), a failing and a timing-out
// run and an invalid line in the middle are reported while the rest pass, --concurrency bounds the
// runs at once (from the run records' start and end), and --resume after Ctrl-C runs no id twice;
// in process and through a daemon; through a daemon the batch is the daemon's (its batch.list has it
// with its name and counts, cancelled by Ctrl-C). The runner core's own checks, the API's
// batch.results (waiting, from an index, `{id, invalid}` items, cancelled when nobody follows it) and
// the CLI's chunking need no engine.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BatchResult } from '../shared/batch';
import type { RunRecord } from '../shared/types';
import { Batch, BatchService, parseLines, type RunOne } from '../main/batch/batch';
import { chunkItems, wireItem } from '../app/cli/batch';
import { connectOwner } from '../app/daemon/client';
import { engineUnavailableReason, skipUnlessReady, startServices, tempDir } from './helpers/engine';
import type { BatchSummary } from '../shared/batch';

const skip = skipUnlessReady(await engineUnavailableReason(), 'batch tests');

const ROOT = join(import.meta.dirname, '..');
const MOAT = join(ROOT, 'bin', 'moat.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function moat(args: string[], dir: string, onSpawn?: (c: ChildProcess) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MOAT, ...args], {
      cwd: ROOT,
      env: { ...process.env, MOAT_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(child);
  });
}

const lines = (items: object[]): string => items.map((i) => JSON.stringify(i)).join('\n') + '\n';
const results = (text: string): BatchResult[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as BatchResult);

/** The most runs live at one moment, from their start and end times. */
function maxOverlap(rs: { startedAt?: number; endedAt?: number }[]): number {
  const ev: [number, number][] = [];
  for (const r of rs) {
    assert.ok(r.startedAt && r.endedAt, 'every run has its start and end');
    ev.push([r.startedAt, 1], [r.endedAt, -1]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let live = 0;
  let most = 0;
  for (const [, d] of ev) most = Math.max(most, (live += d));
  return most;
}

const MIXED = (tag: string): string =>
  [
    ...['p1', 'p2', 'p3'].map((id) =>
      JSON.stringify({ id: `${tag}-${id}`, template: 'python', code: `print(${JSON.stringify(`${tag}-${id}`)})` }),
    ),
    JSON.stringify({ id: `${tag}-fail`, template: 'python', code: 'import sys; print("before"); sys.exit(3)' }),
    JSON.stringify({ id: `${tag}-slow`, template: 'python', code: 'import time; time.sleep(10)', limits: { timeoutMs: 1000 } }),
    '{"id": "broken", this is not json',
    JSON.stringify({ id: `${tag}-noreq`, template: 'python' }),
    ...['p4', 'p5'].map((id) =>
      JSON.stringify({ id: `${tag}-${id}`, template: 'shell', argv: ['sh', '-c', `echo ${tag}-${id}; echo e >&2`] }),
    ),
  ].join('\n') + '\n';

function checkMixed(tag: string, r: Result, out: BatchResult[]): void {
  assert.equal(r.code, 1, `exit 1 when some failed; stderr: ${r.stderr}`);
  const ids = out.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length, 'each id once');
  assert.deepEqual(
    [...ids].sort(),
    ['line 6', ...['p1', 'p2', 'p3', 'fail', 'slow', 'noreq', 'p4', 'p5'].map((s) => `${tag}-${s}`)].sort(),
  );
  const by = new Map(out.map((x) => [x.id, x]));
  for (const p of ['p1', 'p2', 'p3', 'p4', 'p5']) {
    const x = by.get(`${tag}-${p}`)!;
    assert.equal(x.endReason, 'exited', JSON.stringify(x));
    assert.equal(x.exitCode, 0);
    assert.equal(x.stdout, `${tag}-${p}\n`);
    assert.ok(x.runId);
  }
  assert.equal(by.get(`${tag}-p4`)!.stderr, 'e\n');
  const fail = by.get(`${tag}-fail`)!;
  assert.deepEqual([fail.endReason, fail.exitCode, fail.stdout], ['exited', 3, 'before\n']);
  const slow = by.get(`${tag}-slow`)!;
  assert.equal(slow.endReason, 'timeout');
  assert.ok(slow.durationMs < 5000, `timed out near 1 s, not 10 (${slow.durationMs} ms)`);
  assert.equal(by.get('line 6')!.endReason, 'invalid');
  assert.match(by.get('line 6')!.error!, /line 6: not JSON/);
  assert.equal(by.get(`${tag}-noreq`)!.endReason, 'invalid');
  assert.match(by.get(`${tag}-noreq`)!.error!, /code or argv/);
}

const SLEEPERS = (tag: string, n: number): string =>
  lines(
    Array.from({ length: n }, (_, i) => ({
      id: `${tag}${i}`,
      template: 'python',
      code: `import time; time.sleep(1); print("${tag}${i}")`,
    })),
  );

for (const mode of ['in process', 'through a daemon'] as const) {
  describe(`moat batch ${mode}`, { skip, timeout: 600_000 }, () => {
    const dir = tempDir('moat-batch-');
    const data = join(dir.path, 'data');
    before(async () => {
      if (mode === 'through a daemon') {
        const r = await moat(['daemon', 'start'], data);
        assert.equal(r.code, 0, r.stderr);
      }
    });
    after(async () => {
      if (mode === 'through a daemon') await moat(['daemon', 'stop'], data);
      dir.cleanup();
    });

    test('a failing, a timing-out and invalid items in the middle; each id once in the output', async () => {
      const file = join(dir.path, 'mixed.jsonl');
      writeFileSync(file, MIXED('m'));
      const out = join(dir.path, 'mixed.out');
      const r = await moat(['batch', file, '--concurrency', '3', '--output', out], data);
      checkMixed('m', r, results(readFileSync(out, 'utf8')));
      assert.match(r.stderr, /9\/9 100% ok 5 fail 4/);
      if (mode !== 'through a daemon') return;
      // The daemon's own batch: in its batch.list (the Batches view) with the file's counts.
      const owner = await connectOwner(data);
      assert.ok(owner, 'the daemon answers');
      try {
        const b = (await owner.call('batch.list', {})).find((x) => x.name === 'moat batch mixed.jsonl');
        assert.ok(b, "the CLI batch is in the daemon's batch list");
        assert.deepEqual([b.status, b.total, b.done, b.passed, b.failed, b.concurrency], ['done', 9, 9, 5, 4, 3]);
        assert.deepEqual(b.failing.map((f) => f.id).sort(), ['line 6', 'm-fail', 'm-noreq', 'm-slow']);
        assert.ok(
          b.slowest.some((x) => x.id === 'm-slow'),
          'the timed-out run is among the slowest',
        );
        const d = await owner.call('batch.get', { id: b.batchId });
        assert.match(d.results.find((x) => x.id === 'line 6')!.error!, /line 6: not JSON/);
      } finally {
        owner.close();
      }
    });

    test('--concurrency 2: never more than 2 runs at once; results on stdout without --output', async () => {
      const file = join(dir.path, 'sleep.jsonl');
      writeFileSync(file, SLEEPERS('s', 6));
      const r = await moat(['batch', file, '--concurrency', '2'], data);
      assert.equal(r.code, 0, r.stderr);
      const out = results(r.stdout);
      assert.equal(out.length, 6);
      assert.ok(out.every((x) => x.endReason === 'exited' && x.exitCode === 0));
      assert.equal(maxOverlap(out), 2);
    });

    test('Ctrl-C keeps what finished (exit 130); --resume runs the rest, no id twice', async () => {
      const file = join(dir.path, 'resume.jsonl');
      writeFileSync(file, SLEEPERS('r', 8));
      const out = join(dir.path, 'resume.out');
      const first = await moat(['batch', file, '--concurrency', '2', '--output', out], data, (child) => {
        const timer = setInterval(() => {
          if (existsSync(out) && results(readFileSync(out, 'utf8')).length >= 2) {
            clearInterval(timer);
            child.kill('SIGINT');
          }
        }, 50);
        child.on('close', () => clearInterval(timer));
      });
      assert.equal(first.code, 130, first.stderr);
      const kept = results(readFileSync(out, 'utf8'));
      assert.ok(kept.length >= 2 && kept.length < 8, `kept ${kept.length}`);
      assert.ok(
        kept.every((x) => x.endReason === 'exited'),
        'cancelled runs are not written',
      );
      const second = await moat(['batch', file, '--concurrency', '2', '--output', out, '--resume'], data);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, new RegExp(`--resume: ${kept.length} item\\(s\\) already`));
      const all = results(readFileSync(out, 'utf8'));
      assert.deepEqual(all.map((x) => x.id).sort(), Array.from({ length: 8 }, (_, i) => `r${i}`).sort());
      // The history: each id ran to its end once (the runs Ctrl-C cancelled are there as cancelled).
      const h = await moat(['history', '--json', '-n', '1000'], data);
      const runs = (JSON.parse(h.stdout) as RunRecord[]).filter((x) => all.some((a) => a.runId === x.id));
      assert.equal(runs.length, 8);
      assert.ok(runs.every((x) => x.endReason === 'exited' && x.exitCode === 0));
      assert.equal(new Set(all.map((x) => x.runId)).size, 8);
      if (mode !== 'through a daemon') return;
      const owner = await connectOwner(data);
      assert.ok(owner, 'the daemon answers');
      try {
        const mine = (await owner.call('batch.list', {})).filter((x) => x.name === 'moat batch resume.jsonl');
        assert.deepEqual(mine.map((x) => x.status).sort(), ['cancelled', 'done'], 'Ctrl-C cancelled the first in the daemon too');
        assert.equal(mine.find((x) => x.status === 'done')!.total, 8 - kept.length, 'the resumed one has the rest');
      } finally {
        owner.close();
      }
    });

    test('bad usage exits 2', async () => {
      const r = await moat(['batch', join(dir.path, 'missing.jsonl')], data);
      assert.equal(r.code, 2);
      const c = await moat(['batch', '-', '--concurrency', '0'], data);
      assert.equal(c.code, 2);
      const s = await moat(['batch', '-', '--resume'], data);
      assert.equal(s.code, 2);
    });
  });
}

describe('the API: batch.start, batch.progress, batch.get, batch.list, batch.cancel', { skip, timeout: 300_000 }, () => {
  test('a batch runs to its end with progress events; a second is cancelled', async () => {
    const svc = await startServices({ pool: true });
    try {
      const progress: BatchSummary[] = [];
      const off = svc.onEvent((e, p) => e === 'batch.progress' && progress.push(p as BatchSummary));
      const items = [
        { id: 'ok', template: 'python', code: 'print("x" * 500)' },
        { id: 'bad', template: 'python', code: 'raise SystemExit(3)' },
        { id: 'nope', template: 'python' },
        { id: 'sh', template: 'shell', argv: ['true'] },
      ];
      const { batchId } = await svc.handlers['batch.start']({ items, concurrency: 2, name: 'api' });
      const deadline = Date.now() + 120_000;
      while (!progress.some((p) => p.batchId === batchId && p.status === 'done') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const d = await svc.handlers['batch.get']({ id: batchId });
      assert.equal(d.summary.status, 'done');
      assert.deepEqual([d.summary.total, d.summary.done, d.summary.passed, d.summary.failed], [4, 4, 2, 2]);
      assert.deepEqual(d.summary.failing.map((f) => f.id).sort(), ['bad', 'nope']);
      assert.equal(d.results.find((r) => r.id === 'ok')!.stdout.length, 200, 'a preview of the output');
      const list = await svc.handlers['batch.list']({});
      assert.equal(list[0]!.batchId, batchId);
      const slow = await svc.handlers['batch.start']({
        items: [1, 2, 3].map((i) => ({ id: `s${i}`, template: 'python', code: 'import time; time.sleep(30)' })),
        concurrency: 1,
      });
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(await svc.handlers['batch.cancel']({ id: slow.batchId }), { cancelled: true });
      while ((await svc.handlers['batch.get']({ id: slow.batchId })).summary.status === 'running' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const c = await svc.handlers['batch.get']({ id: slow.batchId });
      assert.equal(c.summary.status, 'cancelled');
      assert.equal(c.results.length, 0);
      assert.equal((await svc.handlers['sandbox.live']({})).length, 0);
      off();
    } finally {
      await svc.dispose();
    }
  });
});

/** Waits `ms`, or less when `signal` aborts. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      res();
    });
  });
}

describe('the batch runner (no engine)', () => {
  /** Ends after `code` ms, or when aborted. */
  const sleeper: RunOne = async (req, signal) => {
    const ms = Number(req.code);
    await sleepUnlessAborted(ms, signal);
    const rec = { id: `run-${req.code}`, endReason: 'exited', exitCode: 0, truncated: false, durationMs: ms } as unknown as RunRecord;
    return { record: rec, stdout: 'x'.repeat(500), stderr: '' };
  };

  test("a run's removal after its result: the next item starts meanwhile, the batch ends after it", async () => {
    const events: string[] = [];
    const runOne: RunOne = async (req) => {
      events.push(`start ${req.code}`);
      const rec = { id: `run-${req.code}`, endReason: 'exited', exitCode: 0, truncated: false, durationMs: 1 } as unknown as RunRecord;
      const settled = new Promise<void>((r) =>
        setTimeout(() => {
          events.push(`settled ${req.code}`);
          r();
        }, 50),
      );
      return { record: rec, stdout: '', stderr: '', settled };
    };
    const batch = new Batch({ items: ['a', 'b'].map((c) => ({ id: c, req: { template: 'python', code: c } })), concurrency: 1, runOne });
    await batch.run();
    events.push('ended');
    assert.deepEqual(events, ['start a', 'start b', 'settled a', 'settled b', 'ended']);
    assert.equal(batch.summary().status, 'done');
  });

  test('batch.results: waits for a result, pages from an index, takes {id, invalid} items; unfollowed batches are cancelled', async () => {
    const svc = new BatchService({ runOne: sleeper, emit: () => {} });
    try {
      const { batchId } = svc.start({
        items: [
          { id: 'a', template: 'python', code: '300' },
          { id: 'line 2', invalid: 'line 2: not JSON (Unexpected token)' },
          { id: 'b', template: 'python', code: '600' },
          { id: 'c', invalid: 'x', template: 'python' },
        ],
        concurrency: 1,
      });
      const t0 = Date.now();
      const first = await svc.results({ id: batchId, from: 0, waitMs: 10_000 });
      assert.ok(Date.now() - t0 >= 250, 'it waited for the first run');
      assert.equal(first.results[0]!.id, 'a');
      let from = 0;
      const seen: string[] = [];
      for (;;) {
        const page = await svc.results({ id: batchId, from, waitMs: 10_000 });
        assert.equal(page.from, from);
        seen.push(...page.results.map((r) => r.id));
        from += page.results.length;
        if (page.summary.status !== 'running' && from >= page.summary.done) break;
      }
      assert.deepEqual(seen, ['a', 'line 2', 'b', 'c'], 'each result once, in completion order');
      const done = await svc.results({ id: batchId, from: 0 });
      assert.equal(done.results.find((r) => r.id === 'line 2')!.error, 'line 2: not JSON (Unexpected token)', 'the reason as given');
      assert.match(
        done.results.find((r) => r.id === 'c')!.error!,
        /item 4: .*invalid/,
        'not the invalid form (other keys): checked as a request',
      );
      assert.equal(done.results[0]!.stdout.length, 200, 'a preview');
      assert.deepEqual([done.summary.passed, done.summary.failed], [2, 2]);
      await assert.rejects(svc.results({ id: 'nope', from: 0 }), /No batch with id nope/);

      // Nobody asks for its results: cancelled after cancelIfUnfollowedMs.
      const lost = svc.start({ items: [{ id: 'l', template: 'python', code: '20000' }], cancelIfUnfollowedMs: 1000 });
      // Followed (a call at least every 300 ms): not cancelled.
      const kept = svc.start({ items: [{ id: 'k', template: 'python', code: '2500' }], cancelIfUnfollowedMs: 1000 });
      const end = Date.now() + 2000;
      while (Date.now() < end) {
        await svc.results({ id: kept.batchId, from: 0, waitMs: 300 });
      }
      assert.equal(svc.get(lost.batchId)!.summary.status === 'running', false, 'the unfollowed batch was cancelled');
      let last = await svc.results({ id: kept.batchId, from: 0, waitMs: 10_000 });
      if (last.summary.status === 'running') last = await svc.results({ id: kept.batchId, from: 1, waitMs: 10_000 });
      assert.equal(last.summary.status, 'done', 'the followed one ran to its end');
      last = await svc.results({ id: kept.batchId, from: 0 });
      assert.equal(last.results[0]!.endReason, 'exited');
    } finally {
      svc.close();
    }
  });

  test('moat batch chunks what it sends to a daemon: by frame bytes and item count, at least one item each', () => {
    const items = parseLines(
      lines(Array.from({ length: 10 }, (_, i) => ({ id: `i${i}`, template: 'python', code: 'x'.repeat(i === 5 ? 5000 : 100) }))) + 'nope\n',
    );
    assert.deepEqual(wireItem(items[10]!), { id: 'line 11', invalid: (items[10] as { error: string }).error });
    assert.deepEqual(wireItem(items[0]!), { id: 'i0', template: 'python', code: 'x'.repeat(100) });
    const byCount = chunkItems(items, 1e9, 4);
    assert.deepEqual(
      byCount.map((c) => c.length),
      [4, 4, 3],
    );
    const byBytes = chunkItems(items, 1000, 100);
    assert.ok(
      byBytes.every((c) => c.length === 1 || c.reduce((n, it) => n + JSON.stringify(wireItem(it)).length + 1, 0) <= 1000),
      'each chunk fits unless it is one item',
    );
    assert.deepEqual(byBytes.flat(), items, 'every item once, in order');
    assert.ok(
      byBytes.some((c) => c.length === 1 && c[0]!.id === 'i5'),
      'the item larger than a chunk goes alone',
    );
  });

  test('bounded concurrency, completion order, invalid items, duplicate ids, cancel', async () => {
    let live = 0;
    let most = 0;
    const runOne: RunOne = async (req, signal) => {
      live++;
      most = Math.max(most, live);
      const ms = Number(req.code);
      await sleepUnlessAborted(ms, signal);
      live--;
      const rec = {
        id: `run-${req.code}`,
        endReason: 'exited',
        exitCode: ms === 30 ? 1 : 0,
        truncated: false,
        durationMs: ms,
      } as unknown as RunRecord;
      return { record: rec, stdout: String(ms), stderr: '' };
    };
    const text =
      [50, 10, 30, 'x', 20, 10]
        .map((c, i) => (c === 'x' ? 'nope' : JSON.stringify({ id: `i${i}`, template: 'python', code: String(c) })))
        .join('\n') + '\n{"id":"i0","template":"python","code":"1"}\n';
    const items = parseLines(text);
    const got: string[] = [];
    const b = new Batch({ items, concurrency: 2, runOne, onResult: (r) => got.push(r.id) });
    const res = await b.run();
    assert.equal(most, 2);
    assert.equal(res.length, 7);
    assert.deepEqual(new Set(got), new Set(['i0', 'i1', 'i2', 'line 4', 'i4', 'i5', 'line 7']));
    assert.equal(res.find((r) => r.id === 'line 7')!.endReason, 'invalid');
    const s = b.summary();
    assert.equal(s.status, 'done');
    assert.deepEqual([s.total, s.done, s.passed, s.failed], [7, 7, 4, 3]);
    assert.equal(s.slowest[0]!.id, 'i0');
    assert.ok(got.indexOf('i1') < got.indexOf('i0'), 'completion order');

    const slow = new Batch({
      items: parseLines(lines([1, 2, 3, 4].map((i) => ({ id: `c${i}`, template: 'python', code: '5000' })))),
      concurrency: 2,
      runOne,
    });
    const p = slow.run();
    setTimeout(() => slow.cancel(), 50);
    const r2 = await p;
    assert.equal(r2.length, 0);
    assert.equal(slow.summary().status, 'cancelled');
    assert.equal(slow.cancelledItems, 4);
  });
});
