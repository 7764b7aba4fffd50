// Launching an instance: account, then the types and regions that account's provider offers now.
// A region is offered only while it has capacity for the chosen type. An instance starts locked by
// default: a firewall that lets in only SSH, from the user's address (detected, editable).
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS, type Account, type LaunchOptions, type ProviderKind } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { parseSourceList } from '../../lib/addresses';
import { defaultTypeId, regionsForType, suggestName } from '../../lib/launch';
import { formatRate } from '../../lib/money';
import { useFirewallStore } from '../../stores/firewall';
import { useLaunchStore } from '../../stores/launch';

const PROVIDER_DEFAULTS: Record<ProviderKind, string> = {
  lambda: "Lambda's defaults apply: SSH and ICMP (ping) from anywhere.",
  linode: "Linode's defaults apply: no firewall, every port open to anywhere.",
};

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
  const [locked, setLocked] = useState(true);
  const [sshFrom, setSshFrom] = useState('');
  const [sshFromTouched, setSshFromTouched] = useState(false);
  const { detected, detecting, detectError, detect } = useFirewallStore(
    useShallow((s) => ({ detected: s.detected, detecting: s.detecting, detectError: s.detectError, detect: s.detect })),
  );

  useEffect(() => {
    void detect();
  }, [detect]);
  // The detected address fills the field until the user types in it: IPv4 first.
  useEffect(() => {
    if (sshFromTouched || !detected) return;
    setSshFrom([detected.ipv4.address, detected.ipv6.address].filter(Boolean).join(', '));
  }, [detected, sshFromTouched]);

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
  const provider = accounts.find((a) => a.label === account)?.provider;
  const sources = parseSourceList(sshFrom);
  // Empty is allowed: main then detects the address itself.
  const sshFromValid = !locked || (sources.errors.length === 0 && sources.items.length <= 16);
  const canSubmit = !!current && !!typeId && regions.length > 0 && !!region && nameValid && sshFromValid && !submitting;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    const lock = locked ? (sources.items.length > 0 ? { sshFrom: sources.items } : {}) : { locked: false };
    if (await submit({ account, type: typeId, region, name, ...lock })) {
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
      <div className="form-row launch-lock">
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="launch-locked"
            checked={locked}
            onChange={(e) => setLocked(e.target.checked)}
            disabled={submitting}
          />
          <span>Start locked: only SSH, from my address</span>
        </label>
        {locked && (
          <label className={sshFromValid ? 'field field-wide' : 'field field-wide invalid'}>
            <span>SSH allowed from (addresses or networks, comma-separated)</span>
            <input
              data-testid="launch-ssh-from"
              value={sshFrom}
              onChange={(e) => {
                setSshFromTouched(true);
                setSshFrom(e.target.value);
              }}
              placeholder={detecting ? 'detecting your address…' : '203.0.113.7'}
              spellCheck={false}
              autoComplete="off"
              disabled={submitting}
              aria-invalid={!sshFromValid}
            />
          </label>
        )}
      </div>
      {locked &&
        sources.errors.map((e) => (
          <div key={e} className="field-error" data-testid="launch-ssh-from-error">
            {e}
          </div>
        ))}
      {locked && sources.items.length > 16 && <div className="field-error">At most 16 addresses or networks.</div>}
      {locked && !detecting && detected && !detected.ipv4.address && !detected.ipv6.address && !sshFrom.trim() && (
        <div className="warn-text small" data-testid="launch-ssh-from-undetected">
          Your address could not be detected ({detected.ipv4.error ?? 'no answer'}): type it in (left empty, Moat tries again when
          launching).
        </div>
      )}
      {locked && detected?.ipv4.warning && detected.ipv4.address && sshFrom.includes(detected.ipv4.address) && (
        <div className="warn-text small">{detected.ipv4.warning}</div>
      )}
      {locked && detectError && <ErrorNotice error={detectError} testId="launch-detect-error" />}
      {!locked && provider && (
        <div className="warn-text small" data-testid="launch-unlocked-note">
          {PROVIDER_DEFAULTS[provider]}
        </div>
      )}
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
