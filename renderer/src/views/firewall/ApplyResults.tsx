// Wizard step 5: what happened on each instance. A failed apply is rolled back by main; the result
// says so, or says what was left as it was. A plan kept longer than main keeps it (15 minutes) is
// gone: the answer is to preview again.
import type { ErrorPayload } from '../../../../shared/errors';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { ApplyResult } from '../../stores/lockWizard';
import { LevelBadge } from './LevelBadge';

export const isExpired = (e: ErrorPayload | null) => e?.code === 'NOT_FOUND';

export function ApplyResultView({ result: r }: { result: ApplyResult }) {
  const o = r.outcome;
  const ok = o?.ok ?? false;
  const name = `${r.plan.instance.account}/${r.plan.instance.name}`;
  return (
    <section
      className={ok ? 'apply-result ok' : 'apply-result failed'}
      data-testid="apply-result"
      data-ok={String(ok)}
      data-instance-id={r.plan.instance.id}
    >
      <h3>
        {name}: {ok ? 'done' : 'not changed as planned'}
      </h3>
      {r.error &&
        (isExpired(r.error) ? (
          <div className="bad-text" data-testid="apply-expired">
            This plan is no longer known to Moat (a plan is kept for 15 minutes): preview again to make a fresh one.
          </div>
        ) : (
          <ErrorNotice error={r.error} testId="apply-error" />
        ))}
      {o && (
        <>
          {o.applied.length > 0 && (
            <ul className="plan-steps">
              {o.applied.map((s, i) => (
                <li key={i} data-testid="apply-step">
                  ✓ {s}
                </li>
              ))}
            </ul>
          )}
          {o.ok && (
            <div className={o.verified ? 'good-text' : 'warn-text'} data-testid="apply-verified" data-verified={String(o.verified)}>
              {o.verified ? 'Verified: the provider now has the planned rules.' : 'Applied, but not verified: check the rules below.'}
            </div>
          )}
          {o.error && (
            <div className="bad-text" data-testid="apply-error-text">
              {o.error}
            </div>
          )}
          {o.rolledBack && (
            <div className="warn-text" data-testid="apply-rolled-back">
              Rolled back to the previous rules.
            </div>
          )}
          {o.leftAlone.length > 0 && (
            <ul className="small" data-testid="apply-left-alone">
              {o.leftAlone.map((l, i) => (
                <li key={i}>
                  Left as it was: <strong>{l.ruleSet}</strong> ({l.reason})
                </li>
              ))}
            </ul>
          )}
          {o.after && (
            <div className="apply-after" data-testid="apply-after">
              Posture now: <LevelBadge level={o.after.posture.level} testId="apply-after-level" />
            </div>
          )}
        </>
      )}
    </section>
  );
}
