// The scan worker: a worker thread that hosts one RunFilter per filtered run and answers the
// owner's main thread (filter-worker.ts), so scanning a run's output runs on another core in
// parallel with reading it. Held bytes are released by this thread's own timer (the scanner's
// hold time), not the main thread's. Messages: scan-protocol.ts.
import { parentPort } from 'node:worker_threads';
import { RunFilter } from './run-filter';
import { pack, unpack, type Output, type StopWhy, type ToWorker } from './scan-protocol';
import type { Finding, Released } from './stream';

interface Run {
  filter: RunFilter;
  timer: NodeJS.Timeout | null;
  findings: Finding[];
  stop: StopWhy | undefined;
}

const port = parentPort;
if (!port) throw new Error('scan-worker.ts runs only as a worker thread');
const runs = new Map<number, Run>();

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'open': {
      const run: Run = { filter: null!, timer: null, findings: [], stop: undefined };
      run.filter = new RunFilter({
        policy: m.policy,
        secrets: m.secrets,
        suppressed: new Set(m.suppressed),
        capBytes: m.capBytes,
        onFinding: (f) => run.findings.push(f),
      });
      run.filter.onStop((why) => (run.stop ??= why));
      runs.set(m.id, run);
      return;
    }
    case 'push': {
      const run = runs.get(m.id);
      if (!run) return;
      const released: Released[] = [];
      let scanned = 0;
      // Pushed as they came: the scanner's findings can depend on where pushes end, so chunks are
      // not merged here (measured: merging valid UTF-8 neighbours lost one entropy finding in 20 MB).
      for (const c of unpack(m.streams, m.lens, m.buf)) {
        scanned += c.data.length;
        for (const r of run.filter.push(c.stream, c.data)) released.push(r);
      }
      post('out', m.id, run, released, scanned);
      arm(m.id, run);
      return;
    }
    case 'end': {
      const run = runs.get(m.id);
      if (!run) return;
      if (run.timer) clearTimeout(run.timer);
      runs.delete(m.id);
      post('ended', m.id, run, run.filter.flush(), 0);
      return;
    }
  }
});

function post(t: 'out' | 'ended', id: number, run: Run, released: Released[], scanned: number): void {
  const { filter } = run;
  const msg: Output & { t: 'out' | 'ended' } = {
    t,
    id,
    scanned,
    counters: { findings: filter.findings, critical: filter.critical, blocked: filter.blocked, firstCritical: filter.firstCritical },
  };
  if (run.findings.length > 0) {
    msg.findings = run.findings;
    run.findings = [];
  }
  if (run.stop) {
    msg.stop = run.stop;
    run.stop = undefined;
  }
  // Released chunks are views of the scanner's reused buffers: copied once, into the buffer that moves.
  let transfer: ArrayBuffer[] = [];
  if (released.length > 0) {
    const p = pack(released);
    Object.assign(msg, p);
    transfer = [p.buf];
  }
  if (t === 'out' && released.length === 0 && !msg.findings && !msg.stop && scanned === 0) return;
  port!.postMessage(msg, transfer);
}

/** The run's timed release: held bytes go out at most the scanner's hold time after they came. */
function arm(id: number, run: Run): void {
  if (run.timer !== null) return;
  const due = run.filter.nextDueAt();
  if (due === null) return;
  run.timer = setTimeout(
    () => {
      run.timer = null;
      if (runs.get(id) !== run) return;
      post('out', id, run, run.filter.flushDue(), 0);
      arm(id, run);
    },
    Math.max(0, due - Date.now()),
  );
}
