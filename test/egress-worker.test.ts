// The egress filter scanning in the scan worker (main/egress/filter-worker.ts, scan-worker.ts):
// what it releases is what the synchronous RunFilter releases for the same pushes, whatever the
// chunking; releases keep their order; a source that honours the pressure signal keeps memory
// bounded; the stop and block policies; and a worker that dies fails its runs closed, the next run
// getting a fresh worker. Needs no engine.
//   node --import tsx --test test/egress-worker.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { HIGH_WATER, ScanChannel, WorkerRunFilter, type WorkerRunFilterOptions } from '../main/egress/filter-worker';
import { RunFilter } from '../main/egress/run-filter';
import { startScanWorker } from '../main/egress/scan-worker-source';
import type { Finding } from '../main/egress/stream';
import type { StreamName } from '../shared/types';

// Not AWS's documented example key, which the rules may treat as a placeholder.
const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';
const REDACTED = '[REDACTED:aws-access-key-id]';

const channel = new ScanChannel();
after(() => void channel.current?.terminate());

interface Scan {
  filter: WorkerRunFilter;
  out: { stream: StreamName; data: Buffer }[];
  findings: Finding[];
  stops: string[];
  ended: Promise<void>;
}

function open(o: Partial<WorkerRunFilterOptions> = {}, ch = channel): Omit<Scan, 'ended'> {
  const findings: Finding[] = [];
  const filter = new WorkerRunFilter(
    { policy: 'redact', secrets: [], suppressed: new Set(), capBytes: 64 << 20, onFinding: (f) => findings.push(f), ...o },
    ch,
  );
  const out: { stream: StreamName; data: Buffer }[] = [];
  const stops: string[] = [];
  filter.onRelease((stream, data) => out.push({ stream, data: Buffer.from(data) }));
  filter.onStop((why) => stops.push(why));
  return { filter, out, findings, stops };
}

const joined = (out: { stream: StreamName; data: Buffer }[], stream: StreamName = 'stdout'): string =>
  Buffer.concat(out.filter((r) => r.stream === stream).map((r) => r.data)).toString();

/** The synchronous filter's output for the same pushes. */
function syncOut(
  pushes: { stream: StreamName; data: Buffer }[],
  o: Partial<WorkerRunFilterOptions> = {},
): { stream: StreamName; data: Buffer }[] {
  const f = new RunFilter({ policy: 'redact', secrets: [], suppressed: new Set(), capBytes: 64 << 20, onFinding: () => {}, ...o });
  const out = pushes.flatMap((p) => f.push(p.stream, p.data));
  return [...out, ...f.flush()].map((r) => ({ stream: r.stream, data: Buffer.from(r.data) }));
}

test('a key split across two pushes at every position: found, redacted, the same output as the synchronous filter', async () => {
  const text = Buffer.from(`before ${KEY} after\n`);
  const runs = [];
  for (let cut = 0; cut <= text.length; cut++) {
    const s = open();
    s.filter.push('stdout', text.subarray(0, cut));
    s.filter.push('stdout', text.subarray(cut));
    runs.push({ s, cut, ended: s.filter.end() });
  }
  for (const { s, cut, ended } of runs) {
    await ended;
    assert.equal(joined(s.out), `before ${REDACTED} after\n`, `cut at ${cut}`);
    assert.equal(s.findings.length, 1, `cut at ${cut}`);
    assert.equal(s.filter.findings, 1);
    assert.equal(s.filter.critical, 1);
    assert.equal(s.filter.firstCritical?.rule, 'aws-access-key-id');
    // What crosses from the worker is where the key was and a masked preview, never the key.
    assert.ok(!JSON.stringify(s.findings).includes(KEY));
    assert.ok(!JSON.stringify(s.filter.firstCritical).includes(KEY));
  }
  // Positive control: clean text passes unchanged.
  const c = open();
  c.filter.push('stdout', Buffer.from('nothing to see here\n'));
  await c.filter.end();
  assert.equal(joined(c.out), 'nothing to see here\n');
  assert.equal(c.filter.findings, 0);
});

