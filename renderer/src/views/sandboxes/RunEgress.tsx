// The selected run's egress: the filter and its policy, findings, network allowed and refused, and
// the environment's names (a secret's value is never shown: it is not even recorded).
import type { RunRecord } from '../../../../shared/types';
import { egressFacts, envLabel } from '../../lib/egress';

export function RunEgress({ run }: { run: RunRecord }) {
  const { egress, env } = run;
  if (!egress && (!env || env.length === 0)) return null;
  return (
    <div className="run-egress" data-testid="run-egress">
      {egress && (
        <div className="egress-facts">
          {egressFacts(egress).map((f) => (
            <span key={f.testId} className={`egress-fact tone-${f.tone}`} data-testid={f.testId} title={`${f.label}: ${f.value}`}>
              <span className="egress-fact-label">{f.label}</span> {f.value}
            </span>
          ))}
        </div>
      )}
      {env && env.length > 0 && (
        <div className="run-env" data-testid="run-env">
          <span className="muted small">Environment</span>
          {env.map((v) => (
            <code
              key={v.name}
              data-testid="run-env-var"
              data-secret={String(v.secret)}
              title={v.secret ? 'secret: not recorded' : undefined}
            >
              {envLabel(v)}
            </code>
          ))}
        </div>
      )}
    </div>
  );
}
