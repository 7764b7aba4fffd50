// The launch under way, step by step, as main reports it: checking, SSH key, firewall (a locked
// start), requested, booting,
// then ready (running and reachable) or failed with the reason.
import type { Instance } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatStarted } from '../../lib/format';
import { latestStep, STEP_LABELS, stepRows, type StepState } from '../../lib/launch';
import { useLaunchStore } from '../../stores/launch';

const MARKS: Record<StepState, string> = { done: '✓', current: '…', pending: '·', failed: '✗' };

interface Props {
  instances: readonly Instance[];
  /** The launch form is open and shows the same error in full: say it in one line here. */
  errorShownInForm: boolean;
}

export function LaunchProgress({ instances, errorShownInForm }: Props) {
  const launch = useLaunchStore((s) => s.launch);
  const dismiss = useLaunchStore((s) => s.dismiss);
  if (!launch) return null;

  const failed = launch.error !== null;
  const rows = stepRows(launch.events, failed, launch.locked);
  const latest = latestStep(launch.events, failed);
  const last = launch.events.at(-1);
  const instanceId = launch.instance?.id ?? [...launch.events].reverse().find((e) => e.instanceId)?.instanceId ?? null;
  const listed = instanceId ? instances.find((i) => i.id === instanceId && i.account === launch.account) : undefined;
  const ipv4 = [...launch.events].reverse().find((e) => e.ipv4)?.ipv4 ?? listed?.ipv4 ?? launch.instance?.ipv4 ?? null;

  return (
    <section className="panel launch-progress" data-testid="launch-progress" data-step={latest ?? ''} aria-label="Launch progress">
      <div className="panel-header">
        <h2>
          {latest === 'ready' ? 'Launched' : failed ? 'Failed to launch' : 'Launching'} {launch.account}/{launch.name}
        </h2>
        <button type="button" data-testid="launch-progress-close" onClick={dismiss}>
          {latest === 'ready' || failed ? 'Close' : 'Hide'}
        </button>
      </div>
      <ol className="steps">
        {rows.map((r) => (
          <li key={r.step} className={`step step-${r.state}`} data-testid="launch-step" data-step={r.step} data-state={r.state}>
            <span className="step-mark" aria-hidden="true">
              {MARKS[r.state]}
            </span>
            <span className="step-label">{STEP_LABELS[r.step]}</span>
            <span className="step-time muted small">{r.at !== null ? formatStarted(r.at) : ''}</span>
            <span>{r.rawStatus && <span className="status-chip">{r.rawStatus}</span>}</span>
          </li>
        ))}
      </ol>
      <div className="launch-facts small">
        {instanceId && (
          <span>
            ID <span className="mono">{instanceId}</span>
          </span>
        )}
        <span data-testid="launch-ip">
          Address: <span className="mono">{ipv4 ?? (failed ? '-' : 'not yet known')}</span>
        </span>
        {launch.submitting && <span className="muted">Waiting for the provider to accept the launch…</span>}
        {latest === 'ready' && <span className="good-text">Running and reachable.</span>}
        {last?.step === 'booting' && last.rawStatus && <span className="muted">Provider status: {last.rawStatus}</span>}
      </div>
      {launch.error &&
        (errorShownInForm ? (
          <div className="bad-text small" data-testid="launch-progress-error" data-code={launch.error.code}>
            {launch.error.message}
          </div>
        ) : (
          <ErrorNotice error={launch.error} testId="launch-progress-error" />
        ))}
    </section>
  );
}
