// The batch runner: run requests (each with an id) run with bounded concurrency through a
// `runOne` given to it (in process: the sandbox manager; the CLI with a running Moat: its socket).
// A bad item is reported as a result ('invalid', with the reason) and never stops the batch.
// Results come in completion order; cancel() stops starting items and cancels the running ones.
import { randomUUID } from 'node:crypto';
import {
  BATCH_WAIT_MAX_MS,
  BatchItemId,
  type BatchResult,
  type BatchResultsPage,
  type BatchRunRef,
  type BatchSummary,
} from '../../shared/batch';
import { MoatError } from '../../shared/errors';
import { RunRequest, type RunRecord } from '../../shared/types';

export type BatchItem = { id: string; req: RunRequest } | { id: string; error: string };

export interface RunOutcome {
  record: RunRecord;
  stdout: string;
  stderr: string;
  /**
   * Settles when the run has let go of everything (its sandbox removed), if that comes after the
   * result: the next item starts meanwhile, and the batch ends only once every one has settled.
   */
  settled?: Promise<unknown>;
}

/** Runs one request to its end; `signal` aborted means cancel it. */
export type RunOne = (req: RunRequest, signal: AbortSignal) => Promise<RunOutcome>;

/** One item from its JSON value: `id` plus RunRequest's fields. `where` names it in messages. */
export function parseItem(value: unknown, where: string): BatchItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { id: where, error: `${where}: not a JSON object` };
  const { id, ...rest } = value as Record<string, unknown>;
  const idOk = BatchItemId.safeParse(id);
  if (!idOk.success)
    return {
      id: typeof id === 'string' && id ? id.slice(0, 200) : where,
      error: `${where}: id: a string of 1 to 200 characters is required`,
    };
  const req = RunRequest.safeParse(rest);
  if (!req.success)
    return {
      id: idOk.data,
      error: `${where}: ${req.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}`,
    };
  return { id: idOk.data, req: req.data };
}

/**
 * An item given as already invalid, `{id, invalid: reason}` (a line `moat batch` could not read),
 * or null when `value` is not one.
 */
export function givenInvalid(value: unknown): BatchItem | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, invalid, ...rest } = value as Record<string, unknown>;
  if (typeof invalid !== 'string' || Object.keys(rest).length > 0) return null;
  const idOk = BatchItemId.safeParse(id);
  return idOk.success ? { id: idOk.data, error: invalid.slice(0, 10_000) } : null;
}

/** Items from JSON lines (blank lines skipped); a line that is not JSON is an invalid item. A repeated id is invalid. */
export function parseLines(text: string): BatchItem[] {
  const out: BatchItem[] = [];
  const lineOf: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const where = `line ${i + 1}`;
    lineOf.push(i + 1);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      out.push({ id: where, error: `${where}: not JSON (${(err as Error).message})` });
      continue;
    }
    out.push(parseItem(value, where));
  }
  return dedupe(out, (i) => `line ${lineOf[i]}`);
}

/**
 * A second item with an id already seen becomes invalid, under its place's name (`where(i)`), so
 * that the output has each id once.
 */
export function dedupe(items: BatchItem[], where: (index: number) => string): BatchItem[] {
  const seen = new Set<string>();
  return items.map((it, i) => {
    if (seen.has(it.id)) return { id: where(i), error: `${where(i)}: id ${JSON.stringify(it.id)} is given twice` };
    seen.add(it.id);
    return it;
  });
}

export interface BatchOptions {
  items: BatchItem[];
  concurrency: number;
  runOne: RunOne;
  name?: string;
  /** Each result as it finishes (not for items cancelled before or while they ran). */
  onResult?: (r: BatchResult) => void;
  /** After each start and result, and at the end. */
  onProgress?: (s: BatchSummary) => void;
  /** Keep only this much of each output in `results` (onResult still gets the whole). */
  keepChars?: number;
}

const passed = (r: BatchResult): boolean => r.endReason === 'exited' && r.exitCode === 0;
const ref = (r: BatchResult): BatchRunRef => ({
  id: r.id,
  ...(r.runId ? { runId: r.runId } : {}),
  endReason: r.endReason,
  exitCode: r.exitCode,
  durationMs: r.durationMs,
  ...(r.error ? { error: r.error } : {}),
});

export class Batch {
  readonly batchId = 'b' + randomUUID().replace(/-/g, '').slice(0, 15);
  readonly results: BatchResult[] = [];
  /** Items cancelled (before or while running): not in results, so a resume runs them. */
  cancelledItems = 0;
  private readonly startedAt = Date.now();
  private endedAt: number | undefined;
  private running = 0;
  private next = 0;
  private cancelled = false;
  private readonly controllers = new Set<AbortController>();
  private done: Promise<BatchResult[]> | null = null;
  private readonly settling: Promise<unknown>[] = [];

