// Past and live runs, newest first. Clicking a row opens it in the output panel.
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RunRecord } from '../../../../shared/types';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatDuration, formatStarted } from '../../lib/format';
import { runTargetLabel } from '../../lib/targets';
import { newestFirst } from '../../stores/runRecords';
import { useRunsStore } from '../../stores/runs';
import { endReasonTone } from './endReason';

function HistoryRow({ run, selected, onOpen }: { run: RunRecord; selected: boolean; onOpen: (id: string) => void }) {
  return (
    <tr
      data-testid="history-row"
      data-run-id={run.id}
      data-end-reason={run.endReason ?? ''}
      data-status={run.status}
      className={selected ? 'selected' : undefined}
      tabIndex={0}
      aria-selected={selected}
      onClick={() => onOpen(run.id)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onOpen(run.id);
        }
      }}
    >
      <td>{run.template}</td>
      <td data-testid="run-target" data-target={run.target ?? 'local'} className={run.target ? undefined : 'muted'}>
        {runTargetLabel(run.target)}
      </td>
      <td title={new Date(run.startedAt ?? run.createdAt).toISOString()}>{formatStarted(run.startedAt ?? run.createdAt)}</td>
      <td className="num">{formatDuration(run.durationMs)}</td>
      <td className="num">{run.exitCode ?? '-'}</td>
      <td>
        {run.endReason ? (
          <span className={`badge tone-${endReasonTone(run)}`}>{run.endReason}</span>
        ) : (
          <span className={`status-chip status-${run.status}`}>{run.status}</span>
        )}
      </td>
      <td>
        {run.runtime.gvisor ? (
          <span className="runtime-gvisor">gVisor</span>
        ) : (
          <span className="badge tone-alarm">{run.runcOptIn ? 'runc (opt-in)' : run.runtime.name}</span>
        )}
      </td>
    </tr>
  );
}

export function HistoryTable() {
  const { runs, selectedId, select, listError } = useRunsStore(
    useShallow((s) => ({ runs: s.runs, selectedId: s.selectedId, select: s.select, listError: s.listError })),
  );
  const rows = useMemo(() => newestFirst(runs), [runs]);
  const open = (id: string) => void select(id);

  return (
    <div className="history">
      <div className="panel-header">
        <h2>History</h2>
        <span className="muted small">{rows.length === 1 ? '1 run' : `${rows.length} runs`}</span>
      </div>
      {listError && <ErrorNotice error={listError} testId="history-error" />}
      <div className="table-scroll">
        <table data-testid="history">
          <thead>
            <tr>
              <th>Template</th>
              <th>Where</th>
              <th>Started</th>
              <th className="num">Duration</th>
              <th className="num">Exit</th>
              <th>End reason</th>
              <th>Runtime</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr className="empty-row">
                <td colSpan={7}>No runs yet.</td>
              </tr>
            ) : (
              rows.map((r) => <HistoryRow key={r.id} run={r} selected={r.id === selectedId} onOpen={open} />)
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
