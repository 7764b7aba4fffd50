// Run history: an append-only log of run summaries (the last record of an id wins), plus per run
// an inputs file (its code and stdin) and an output file (its capped output and samples). Only
// summaries stay in memory; code, stdin and output are read from their files when asked for.
// Several Moat processes share it: appends and compactions happen under one lock file, and a
// compaction first reads what the others appended. Retention (retention.ts) bounds all of it.
import { existsSync, lstatSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RunDetail, RunRecord, type Retention } from '../../shared/types';
import { AppendLog, readFileOrNull, writeFileAtomic } from './durable';
import { FileLock } from './lock';
import { planPrune, type PruneVictim, type StoredRun } from './retention';
import { secureDataDir } from './secure';

const COMPACT_AFTER_LINES = 5000;
// The shapes of a run's output and inputs files, built once (a zod `pick` builds a new schema).
const StoredOutput = RunDetail.pick({ output: true, stats: true });
const StoredInputs = RunRecord.pick({ code: true, stdin: true });
/** Per-run files and the log are flushed to disk off the main thread (durable.ts). */
const BACKGROUND = { sync: 'background' } as const;
/** After a run finishes, retention runs at most this often; it also runs hourly, as runs age. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_HOURLY_MS = 3600_000;
/** Files without a run in the log (their process was killed mid-way) are removed after this. */
const ORPHAN_AGE_MS = 3600_000;

const RUN_FILE = /^([A-Za-z0-9_-]{1,64})\.json$/;
const TEMP_FILE = /^\..+\.tmp$/;

export interface RunStoreOptions {
  /** Compact the log once it has this many lines (and twice as many as runs). */
  compactAfterLines?: number;
  /** The retention autoPrune applies (read each time, so settings changes take effect). */
  retention?: () => Retention;
  /** Least time between two prunes after finished runs (default a minute). */
  minPruneIntervalMs?: number;
  /** Where failures of background work go (never secrets). */
  log?: (msg: string) => void;
}

/** What the log and memory hold of a run: no code or stdin, plus the size of its files. */
type Summary = Omit<RunRecord, 'code' | 'stdin'> & { storedBytes?: number };

export interface PruneReport {
  removed: PruneVictim[];
  /** Leftover files of runs no longer in the log, and temporary files of interrupted writes. */
  orphans: { path: string; bytes: number }[];
  keptRuns: number;
  keptBytes: number;
}

export class RunStore {
  private readonly log: AppendLog;
  private readonly lock: FileLock;
  private readonly byId = new Map<string, Summary>();
  private readonly compactAfter: number;
  private lines = 0;
  /** The log still carries code or stdin inline (written by an older Moat): compact it away. */
  private inlineInputs = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  private hourly: NodeJS.Timeout | null = null;
  private lastPrune = 0;

  constructor(
    private readonly dataDir: string,
    private readonly opts: RunStoreOptions = {},
  ) {
    const secured = secureDataDir(dataDir);
    if (secured.failed.length) opts.log?.(`could not make owner-only: ${secured.failed.join(', ')}`);
    this.log = new AppendLog(join(dataDir, 'runs.jsonl'), { sync: 'background' });
    this.lock = new FileLock(join(dataDir, 'runs.jsonl.lock'));
    this.compactAfter = opts.compactAfterLines ?? COMPACT_AFTER_LINES;
    this.refresh();
  }

  /** Takes in what other Moat processes (CLI runs, the desktop app) recorded meanwhile. */
  private refresh(): void {
    const { reset, values } = this.log.readNew();
    if (reset) {
      this.byId.clear();
      this.lines = 0;
    }
    for (const raw of values) {
      this.lines++;
      const rec = RunRecord.safeParse(raw);
      if (!rec.success) continue;
      const { code, stdin, ...summary } = rec.data;
      if (code !== undefined || stdin !== undefined) this.migrateInline(summary.id, code, stdin);
      const bytes = (raw as { storedBytes?: unknown }).storedBytes;
      // Lines of older Moat versions may leave fields out: merge, do not replace.
      this.byId.set(summary.id, {
        ...this.byId.get(summary.id),
        ...summary,
        ...(typeof bytes === 'number' ? { storedBytes: bytes } : {}),
      });
    }
  }

  /** Runs that were in progress when Moat last stopped (crash, kill -9, power loss). */
  unfinished(): RunRecord[] {
    this.refresh();
    return [...this.byId.values()].filter((r) => r.status !== 'finished').map(toRecord);
  }

