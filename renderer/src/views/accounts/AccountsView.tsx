// The Accounts view: the keychain's state, adding an account, and the accounts Moat holds keys for.
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useAccountsStore, type AccountNotice } from '../../stores/accounts';
import { AccountRow } from './AccountRow';
import { AddAccountForm } from './AddAccountForm';
import { KeychainStatus } from './KeychainStatus';

function noticeText(n: AccountNotice): string {
  switch (n.kind) {
    case 'added':
      return `Added ${n.account.label} (${PROVIDER_LABELS[n.account.provider]}${n.account.identity ? `, ${n.account.identity}` : ''}).`;
    case 'rotated':
      return `Rotated the key of ${n.account.label}; the old key is gone from the keychain.`;
    case 'removed':
      return `Removed ${n.label}: its key is gone from the keychain${n.sshKeyRemoved ? ', and its SSH private key too' : ''}.`;
  }
}

export function AccountsView() {
  const { accounts, loaded, listError, notice, refresh } = useAccountsStore(
    useShallow((s) => ({ accounts: s.accounts, loaded: s.loaded, listError: s.listError, notice: s.notice, refresh: s.refresh })),
  );
  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <div className="page accounts" data-testid="accounts-view">
      <section className="panel" aria-label="Keychain">
        <div className="panel-header">
          <h2>Provider accounts</h2>
        </div>
        <KeychainStatus />
        <AddAccountForm />
      </section>
      <section className="panel" aria-label="Accounts">
        <div className="panel-header">
          <h2>Accounts</h2>
          <span className="muted small">{accounts.length === 1 ? '1 account' : `${accounts.length} accounts`}</span>
        </div>
        {notice && (
          <div className="notice" role="status" data-testid={`account-${notice.kind}`}>
            {noticeText(notice)}
          </div>
        )}
        {listError && <ErrorNotice error={listError} testId="accounts-error" />}
        {loaded && accounts.length === 0 && <div className="empty-state">No accounts yet. Add a Lambda Cloud or Linode key above.</div>}
        <ul className="account-list">
          {accounts.map((a) => (
            <AccountRow key={a.label} account={a} />
          ))}
        </ul>
      </section>
    </div>
  );
}
