// Removing a host: what goes with it (its key in the keychain, its idle rule), and what stays.
import type { Target } from '../../../../shared/remote';

interface Props {
  target: Target;
  busy: boolean;
  onYes: () => void;
  onNo: () => void;
}

export function RemoveConfirm({ target: t, busy, onYes, onNo }: Props) {
  return (
    <section className="panel confirm" role="alertdialog" aria-label="Confirm removing the host" data-testid="host-remove-confirm">
      <p>
        Remove <strong>{t.id}</strong> (<span className="mono">{t.detail}</span>) from Moat?
      </p>
      <p className="small">
        Its private key and passphrase are deleted from the keychain, its pinned host key and idle rule are forgotten, and sandboxes can no
        longer run there. Nothing on the host itself is changed
        {t.instance ? '; the instance keeps running (and billing) until you terminate it' : ''}.
      </p>
      <div className="buttons">
        <button type="button" className="danger" data-testid="host-remove-yes" disabled={busy} onClick={onYes}>
          {busy ? 'Removing…' : 'Remove'}
        </button>
        <button type="button" data-testid="host-remove-no" disabled={busy} onClick={onNo}>
          Cancel
        </button>
      </div>
    </section>
  );
}
