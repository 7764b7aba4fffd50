// A run's egress filter, scanned in the scan worker (scan-worker.ts) instead of on the owner's main
// thread: the main thread only copies each chunk once into a buffer it hands over, and writes what
// comes back. Scanning costs about as much CPU as streaming itself (README, egress filter,
// Measured): in a thread of its own it runs beside the stream where a core is free, and the main
// thread stays as responsive during a flood as without the filter.
//
// - One worker per process, started on the first filtered run and shared by all runs (a worker
//   costs tens of ms and about 15 MB; a run costs one `open` message). It never keeps the process
//   alive when no run is open (unref).
// - Backpressure: bytes pushed and not yet scanned are counted per run; above HIGH_WATER the run's
//   source is asked to pause (the runner pauses the attach stream), below LOW_WATER to resume.
// - Failure fails closed: when the worker errors or exits, every open run fails with the reason
//   (the runner ends it `failed`), nothing more is released, and the next run starts a new worker.
// The counters (findings, critical, blocked, firstCritical) are the worker's RunFilter's, as of
// the last message; after end() they are final.
import type { Worker } from 'node:worker_threads';
import type { EgressPolicy } from '../../shared/egress';
import type { StreamName } from '../../shared/types';
import { pack, unpack, type Counters, type FromWorker, type StopWhy, type ToWorker } from './scan-protocol';
import { startScanWorker } from './scan-worker-source';
import type { RunFilterOptions } from './run-filter';
import type { Finding } from './stream';

export const HIGH_WATER = 4 * 1024 * 1024;
export const LOW_WATER = 1024 * 1024;

/** The synchronous filter's options; `onEnd` is called once the last output has been scanned and released. */
export type WorkerRunFilterOptions = RunFilterOptions;

/** The filter as the runner sees it. */
export interface OutputFilter {
  readonly policy: EgressPolicy;
  push(stream: StreamName, chunk: Buffer): void;
  onRelease(fn: (stream: StreamName, data: Buffer) => void): void;
  onStop(fn: (why: StopWhy) => void): void;
  /** Called with true when the source should pause, false when it may read again. */
  onPressure(fn: (pause: boolean) => void): void;
  /** Called once if the filter fails: nothing more is released, end() rejects with it. */
  onFailure(fn: (err: Error) => void): void;
  /** Flushes: resolves once everything pushed before has been scanned and released. */
  end(): Promise<void>;
}

interface Route {
  receive(m: FromWorker): void;
  fail(err: Error): void;
  /** True while the run waits on the worker (bytes pushed and not yet scanned, or its end). */
  waiting(): boolean;
}

/**
 * How long the worker may leave an owed answer unanswered before it is taken for stuck: a scan
 * that never returns (output built to make a detector's regex backtrack, say) would otherwise
 * hold every filtered run's end. A 64 KiB push is scanned in about a millisecond.
 */
export const STALL_MS = 15_000;

/** One worker: until it has started, what is posted to it waits in `queue`. */
interface Slot {
  worker: Worker | null;
  queue: [ToWorker, ArrayBuffer[]][];
}

/** The shared worker and the runs open in it. */
export class ScanChannel {
  private slot: Slot | null = null;
  private readonly routes = new Map<number, Route>();
  private nextId = 1;
  /** Since when an answer is owed and none has come (null: nothing owed). */
  private owedSince: number | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly stallMs: number;
  private readonly startWorker: typeof startScanWorker;

  /** `stallMs` and `start` are for tests (a shorter watchdog, a worker that hangs). */
  constructor(opts: { stallMs?: number; start?: typeof startScanWorker } = {}) {
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.startWorker = opts.start ?? startScanWorker;
  }

  open(route: Route, msg: Omit<Extract<ToWorker, { t: 'open' }>, 't' | 'id'>): number {
    const id = this.nextId++;
    if (!this.slot) this.start();
    this.routes.set(id, route);
    this.slot!.worker?.ref();
    this.post({ t: 'open', id, ...msg });
    return id;
  }

