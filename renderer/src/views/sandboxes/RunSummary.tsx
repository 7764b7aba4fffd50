// Status line of the selected run: state, how it ended, where it ran, exit code, duration, runtime.
import type { RunRecord } from '../../../../shared/types';
import { formatBytes, formatDuration } from '../../lib/format';
import { runTargetLabel } from '../../lib/targets';
import { endReasonDetail, endReasonLabel, endReasonTone } from './endReason';
import { RunArtifacts } from './RunArtifacts';
import { RunEgress } from './RunEgress';

interface Props {
  runId: string;
  run: RunRecord | null;
}

export function RunSummary({ runId, run }: Props) {
  const status = run?.status ?? 'starting';
  return (
    <div className="run-summary">
      <div className="run-summary-row">
        <span className={`status-chip status-${status}`} data-testid="run-status">
          {status}
        </span>
        {run?.endReason && (
          <span className={`badge tone-${endReasonTone(run)}`} data-testid="run-end-reason" title={endReasonLabel(run.endReason)}>
            {run.endReason}
          </span>
        )}
        {run && <RuntimeBadge run={run} />}
        {run && (
          <span className="badge tone-neutral" data-testid="run-target" data-target={run.target ?? 'local'} title="Where it ran">
            on {runTargetLabel(run.target)}
          </span>
        )}
        {run?.warm && (
          <span className="badge tone-neutral" title="Started from a pre-warmed sandbox">
            warm
          </span>
        )}
        <span className="run-id" title={runId}>
          {run ? `${run.template} · ` : ''}
          {runId.slice(0, 12)}
        </span>
      </div>
      <dl className="run-facts">
        <div>
          <dt>Exit code</dt>
          <dd data-testid="run-exit-code">{run?.exitCode ?? '-'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="run-duration">{formatDuration(run?.durationMs)}</dd>
        </div>
        <div>
          <dt>Output</dt>
          <dd>{run?.status === 'finished' ? formatBytes(run.stdoutBytes + run.stderrBytes) : '-'}</dd>
        </div>
        <div>
          <dt>Peak memory</dt>
          <dd>{formatBytes(run?.peakMemoryBytes)}</dd>
        </div>
      </dl>
      {run?.endReason && (
        <div className={`end-detail tone-${endReasonTone(run)}`} data-testid="run-end-detail">
          {endReasonDetail(run)}
        </div>
      )}
      {run && <RunEgress run={run} />}
      {run && <RunArtifacts run={run} />}
      {run?.truncated && <div className="end-detail tone-warn">Output past the {formatBytes(run.limits.outputBytes)} cap was dropped.</div>}
    </div>
  );
}

function RuntimeBadge({ run }: { run: RunRecord }) {
  if (run.runtime.gvisor) {
    return (
      <span className="badge tone-good" data-testid="run-runtime" data-gvisor="true">
        gVisor ({run.runtime.name})
      </span>
    );
  }
  return (
    <span
      className="badge tone-alarm"
      data-testid="run-runtime"
      data-gvisor="false"
      title="This run used runc because gVisor was unavailable and the run opted in: less isolation"
    >
      {run.runcOptIn ? 'runc (opt-in)' : `${run.runtime.name} (no gVisor)`}
    </span>
  );
}
