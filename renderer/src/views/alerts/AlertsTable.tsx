// The alerts the filters give, newest first; a row selects its alert for the details panel.
import type { Alert } from '../../../../shared/egress';
import { formatStarted } from '../../lib/format';
import { alertSubject, severityTone } from '../../lib/alerts';

interface Props {
  alerts: Alert[];
  selectedId: string | null;
  onSelect: (id: string) => void;
  empty: string;
}

export function AlertsTable({ alerts, selectedId, onSelect, empty }: Props) {
  return (
    <div className="table-scroll tall">
      <table className="data-table alerts-table" data-testid="alerts-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Severity</th>
            <th>Rule</th>
            <th>What</th>
            <th>Run</th>
            <th>Template</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {alerts.length === 0 ? (
            <tr className="empty-row">
              <td colSpan={7}>{empty}</td>
            </tr>
          ) : (
            alerts.map((a) => {
              const selected = a.id === selectedId;
              return (
                <tr
                  key={a.id}
                  data-testid="alert-row"
                  data-alert-id={a.id}
                  data-rule={a.rule}
                  data-run-id={a.runId}
                  data-acknowledged={String(a.acknowledged)}
                  className={selected ? 'selectable selected' : 'selectable'}
                  tabIndex={0}
                  aria-selected={selected}
                  onClick={() => onSelect(a.id)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      onSelect(a.id);
                    }
                  }}
                >
                  <td title={new Date(a.t).toISOString()}>{formatStarted(a.t)}</td>
                  <td>
                    <span className={`badge tone-${severityTone(a.severity)}`}>{a.severity}</span>
                  </td>
                  <td className="mono">{a.rule}</td>
                  <td className="mono alert-subject">{alertSubject(a)}</td>
                  <td className="mono small">{a.runId.slice(0, 12)}</td>
                  <td>{a.template}</td>
                  <td className={a.acknowledged ? 'muted' : 'warn-text'}>{a.acknowledged ? 'acknowledged' : 'new'}</td>
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}
