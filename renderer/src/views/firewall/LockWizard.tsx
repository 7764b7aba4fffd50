// The lock wizard, one step at a time: instances, your address, what to allow, preview, apply.
// Nothing changes on a provider before the apply button, and the apply is of the plans previewed.
import { useShallow } from 'zustand/react/shallow';
import type { InstancePosture } from '../../../../shared/firewall';
import { myAddressProblems, needsConfirmation } from '../../lib/lockWizard';
import { useLockWizardStore, WIZARD_STEPS, type WizardStep } from '../../stores/lockWizard';
import { ApplyResultView, isExpired } from './ApplyResults';
import { PlanPreview } from './PlanPreview';
import { WizardAddress } from './WizardAddress';
import { WizardAllow } from './WizardAllow';
import { WizardInstances } from './WizardInstances';

const STEP_TITLES: Record<WizardStep, string> = {
  instances: 'Instances',
  address: 'Your address',
  allow: 'What to allow',
  preview: 'Preview',
  apply: 'Apply',
};

export function LockWizard({ postures }: { postures: readonly InstancePosture[] }) {
  const s = useLockWizardStore(
    useShallow((x) => ({
      step: x.step,
      instanceIds: x.instanceIds,
      me: x.me,
      plans: x.plans,
      previewing: x.previewing,
      confirmed: x.confirmed,
      applying: x.applying,
      results: x.results,
      goTo: x.goTo,
      close: x.close,
      preview: x.preview,
      apply: x.apply,
      setConfirmed: x.setConfirmed,
    })),
  );
  const index = WIZARD_STEPS.indexOf(s.step);
  const live = postures.filter((p) => p.instance.status !== 'terminated');

  const addressProblems = myAddressProblems(s.me);
  const ready = s.plans.flatMap((p) => (p.plan ? [p.plan] : []));
  const mustConfirm = needsConfirmation(ready);
  const blocked = s.plans.some((p) => !p.plan || p.plan.problems.length > 0);
  const canApply = !s.previewing && ready.length > 0 && !blocked && (!mustConfirm || s.confirmed);
  // An expired plan, or one overtaken by a change (another plan in this batch on the same rules): plan again.
  const retry = s.results.some((r) => isExpired(r.error) || !r.outcome?.ok);

  const next = () => {
    if (s.step === 'instances') s.goTo('address');
    else if (s.step === 'address') s.goTo('allow');
  };
  const back = () => {
    if (index > 0 && s.step !== 'apply') s.goTo(WIZARD_STEPS[index - 1]!);
  };
  const nextDisabled =
    (s.step === 'instances' && s.instanceIds.length === 0) ||
    (s.step === 'address' && (addressProblems.ipv4 !== null || addressProblems.ipv6 !== null));

  return (
    <section className="panel lock-wizard" data-testid="lock-wizard" data-step={s.step} aria-label="Lock down instances">
      <div className="panel-header">
        <h2>Lock down</h2>
        <button type="button" className="icon-button" aria-label="Close the lock wizard" data-testid="wizard-close" onClick={s.close}>
          ×
        </button>
      </div>
      <ol className="wizard-steps">
        {WIZARD_STEPS.map((step, i) => (
          <li
            key={step}
            className={i === index ? 'current' : i < index ? 'done' : undefined}
            aria-current={i === index ? 'step' : undefined}
          >
            {i + 1}. {STEP_TITLES[step]}
          </li>
        ))}
      </ol>

      {s.step === 'instances' && <WizardInstances postures={live} />}
      {s.step === 'address' && <WizardAddress />}
      {s.step === 'allow' && <WizardAllow />}
      {s.step === 'preview' && (
        <div className="wizard-plans">
          {s.plans.map((p) => (
            <PlanPreview key={p.ref} result={p} />
          ))}
          {s.previewing && (
            <div className="busy" role="status">
              Planning {s.plans.length + 1} of {s.instanceIds.length}…
            </div>
          )}
          {!s.previewing && blocked && (
            <div className="bad-text" data-testid="wizard-blocked">
              A plan above has a problem or could not be made: go back and change the choices, or untick that instance.
            </div>
          )}
          {!s.previewing && mustConfirm && !blocked && (
            <label className="checkbox confirm-check">
              <input
                type="checkbox"
                data-testid="wizard-confirm"
                checked={s.confirmed}
                onChange={(e) => s.setConfirmed(e.target.checked)}
              />
              <span>I understand the warnings above, and want to apply anyway.</span>
            </label>
          )}
        </div>
      )}
      {s.step === 'apply' && (
        <div className="wizard-plans">
          {s.results.map((r) => (
            <ApplyResultView key={r.ref} result={r} />
          ))}
          {s.applying && (
            <div className="busy" role="status">
              Applying {s.results.length + 1} of {ready.length}…
            </div>
          )}
        </div>
      )}

      <div className="wizard-buttons">
        {s.step !== 'instances' && s.step !== 'apply' && (
          <button type="button" data-testid="wizard-back" onClick={back} disabled={s.previewing}>
            Back
          </button>
        )}
        {(s.step === 'instances' || s.step === 'address') && (
          <button type="button" className="primary" data-testid="wizard-next" onClick={next} disabled={nextDisabled}>
            Next
          </button>
        )}
        {s.step === 'allow' && (
          <button type="button" className="primary" data-testid="wizard-preview" onClick={() => void s.preview()}>
            Preview
          </button>
        )}
        {s.step === 'preview' && (
          <button type="button" className="primary" data-testid="wizard-apply" onClick={() => void s.apply()} disabled={!canApply}>
            {ready.length > 1 ? `Apply to ${ready.length} instances` : 'Apply'}
          </button>
        )}
        {s.step === 'apply' && retry && !s.applying && (
          <button type="button" className="primary" data-testid="wizard-repreview" onClick={() => void s.preview()}>
            Preview again
          </button>
        )}
        {s.step === 'apply' && !s.applying && (
          <button type="button" data-testid="wizard-done" onClick={s.close}>
            Done
          </button>
        )}
      </div>
    </section>
  );
}
