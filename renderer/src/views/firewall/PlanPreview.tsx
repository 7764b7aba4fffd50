// Wizard step 4: what would change on one instance, before anything does. Main's plan, shown as
// it is: the steps in words, each rule set's rows marked added, removed or kept, the posture
// before and after, who else it touches, and what could go wrong.
import type { PlanView } from '../../../../shared/firewall';
import { ErrorNotice } from '../../components/ErrorNotice';
import { CONFIRM_WARNINGS } from '../../lib/lockWizard';
import { policyText, sortFindings } from '../../lib/firewall';
import type { PlanResult } from '../../stores/lockWizard';
import { LevelBadge } from './LevelBadge';
import { RuleRow } from './RuleSetTable';

type Diff = PlanView['diffs'][number];

function Policies({ diff }: { diff: Diff }) {
  const { before, after } = diff.policies;
  const line = (dir: 'inbound' | 'outbound', key: 'inboundPolicy' | 'outboundPolicy') => {
    const was = before?.[key];
    const changed = was !== undefined && was !== after[key];
    return (
      <div className={changed ? 'policy changed' : 'policy'} data-testid={`plan-policy-${dir}`} data-before={was} data-after={after[key]}>
        {dir === 'inbound' ? 'Inbound' : 'Outbound'}: {changed ? `${policyText(was)} → ${policyText(after[key])}` : policyText(after[key])}
      </div>
    );
  };
  return (
    <div className="plan-policies">
      {line('inbound', 'inboundPolicy')}
      {line('outbound', 'outboundPolicy')}
    </div>
  );
}

function DiffTable({ diff }: { diff: Diff }) {
  return (
    <div className="plan-diff" data-testid="plan-diff" data-created={String(diff.created)}>
      <div className="ruleset-head">
        <strong>{diff.label}</strong>
        {diff.created && <span className="badge tone-good">new</span>}
      </div>
      <table className="data-table rule-table">
        <thead>
          <tr>
            <th>
              <span className="visually-hidden">Change</span>
            </th>
            <th>Direction</th>
            <th>Action</th>
            <th>Protocol</th>
            <th>Ports</th>
            <th>Addresses</th>
            <th>Label</th>
          </tr>
        </thead>
        <tbody>
          {diff.rows.length === 0 ? (
            <tr className="empty-row">
              <td colSpan={7}>No rules.</td>
            </tr>
          ) : (
            diff.rows.map((r, i) => <RuleRow key={i} rule={r.rule} mark={r.mark} />)
          )}
        </tbody>
      </table>
      <Policies diff={diff} />
      {diff.notes.length > 0 && (
        <ul className="plan-notes small">
          {diff.notes.map((n, i) => (
            <li key={i} data-testid="plan-note">
              {n}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function PlanPreview({ result }: { result: PlanResult }) {
  if (!result.plan) {
    return (
      <div className="plan-view" data-testid="plan-error" data-instance-id={result.ref}>
        {result.error && <ErrorNotice error={result.error} />}
      </div>
    );
  }
  const p = result.plan;
  const remaining = sortFindings(p.postureAfter.findings).filter((f) => f.severity !== 'info');
  return (
    <section className="plan-view" data-testid="plan-view" data-instance-id={p.instance.id} data-plan-id={p.planId}>
      <div className="plan-head">
        <h3>
          {p.instance.account}/{p.instance.name} <span className="muted small">{p.instance.region}</span>
        </h3>
        <span className="plan-posture">
          <LevelBadge level={p.postureBefore.level} testId="plan-posture-before" />
          <span aria-label="becomes">→</span>
          <LevelBadge level={p.postureAfter.level} testId="plan-posture-after" />
        </span>
      </div>
      {p.problems.length > 0 && (
        <ul className="plan-problems" role="alert">
          {p.problems.map((m, i) => (
            <li key={i} data-testid="plan-problem">
              {m}
            </li>
          ))}
        </ul>
      )}
      {p.warnings.length > 0 && (
        <ul className="plan-warnings">
          {p.warnings.map((w, i) => (
            <li
              key={`${w.id}-${i}`}
              data-testid="plan-warning"
              data-id={w.id}
              className={CONFIRM_WARNINGS.has(w.id) ? 'plan-warning serious' : 'plan-warning'}
              role={CONFIRM_WARNINGS.has(w.id) ? 'alert' : undefined}
            >
              {w.message}
            </li>
          ))}
        </ul>
      )}
      {p.steps.length > 0 && (
        <ol className="plan-steps" data-testid="plan-steps">
          {p.steps.map((s, i) => (
            <li key={i}>{s}</li>
          ))}
        </ol>
      )}
      {p.diffs.map((d, i) => (
        <DiffTable key={d.ref ? `${d.ref.kind}/${d.ref.id}` : `new-${i}`} diff={d} />
      ))}
      {p.affects.length > 0 && (
        <div className="plan-affects" data-testid="plan-affects">
          <strong>Also affects:</strong>{' '}
          {p.affects.map((a, i) => (
            <span key={a.id} data-testid="plan-affects-item" data-id={a.id}>
              {i > 0 ? ', ' : ''}
              {a.name} <span className="muted mono small">({a.id})</span>
            </span>
          ))}
        </div>
      )}
      {remaining.length > 0 && (
        <div className="small">
          Still found afterwards:
          <ul className="plan-notes">
            {remaining.map((f, i) => (
              <li key={i} data-testid="plan-after-finding" data-id={f.id} data-severity={f.severity}>
                {f.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
