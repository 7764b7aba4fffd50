// The run form's egress section: what a finding does, whether output is scanned, the environment
// and the network allowlist, and the self-test.
import { useShallow } from 'zustand/react/shallow';
import type { EgressPolicy } from '../../../../shared/egress';
import { POLICY_LABELS } from '../../lib/alerts';
import { useEgressFormStore } from '../../stores/egressForm';
import { useSettingsStore } from '../../stores/settings';
import { AllowNetEditor } from './AllowNetEditor';
import { EgressSelfTest } from './EgressSelfTest';
import { EnvEditor } from './EnvEditor';

export function EgressForm() {
  const { policy, scan, setPolicy, setScan } = useEgressFormStore(
    useShallow((s) => ({ policy: s.policy, scan: s.scan, setPolicy: s.setPolicy, setScan: s.setScan })),
  );
  const defaultPolicy = useSettingsStore((s) => s.settings?.egressPolicy ?? 'redact');
  return (
    <fieldset className="egress-form" data-testid="egress-form">
      <legend>Egress</legend>
      <div className="egress-options">
        <label className="inline-field">
          <span>On a finding</span>
          <select
            data-testid="egress-policy"
            value={policy}
            onChange={(e) => setPolicy(e.target.value as EgressPolicy | '')}
            disabled={!scan}
          >
            <option value="">Default ({defaultPolicy})</option>
            {(Object.keys(POLICY_LABELS) as EgressPolicy[]).map((p) => (
              <option key={p} value={p}>
                {POLICY_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox" title="Look for secrets in the output (recorded with the run when off)">
          <input type="checkbox" data-testid="egress-scan" checked={scan} onChange={(e) => setScan(e.target.checked)} />
          <span>Scan output</span>
        </label>
      </div>
      {!scan && <div className="keep-hint active">The output is not scanned: secrets in it are shown and not alerted.</div>}
      <EnvEditor />
      <AllowNetEditor />
      <EgressSelfTest />
    </fieldset>
  );
}
