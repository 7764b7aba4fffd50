// Batches (batch.start, from the API): progress, pass/fail counts, rate and ETA, and for the one
// selected its slowest and failing runs. Each run is also in the history (Sandboxes view).
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { BatchRunRef, BatchSummary } from '../../../../shared/batch';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatDuration, formatStarted } from '../../lib/format';
import { useBatchesStore } from '../../stores/batches';

function Progress({ s }: { s: BatchSummary }) {
  const pct = s.total ? Math.floor((s.done / s.total) * 100) : 100;
  return (
    <span className="batch-progress" title={`${s.done} of ${s.total}`}>
      <progress max={s.total} value={s.done} /> {pct}%
    </span>
  );
}

function RunRefs({ title, rows, testId }: { title: string; rows: BatchRunRef[]; testId: string }) {
  return (
    <div data-testid={testId}>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>Item</th>
              <th>Run</th>
              <th>Ended</th>
              <th>Exit</th>
              <th>Duration</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td className="mono">{r.id}</td>
                <td className="mono small">{r.runId ?? '-'}</td>
                <td>{r.endReason}</td>
                <td>{r.exitCode ?? '-'}</td>
                <td>{formatDuration(r.durationMs)}</td>
                <td className="small">{r.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function BatchesView() {
  const { batches, loaded, error, selected, open, select, cancel } = useBatchesStore(
    useShallow((s) => ({
      batches: s.batches,
      loaded: s.loaded,
      error: s.error,
      selected: s.selected,
      open: s.open,
      select: s.select,
      cancel: s.cancel,
    })),
  );
  useEffect(() => open(), [open]);
  const current = batches.find((b) => b.batchId === selected) ?? null;

  return (
    <div className="page batches" data-testid="batches-view">
      <section className="panel" aria-label="Batches">
        <div className="panel-header">
          <h2>Batches</h2>
          <span className="muted small">{batches.length} batch(es)</span>
        </div>
        <p className="muted small form-note">Batches started through the API since Moat started (kept in memory).</p>
        {error && <ErrorNotice error={error} testId="batches-error" />}
        {loaded && batches.length === 0 ? (
          <p className="muted">No batches yet.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="batches-table">
              <thead>
                <tr>
                  <th>Started</th>
                  <th>Name</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th>Passed</th>
                  <th>Failed</th>
                  <th>Running</th>
                  <th>Rate</th>
                  <th>ETA</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {batches.map((b) => (
                  <tr
                    key={b.batchId}
                    data-testid="batch-row"
                    className={b.batchId === selected ? 'selected' : undefined}
                    onClick={() => void select(b.batchId)}
                  >
                    <td>{formatStarted(b.startedAt)}</td>
                    <td>{b.name ?? b.batchId}</td>
                    <td>{b.status}</td>
                    <td>
                      <Progress s={b} />
                    </td>
                    <td>{b.passed}</td>
                    <td className={b.failed ? 'tone-bad' : undefined}>{b.failed}</td>
                    <td>{b.running}</td>
                    <td>{b.rate.toFixed(2)}/s</td>
                    <td>{b.status === 'running' ? (b.etaMs === null ? '?' : formatDuration(b.etaMs)) : '-'}</td>
                    <td>
                      {b.status === 'running' && (
                        <button
                          type="button"
                          onClick={(e) => {
                            e.stopPropagation();
                            void cancel(b.batchId);
                          }}
                        >
                          Cancel
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {current && (
        <section className="panel" aria-label="Batch detail" data-testid="batch-detail">
          <div className="panel-header">
            <h2>{current.name ?? current.batchId}</h2>
            <span className="muted small">
              {current.done}/{current.total} done, {current.passed} passed, {current.failed} failed
            </span>
          </div>
          <RunRefs title="Slowest runs" rows={current.slowest} testId="batch-slowest" />
          <RunRefs title="Failing runs (first 20)" rows={current.failing} testId="batch-failing" />
        </section>
      )}
    </div>
  );
}
