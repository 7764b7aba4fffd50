// What the host has: Docker, runsc registered, the template images, the NVIDIA driver, nvproxy.
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatStarted } from '../../lib/format';
import { useCheck, useHostPrepStore } from '../../stores/hostPrep';
import { ChecklistItems } from './ChecklistItems';

export function ChecklistPanel({ target }: { target: string }) {
  const { checklist, checking, error } = useCheck(target);
  const check = useHostPrepStore((s) => s.check);
  return (
    <div className="host-section" data-testid="host-checklist">
      <div className="section-head">
        <h3 className="subhead">Checklist</h3>
        {checklist && (
          <span className="muted small" title={new Date(checklist.at).toISOString()}>
            checked {formatStarted(checklist.at)}
          </span>
        )}
        <button type="button" data-testid="host-check" disabled={checking} onClick={() => void check(target)}>
          {checking ? 'Checking…' : checklist ? 'Check again' : 'Check'}
        </button>
      </div>
      {error && <ErrorNotice error={error} testId="host-check-error" />}
      {checklist ? (
        <ChecklistItems checklist={checklist} />
      ) : (
        !checking && <p className="muted small">Check what the host has before preparing it: nothing is changed.</p>
      )}
    </div>
  );
}