test('random chunkings of two streams with keys: the same bytes per stream as the synchronous filter, releases in order', async () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 5; round++) {
    const pushes: { stream: StreamName; data: Buffer }[] = [];
    for (let i = 0; i < 3000; i++) {
      const stream: StreamName = rnd(3) === 0 ? 'stderr' : 'stdout';
      const line = rnd(40) === 0 ? `line ${i} key=${KEY}\n` : `line ${i} ${'x'.repeat(rnd(200))}\n`;
      const b = Buffer.from(line);
      const cut = rnd(b.length + 1);
      pushes.push({ stream, data: b.subarray(0, cut) }, { stream, data: b.subarray(cut) });
    }
    const s = open();
    for (const p of pushes) s.filter.push(p.stream, p.data);
    await s.filter.end();
    const want = syncOut(pushes);
    for (const stream of ['stdout', 'stderr'] as const) {
      assert.equal(joined(s.out, stream), joined(want, stream), `round ${round} ${stream}`);
      assert.ok(!joined(s.out, stream).includes(KEY));
      // Each stream's lines come out in the order they were pushed.
      const nums = [...joined(s.out, stream).matchAll(/^line (\d+)/gm)].map((m) => Number(m[1]));
      assert.deepEqual(
        nums,
        [...nums].sort((a, b) => a - b),
      );
    }
    assert.ok(s.findings.length > 0);
  }
});

