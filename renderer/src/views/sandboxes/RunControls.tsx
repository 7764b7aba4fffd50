// Run and Cancel, and the reason the last run could not start.
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useEditorStore } from '../../stores/editor';
import { useRunsStore } from '../../stores/runs';
import { useRunAction } from './useRunAction';

export function RunControls() {
  const { submitting, runError, selectedId, selectedStatus, cancelling, cancel, setRunError } = useRunsStore(
    useShallow((s) => ({
      submitting: s.submitting,
      runError: s.runError,
      selectedId: s.selectedId,
      // A run we started but whose first update has not arrived yet is starting.
      selectedStatus: s.selectedId ? (s.runs[s.selectedId]?.status ?? 'starting') : null,
      cancelling: s.cancelling,
      cancel: s.cancel,
      setRunError: s.setRunError,
    })),
  );
  const canRun = useEditorStore((s) => s.selectedId !== null);
  const run = useRunAction();
  const active = selectedId !== null && selectedStatus !== 'finished' && selectedStatus !== null;

  return (
    <div className="run-controls">
      <div className="buttons">
        <button type="button" className="primary" data-testid="run-button" onClick={run} disabled={!canRun || submitting}>
          {submitting ? 'Starting…' : 'Run'}
        </button>
        {active && selectedId && (
          <button
            type="button"
            className="danger"
            data-testid="cancel-button"
            onClick={() => void cancel(selectedId)}
            disabled={cancelling === selectedId}
          >
            {cancelling === selectedId ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {runError && <ErrorNotice error={runError} testId="run-error" onDismiss={() => setRunError(null)} />}
    </div>
  );
}
