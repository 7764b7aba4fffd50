// The audit log: what Moat did with provider accounts and instances, and who asked, newest first.
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AuditEntry } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatStarted } from '../../lib/format';
import { AUDIT_PAGE, useAuditStore } from '../../stores/audit';
import { auditRow, matchesFilter } from './auditRows';

function outcomeTone(outcome: string): string {
  if (outcome === 'ok') return 'good';
  if (outcome === 'refused' || outcome === 'denied') return 'warn';
  return 'bad';
}

function Row({ entry }: { entry: AuditEntry }) {
  const r = auditRow(entry);
  return (
    <tr data-testid="audit-row" data-action={entry.action} data-outcome={r.outcome}>
      <td title={new Date(entry.t).toISOString()}>{formatStarted(entry.t)}</td>
      <td className="mono">{entry.action}</td>
      <td>{r.label}</td>
      <td className="audit-target">{r.target}</td>
      <td>
        <span className={`badge tone-${outcomeTone(r.outcome)}`}>{r.outcome}</span>
      </td>
      <td className="audit-reason">{r.reason}</td>
      <td className="muted small">{entry.by}</td>
      <td className="audit-rest mono small" title={r.rest}>
        {r.rest}
      </td>
    </tr>
  );
}

export function AuditView() {
  const { entries, loaded, error, open } = useAuditStore(
    useShallow((s) => ({ entries: s.entries, loaded: s.loaded, error: s.error, open: s.open })),
  );
  const [filter, setFilter] = useState('');
  const deferred = useDeferredValue(filter);
  useEffect(() => open(), [open]);
  const rows = useMemo(() => entries.filter((e) => matchesFilter(e, deferred)), [entries, deferred]);

  return (
    <div className="page audit" data-testid="audit-view">
      <section className="panel" aria-label="Audit log">
        <div className="panel-header">
          <h2>Audit log</h2>
          <div className="header-actions">
            <label className="inline-field">
              <span>Filter</span>
              <input
                type="search"
                data-testid="audit-filter"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
                placeholder="action, account, target…"
                spellCheck={false}
              />
            </label>
            <span className="muted small">
              {rows.length === entries.length ? `${entries.length} entries` : `${rows.length} of ${entries.length} entries`}
            </span>
          </div>
        </div>
        <p className="muted small form-note">The newest {AUDIT_PAGE} entries when the view opened, and those added since.</p>
        {error && <ErrorNotice error={error} testId="audit-error" />}
        <div className="table-scroll tall">
          <table className="data-table" data-testid="audit-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Action</th>
                <th>Account</th>
                <th>Target</th>
                <th>Outcome</th>
                <th>Reason</th>
                <th>By</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? (
                <tr className="empty-row">
                  <td colSpan={8}>
                    {!loaded ? (error ? '' : 'Loading…') : entries.length === 0 ? 'Nothing audited yet.' : 'No entry matches the filter.'}
                  </td>
                </tr>
              ) : (
                rows.map((e) => <Row key={JSON.stringify([e.t, e.action, e.by, e.details])} entry={e} />)
              )}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
