// Alerts as the Alerts view filters, merges and describes them. Plain functions, unit-tested.
import type { Alert, AlertFilter, EgressPolicy, Severity } from '../../../shared/egress';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export const POLICY_LABELS: Record<EgressPolicy, string> = {
  redact: 'Redact: show output with secrets replaced, and alert',
  block: 'Block: withhold the output when anything is found',
  stop: 'Stop: stop the run at the first critical finding',
};

export function severityTone(s: Severity): 'alarm' | 'bad' | 'warn' | 'neutral' {
  if (s === 'critical') return 'alarm';
  if (s === 'high') return 'bad';
  if (s === 'medium') return 'warn';
  return 'neutral';
}

/** The filter form: empty strings mean "any". */
export interface AlertFilterForm {
  severity: Severity | '';
  rule: string;
  runId: string;
  kind: Alert['kind'] | '';
  acknowledged: 'all' | 'no' | 'yes';
}

export const DEFAULT_FILTER: AlertFilterForm = { severity: '', rule: '', runId: '', kind: '', acknowledged: 'no' };

export const ALERTS_PAGE = 500;
const KEPT = 2000;

/** The form as alerts.list params. */
export function filterParams(f: AlertFilterForm, limit = ALERTS_PAGE): AlertFilter {
  const p: AlertFilter = { limit };
  if (f.severity) p.severity = f.severity;
  if (f.rule.trim()) p.rule = f.rule.trim();
  if (f.runId.trim()) p.runId = f.runId.trim();
  if (f.kind) p.kind = f.kind;
  if (f.acknowledged !== 'all') p.acknowledged = f.acknowledged === 'yes';
  return p;
}

/** Whether an alert belongs in the list the form asked for (for alerts pushed after the list was read). */
export function matchesFilter(a: Alert, f: AlertFilterForm): boolean {
  if (f.severity && a.severity !== f.severity) return false;
  if (f.rule.trim() && a.rule !== f.rule.trim()) return false;
  const run = f.runId.trim();
  if (run && a.runId !== run && !a.runId.startsWith(run)) return false;
  if (f.kind && a.kind !== f.kind) return false;
  if (f.acknowledged !== 'all' && a.acknowledged !== (f.acknowledged === 'yes')) return false;
  return true;
}

/** Newest first, one per id (the first of `a` then `b` wins), at most `limit`. */
export function mergeAlerts(a: readonly Alert[], b: readonly Alert[], limit = KEPT): Alert[] {
  const seen = new Set<string>();
  const out: Alert[] = [];
  for (const x of [...a, ...b]) {
    if (seen.has(x.id)) continue;
    seen.add(x.id);
    out.push(x);
  }
  return out.sort((x, y) => y.t - x.t).slice(0, limit);
}

/** The list after `ids` were acknowledged (they stay listed, marked, until the next read). */
export function markAcknowledged(list: readonly Alert[], ids: readonly string[], at = Date.now()): Alert[] {
  const set = new Set(ids);
  return list.map((a) => (set.has(a.id) && !a.acknowledged ? { ...a, acknowledged: true, acknowledgedAt: at } : a));
}

/** The rules seen in a list, for the rule filter's suggestions. */
export function rulesIn(list: readonly Alert[]): string[] {
  return [...new Set(list.map((a) => a.rule))].sort();
}

/** What the alert was about, in a few words, never the secret. */
export function alertSubject(a: Alert): string {
  if (a.kind === 'network') {
    const dest = a.destination ?? 'unknown destination';
    return a.port === undefined ? dest : `${dest}:${a.port}`;
  }
  return a.preview ?? '(no preview)';
}

/** Where in the output a secret alert was: `stdout @ 120 +20`. */
export function alertPosition(a: Alert): string {
  if (a.kind !== 'secret') return '-';
  const at = a.offset === undefined ? '' : ` @ byte ${a.offset}`;
  const len = a.length === undefined ? '' : `, ${a.length} bytes`;
  return `${a.stream ?? 'output'}${at}${len}`;
}

export function counterText(n: number): string {
  return n === 1 ? '1 alert' : `${n} alerts`;
}
