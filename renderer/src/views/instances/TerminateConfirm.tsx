// Terminating an instance, confirmed with its full name, ID and what it has cost so far.
import type { Instance } from '../../../../shared/providers';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { costBasisNote, formatDollars, liveCost } from '../../lib/money';
import { useNow } from '../../lib/useNow';

interface Props {
  instance: Instance;
  busy: boolean;
  onYes: () => void;
  onNo: () => void;
}

export function TerminateConfirm({ instance: i, busy, onYes, onNo }: Props) {
  const now = useNow(1000);
  const { costCents } = liveCost(i, now);
  const { prefix, note } = costBasisNote(i.cost.basis);
  return (
    <section
      className="panel confirm terminate-confirm"
      role="alertdialog"
      aria-label="Confirm termination"
      data-testid="terminate-confirm"
    >
      <p>
        Terminate{' '}
        <strong>
          {i.account}/{i.name}
        </strong>{' '}
        (ID <span className="mono">{i.id}</span>) on {PROVIDER_LABELS[i.provider] ?? i.provider}?
      </p>
      <p>
        Cost so far:{' '}
        <strong data-testid="terminate-cost">{costCents === null ? 'unknown (no price)' : `${prefix}${formatDollars(costCents)}`}</strong>{' '}
        <span className="muted">({note})</span>.
      </p>
      <p className="warn-text">The instance and everything on its disk are deleted. This cannot be undone.</p>
      <div className="buttons">
        <button type="button" className="danger" data-testid="terminate-confirm-yes" disabled={busy} onClick={onYes}>
          {busy ? 'Terminating…' : 'Terminate'}
        </button>
        <button type="button" data-testid="terminate-confirm-no" disabled={busy} onClick={onNo}>
          Cancel
        </button>
      </div>
    </section>
  );
}
