// Wizard step 1: which instances to lock. Each gets its own plan, previewed and applied in turn.
import type { InstancePosture } from '../../../../shared/firewall';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { useLockWizardStore } from '../../stores/lockWizard';
import { LevelBadge } from './LevelBadge';

/** Two chosen instances on one Lambda account: their plans would replace the same account-wide rules. */
function sharesLambdaRules(postures: readonly InstancePosture[], ids: readonly string[]): boolean {
  const accounts = postures.filter((p) => ids.includes(p.instance.id) && p.instance.provider === 'lambda').map((p) => p.instance.account);
  return new Set(accounts).size < accounts.length;
}

export function WizardInstances({ postures }: { postures: readonly InstancePosture[] }) {
  const instanceIds = useLockWizardStore((s) => s.instanceIds);
  const toggle = useLockWizardStore((s) => s.toggleInstance);
  return (
    <fieldset className="wizard-fieldset">
      <legend>Which instances?</legend>
      {postures.length === 0 && <div className="empty-state">No instances to lock.</div>}
      <ul className="wizard-list">
        {postures.map((p) => (
          <li key={`${p.instance.account}/${p.instance.id}`}>
            <label className="checkbox">
              <input
                type="checkbox"
                data-testid="wizard-instance"
                data-id={p.instance.id}
                checked={instanceIds.includes(p.instance.id)}
                onChange={(e) => toggle(p.instance.id, e.target.checked)}
              />
              <span>
                <strong>
                  {p.instance.account}/{p.instance.name}
                </strong>{' '}
                <span className="muted small">
                  {PROVIDER_LABELS[p.instance.provider] ?? p.instance.provider} · {p.instance.region}
                </span>
              </span>
              <LevelBadge level={p.posture.level} testId="wizard-instance-level" />
            </label>
          </li>
        ))}
      </ul>
      {sharesLambdaRules(postures, instanceIds) && (
        <p className="warn-text small" data-testid="wizard-shared-rules">
          Some of these are on the same Lambda Cloud account, whose rules apply to all its instances: one plan changes them for all, and a
          second plan of the same rules will be refused as out of date. Choose one instance per Lambda account.
        </p>
      )}
      {instanceIds.length > 1 && (
        <p className="muted small">Each instance gets its own plan: you will see them all before anything changes.</p>
      )}
    </fieldset>
  );
}
