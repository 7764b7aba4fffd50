// Adding a provider account. The key lives only in this form's state until it is sent, and the
// field is emptied as it is sent: whether the provider accepts the key or not, it is not kept.
import { useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS, type ProviderKind } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useAccountsStore } from '../../stores/accounts';

const PROVIDERS = Object.keys(PROVIDER_LABELS) as ProviderKind[];
const LABEL_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function AddAccountForm() {
  const { keychain, adding, addError, add } = useAccountsStore(
    useShallow((s) => ({ keychain: s.keychain, adding: s.adding, addError: s.addError, add: s.add })),
  );
  const [provider, setProvider] = useState<ProviderKind>('lambda');
  const [label, setLabel] = useState('');
  const [key, setKey] = useState('');
  const noKeychain = keychain?.available === false;
  const labelInvalid = label !== '' && !LABEL_RE.test(label);
  const canSubmit = !noKeychain && !adding && LABEL_RE.test(label) && key.trim() !== '';

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    const sent = key.trim();
    setKey('');
    if (await add(provider, label, sent)) setLabel('');
  };

  return (
    <form className="account-form" onSubmit={(e) => void onSubmit(e)} aria-label="Add a provider account">
      <fieldset disabled={noKeychain || adding}>
        <legend>Add an account</legend>
        <div className="form-row">
          <label className="field">
            <span>Provider</span>
            <select data-testid="account-provider" value={provider} onChange={(e) => setProvider(e.target.value as ProviderKind)}>
              {PROVIDERS.map((p) => (
                <option key={p} value={p}>
                  {PROVIDER_LABELS[p]}
                </option>
              ))}
            </select>
          </label>
          <label className={labelInvalid ? 'field invalid' : 'field'}>
            <span>Label</span>
            <input
              data-testid="account-label"
              value={label}
              onChange={(e) => setLabel(e.target.value)}
              placeholder="work-gpu"
              maxLength={64}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={labelInvalid}
            />
          </label>
          <label className="field field-wide">
            <span>API key</span>
            <input
              data-testid="account-key"
              type="password"
              value={key}
              onChange={(e) => setKey(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              placeholder={provider === 'linode' ? 'Personal access token' : 'API key'}
            />
          </label>
          <button type="submit" className="primary" data-testid="account-add" disabled={!canSubmit}>
            Add
          </button>
        </div>
        {labelInvalid && (
          <div className="field-error">A label is 1 to 64 letters, digits, &apos;.&apos;, &apos;_&apos; or &apos;-&apos;.</div>
        )}
        <p className="muted small form-note">
          Moat checks the key with the provider, then stores it in the keychain. It is never shown again: only its last four characters.
          {provider === 'linode' && ' If the Linode token lacks a scope Moat needs, the error says which.'}
        </p>
      </fieldset>
      {adding && (
        <div className="busy" role="status" data-testid="account-busy">
          Checking the key with {PROVIDER_LABELS[provider]}…
        </div>
      )}
      {addError && <ErrorNotice error={addError} testId="account-error" />}
    </form>
  );
}
