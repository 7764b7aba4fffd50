// `moat batch [FILE|-]`: one run request a line (JSON: an `id` plus `moat run`'s request fields:
// template, code or argv, stdin, limits...), run with --concurrency N. When a running Moat owns the
// data directory (daemon, serve, the app), the batch is that owner's: submitted through its API
// (batch.start over the socket, in chunks that fit a frame), followed with batch.results, each
// finished run's whole output read with runs.get; so it shows in the owner's Batches view like a
// batch started there, and runs on its pool. Otherwise it runs in this process with a warm pool.
// One JSON line per finished run (completion order) goes to --output or stdout; progress to
// stderr. --resume skips the ids already in --output. Exit: 0 all exited 0, 1 some did not (or
// were invalid), 2 bad usage, 130 Ctrl-C (the running ones cancelled, those finished kept).
import type { Command } from 'commander';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { BatchResult, BatchSummary } from '../../shared/batch';
import { BATCH_MAX_CONCURRENCY, BATCH_MAX_ITEMS } from '../../shared/batch';
import { MoatError } from '../../shared/errors';
import { Batch, joinOutput, parseLines, type BatchItem, type RunOne } from '../../main/batch/batch';
import type { Services } from '../../main/services';
import { connectOwner, UnsafeSocketError, type OwnerClient } from '../daemon/client';
import { defaultDataDir } from '../../main/store/data-dir';
import { maxRequestFrameBytes } from '../host/frame-limit';

export interface BatchFlags {
  concurrency: string;
  output?: string;
  resume?: boolean;
  jsonProgress?: boolean;
}

const EXIT_USAGE = 2;
const EXIT_CANCELLED = 130;

function usage(msg: string): number {
  process.stderr.write(`moat batch: ${msg}\n`);
  return EXIT_USAGE;
}

/** Ids already in an output file (lines that are not JSON, e.g. one cut by a kill, are ignored). */
export function idsInOutput(text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as { id?: unknown };
      if (typeof v.id === 'string') ids.add(v.id);
    } catch {
      // A partial last line.
    }
  }
  return ids;
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '?';
  const s = Math.round(ms / 1000);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

export function progressLine(s: BatchSummary, width = 24): string {
  const frac = s.total ? s.done / s.total : 1;
  const fill = Math.round(frac * width);
  return (
    `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${s.done}/${s.total} ${Math.floor(frac * 100)}% ` +
    `ok ${s.passed} fail ${s.failed} run ${s.running} · ${s.rate.toFixed(2)}/s · ETA ${fmtMs(s.etaMs)}`
  );
}