test('the labelled corpus, 8 MB in pushes of mixed sizes: the same bytes and findings as the synchronous filter', async () => {
  const lines = readFileSync(path.join(import.meta.dirname, 'fixtures', 'egress', 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const parts: string[] = [];
  for (let n = 0, i = 0; n < 8 << 20; i++) {
    parts.push(lines[i % lines.length]!);
    n += lines[i % lines.length]!.length + 1;
  }
  const all = Buffer.from(parts.join('\n'));
  const sizes = [800, 20_000, 65_536, 3000, 150, 9];
  const pushes: { stream: StreamName; data: Buffer }[] = [];
  for (let off = 0, i = 0; off < all.length; i++) {
    const n = sizes[i % sizes.length]!;
    pushes.push({ stream: i % 7 === 3 ? 'stderr' : 'stdout', data: all.subarray(off, off + n) });
    off += n;
  }
  const secrets = ['mo4t-run-s3cret-Vq9XzL2pT7'];
  const s = open({ secrets });
  for (const p of pushes) s.filter.push(p.stream, p.data);
  await s.filter.end();
  let syncFindings = 0;
  const want = syncOut(pushes, { secrets, onFinding: () => syncFindings++ });
  for (const stream of ['stdout', 'stderr'] as const) assert.ok(joined(s.out, stream) === joined(want, stream), stream);
  assert.equal(s.filter.findings, syncFindings);
  assert.ok(syncFindings > 0);
});

test("held bytes are released by the worker's timer, before the end", async () => {
  const s = open();
  s.filter.push('stdout', Buffer.from('a prompt with no newline: '));
  const until = Date.now() + 2000;
  while (s.out.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.equal(joined(s.out), 'a prompt with no newline: ');
  await s.filter.end();
});

test('pressure: a source that pauses when asked keeps at most a few MiB in flight, and every byte comes out', async () => {
  const s = open();
  const CHUNK = 64 * 1024;
  const TOTAL = 64 * 1024 * 1024;
  const line = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n');
  const base = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += line.length) line.copy(base, i);
  let paused = false;
  let pauses = 0;
  let wake: (() => void) | null = null;
  s.filter.onPressure((p) => {
    paused = p;
    if (p) pauses++;
    else wake?.();
  });
  let released = 0;
  s.filter.onRelease((_s, d) => (released += d.length));
  let pushed = 0;
  let maxAhead = 0;
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  while (pushed < TOTAL) {
    if (paused) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    s.filter.push('stdout', base);
    pushed += CHUNK;
    maxAhead = Math.max(maxAhead, pushed - released);
    if (pushed % (4 * 1024 * 1024) === 0) {
      peak = Math.max(peak, process.memoryUsage().rss);
      // Lets the worker's answers in, as a real source's reads would.
      await new Promise((r) => setImmediate(r));
    }
  }
  await s.filter.end();
  assert.equal(released, TOTAL);
  assert.ok(pauses > 0, 'the source was asked to pause');
  assert.equal(paused, false, 'and to resume');
  // In flight: at most HIGH_WATER plus one chunk, plus what the scanner holds (a few KiB).
  assert.ok(maxAhead <= HIGH_WATER + CHUNK + 64 * 1024, `ahead by ${maxAhead}`);
  assert.ok(peak - rss0 < 64 * 1024 * 1024, `RSS grew ${Math.round((peak - rss0) / 1048576)} MB`);
});

test('stop policy: the first critical finding asks for the stop (secret-found), output is redacted', async () => {
  const s = open({ policy: 'stop' });
  s.filter.push('stdout', Buffer.from(`one ${KEY}\ntwo ${KEY}\n`));
  await s.filter.end();
  assert.deepEqual(s.stops, ['secret-found']);
  assert.equal(joined(s.out), `one ${REDACTED}\ntwo ${REDACTED}\n`);
  assert.equal(s.filter.critical, 2);
  // Positive control: clean output is not stopped.
  const c = open({ policy: 'stop' });
  c.filter.push('stdout', Buffer.from('clean\n'));
  await c.filter.end();
  assert.deepEqual(c.stops, []);
});

test('block policy: nothing is released when something was found; everything at the end when not; a flood past the cap stops', async () => {
  const s = open({ policy: 'block' });
  s.filter.push('stdout', Buffer.from('a'.repeat(10_000) + '\n'));
  s.filter.push('stderr', Buffer.from(`leak ${KEY}\n`));
  await s.filter.end();
  assert.deepEqual(s.out, []);
  assert.equal(s.filter.blocked, true);
  const c = open({ policy: 'block' });
  c.filter.push('stdout', Buffer.from('x'.repeat(10_000) + '\n'));
  c.filter.push('stderr', Buffer.from('fine\n'));
  await c.filter.end();
  assert.equal(c.filter.blocked, false);
  assert.equal(joined(c.out), 'x'.repeat(10_000) + '\n');
  assert.equal(joined(c.out, 'stderr'), 'fine\n');
  const f = open({ policy: 'block', capBytes: 1000 });
  f.filter.push('stdout', Buffer.from('y'.repeat(5000)));
  await f.filter.end();
  assert.deepEqual(f.stops, ['output-limit']);
  assert.equal(joined(f.out).length, 1001, 'held up to the cap and one byte');
});

test('a worker that dies fails its open runs closed (nothing more released, end rejects) and the next run gets a new worker', async () => {
  const ch = new ScanChannel();
  const s = open({}, ch);
  const failures: Error[] = [];
  s.filter.onFailure((e) => failures.push(e));
  const pressure: boolean[] = [];
  s.filter.onPressure((p) => pressure.push(p));
  s.filter.push('stdout', Buffer.from('first\n'));
  await new Promise((r) => setTimeout(r, 200));
  const before = s.out.length;
  const dead = ch.current!;
  await dead.terminate();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /scan worker exited/);
  s.filter.push('stdout', Buffer.from(`after ${KEY}\n`));
  await assert.rejects(s.filter.end(), /scan worker exited/);
  assert.equal(s.out.length, before, 'nothing released after the failure');
  assert.ok(!joined(s.out).includes(KEY));
  // The next run: a new worker, scanning as before.
  const n = open({}, ch);
  assert.notEqual(ch.current, dead);
  n.filter.push('stdout', Buffer.from(`again ${KEY}\n`));
  await n.filter.end();
  assert.equal(joined(n.out), `again ${REDACTED}\n`);
  await ch.current?.terminate();
});

test('a worker that fails to start fails the run closed too', async () => {
  const ch = new ScanChannel();
  const s = open({}, ch);
  while (!ch.current) await new Promise((r) => setTimeout(r, 5));
  // As if its code threw while loading: the worker reports an error and exits.
  ch.current!.emit('error', new Error('boom at load'));
  await assert.rejects(s.filter.end(), /boom at load/);
  assert.equal(ch.current, null);
});

test('a worker that stops answering (a scan that never returns) is failed closed after the stall limit, and the next run gets a new worker', async () => {
  let started = 0;
  // The first worker takes its messages and never answers, as a scan stuck in a regex would.
  const ch = new ScanChannel({
    stallMs: 300,
    start: async (options) => {
      started++;
      if (started > 1) return startScanWorker(options);
      return new Worker("require('node:worker_threads').parentPort.on('message', () => { for (;;) {} })", { ...options, eval: true });
    },
  });
  const s = open({}, ch);
  const failures: Error[] = [];
  s.filter.onFailure((e) => failures.push(e));
  // A run that is open but has sent nothing yet owes nothing: no failure however long it waits.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(failures.length, 0, 'an idle run is not a stalled worker');
  s.filter.push('stdout', Buffer.from(`stuck ${KEY}\n`));
  await assert.rejects(s.filter.end(), /stopped answering/);
  assert.equal(failures.length, 1);
  assert.ok(!joined(s.out).includes(KEY), 'nothing unscanned released');
  const n = open({}, ch);
  n.filter.push('stdout', Buffer.from(`again ${KEY}\n`));
  await n.filter.end();
  assert.equal(joined(n.out), `again ${REDACTED}\n`);
  assert.equal(started, 2);
  await ch.current?.terminate();
});
