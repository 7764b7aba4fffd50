// The Firewall view: every instance's exposure at a glance, the rules behind it, and the wizard
// that locks it down. Main reads the providers on each overview call, so the view asks again every
// minute while it is open.
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { postureKey } from '../../lib/firewall';
import { formatStarted } from '../../lib/format';
import { useAccountsStore } from '../../stores/accounts';
import { useFirewallStore } from '../../stores/firewall';
import { useLockWizardStore } from '../../stores/lockWizard';
import { useNavStore } from '../../stores/nav';
import { LockWizard } from './LockWizard';
import { PostureDetail } from './PostureDetail';
import { PostureTable } from './PostureTable';

const RELOAD_MS = 60_000;

export function FirewallView() {
  const { overview, overviewError, loading, load } = useFirewallStore(
    useShallow((s) => ({ overview: s.overview, overviewError: s.overviewError, loading: s.loading, load: s.load })),
  );
  const { accounts, accountsLoaded, refreshAccounts } = useAccountsStore(
    useShallow((s) => ({ accounts: s.accounts, accountsLoaded: s.loaded, refreshAccounts: s.refresh })),
  );
  const { wizardOpen, startWizard } = useLockWizardStore(useShallow((s) => ({ wizardOpen: s.open, startWizard: s.start })));
  const show = useNavStore((s) => s.show);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    void load();
    void refreshAccounts();
    const timer = setInterval(() => void load(), RELOAD_MS);
    return () => clearInterval(timer);
  }, [load, refreshAccounts]);

  const postures = overview?.instances ?? [];
  const current = postures.find((p) => postureKey(p) === selected) ?? null;
  const unreadable = overview?.accounts.filter((a) => a.error) ?? [];
  const noAccounts = accountsLoaded && accounts.length === 0;

  return (
    <div className="page firewall" data-testid="firewall-view">
      <section className="panel" aria-label="Firewall">
        <div className="panel-header">
          <h2>Firewall</h2>
          <div className="header-actions">
            {overview && (
              <span className="muted small" title={new Date(overview.at).toISOString()}>
                as of {formatStarted(overview.at)}
              </span>
            )}
            <button type="button" data-testid="firewall-refresh" onClick={() => void load()} disabled={loading}>
              {loading ? 'Reading…' : 'Refresh'}
            </button>
            <button
              type="button"
              data-testid="lock-open-any"
              onClick={() => startWizard(current?.instance.id ?? null)}
              disabled={postures.length === 0}
            >
              Lock down…
            </button>
          </div>
        </div>
        {overview && (
          <div className="posture-counts" data-testid="posture-counts">
            <span className="count-chip tone-bad" data-testid="count-exposed" data-count={overview.counts.exposed}>
              <strong>{overview.counts.exposed}</strong> exposed
            </span>
            <span className="count-chip tone-warn" data-testid="count-unknown" data-count={overview.counts.unknown}>
              <strong>{overview.counts.unknown}</strong> unknown
            </span>
            <span className="count-chip tone-good" data-testid="count-locked" data-count={overview.counts.locked}>
              <strong>{overview.counts.locked}</strong> locked
            </span>
          </div>
        )}
        {overviewError && <ErrorNotice error={overviewError} testId="firewall-error" />}
        {unreadable.map((a) => (
          <div key={a.account} className="account-error" role="alert" data-testid="firewall-account-error" data-account={a.account}>
            <strong>
              {a.account} ({PROVIDER_LABELS[a.provider] ?? a.provider}):
            </strong>{' '}
            {a.error!.message}
            {a.error!.fix && (
              <div className="fix small">
                <span className="fix-label">Fix: </span>
                {a.error!.fix}
              </div>
            )}
          </div>
        ))}
      </section>

      {wizardOpen && <LockWizard postures={postures} />}

      <section className="panel" aria-label="Instance firewalls">
        {noAccounts ? (
          <div className="empty-state" data-testid="firewall-no-accounts">
            No provider accounts yet.{' '}
            <button type="button" className="link-button" onClick={() => show('accounts')}>
              Add a Lambda Cloud or Linode account
            </button>{' '}
            to see its instances&apos; firewalls.
          </div>
        ) : overview === null ? (
          !overviewError && <div className="empty-state">Reading the providers&apos; firewalls…</div>
        ) : postures.length === 0 ? (
          <div className="empty-state" data-testid="firewall-empty">
            No instances.
          </div>
        ) : (
          <PostureTable postures={postures} selected={current ? selected : null} onSelect={setSelected} />
        )}
      </section>

      {current && <PostureDetail posture={current} onLock={() => startWizard(current.instance.id)} />}
    </div>
  );
}