  constructor(private readonly o: BatchOptions) {}

  /** Runs every item; resolves with the results once all finished or were cancelled. */
  run(): Promise<BatchResult[]> {
    this.done ??= (async () => {
      const workers = Array.from({ length: Math.max(1, Math.min(this.o.concurrency, this.o.items.length)) }, () => this.worker());
      await Promise.all(workers);
      await Promise.allSettled(this.settling);
      this.endedAt = Date.now();
      this.o.onProgress?.(this.summary());
      return this.results;
    })();
    return this.done;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelledItems += this.o.items.length - this.next;
    this.next = this.o.items.length;
    for (const c of this.controllers) c.abort();
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  private async worker(): Promise<void> {
    while (!this.cancelled && this.next < this.o.items.length) {
      const item = this.o.items[this.next++]!;
      if ('error' in item) {
        this.finish({
          id: item.id,
          endReason: 'invalid',
          exitCode: null,
          durationMs: 0,
          stdout: '',
          stderr: '',
          truncated: false,
          error: item.error,
        });
        continue;
      }
      const ctl = new AbortController();
      this.controllers.add(ctl);
      this.running++;
      this.o.onProgress?.(this.summary());
      const t0 = Date.now();
      let result: BatchResult;
      try {
        const { record, stdout, stderr, settled } = await this.o.runOne(item.req, ctl.signal);
        if (settled) this.settling.push(settled);
        result = {
          id: item.id,
          runId: record.id,
          endReason: record.endReason ?? 'failed',
          exitCode: record.exitCode,
          durationMs: record.durationMs ?? Date.now() - t0,
          ...(record.startedAt ? { startedAt: record.startedAt } : {}),
          ...(record.endedAt ? { endedAt: record.endedAt } : {}),
          stdout,
          stderr,
          truncated: record.truncated,
          ...(record.error ? { error: record.error } : {}),
        };
      } catch (err) {
        // Refused before it ran (unknown template, a request the target cannot take): the item is invalid.
        const refused = err instanceof MoatError && (err.code === 'INVALID_REQUEST' || err.code === 'NOT_FOUND');
        result = {
          id: item.id,
          endReason: refused ? 'invalid' : 'failed',
          exitCode: null,
          durationMs: Date.now() - t0,
          stdout: '',
          stderr: '',
          truncated: false,
          error: err instanceof Error ? err.message : String(err),
        };
      } finally {
        this.running--;
        this.controllers.delete(ctl);
      }
      if (ctl.signal.aborted) {
        this.cancelledItems++;
        this.o.onProgress?.(this.summary());
      } else this.finish(result);
    }
  }

  private finish(r: BatchResult): void {
    const k = this.o.keepChars;
    this.results.push(k === undefined ? r : { ...r, stdout: r.stdout.slice(0, k), stderr: r.stderr.slice(0, k) });
    this.o.onResult?.(r);
    this.o.onProgress?.(this.summary());
  }

  summary(): BatchSummary {
    const total = this.o.items.length;
    const done = this.results.length;
    const ok = this.results.filter(passed).length;
    const now = this.endedAt ?? Date.now();
    const elapsed = Math.max(1, now - this.startedAt) / 1000;
    const rate = done / elapsed;
    const left = total - done - this.cancelledItems;
    const slowest = this.results
      .filter((r) => r.runId)
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, 5)
      .map(ref);
    const failing: BatchRunRef[] = [];
    for (const r of this.results) {
      if (failing.length >= 20) break;
      if (!passed(r)) failing.push(ref(r));
    }
    return {
      batchId: this.batchId,
      ...(this.o.name ? { name: this.o.name } : {}),
      status: this.endedAt === undefined ? 'running' : this.cancelled ? 'cancelled' : 'done',
      concurrency: this.o.concurrency,
      total,
      done,
      passed: ok,
      failed: done - ok,
      running: this.running,
      rate,
      etaMs: this.endedAt !== undefined ? 0 : done > 0 ? Math.round((left / rate) * 1000) : null,
      startedAt: this.startedAt,
      ...(this.endedAt !== undefined ? { endedAt: this.endedAt } : {}),
      slowest,
      failing,
    };
  }
}

/** Output joined per stream from a run's stored chunks. */
export function joinOutput(chunks: { stream: 'stdout' | 'stderr'; data: string }[]): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  for (const c of chunks)
    if (c.stream === 'stdout') stdout += c.data;
    else stderr += c.data;
  return { stdout, stderr };
}

const PREVIEW_CHARS = 200;

