// Launching an instance: account, then the types and regions that account's provider offers now.
// A region is offered only while it has capacity for the chosen type.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS, type Account, type LaunchOptions } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { defaultTypeId, regionsForType, suggestName } from '../../lib/launch';
import { formatRate } from '../../lib/money';
import { useLaunchStore } from '../../stores/launch';

const NAME_RE = /^[\x21-\x7e]{1,64}$/;

function typeOptionText(t: LaunchOptions['types'][number]): string {
  // Lambda's labels are their GPU description: say it once.
  const parts = [t.label, t.gpuDescription === t.label ? '' : t.gpuDescription, formatRate(t.priceCentsPerHour)];
  if (t.regionsWithCapacity.length === 0) parts.push('no capacity now');
  return parts.filter(Boolean).join(' · ');
}

export function LaunchForm({ accounts, onClose }: { accounts: readonly Account[]; onClose: () => void }) {
  const { options, optionsFor, optionsLoading, optionsError, formError, launch, loadOptions, submit } = useLaunchStore(
    useShallow((s) => ({
      options: s.options,
      optionsFor: s.optionsFor,
      optionsLoading: s.optionsLoading,
      optionsError: s.optionsError,
      formError: s.formError,
      launch: s.launch,
      loadOptions: s.loadOptions,
      submit: s.submit,
    })),
  );
  const [account, setAccount] = useState(accounts[0]?.label ?? '');
  const [typeId, setTypeId] = useState('');
  const [region, setRegion] = useState('');
  const [name, setName] = useState(() => suggestName());

  useEffect(() => {
    if (account) void loadOptions(account);
  }, [account, loadOptions]);

  const current = options && optionsFor === account && options.account === account ? options : null;
  useEffect(() => {
    setTypeId(current ? defaultTypeId(current) : '');
  }, [current]);
  const regions = useMemo(() => (current ? regionsForType(current, typeId) : []), [current, typeId]);
  useEffect(() => {
    setRegion((r) => (regions.some((x) => x.id === r) ? r : (regions[0]?.id ?? '')));
  }, [regions]);

  const submitting = launch?.submitting ?? false;
  const nameValid = NAME_RE.test(name);
  const canSubmit = !!current && !!typeId && regions.length > 0 && !!region && nameValid && !submitting;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    if (await submit({ account, type: typeId, region, name })) {
      setName(suggestName());
      onClose();
    }
  };

  return (
    <form className="panel launch-form" data-testid="launch-form" onSubmit={(e) => void onSubmit(e)} aria-label="Launch an instance">
      <div className="panel-header">
        <h2>Launch an instance</h2>
        <button type="button" className="icon-button" aria-label="Close the launch form" data-testid="launch-close" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="form-row">
        <label className="field">
          <span>Account</span>
          <select data-testid="launch-account" value={account} onChange={(e) => setAccount(e.target.value)} disabled={submitting}>
            {accounts.map((a) => (
              <option key={a.label} value={a.label}>
                {a.label} ({PROVIDER_LABELS[a.provider]})
              </option>
            ))}
          </select>
        </label>
        <label className="field field-wide">
          <span>Type</span>
          <select
            data-testid="launch-type"
            value={typeId}
            onChange={(e) => setTypeId(e.target.value)}
            disabled={!current || submitting || current.types.length === 0}
          >
            {current?.types.map((t) => (
              <option key={t.id} value={t.id}>
                {typeOptionText(t)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Region</span>
          <select
            data-testid="launch-region"
            value={region}
            onChange={(e) => setRegion(e.target.value)}
            disabled={regions.length === 0 || submitting}
          >
            {regions.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label === r.id ? r.id : `${r.label} (${r.id})`}
              </option>
            ))}
          </select>
        </label>
        <label className={nameValid ? 'field' : 'field invalid'}>
          <span>Name</span>
          <input
            data-testid="launch-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={64}
            autoComplete="off"
            spellCheck={false}
            disabled={submitting}
            aria-invalid={!nameValid}
          />
        </label>
        <button type="submit" className="primary" data-testid="launch-submit" disabled={!canSubmit}>
          {submitting ? 'Launching…' : 'Launch'}
        </button>
      </div>
      {!nameValid && <div className="field-error">A name is 1 to 64 printable characters without spaces.</div>}
      {optionsLoading && (
        <div className="busy" role="status">
          Asking {account} for types and capacity…
        </div>
      )}
      {current && current.types.length === 0 && <div className="warn-text">This account offers no instance types.</div>}
      {current && typeId && regions.length === 0 && (
        <div className="warn-text" data-testid="launch-no-capacity">
          No region has capacity for this type right now. Pick another type, or try again later.
        </div>
      )}
      {optionsError && <ErrorNotice error={optionsError} testId="launch-options-error" />}
      {formError && <ErrorNotice error={formError} testId="launch-error" />}
      <p className="muted small form-note">
        Billing starts when the provider accepts the launch, and runs until the instance is terminated.
      </p>
    </form>
  );
}
