// Right column, top: the selected run's summary, its output, and (for past runs) its code.
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useRunsStore, useSelectedRun } from '../../stores/runs';
import { OutputView } from './OutputView';
import { RunCode } from './RunCode';
import { RunSummary } from './RunSummary';

export function OutputPanel() {
  const { selectedId, detail } = useRunsStore(useShallow((s) => ({ selectedId: s.selectedId, detail: s.detail })));
  const run = useSelectedRun();
  const detailForSelected = detail && detail.runId === selectedId ? detail : null;

  return (
    <div className="output-panel-body">
      <div className="panel-header">
        <h2>Output</h2>
        <span className="legend">
          <span className="legend-stdout">stdout</span>
          <span className="legend-stderr">stderr</span>
        </span>
      </div>
      {!selectedId ? (
        <div className="empty-state">Run some code to see its output here, or open a past run from the history.</div>
      ) : (
        <>
          <RunSummary runId={selectedId} run={run} />
          {detailForSelected?.loading && <div className="muted small">Loading run…</div>}
          {detailForSelected?.error && <ErrorNotice error={detailForSelected.error} testId="run-detail-error" />}
          <OutputView runId={selectedId} status={run?.status ?? 'starting'} />
          {run?.status === 'finished' && run.code !== undefined && <RunCode run={run} />}
        </>
      )}
    </div>
  );
}
