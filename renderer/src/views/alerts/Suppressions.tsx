// Suppressed rules, with why and by whom, and un-suppress.
import type { Suppression } from '../../../../shared/egress';
import { formatStarted } from '../../lib/format';

export function Suppressions({ list, busy, onUnsuppress }: { list: Suppression[]; busy: boolean; onUnsuppress: (rule: string) => void }) {
  return (
    <section className="panel" aria-label="Suppressed rules" data-testid="suppressions">
      <div className="panel-header">
        <h2>Suppressed rules</h2>
        <span className="muted small">{list.length === 0 ? 'none' : list.length === 1 ? '1 rule' : `${list.length} rules`}</span>
      </div>
      {list.length === 0 ? (
        <div className="muted small">No rule is suppressed: every finding is alerted and redacted.</div>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Reason</th>
              <th>Since</th>
              <th>By</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.rule} data-testid="suppression" data-rule={s.rule}>
                <td className="mono">{s.rule}</td>
                <td>{s.reason ?? <span className="muted">-</span>}</td>
                <td title={new Date(s.t).toISOString()}>{formatStarted(s.t)}</td>
                <td className="muted small">{s.by}</td>
                <td>
                  <button
                    type="button"
                    className="small-button"
                    data-testid="unsuppress"
                    onClick={() => onUnsuppress(s.rule)}
                    disabled={busy}
                  >
                    Un-suppress
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
