// Where provider keys are kept; when they cannot be kept, why and what to do (loudly: no account
// can be added until it is fixed).
import { useShallow } from 'zustand/react/shallow';
import type { KeychainStatus as Status } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useAccountsStore } from '../../stores/accounts';

const BACKENDS: Record<Status['backend'], string> = {
  'secret-service': 'the Secret Service keyring (GNOME Keyring, KWallet)',
  'macos-keychain': 'the macOS Keychain',
  'windows-credential-manager': 'the Windows Credential Manager',
  none: 'no keychain',
};

export function KeychainStatus() {
  const { keychain, error } = useAccountsStore(useShallow((s) => ({ keychain: s.keychain, error: s.keychainError })));
  if (!keychain) {
    if (error) return <ErrorNotice error={error} testId="keychain-error" />;
    return (
      <div className="keychain-status muted" data-testid="keychain-status" data-available="unknown">
        Checking the keychain…
      </div>
    );
  }
  if (keychain.available) {
    return (
      <div className="keychain-status" data-testid="keychain-status" data-available="true">
        <span className="pill pill-good">
          <span className="dot" aria-hidden="true" />
          Keychain available
        </span>
        <span className="muted small">Keys are kept in {BACKENDS[keychain.backend] ?? keychain.backend}, never in Moat&apos;s files.</span>
      </div>
    );
  }
  return (
    <div className="keychain-status keychain-down" role="alert" data-testid="keychain-status" data-available="false">
      <strong>No keychain: provider keys cannot be stored, so no account can be added.</strong>
      {keychain.problem && <div className="keychain-problem">{keychain.problem}</div>}
      {keychain.fix && (
        <div className="fix">
          <span className="fix-label">Fix: </span>
          {keychain.fix}
        </div>
      )}
    </div>
  );
}