  /**
   * Records a run's new state. Its code and stdin go to its inputs file the first time they are
   * seen, never into the log; a run with `keep: false` has neither stored, nor its output.
   */
  put(rec: RunRecord): void {
    const { code, stdin, ...summary } = rec;
    const keep = rec.keep !== false;
    // Not kept: the command's arguments may be as sensitive as code; the program name stays.
    if (!keep) summary.argv = rec.argv.slice(0, 1);
    // Written before the log line, so a recorded run never lacks inputs it was given.
    if (keep && (code !== undefined || stdin !== undefined) && !existsSync(this.inputsPath(rec.id))) {
      writeFileAtomic(this.inputsPath(rec.id), JSON.stringify({ code, stdin }), 0o600, BACKGROUND);
    }
    let finishedNow = false;
    this.lock.withLock(() => {
      this.refresh();
      const prev = this.byId.get(rec.id);
      const line: Summary = { ...summary };
      if (rec.status === 'finished') {
        finishedNow = prev?.status !== 'finished';
        if (!keep && finishedNow) this.removeFiles(rec.id);
        // Its files no longer change: measured once, for retention by size.
        line.storedBytes = !finishedNow && prev?.storedBytes !== undefined ? prev.storedBytes : this.measure(rec.id);
      }
      this.appendLocked(line);
    });
    if (finishedNow) this.schedulePrune();
  }

  get(id: string): RunRecord | undefined {
    this.refresh();
    const summary = this.byId.get(id);
    if (!summary) return undefined;
    return summary.keep === false ? toRecord(summary) : { ...toRecord(summary), ...this.readInputs(id) };
  }

  /** Newest first, without code and stdin (`get` has them): a history page stays small. */
  list(opts: { limit?: number; before?: number } = {}): RunRecord[] {
    const limit = opts.limit ?? 200;
    this.refresh();
    return [...this.byId.values()]
      .filter((r) => opts.before === undefined || r.createdAt < opts.before)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map(toRecord);
  }

  /**
   * Stores what a finished run produced: its (capped) output, its resource samples, and the
   * artifacts it brought out (in a file of their own, next to the output).
   */
  saveOutput(id: string, output: RunDetail['output'], stats: RunDetail['stats'] = [], artifacts?: RunDetail['artifacts']): void {
    const summary = this.byId.get(id);
    if (summary?.keep === false) return;
    if (artifacts?.length) writeFileAtomic(this.artifactsPath(id), JSON.stringify(artifacts), 0o600, BACKGROUND);
    writeFileAtomic(this.outputPath(id), JSON.stringify({ output, stats }), 0o600, BACKGROUND);
    // Saved after the run was recorded finished (Moat saves it before): its size changed.
    if (summary?.status !== 'finished') return;
    this.lock.withLock(() => {
      this.refresh();
      const current = this.byId.get(id);
      if (current) this.appendLocked({ ...current, storedBytes: this.measure(id) });
    });
  }

  readOutput(id: string): Pick<RunDetail, 'output' | 'stats' | 'artifacts'> {
    const artifacts = this.readArtifacts(id);
    const more = artifacts ? { artifacts } : {};
    const text = readFileOrNull(this.outputPath(id));
    if (text === null) return { output: [], stats: [], ...more };
    try {
      const parsed = StoredOutput.safeParse(JSON.parse(text));
      if (parsed.success) return { ...parsed.data, ...more };
    } catch {
      // Unreadable: shown as no output rather than failing the whole detail.
    }
    return { output: [], stats: [], ...more };
  }

  private readArtifacts(id: string): RunDetail['artifacts'] | undefined {
    const text = readFileOrNull(this.artifactsPath(id));
    if (text === null) return undefined;
    try {
      const parsed = RunDetail.shape.artifacts.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Unreadable: left out rather than failing the whole detail.
    }
    return undefined;
  }

  /**
   * Removes finished runs past the retention (log entries, then their files), and with `sweep`
   * files left by interrupted processes. `dryRun` only reports what it would remove.
   */
  prune(retention: Retention, opts: { dryRun?: boolean; sweep?: boolean; now?: number } = {}): PruneReport {
    const now = opts.now ?? Date.now();
    return this.lock.withLock(() => {
      this.refresh();
      this.lastPrune = now;
      const runs: StoredRun[] = [];
      let measured = false;
      for (const s of this.byId.values()) {
        // Runs recorded by an older Moat carry no size yet: measured once, then kept in the log.
        if (s.storedBytes === undefined && s.status === 'finished') {
          s.storedBytes = this.measure(s.id);
          measured = true;
        }
        runs.push({ id: s.id, createdAt: s.createdAt, endedAt: s.endedAt, status: s.status, bytes: s.storedBytes ?? 0 });
      }
      const removed = planPrune(runs, retention, now);
      const gone = new Set(removed.map((v) => v.id));
      const orphans = opts.sweep ? this.findOrphans(now) : [];
      if (!opts.dryRun) {
        for (const id of gone) this.byId.delete(id);
        if (gone.size || measured || this.inlineInputs) this.compactLocked();
        // After the log no longer names them: a crash in between leaves orphans, swept later.
        for (const id of gone) this.removeFiles(id);
        for (const o of orphans) unlinkQuietly(o.path);
      }
      const kept = runs.filter((r) => !gone.has(r.id));
      return { removed, orphans, keptRuns: kept.length, keptBytes: kept.reduce((n, r) => n + r.bytes, 0) };
    });
  }

