// Wizard step 1: which instances to lock. Each gets its own plan, previewed and applied in turn.
import type { InstancePosture } from '../../../../shared/firewall';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { useLockWizardStore } from '../../stores/lockWizard';
import { LevelBadge } from './LevelBadge';

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
      {instanceIds.length > 1 && (
        <p className="muted small">Each instance gets its own plan: you will see them all before anything changes.</p>
      )}
    </fieldset>
  );
}
