// `moat history`: the past runs, newest first, with where each ran. `moat history prune`: applies
// retention to the run history now, whether or not a Moat host or the desktop app is running (the
// history's lock keeps them apart, and they follow the rewrite).
import type { Retention } from '../../shared/types';
import { RunStore } from '../../main/store/runs';
import { SettingsStore } from '../../main/store/settings';
import { parseSize } from './parse';

const HISTORY_WIDTHS = [24, 9, 20, 9, 5, 13, 16, 16];

/** The run's target as shown: `local`, or the host name of `ssh:<host>`. */
export function targetName(target: string | undefined): string {
  if (!target) return 'local';
  return target.startsWith('ssh:') ? target.slice(4) : target;
}

export function listHistory(opts: { limit: string; json?: boolean }, dataDir: string): void {
  const store = new RunStore(dataDir);
  const runs = store.list({ limit: Math.max(1, Number(opts.limit) || 20) });
  store.close();
  if (opts.json) {
    process.stdout.write(JSON.stringify(runs) + '\n');
    return;
  }
  const pad = (cols: string[]): string =>
    cols
      .map((c, i) => c.padEnd(HISTORY_WIDTHS[i] ?? 10))
      .join(' ')
      .trimEnd();
  process.stdout.write(pad(['RUN', 'TEMPLATE', 'STARTED', 'DURATION', 'EXIT', 'ENDED', 'RUNTIME', 'ON']) + '\n');
  for (const r of runs) {
    const started = new Date(r.startedAt ?? r.createdAt).toISOString().replace('T', ' ').slice(0, 19);
    const duration = r.durationMs === undefined ? '-' : `${(r.durationMs / 1000).toFixed(2)}s`;
    const runtime = r.runtime.gvisor ? r.runtime.name : `${r.runtime.name} (opt-in)`;
    const cols = [r.id, r.template, started, duration, r.exitCode === null ? '-' : String(r.exitCode), r.endReason ?? r.status, runtime];
    process.stdout.write(pad([...cols, targetName(r.target)]) + '\n');
  }
}

export interface PruneFlags {
  olderThan?: string;
  keep?: string;
  maxSize?: string;
  dryRun?: boolean;
  json?: boolean;
}

const AGE_UNITS: Record<string, number> = { s: 1 / 86400, m: 1 / 1440, h: 1 / 24, d: 1, w: 7 };

/** "30d", "12h", "2w", or plain days ("30"), in days. */
export function parseAgeDays(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])?$/.exec(text.trim());
  if (!m) throw new Error(`invalid age "${text}": use e.g. 30d, 12h, 2w`);
  return Number(m[1]) * AGE_UNITS[m[2] ?? 'd']!;
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`invalid count "${text}": expected a whole number`);
  return Number(text);
}

/** The Settings retention, with each limit given on the command line in its place. */
export function retentionFrom(flags: PruneFlags, settings: Retention): Retention {
  return {
    maxAgeDays: flags.olderThan !== undefined ? parseAgeDays(flags.olderThan) : settings.maxAgeDays,
    maxRuns: flags.keep !== undefined ? parseCount(flags.keep) : settings.maxRuns,
    maxBytes: flags.maxSize !== undefined ? parseSize(flags.maxSize) : settings.maxBytes,
  };
}

export function pruneCommand(flags: PruneFlags, dataDir: string): void {
  const retention = retentionFrom(flags, new SettingsStore(dataDir).get().retention);
  const store = new RunStore(dataDir);
  let report;
  try {
    report = store.prune(retention, { dryRun: Boolean(flags.dryRun), sweep: true });
  } finally {
    store.close();
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify({ dryRun: Boolean(flags.dryRun), retention, ...report }) + '\n');
    return;
  }
  const verb = flags.dryRun ? 'would remove' : 'removed';
  for (const v of report.removed) {
    const created = new Date(v.createdAt).toISOString().replace('T', ' ').slice(0, 19);
    process.stdout.write(`${verb} ${v.id.padEnd(24)} ${created}  ${formatBytes(v.bytes).padStart(10)}  (${v.reason})\n`);
  }
  for (const o of report.orphans) process.stdout.write(`${verb} leftover file ${o.path}\n`);
  const freed = report.removed.reduce((n, v) => n + v.bytes, 0) + report.orphans.reduce((n, o) => n + o.bytes, 0);
  const leftovers = report.orphans.length ? ` and ${report.orphans.length} leftover file(s)` : '';
  process.stdout.write(
    `${verb} ${report.removed.length} run(s)${leftovers}, ${formatBytes(freed)}; ` +
      `kept ${report.keptRuns} run(s), ${formatBytes(report.keptBytes)} ` +
      `(limits: ${+retention.maxAgeDays.toFixed(3)} days, ${retention.maxRuns} runs, ${formatBytes(retention.maxBytes)})\n`,
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
