// One account: what identifies it (label, provider, the key's last four characters, who the
// provider says it belongs to), and rotating or removing its key, each behind an inline step.
import { useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS, type Account } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatStarted } from '../../lib/format';
import { useAccountsStore } from '../../stores/accounts';

type Mode = 'idle' | 'rotate' | 'remove';

function RotateForm({ account, onDone }: { account: Account; onDone: () => void }) {
  const { rotate, busy } = useAccountsStore(useShallow((s) => ({ rotate: s.rotate, busy: s.busy })));
  const [key, setKey] = useState('');
  const rotating = busy?.label === account.label && busy.action === 'rotate';
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const sent = key.trim();
    if (!sent) return;
    setKey('');
    if (await rotate(account.label, sent)) onDone();
  };
  return (
    <form className="inline-form" onSubmit={(e) => void onSubmit(e)}>
      <label className="field field-wide">
        <span>New key for {account.label}</span>
        <input
          data-testid="account-rotate-key"
          type="password"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          disabled={rotating}
          autoFocus
        />
      </label>
      <button type="submit" className="primary" data-testid="account-rotate-save" disabled={rotating || key.trim() === ''}>
        Save
      </button>
      <button type="button" data-testid="account-rotate-cancel" onClick={onDone} disabled={rotating}>
        Cancel
      </button>
      {rotating && (
        <span className="busy" role="status">
          Checking the new key with {PROVIDER_LABELS[account.provider]}…
        </span>
      )}
      <p className="muted small form-note">The old key is removed only after the new one is checked and stored.</p>
    </form>
  );
}

function RemoveConfirm({ account, onDone }: { account: Account; onDone: () => void }) {
  const { remove, busy } = useAccountsStore(useShallow((s) => ({ remove: s.remove, busy: s.busy })));
  const removing = busy?.label === account.label && busy.action === 'remove';
  return (
    <div className="confirm" role="alertdialog" aria-label={`Remove ${account.label}`} data-testid="account-remove-confirm">
      <p>
        Remove <strong>{account.label}</strong>? Its {PROVIDER_LABELS[account.provider]} key and the account&apos;s SSH private key are
        removed from the keychain.
      </p>
      <p className="warn-text">
        Instances still running on this account keep billing: once it is removed Moat cannot terminate them, so they must be terminated at{' '}
        {PROVIDER_LABELS[account.provider]} (or here, before removing it).
      </p>
      <div className="buttons">
        <button
          type="button"
          className="danger"
          data-testid="account-remove-confirm-yes"
          disabled={removing}
          onClick={() => void remove(account.label).then((ok) => ok && onDone())}
        >
          {removing ? 'Removing…' : 'Remove account'}
        </button>
        <button type="button" data-testid="account-remove-confirm-no" disabled={removing} onClick={onDone}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function AccountRow({ account }: { account: Account }) {
  const [mode, setMode] = useState<Mode>('idle');
  const { rowError, clearRowError } = useAccountsStore(useShallow((s) => ({ rowError: s.rowError, clearRowError: s.clearRowError })));
  const error = rowError?.label === account.label ? rowError : null;
  const switchTo = (next: Mode) => {
    clearRowError();
    setMode(next);
  };
  return (
    <li className="account-row" data-testid="account-row" data-label={account.label} data-provider={account.provider}>
      <div className="account-main">
        <span className="account-label">{account.label}</span>
        <span className="badge tone-neutral">{PROVIDER_LABELS[account.provider]}</span>
        <span className="mono" data-testid="account-last4" title="The key's last four characters">
          {account.keyLast4 ? `…${account.keyLast4}` : '(short key)'}
        </span>
        {account.identity && (
          <span className="muted" data-testid="account-identity">
            {account.identity}
          </span>
        )}
        <span className="muted small account-times">
          added <time title={new Date(account.createdAt).toISOString()}>{formatStarted(account.createdAt)}</time>
          {account.rotatedAt !== undefined && (
            <>
              {' · rotated '}
              <time title={new Date(account.rotatedAt).toISOString()}>{formatStarted(account.rotatedAt)}</time>
            </>
          )}
        </span>
        <span className="account-actions">
          <button type="button" data-testid="account-rotate" onClick={() => switchTo(mode === 'rotate' ? 'idle' : 'rotate')}>
            Rotate key
          </button>
          <button type="button" data-testid="account-remove" onClick={() => switchTo(mode === 'remove' ? 'idle' : 'remove')}>
            Remove
          </button>
        </span>
      </div>
      {mode === 'rotate' && <RotateForm account={account} onDone={() => setMode('idle')} />}
      {mode === 'remove' && <RemoveConfirm account={account} onDone={() => setMode('idle')} />}
      {error && <ErrorNotice error={error.error} testId={`account-${error.action}-error`} onDismiss={clearRowError} />}
    </li>
  );
}
