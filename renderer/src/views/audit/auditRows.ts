// An audit entry as a table row: the well-known details in their own columns, the rest compact.
import type { AuditEntry } from '../../../../shared/providers';

const OWN_COLUMNS = new Set(['label', 'target', 'outcome', 'reason']);

export interface AuditRow {
  outcome: string;
  label: string;
  target: string;
  reason: string;
  /** Other details as "key=value", in the order main wrote them. */
  rest: string;
}

function show(v: AuditEntry['details'][string] | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

export function auditRow(e: AuditEntry): AuditRow {
  const d = e.details;
  return {
    outcome: show(d.outcome) || 'ok',
    label: show(d.label),
    target: show(d.target),
    reason: show(d.reason),
    rest: Object.entries(d)
      .filter(([k]) => !OWN_COLUMNS.has(k))
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(' '),
  };
}

/** Case-insensitive match against everything the row shows. */
export function matchesFilter(e: AuditEntry, filter: string): boolean {
  const q = filter.trim().toLowerCase();
  if (!q) return true;
  const r = auditRow(e);
  return [e.action, e.by, r.outcome, r.label, r.target, r.reason, r.rest].some((s) => s.toLowerCase().includes(q));
}
