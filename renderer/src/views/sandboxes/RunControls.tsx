// Run and Cancel, "don't keep", and the reason the last run could not start.
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useEditorStore } from '../../stores/editor';
import { useRunsStore } from '../../stores/runs';
import { useRunAction } from './useRunAction';

const DONT_KEEP_HINT = "Not kept: the run's code, input and output stay out of history; only its summary is recorded.";

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
  const { canRun, dontKeep, setDontKeep } = useEditorStore(
    useShallow((s) => ({ canRun: s.selectedId !== null, dontKeep: s.dontKeep, setDontKeep: s.setDontKeep })),
  );
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
        <label className="checkbox keep-toggle" title={DONT_KEEP_HINT}>
          <input
            type="checkbox"
            data-testid="dont-keep"
            checked={dontKeep}
            onChange={(e) => setDontKeep(e.target.checked)}
            aria-describedby="dont-keep-hint"
          />
          <span>Don&apos;t keep</span>
        </label>
      </div>
      <div id="dont-keep-hint" className={dontKeep ? 'keep-hint active' : 'keep-hint'} data-testid="dont-keep-hint">
        {dontKeep ? DONT_KEEP_HINT : 'Code, input and output are kept in history.'}
      </div>
      {runError && <ErrorNotice error={runError} testId="run-error" onDismiss={() => setRunError(null)} />}
    </div>
  );
}
