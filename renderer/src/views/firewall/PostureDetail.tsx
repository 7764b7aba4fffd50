// One instance's posture in full: every finding with its fix, then every rule set in force.
import type { InstancePosture, RuleSetRef } from '../../../../shared/firewall';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { SEVERITY_TONES, sortFindings } from '../../lib/firewall';
import { LevelBadge } from './LevelBadge';
import { RuleSetTable } from './RuleSetTable';

const sameRef = (a: RuleSetRef, b: RuleSetRef) =>
  a.provider === b.provider && a.account === b.account && a.kind === b.kind && a.id === b.id;

export function PostureDetail({ posture: p, onLock }: { posture: InstancePosture; onLock: () => void }) {
  const { instance: i } = p;
  const findings = sortFindings(p.posture.findings);
  return (
    <section className="panel posture-detail" data-testid="posture-detail" data-instance-id={i.id} aria-label={`Firewall of ${i.name}`}>
      <div className="panel-header">
        <h2>
          {i.account}/{i.name}
        </h2>
        <div className="header-actions">
          <span className="muted small">
            {PROVIDER_LABELS[i.provider] ?? i.provider} · {i.region} · {i.ipv4 ?? 'no address'}
          </span>
          <LevelBadge level={p.posture.level} testId="detail-level" />
          <button type="button" className="primary" data-testid="lock-open" onClick={onLock}>
            Lock down…
          </button>
        </div>
      </div>
      <ul className="findings">
        {findings.length === 0 && <li className="muted">No findings.</li>}
        {findings.map((f, n) => (
          <li key={`${f.id}-${n}`} className="finding" data-testid="finding" data-id={f.id} data-severity={f.severity}>
            <span className={`badge tone-${SEVERITY_TONES[f.severity]}`}>{f.severity}</span>
            <div>
              <div className="finding-message">
                {f.message}
                {f.id === 'drift' && (
                  <span className="badge tone-warn finding-drift" data-testid="finding-drift">
                    drift
                  </span>
                )}
              </div>
              {f.fix && (
                <div className="fix small">
                  <span className="fix-label">Fix: </span>
                  {f.fix}
                </div>
              )}
            </div>
          </li>
        ))}
      </ul>
      <p className="muted small">
        Outbound traffic: {p.posture.outbound === 'open' ? 'open (the instance can reach anywhere)' : 'restricted by the rules below'}.
      </p>
      <h3 className="subhead">Rules in force</h3>
      {p.ruleSets.length === 0 ? (
        <div className="empty-state" data-testid="no-rulesets">
          No firewall applies to this instance: every port the instance listens on is reachable from anywhere.
        </div>
      ) : (
        p.ruleSets.map((rs) => <RuleSetTable key={`${rs.kind}/${rs.id}`} ruleSet={rs} drifted={p.drifted.some((d) => sameRef(d, rs))} />)
      )}
    </section>
  );
}