export async function batchCommand(file: string | undefined, flags: BatchFlags): Promise<number> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > BATCH_MAX_CONCURRENCY)
    return usage(`--concurrency: a whole number from 1 to ${BATCH_MAX_CONCURRENCY}`);
  if (flags.resume && !flags.output) return usage('--resume needs --output FILE (the ids there are skipped)');
  let text: string;
  try {
    text = readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    return usage(`cannot read ${file ?? 'stdin'}: ${(err as Error).message}`);
  }
  let items: BatchItem[] = parseLines(text);
  let skipped = 0;
  if (flags.resume && flags.output && existsSync(flags.output)) {
    const done = idsInOutput(readFileSync(flags.output, 'utf8'));
    const before = items.length;
    items = items.filter((it) => !done.has(it.id));
    skipped = before - items.length;
  }
  // The output: appended to when resuming (on a fresh line), replaced otherwise; written line by
  // line, synchronously, so a kill leaves whole lines.
  let fd = 1;
  if (flags.output) {
    const resuming = flags.resume && existsSync(flags.output);
    fd = openSync(flags.output, resuming ? 'a' : 'w', 0o600);
    if (resuming) {
      const prev = readFileSync(flags.output, 'utf8');
      if (prev.length && !prev.endsWith('\n')) writeSync(fd, '\n');
    }
  }
  const progress = new Progress(Boolean(flags.jsonProgress));
  if (skipped) progress.note(`moat batch: --resume: ${skipped} item(s) already in ${flags.output}, skipped`);
  if (items.length === 0) {
    progress.note('moat batch: nothing to run');
    if (fd !== 1) closeSync(fd);
    return 0;
  }

  let batch: { cancel(): void } | null = null;
  let interrupted = false;
  let interrupt = (): void => {
    interrupted = true;
  };
  const onSignal = (): void => {
    interrupted = true;
    interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const dataDir = defaultDataDir();
  let owner: OwnerClient | null = null;
  let services: Services | null = null;
  try {
    try {
      owner = await connectOwner(dataDir);
    } catch (err) {
      if (err instanceof UnsafeSocketError) return usage(err.message);
      throw err;
    }
    if (owner) {
      if (interrupted) return EXIT_CANCELLED;
      const followed = new OwnerBatch(owner, items, {
        concurrency,
        name: `moat batch ${file === undefined || file === '-' ? '(stdin)' : basename(file)}`.slice(0, 100),
        write: (r) => writeSync(fd, JSON.stringify(r) + '\n'),
        progress,
      });
      batch = followed;
      interrupt = () => followed.cancel();
      const { results, cancelled } = await followed.run();
      if (interrupted || cancelled) {
        process.stderr.write(
          `moat batch: cancelled; ${results} finished run(s) kept${flags.output ? ` in ${flags.output} (--resume runs the rest)` : ''}\n`,
        );
        return EXIT_CANCELLED;
      }
      return followed.allPassed ? 0 : 1;
    }
    if (interrupted) return EXIT_CANCELLED;
    const [{ createServices }, { fileLogger }] = await Promise.all([import('../../main/services'), import('../../main/log')]);
    services = await createServices({ dataDir, pool: true, log: fileLogger(dataDir) });
    const svc = services;
    const runOne: RunOne = async (req, signal) => {
      const rec = await svc.sandboxes.run(req);
      const onAbort = (): void => void svc.sandboxes.cancel(rec.id);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort);
      try {
        const record = (await svc.sandboxes.whenDone(rec.id)) ?? rec;
        const detail = await svc.handlers['runs.get']({ id: rec.id });
        return { record, ...joinOutput(detail.output) };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    };
    if (interrupted) return EXIT_CANCELLED;
    const b = new Batch({
      items,
      concurrency,
      runOne,
      keepChars: 0,
      onResult: (r: BatchResult) => writeSync(fd, JSON.stringify(r) + '\n'),
      onProgress: (s) => progress.update(s),
    });
    batch = b;
    interrupt = () => b.cancel();
    const results = await b.run();
    progress.end(b.summary());
    if (interrupted || b.isCancelled) {
      process.stderr.write(
        `moat batch: cancelled; ${results.length} finished run(s) kept${flags.output ? ` in ${flags.output} (--resume runs the rest)` : ''}\n`,
      );
      return EXIT_CANCELLED;
    }
    return results.every((r) => r.endReason === 'exited' && r.exitCode === 0) ? 0 : 1;
  } catch (err) {
    batch?.cancel();
    if (err instanceof MoatError) {
      process.stderr.write(`moat batch: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
      return 125;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    owner?.close();
    await services?.close();
    if (fd !== 1) closeSync(fd);
  }
}

/** How long one batch.results call waits for a result; how long a batch nobody follows lives on. */
const FOLLOW_WAIT_MS = 2_000;
const CANCEL_UNFOLLOWED_MS = 120_000;

/** An item as batch.start takes it: a run request with its id, or `{id, invalid}` for a line this CLI could not read. */
export function wireItem(it: BatchItem): Record<string, unknown> {
  return 'error' in it ? { id: it.id, invalid: it.error } : { id: it.id, ...it.req };
}

/**
 * Consecutive chunks of items, each a batch.start that fits the owner's socket frame (`maxBytes`
 * of items' JSON) and BATCH_MAX_ITEMS; always at least one item a chunk (a valid run request fits a
 * frame by construction, app/host/frame-limit.ts).
 */
export function chunkItems(items: BatchItem[], maxBytes = maxRequestFrameBytes() - 8192, maxItems = BATCH_MAX_ITEMS): BatchItem[][] {
  const chunks: BatchItem[][] = [];
  let cur: BatchItem[] = [];
  let bytes = 0;
  for (const it of items) {
    const n = Buffer.byteLength(JSON.stringify(wireItem(it))) + 1;
    if (cur.length && (bytes + n > maxBytes || cur.length >= maxItems)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += n;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

/** A batch run by the data directory's owner, followed from here (see the top of this file). */
class OwnerBatch {
  allPassed = true;
  private cancelled = false;
  private current: string | null = null;

  constructor(
    private readonly owner: OwnerClient,
    private readonly items: BatchItem[],
    private readonly o: { concurrency: number; name: string; write: (r: BatchResult) => void; progress: Progress },
  ) {}

  cancel(): void {
    this.cancelled = true;
    if (this.current) void this.owner.call('batch.cancel', { id: this.current }).catch(() => {});
  }

  /** Runs every chunk in turn; resolves with how many results were written and whether it was cancelled. */
  async run(): Promise<{ results: number; cancelled: boolean }> {
    const chunks = chunkItems(this.items);
    const t0 = Date.now();
    const before = { done: 0, passed: 0, failed: 0 };
    let last: BatchSummary | null = null;
    for (let i = 0; i < chunks.length && !this.cancelled; i++) {
      const name = chunks.length > 1 ? `${this.o.name} (part ${i + 1} of ${chunks.length})` : this.o.name;
      const { batchId } = await this.owner.call('batch.start', {
        items: chunks[i]!.map(wireItem),
        concurrency: this.o.concurrency,
        name,
        cancelIfUnfollowedMs: CANCEL_UNFOLLOWED_MS,
      });
      this.current = batchId;
      if (this.cancelled) this.cancel();
      let from = 0;
      for (;;) {
        const page = await this.owner.call('batch.results', { id: batchId, from, waitMs: FOLLOW_WAIT_MS });
        for (const r of page.results) {
          const whole = await this.whole(r);
          if (!(whole.endReason === 'exited' && whole.exitCode === 0)) this.allPassed = false;
          this.o.write(whole);
        }
        from += page.results.length;
        const s = chunks.length > 1 ? merged(page.summary, before, this.items.length, t0) : page.summary;
        last = s;
        this.o.progress.update(s);
        if (page.summary.status !== 'running' && from >= page.summary.done) {
          if (page.summary.status === 'cancelled') this.cancelled = true;
          before.done += page.summary.done;
          before.passed += page.summary.passed;
          before.failed += page.summary.failed;
          break;
        }
      }
      this.current = null;
    }
    if (last) this.o.progress.end(last);
    return { results: before.done, cancelled: this.cancelled };
  }

  /** The result with its run's whole output (the owner keeps a preview); the preview if the run is gone. */
  private async whole(r: BatchResult): Promise<BatchResult> {
    if (!r.runId) return r;
    try {
      const detail = await this.owner.call('runs.get', { id: r.runId });
      return { ...r, ...joinOutput(detail.output) };
    } catch (err) {
      if (err instanceof MoatError && err.code === 'NOT_FOUND') return r;
      throw err;
    }
  }
}

/** A part's summary as the whole file's: counts and rate over every part so far. */
function merged(s: BatchSummary, before: { done: number; passed: number; failed: number }, total: number, t0: number): BatchSummary {
  const done = before.done + s.done;
  const rate = done / (Math.max(1, Date.now() - t0) / 1000);
  return {
    ...s,
    total,
    done,
    passed: before.passed + s.passed,
    failed: before.failed + s.failed,
    rate,
    etaMs: done > 0 ? Math.round(((total - done) / rate) * 1000) : null,
    startedAt: t0,
  };
}

/** A bar redrawn in place on a terminal; otherwise a line every few seconds (or JSON lines). */
class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private last = 0;
  private drawn = false;

  constructor(private readonly json: boolean) {}

  note(line: string): void {
    this.clear();
    process.stderr.write(line + '\n');
  }

  update(s: BatchSummary): void {
    const now = Date.now();
    const every = this.json ? 1000 : this.tty ? 100 : 5000;
    if (now - this.last < every) return;
    this.last = now;
    this.write(s);
  }

  end(s: BatchSummary): void {
    this.write(s);
    if (this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }

  private write(s: BatchSummary): void {
    if (this.json) process.stderr.write(JSON.stringify(s) + '\n');
    else if (this.tty) {
      process.stderr.write(`\r\x1b[K${progressLine(s)}`);
      this.drawn = true;
    } else process.stderr.write(progressLine(s) + '\n');
  }

  private clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}

export function registerBatch(program: Command): void {
  program
    .command('batch')
    .description('run many requests (JSON lines: id, template, code or argv, stdin, limits) with bounded concurrency')
    .argument('[file]', 'JSON lines file, - or nothing for stdin')
    .option('-j, --concurrency <n>', 'runs at once', '4')
    .option('-o, --output <file>', 'write the results (JSON lines) here instead of stdout')
    .option('--resume', 'skip the ids already in --output and append the rest')
    .option('--json-progress', 'progress as JSON lines on stderr (about once a second)')
    .action(async (file: string | undefined, flags: BatchFlags) => {
      process.exitCode = await batchCommand(file, flags);
    });
}
