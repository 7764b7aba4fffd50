// Run history: an append-only log of run records (the last record of an id wins) plus one output
// file per finished run. Output is stored as Moat kept it (capped); the egress filter will sit in
// front of this store.
import { join } from 'node:path';
import { RunDetail, RunRecord } from '../../shared/types';
import { AppendLog, readFileOrNull, writeFileAtomic } from './durable';

const COMPACT_AFTER_LINES = 5000;

export class RunStore {
  private readonly log: AppendLog;
  private readonly byId = new Map<string, RunRecord>();
  private lines = 0;

  constructor(private readonly dataDir: string) {
    this.log = new AppendLog(join(dataDir, 'runs.jsonl'));
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
      const rec = RunRecord.safeParse(raw);
      // Later lines of a run leave out its code and stdin (see put): merge, do not replace.
      if (rec.success) this.byId.set(rec.data.id, { ...this.byId.get(rec.data.id), ...rec.data });
      this.lines++;
    }
  }

  /** Runs that were in progress when Moat last stopped (crash, kill -9, power loss). */
  unfinished(): RunRecord[] {
    this.refresh();
    return [...this.byId.values()].filter((r) => r.status !== 'finished');
  }

  put(rec: RunRecord): void {
    const prev = this.byId.get(rec.id);
    this.byId.set(rec.id, rec);
    // Code and stdin (up to 1 MiB each) go into the log once per run, not with every status change.
    const line: Partial<RunRecord> = { ...rec };
    if (prev && prev.code === rec.code) delete line.code;
    if (prev && prev.stdin === rec.stdin) delete line.stdin;
    this.log.append(line);
    if (++this.lines > COMPACT_AFTER_LINES && this.lines > this.byId.size * 2) this.compact();
  }

  get(id: string): RunRecord | undefined {
    this.refresh();
    return this.byId.get(id);
  }

  /** Newest first, without code and stdin (`get` has them): a history page stays small. */
  list(opts: { limit?: number; before?: number } = {}): RunRecord[] {
    const limit = opts.limit ?? 200;
    this.refresh();
    return [...this.byId.values()]
      .filter((r) => opts.before === undefined || r.createdAt < opts.before)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map(({ code: _code, stdin: _stdin, ...summary }) => summary);
  }

  /** Stores what a finished run produced: its (capped) output and its resource samples. */
  saveOutput(id: string, output: RunDetail['output'], stats: RunDetail['stats'] = []): void {
    writeFileAtomic(this.outputPath(id), JSON.stringify({ output, stats }));
  }

  readOutput(id: string): Pick<RunDetail, 'output' | 'stats'> {
    const text = readFileOrNull(this.outputPath(id));
    if (text === null) return { output: [], stats: [] };
    try {
      const parsed = RunDetail.pick({ output: true, stats: true }).safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Unreadable: shown as no output rather than failing the whole detail.
    }
    return { output: [], stats: [] };
  }

  close(): void {
    this.log.close();
  }

  private outputPath(id: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error('bad run id');
    return join(this.dataDir, 'output', `${id}.json`);
  }

  private compact(): void {
    const all = [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt);
    this.log.rewrite(all);
    this.lines = all.length;
  }
}
