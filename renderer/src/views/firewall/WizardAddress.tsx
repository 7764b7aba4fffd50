// Wizard step 2: the user's own address, which "My address" stands for in the rules and which the
// lockout warnings protect. Main suggests one; the user always has the last word.
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { DetectedAddresses } from '../../../../shared/firewall';
import { ErrorNotice } from '../../components/ErrorNotice';
import { hasMyAddress, myAddressProblems } from '../../lib/lockWizard';
import { useFirewallStore } from '../../stores/firewall';
import { useLockWizardStore } from '../../stores/lockWizard';

function Detected({ d, family }: { d: DetectedAddresses['ipv4']; family: 4 | 6 }) {
  return (
    <div className="detected small" data-testid={`wizard-detected-ipv${family}`}>
      {d.address ? (
        <span className="muted">
          Detected via <span className="mono">{d.source}</span>
        </span>
      ) : (
        <span className="warn-text">Not detected{d.error ? `: ${d.error}` : ''}. Type it in if you know it.</span>
      )}
      {d.warning && <div className="warn-text">{d.warning}</div>}
    </div>
  );
}

export function WizardAddress() {
  const { me, setMe, detect } = useLockWizardStore(useShallow((s) => ({ me: s.me, setMe: s.setMe, detect: s.detect })));
  const { detected, detecting, detectError } = useFirewallStore(
    useShallow((s) => ({ detected: s.detected, detecting: s.detecting, detectError: s.detectError })),
  );
  useEffect(() => {
    const s = useLockWizardStore.getState();
    if (!s.meTouched && !s.me.ipv4 && !s.me.ipv6) void detect();
  }, [detect]);
  const problems = myAddressProblems(me);

  return (
    <fieldset className="wizard-fieldset">
      <legend>Your address</legend>
      <p className="muted small">
        Rules allowed from &quot;My address&quot; let in only this address. Check it: if it is wrong, you lock yourself out.
      </p>
      <div className="form-row">
        <div className={problems.ipv4 ? 'field field-wide invalid' : 'field field-wide'}>
          <label htmlFor="wizard-my-ipv4">My IPv4 address</label>
          <input
            id="wizard-my-ipv4"
            data-testid="wizard-my-ipv4"
            value={me.ipv4}
            onChange={(e) => setMe({ ipv4: e.target.value })}
            placeholder="203.0.113.7"
            spellCheck={false}
            autoComplete="off"
            aria-invalid={problems.ipv4 !== null}
          />
          {problems.ipv4 && (
            <div className="field-error" data-testid="wizard-my-ipv4-error">
              {problems.ipv4}
            </div>
          )}
          {detected && <Detected d={detected.ipv4} family={4} />}
        </div>
        <div className={problems.ipv6 ? 'field field-wide invalid' : 'field field-wide'}>
          <label htmlFor="wizard-my-ipv6">My IPv6 address (optional)</label>
          <input
            id="wizard-my-ipv6"
            data-testid="wizard-my-ipv6"
            value={me.ipv6}
            onChange={(e) => setMe({ ipv6: e.target.value })}
            placeholder="2001:db8::7"
            spellCheck={false}
            autoComplete="off"
            aria-invalid={problems.ipv6 !== null}
          />
          {problems.ipv6 && (
            <div className="field-error" data-testid="wizard-my-ipv6-error">
              {problems.ipv6}
            </div>
          )}
          {detected && <Detected d={detected.ipv6} family={6} />}
        </div>
        <button type="button" data-testid="wizard-detect" onClick={() => void detect(true)} disabled={detecting}>
          {detecting ? 'Detecting…' : 'Detect again'}
        </button>
      </div>
      {detecting && (
        <div className="busy" role="status">
          Asking what address the internet sees…
        </div>
      )}
      {detectError && <ErrorNotice error={detectError} testId="wizard-detect-error" />}
      {!hasMyAddress(me) && !problems.ipv4 && !problems.ipv6 && (
        <div className="warn-text small" data-testid="wizard-no-address">
          Without an address of yours, &quot;My address&quot; cannot be used: allow from networks you name instead.
        </div>
      )}
    </fieldset>
  );
}