  /**
   * Applies the retention option now (sweeping leftovers), then after finished runs (at most once
   * a minute) and hourly. Failures are logged: history that could not be pruned is still history.
   */
  autoPrune(): void {
    if (!this.opts.retention || this.hourly) return;
    this.pruneQuietly(true);
    this.hourly = setInterval(() => this.pruneQuietly(false), PRUNE_HOURLY_MS);
    this.hourly.unref();
  }

  /** Prunes soon (deferred, so never inside a run's recording path), once autoPrune has started. */
  schedulePrune(soon = false): void {
    if (!this.hourly || this.pruneTimer) return;
    const every = this.opts.minPruneIntervalMs ?? PRUNE_EVERY_MS;
    const wait = soon ? 0 : Math.max(0, this.lastPrune + every - Date.now());
    this.pruneTimer = setTimeout(() => {
      this.pruneTimer = null;
      this.pruneQuietly(false);
    }, wait);
    this.pruneTimer.unref();
  }

  close(): void {
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    if (this.hourly) clearInterval(this.hourly);
    this.pruneTimer = this.hourly = null;
    this.log.close();
  }

  /** Rewrites the log with one line per run (under the lock, after reading everyone's appends). */
  compact(): void {
    this.lock.withLock(() => {
      this.refresh();
      this.compactLocked();
    });
  }

  private appendLocked(line: Summary): void {
    // Counted here when the log will not hand our own line back to refresh() (which counts the rest).
    if (this.log.append(line)) this.lines++;
    this.byId.set(line.id, line);
    if (this.lines > this.compactAfter && this.lines > this.byId.size * 2) this.compactLocked();
  }

  private compactLocked(): void {
    const all = [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt);
    this.log.rewrite(all);
    this.lines = all.length;
    this.inlineInputs = false;
  }

  private pruneQuietly(sweep: boolean): void {
    try {
      const report = this.prune(this.opts.retention!(), { sweep });
      if (report.removed.length || report.orphans.length) {
        this.opts.log?.(`retention removed ${report.removed.length} run(s) and ${report.orphans.length} leftover file(s)`);
      }
    } catch (err) {
      this.opts.log?.(`retention failed: ${(err as Error).message}`);
    }
  }

  /** An older Moat logged code and stdin inline: moved to the run's inputs file. */
  private migrateInline(id: string, code: string | undefined, stdin: string | undefined): void {
    this.inlineInputs = true;
    try {
      if (!existsSync(this.inputsPath(id))) writeFileAtomic(this.inputsPath(id), JSON.stringify({ code, stdin }), 0o600, BACKGROUND);
    } catch (err) {
      this.opts.log?.(`could not move the inputs of ${id} out of the log: ${(err as Error).message}`);
    }
  }

  private readInputs(id: string): Pick<RunRecord, 'code' | 'stdin'> {
    const text = readFileOrNull(this.inputsPath(id));
    if (text === null) return {};
    try {
      const parsed = StoredInputs.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Unreadable: the run is shown without its code rather than not at all.
    }
    return {};
  }

  private measure(id: string): number {
    let bytes = 0;
    for (const p of [this.inputsPath(id), this.outputPath(id), this.artifactsPath(id)])
      bytes += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
    return bytes;
  }

  private removeFiles(id: string): void {
    unlinkQuietly(this.inputsPath(id));
    unlinkQuietly(this.outputPath(id));
    unlinkQuietly(this.artifactsPath(id));
  }

  /** Run files whose run is not in the log, and temporary files, older than an hour. */
  private findOrphans(now: number): { path: string; bytes: number }[] {
    const found: { path: string; bytes: number }[] = [];
    for (const dir of [this.dataDir, join(this.dataDir, 'output'), join(this.dataDir, 'inputs'), join(this.dataDir, 'artifacts')]) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const run = dir === this.dataDir ? null : RUN_FILE.exec(name);
        if (!TEMP_FILE.test(name) && !(run && !this.byId.has(run[1]!))) continue;
        const path = join(dir, name);
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (st?.isFile() && now - st.mtimeMs > ORPHAN_AGE_MS) found.push({ path, bytes: st.size });
      }
    }
    return found;
  }

  private outputPath(id: string): string {
    return join(this.dataDir, 'output', `${checkId(id)}.json`);
  }

  private artifactsPath(id: string): string {
    return join(this.dataDir, 'artifacts', `${checkId(id)}.json`);
  }

  private inputsPath(id: string): string {
    return join(this.dataDir, 'inputs', `${checkId(id)}.json`);
  }
}

function checkId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error('bad run id');
  return id;
}

function toRecord({ storedBytes: _bytes, ...summary }: Summary): RunRecord {
  return summary;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