/** The API's batches, kept in memory (their runs are in the history as usual). */
export class BatchService {
  private readonly batches = new Map<string, Batch>();
  private readonly lastEmit = new Map<string, number>();
  /** batch.results calls waiting for something new, per batch. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Batches cancelled when nobody follows them: the timer that will, and its delay. */
  private readonly unfollowed = new Map<string, { ms: number; timer: NodeJS.Timeout | null }>();

  constructor(
    private readonly o: {
      runOne: RunOne;
      emit: (s: BatchSummary) => void;
      /** Finished batches kept (oldest dropped first). */
      keep?: number;
    },
  ) {}

  start(p: { items: unknown[]; concurrency?: number; name?: string; cancelIfUnfollowedMs?: number }): { batchId: string } {
    const items = dedupe(
      p.items.map((v, i) => givenInvalid(v) ?? parseItem(v, `item ${i + 1}`)),
      (i) => `item ${i + 1}`,
    );
    const batch: Batch = new Batch({
      items,
      concurrency: p.concurrency ?? 4,
      runOne: this.o.runOne,
      keepChars: PREVIEW_CHARS,
      ...(p.name ? { name: p.name } : {}),
      onProgress: (s) => {
        this.wake(s.batchId);
        // At most four a second, and always the last.
        const now = Date.now();
        if (s.status === 'running' && now - (this.lastEmit.get(s.batchId) ?? 0) < 250) return;
        this.lastEmit.set(s.batchId, now);
        this.o.emit(s);
      },
    });
    this.batches.set(batch.batchId, batch);
    if (p.cancelIfUnfollowedMs) {
      this.unfollowed.set(batch.batchId, { ms: p.cancelIfUnfollowedMs, timer: null });
      this.armUnfollowed(batch.batchId);
    }
    void batch.run().then(() => {
      const u = this.unfollowed.get(batch.batchId);
      if (u?.timer) clearTimeout(u.timer);
      this.unfollowed.delete(batch.batchId);
      this.wake(batch.batchId);
      this.trim();
    });
    return { batchId: batch.batchId };
  }

  /**
   * The results from index `from` on, once there is one past it or the batch has ended, or after
   * `waitMs` (then possibly none). Following a batch keeps cancelIfUnfollowedMs from cancelling it.
   */
  async results(p: { id: string; from: number; waitMs?: number }): Promise<BatchResultsPage> {
    const b = this.batches.get(p.id);
    if (!b) throw new MoatError('NOT_FOUND', `No batch with id ${p.id}.`);
    const u = this.unfollowed.get(p.id);
    if (u?.timer) clearTimeout(u.timer);
    if (u) u.timer = null;
    try {
      const waitMs = Math.min(p.waitMs ?? 0, BATCH_WAIT_MAX_MS);
      if (waitMs > 0 && b.results.length <= p.from && b.summary().status === 'running') {
        await new Promise<void>((resolve) => {
          const set = this.waiters.get(p.id) ?? new Set<() => void>();
          this.waiters.set(p.id, set);
          const done = (): void => {
            clearTimeout(timer);
            set.delete(done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          set.add(done);
        });
      }
      return { summary: b.summary(), from: p.from, results: b.results.slice(p.from) };
    } finally {
      this.armUnfollowed(p.id);
    }
  }

  list(): BatchSummary[] {
    return [...this.batches.values()].map((b) => b.summary()).reverse();
  }

  get(id: string): { summary: BatchSummary; results: BatchResult[] } | null {
    const b = this.batches.get(id);
    if (!b) return null;
    return {
      summary: b.summary(),
      results: b.results,
    };
  }

  cancel(id: string): boolean {
    const b = this.batches.get(id);
    if (!b || b.summary().status !== 'running') return false;
    b.cancel();
    return true;
  }

  close(): void {
    for (const b of this.batches.values()) b.cancel();
    for (const u of this.unfollowed.values()) if (u.timer) clearTimeout(u.timer);
    this.unfollowed.clear();
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  /** Answers the batch.results calls waiting on this batch. */
  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) w();
  }

  private armUnfollowed(id: string): void {
    const u = this.unfollowed.get(id);
    if (!u) return;
    if (u.timer) clearTimeout(u.timer);
    u.timer = setTimeout(() => {
      u.timer = null;
      this.cancel(id);
    }, u.ms);
    u.timer.unref();
  }

  private trim(): void {
    const keep = this.o.keep ?? 50;
    const finished = [...this.batches.values()].filter((b) => b.summary().status !== 'running');
    for (const b of finished.slice(0, Math.max(0, finished.length - keep))) {
      this.batches.delete(b.batchId);
      this.lastEmit.delete(b.batchId);
    }
  }
}
