// Egress-filter alerts: an append-only log (`alerts.jsonl`) shared by every Moat process, holding
// alerts and acknowledgements as separate lines, so a `moat run` in a terminal raises alerts an
// open window shows, and acknowledging never rewrites what was recorded. Each process reads the log
// incrementally. Suppressed rules live in `alert-suppressions.json` (a RecordFile); every change to
// them is recorded in the audit log by the service that makes it.
//
// An alert never holds the secret: the finding's position and a masked preview only (the stored
// file is tested for it).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod';
import { Alert, Suppression, type AlertCounts, type AlertFilter, type Severity } from '../../shared/egress';
import { AppendLog } from './durable';
import { FileLock } from './lock';
import { RecordFile } from './record-file';

type Line = { type: 'alert'; alert: Alert } | { type: 'ack'; ids: string[]; t: number };

export type NewAlert = Omit<Alert, 'id' | 't' | 'acknowledged' | 'acknowledgedAt'>;

/** Alerts kept; past it the oldest (acknowledged ones first) are dropped, from memory at once and from the file when it is compacted. */
const MAX_ALERTS = 50_000;

/**
 * Appends (alerts and acknowledgements) and compactions take `alerts.jsonl.lock`, so a compaction
 * never loses another process's line. The file is compacted (rewritten with the alerts kept, their
 * acknowledgements folded in) once it holds twice as many lines as there are alerts to keep.
 */
export class AlertStore {
  private readonly log: AppendLog;
  private readonly reader: AppendLog;
  private readonly lock: FileLock;
  private readonly alerts = new Map<string, Alert>();
  private readonly suppressions: RecordFile<Suppression>;
  private readonly maxAlerts: number;
  /** Lines in the file as last read (after a compaction: the alerts written). */
  private lines = 0;

  constructor(dataDir: string, opts: { maxAlerts?: number } = {}) {
    const path = join(dataDir, 'alerts.jsonl');
    this.log = new AppendLog(path);
    this.reader = new AppendLog(path);
    this.lock = new FileLock(`${path}.lock`);
    this.maxAlerts = opts.maxAlerts ?? MAX_ALERTS;
    this.suppressions = new RecordFile(join(dataDir, 'alert-suppressions.json'), 'rules', Suppression);
  }

  /** Records an alert (unacknowledged) and returns it. */
  append(a: NewAlert): Alert {
    const alert = Alert.parse({
      ...a,
      id: `a${Date.now().toString(36)}${randomBytes(5).toString('hex')}`,
      t: Date.now(),
      acknowledged: false,
    });
    this.appendLine({ type: 'alert', alert });
    return alert;
  }

  /** Marks alerts acknowledged; returns how many were not already. */
  acknowledge(ids: string[]): number {
    this.refresh();
    const fresh = ids.filter((id) => this.alerts.get(id)?.acknowledged === false);
    if (fresh.length === 0) return 0;
    this.appendLine({ type: 'ack', ids: fresh, t: Date.now() });
    this.refresh();
    return fresh.length;
  }

  private appendLine(line: Line): void {
    this.lock.withLock(() => {
      this.refresh();
      this.log.append(line);
      this.refresh();
      if (this.lines > 2 * this.maxAlerts) {
        const kept = [...this.alerts.values()].map((alert) => ({ type: 'alert', alert }) satisfies Line);
        this.log.rewrite(kept);
        this.refresh();
        this.lines = kept.length;
      }
    });
  }

  /** Newest first, filtered. */
  list(f: AlertFilter = {}): Alert[] {
    this.refresh();
    const out: Alert[] = [];
    const all = [...this.alerts.values()];
    for (let i = all.length - 1; i >= 0 && out.length < (f.limit ?? 500); i--) {
      const a = all[i]!;
      if (f.before !== undefined && a.t >= f.before) continue;
      if (f.severity && a.severity !== f.severity) continue;
      if (f.rule && a.rule !== f.rule) continue;
      if (f.runId && a.runId !== f.runId) continue;
      if (f.kind && a.kind !== f.kind) continue;
      if (f.acknowledged !== undefined && a.acknowledged !== f.acknowledged) continue;
      out.push(a);
    }
    return out;
  }

  counts(): AlertCounts {
    this.refresh();
    const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    let unacknowledged = 0;
    for (const a of this.alerts.values()) {
      if (a.acknowledged) continue;
      unacknowledged++;
      bySeverity[a.severity]++;
    }
    return { unacknowledged, bySeverity, total: this.alerts.size };
  }

  suppressed(): Suppression[] {
    return Object.values(this.suppressions.all()).sort((a, b) => a.rule.localeCompare(b.rule));
  }

  suppressedRules(): Set<string> {
    return new Set(Object.keys(this.suppressions.all()));
  }

  suppress(s: Suppression): Suppression[] {
    this.suppressions.update((all) => {
      all[s.rule] = s;
    });
    return this.suppressed();
  }

  /** Returns false when the rule was not suppressed. */
  unsuppress(rule: string): boolean {
    let had = false;
    this.suppressions.update((all) => {
      had = rule in all;
      delete all[rule];
    });
    return had;
  }

  close(): void {
    this.log.close();
    this.reader.close();
  }

  private refresh(): void {
    const { reset, values } = this.reader.readNew();
    if (reset) {
      this.alerts.clear();
      this.lines = 0;
    }
    this.lines += values.length;
    for (const v of values) {
      const line = LineSchema.safeParse(v);
      if (!line.success) continue;
      if (line.data.type === 'alert') this.alerts.set(line.data.alert.id, line.data.alert);
      else {
        for (const id of line.data.ids) {
          const a = this.alerts.get(id);
          if (a && !a.acknowledged) this.alerts.set(id, { ...a, acknowledged: true, acknowledgedAt: line.data.t });
        }
      }
    }
    // Bounded memory: the oldest acknowledged alerts go first, then the oldest.
    if (this.alerts.size > this.maxAlerts) {
      for (const [id, a] of this.alerts) {
        if (this.alerts.size <= this.maxAlerts) break;
        if (a.acknowledged) this.alerts.delete(id);
      }
      for (const id of this.alerts.keys()) {
        if (this.alerts.size <= this.maxAlerts) break;
        this.alerts.delete(id);
      }
    }
  }
}

const LineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('alert'), alert: Alert }),
  z.object({ type: z.literal('ack'), ids: z.array(z.string()), t: z.number() }),
]);
