// A host's checklist: each item with its status, what was found, and the fix when something is missing.
import type { Checklist } from '../../../../shared/remote';

const TONES: Record<string, string> = { ok: 'good', missing: 'warn', problem: 'bad', 'n/a': 'neutral' };

export function ChecklistItems({ checklist, testId }: { checklist: Checklist; testId?: string }) {
  return (
    <div data-testid={testId} data-ready={String(checklist.ready)}>
      <p className={checklist.ready ? 'good-text small' : 'warn-text small'}>
        {checklist.ready ? 'Ready: sandboxes can run here.' : 'Not ready yet: prepare the host, or follow the fixes below.'}
      </p>
      <ul className="check-items">
        {checklist.items.map((i) => (
          <li key={i.id} className="check-item" data-testid="check-item" data-id={i.id} data-status={i.status}>
            <span className={`badge tone-${TONES[i.status] ?? 'neutral'}`}>{i.status}</span>
            <div>
              <div className="check-label">{i.label}</div>
              <div className="small">{i.detail}</div>
              {i.fix && (
                <div className="fix small">
                  <span className="fix-label">Fix: </span>
                  {i.fix}
                </div>
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
