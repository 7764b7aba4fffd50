// `moat batch [FILE|-]`: one run request a line (JSON: an `id` plus `moat run`'s request fields:
// template, code or argv, stdin, limits...), run with --concurrency N on a running Moat's pool when
// one owns the data directory, otherwise in this process with a warm pool. One JSON line per
// finished run (completion order) goes to --output or stdout; progress to stderr. --resume skips
// the ids already in --output. Exit: 0 all exited 0, 1 some did not (or were invalid), 2 bad
// usage, 130 Ctrl-C (the running ones cancelled, those finished kept).
import type { Command } from 'commander';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { BatchResult, BatchSummary } from '../../shared/batch';
import { BATCH_MAX_CONCURRENCY } from '../../shared/batch';
import { MoatError } from '../../shared/errors';
import { Batch, joinOutput, parseLines, type BatchItem, type RunOne } from '../../main/batch/batch';
import type { Services } from '../../main/services';
import { connectOwner, UnsafeSocketError, type OwnerClient } from '../daemon/client';
import { defaultDataDir } from '../../main/store/data-dir';

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

  let batch: Batch | null = null;
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
    let runOne: RunOne;
    if (owner) {
      const o = owner;
      runOne = async (req, signal) => {
        const { runId } = await o.call('sandbox.run', req);
        const onAbort = (): void => void o.call('sandbox.cancel', { runId }).catch(() => {});
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort);
        try {
          const record = await o.wait(runId);
          const detail = await o.call('runs.get', { id: runId });
          return { record, ...joinOutput(detail.output) };
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      };
    } else {
      if (interrupted) return EXIT_CANCELLED;
      const [{ createServices }, { fileLogger }] = await Promise.all([import('../../main/services'), import('../../main/log')]);
      services = await createServices({ dataDir, pool: true, log: fileLogger(dataDir) });
      const svc = services;
      runOne = async (req, signal) => {
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
    }
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
