// Preparing a host: install what the checklist found missing (idempotent), or only check. Steps
// and their outcomes show as they happen; each step's log lines arrive when it ends.
import { useEffect, useRef, useState } from 'react';
import type { PrepareRequest } from '../../../../shared/remote';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatDuration } from '../../lib/format';
import { nvidiaReady, outcomeText, type PrepareStepView } from '../../lib/targets';
import { useCheck, useHostPrepStore, usePrepare } from '../../stores/hostPrep';

type Images = NonNullable<PrepareRequest['images']>;

const NVPROXY_NOTE = "GPU sandboxes (gVisor nvproxy) have not been verified on GPU hardware by Moat's tests";
const MARKS: Record<PrepareStepView['state'], string> = { running: '…', done: '✓', failed: '✕', 'not-run': '·' };

function StepRow({ step }: { step: PrepareStepView }) {
  const cls =
    step.state === 'running'
      ? 'step step-current'
      : step.state === 'failed'
        ? 'step step-failed'
        : step.state === 'done'
          ? 'step step-done'
          : 'step step-pending';
  return (
    <li className={cls} data-testid="prepare-step" data-step={step.id} data-state={step.state} data-outcome={step.outcome ?? ''}>
      <span className="step-mark" aria-hidden="true">
        {MARKS[step.state]}
      </span>
      <span className="step-label">{step.label}</span>
      <span className="step-outcome" data-testid="prepare-step-outcome">
        {step.state === 'running' ? 'running…' : outcomeText(step.outcome)}
      </span>
      <span className="small muted">
        {step.durationMs !== undefined && step.state !== 'not-run' ? formatDuration(step.durationMs) : ''}
        {step.message && <span className="bad-text"> {step.message}</span>}
      </span>
    </li>
  );
}

export function PreparePanel({ target }: { target: string }) {
  const { checklist } = useCheck(target);
  const prep = usePrepare(target);
  const prepare = useHostPrepStore((s) => s.prepare);
  const [images, setImages] = useState<Images>('pull');
  const [nvproxy, setNvproxy] = useState(false);
  const [checkOnly, setCheckOnly] = useState(false);
  const logRef = useRef<HTMLPreElement>(null);
  const gpu = nvidiaReady(checklist);
  const logLength = prep?.live.log.length ?? 0;

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [logLength]);

  const start = () => {
    const request: PrepareRequest = { target, images };
    if (checkOnly) request.checkOnly = true;
    if (gpu && nvproxy) request.nvproxy = true;
    void prepare(request);
  };

  const running = prep?.running ?? false;
  const result = prep?.result ?? null;

  return (
    <div className="host-section" data-testid="host-prepare-panel">
      <div className="section-head">
        <h3 className="subhead">Prepare</h3>
      </div>
      <fieldset className="prepare-options" disabled={running}>
        <legend className="visually-hidden">Preparation options</legend>
        <div className="form-row">
          <label className="field">
            <span>Template images</span>
            <select data-testid="prepare-images" value={images} onChange={(e) => setImages(e.target.value as Images)}>
              <option value="pull">Pull them</option>
              <option value="build">Build them on the host</option>
              <option value="none">Leave them</option>
            </select>
          </label>
          {gpu && (
            <label className="checkbox" title={NVPROXY_NOTE}>
              <input type="checkbox" data-testid="prepare-nvproxy" checked={nvproxy} onChange={(e) => setNvproxy(e.target.checked)} />
              <span>GPU sandboxes</span>
            </label>
          )}
          <label className="checkbox">
            <input type="checkbox" data-testid="prepare-check-only" checked={checkOnly} onChange={(e) => setCheckOnly(e.target.checked)} />
            <span>Check only, change nothing</span>
          </label>
          <button type="button" className="primary" data-testid="host-prepare" onClick={start}>
            {running ? 'Preparing…' : checkOnly ? 'Check the steps' : 'Prepare'}
          </button>
        </div>
        {gpu && (
          <p className="warn-text small" data-testid="prepare-nvproxy-note">
            {NVPROXY_NOTE}.
          </p>
        )}
        {!checklist && <p className="muted small">The GPU option appears once a check finds a working NVIDIA driver.</p>}
      </fieldset>

      {prep && (
        <div
          className="prepare-progress"
          data-testid="prepare-progress"
          data-running={String(running)}
          data-ok={result ? String(result.ok) : undefined}
          aria-live="polite"
        >
          {running && (
            <div className="busy" role="status">
              {prep.checkOnly ? 'Checking each step' : 'Preparing'}
              {prep.live.total ? ` (${prep.live.steps.length} of ${prep.live.total})` : ''}…
            </div>
          )}
          <ol className="steps">
            {prep.live.steps.map((s) => (
              <StepRow key={s.id} step={s} />
            ))}
          </ol>
          {result && (
            <div className={result.ok ? 'notice' : 'account-error'} role="status" data-testid="prepare-result" data-ok={String(result.ok)}>
              {result.ok
                ? result.checkOnly
                  ? 'Checked: nothing was changed.'
                  : 'Prepared.'
                : `Stopped at "${result.failed?.label ?? 'a step'}": ${result.failed?.message ?? 'it failed'}.`}
            </div>
          )}
          {result && result.warnings.length > 0 && (
            <ul className="prepare-warnings" data-testid="prepare-warnings">
              {result.warnings.map((w, n) => (
                <li key={n} className="warn-text small">
                  {w}
                </li>
              ))}
            </ul>
          )}
          {prep.live.log.length > 0 && (
            <pre className="prepare-log" data-testid="prepare-log" ref={logRef} tabIndex={0} aria-label="Preparation log">
              {prep.live.log.join('\n')}
            </pre>
          )}
          {prep.error && <ErrorNotice error={prep.error} testId="prepare-error" />}
          {result?.after && (
            <p className="small" data-testid="prepare-after" data-ready={String(result.after.ready)}>
              Checked again afterwards: {result.after.ready ? 'ready, sandboxes can run here' : 'not ready yet'} (the checklist above is
              that reading).
            </p>
          )}
        </div>
      )}
    </div>
  );
}
