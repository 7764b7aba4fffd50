// What each account is spending per hour, and in total; an account whose listing failed or is
// being retried says so here, with what to do.
import type { AccountSummary } from '../../../../shared/providers';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { formatRate, totalBurnRate } from '../../lib/money';

function AccountBurn({ a }: { a: AccountSummary }) {
  const tone = a.error ? 'burn-bad' : a.retrying ? 'burn-warn' : '';
  return (
    <div className={`burn ${tone}`} data-testid="burn-rate" data-account={a.account} data-cents-per-hour={a.burnRateCentsPerHour ?? ''}>
      <div className="burn-head">
        <span className="burn-account">{a.account}</span>
        <span className="muted small">{PROVIDER_LABELS[a.provider] ?? a.provider}</span>
      </div>
      <div className="burn-rate">{a.burnRateCentsPerHour === null ? 'rate unknown' : formatRate(a.burnRateCentsPerHour)}</div>
      {a.retrying && (
        <div className="burn-note warn-text" data-testid="account-retrying">
          retrying (attempt {a.retrying.attempt} of {a.retrying.maxAttempts}): {a.retrying.reason}
        </div>
      )}
      {a.error && (
        <div className="burn-note" data-testid="account-list-error" data-code={a.error.code}>
          <span className="bad-text">{a.error.message}</span>
          {a.error.fix && (
            <div className="fix">
              <span className="fix-label">Fix: </span>
              {a.error.fix}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export function BurnRates({ accounts }: { accounts: readonly AccountSummary[] }) {
  if (accounts.length === 0) return null;
  const total = totalBurnRate(accounts);
  return (
    <div className="burn-strip" aria-label="Burn rate per account">
      {accounts.map((a) => (
        <AccountBurn key={a.account} a={a} />
      ))}
      <div className="burn burn-total" data-testid="burn-rate-total" data-cents-per-hour={total.cents} data-partial={String(total.partial)}>
        <div className="burn-head">
          <span className="burn-account">Total</span>
          <span className="muted small">{accounts.length === 1 ? '1 account' : `${accounts.length} accounts`}</span>
        </div>
        <div className="burn-rate">
          {total.partial ? 'at least ' : ''}
          {formatRate(total.cents)}
        </div>
      </div>
    </div>
  );
}