  post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    // A push and an end are answered (what was scanned, 'ended'); an open is not.
    if (msg.t !== 'open') this.owedSince ??= Date.now();
    const slot = this.slot;
    if (slot?.worker) slot.worker.postMessage(msg, transfer);
    else slot?.queue.push([msg, transfer]);
  }

  /** The run is over (ended, closed or failed): the worker may idle without holding the process. */
  forget(id: number): void {
    this.routes.delete(id);
    if (this.routes.size === 0) this.slot?.worker?.unref();
  }

  /** An answer came: the clock of what is still owed starts again (a slow worker is not a stuck one). */
  private heard(): void {
    this.owedSince = [...this.routes.values()].some((r) => r.waiting()) ? Date.now() : null;
  }

  /** Fails the worker (and its runs, closed) once an owed answer is STALL_MS late. */
  private watch(slot: Slot): void {
    const tick = Math.max(10, Math.min(1000, this.stallMs / 4));
    this.watchdog = setInterval(() => {
      if (this.slot !== slot) return this.unwatch();
      if (this.owedSince !== null && Date.now() - this.owedSince > this.stallMs)
        this.fail(slot, new Error(`the scan worker stopped answering (nothing for ${Math.round(this.stallMs / 1000)} s)`));
    }, tick);
    this.watchdog.unref();
  }

  private unwatch(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** The running worker, once started (tests end it to check that runs fail closed). */
  get current(): Worker | null {
    return this.slot?.worker ?? null;
  }

  private start(): void {
    const slot: Slot = { worker: null, queue: [] };
    this.slot = slot;
    // A young generation of 2 MB instead of V8's default (up to 16 MB per semi-space): the scanner's
    // garbage is short-lived strings and the worker scans as fast, ~15 MB less at its peak.
    this.owedSince = null;
    this.watch(slot);
    this.startWorker({ resourceLimits: { maxYoungGenerationSizeMb: 2 } }).then(
      (w) => {
        if (this.slot !== slot) return void w.terminate();
        slot.worker = w;
        w.on('message', (m: FromWorker) => {
          this.routes.get(m.id)?.receive(m);
          this.heard();
        });
        w.on('error', (err) => this.fail(slot, err));
        w.on('messageerror', (err) => this.fail(slot, err));
        w.on('exit', (code) => this.fail(slot, new Error(`the scan worker exited (code ${code})`)));
        for (const [m, t] of slot.queue) w.postMessage(m, t);
        slot.queue = [];
        if (this.routes.size === 0) w.unref();
      },
      (err: unknown) => this.fail(slot, err instanceof Error ? err : new Error(String(err))),
    );
  }

  private fail(slot: Slot, err: Error): void {
    if (this.slot !== slot) return;
    this.slot = null;
    this.unwatch();
    this.owedSince = null;
    void slot.worker?.terminate().catch(() => {});
    const routes = [...this.routes.values()];
    this.routes.clear();
    for (const r of routes) r.fail(err);
  }
}

let shared: ScanChannel | null = null;
/** The process's scan worker channel (its worker starts with the first run). */
export function scanChannel(): ScanChannel {
  return (shared ??= new ScanChannel());
}

export class WorkerRunFilter implements OutputFilter {
  readonly policy: EgressPolicy;
  findings = 0;
  critical = 0;
  /** `block`: the output was withheld. */
  blocked = false;
  /** The first critical finding (for the stop reason). */
  firstCritical: Finding | null = null;
  /** Why the filter failed, once it has. */
  failure: Error | null = null;
  private readonly id: number;
  private inFlight = 0;
  private paused = false;
  private ended = false;
  private release: (stream: StreamName, data: Buffer) => void = () => {};
  private stop: (why: StopWhy) => void = () => {};
  private pressure: (pause: boolean) => void = () => {};
  private failed: (err: Error) => void = () => {};
  private endWait: { resolve(): void; reject(err: Error): void } | null = null;

  constructor(
    private readonly o: WorkerRunFilterOptions,
    private readonly channel: ScanChannel = scanChannel(),
  ) {
    this.policy = o.policy;
    this.id = channel.open(
      {
        receive: (m) => this.receive(m),
        fail: (err) => this.fail(err),
        waiting: () => !this.failure && (this.inFlight > 0 || this.endWait !== null),
      },
      { policy: o.policy, secrets: o.secrets, suppressed: [...o.suppressed], capBytes: o.capBytes },
    );
  }

  onRelease(fn: (stream: StreamName, data: Buffer) => void): void {
    this.release = fn;
  }
  onStop(fn: (why: StopWhy) => void): void {
    this.stop = fn;
  }
  onPressure(fn: (pause: boolean) => void): void {
    this.pressure = fn;
  }
  onFailure(fn: (err: Error) => void): void {
    this.failed = fn;
  }

  push(stream: StreamName, chunk: Buffer): void {
    if (this.ended || this.failure || chunk.length === 0) return;
    // A copy that moves: the chunk is a view of a buffer the caller's stream may reuse.
    const p = pack([{ stream, data: chunk }]);
    this.inFlight += chunk.length;
    this.channel.post({ t: 'push', id: this.id, ...p }, [p.buf]);
    if (!this.paused && this.inFlight > HIGH_WATER) {
      this.paused = true;
      this.pressure(true);
    }
  }

  end(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve();
    this.ended = true;
    this.unpause();
    return new Promise<void>((resolve, reject) => {
      this.endWait = { resolve, reject };
      this.channel.post({ t: 'end', id: this.id });
    });
  }

  private receive(m: FromWorker): void {
    if (this.failure) return;
    this.apply(m.counters);
    for (const f of m.findings ?? []) this.o.onFinding(f);
    if (m.buf) for (const r of unpack(m.streams!, m.lens!, m.buf)) this.release(r.stream, r.data);
    if (m.stop) this.stop(m.stop);
    this.inFlight -= m.scanned;
    if (this.inFlight < LOW_WATER) this.unpause();
    if (m.t === 'ended') {
      this.channel.forget(this.id);
      this.o.onEnd?.();
      this.endWait?.resolve();
      this.endWait = null;
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.unpause();
    this.failed(err);
    this.endWait?.reject(err);
    this.endWait = null;
  }

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pressure(false);
  }

  private apply(c: Counters): void {
    this.findings = c.findings;
    this.critical = c.critical;
    this.blocked = c.blocked;
    this.firstCritical = c.firstCritical;
  }
}
