// Every target: this machine, SSH hosts and instances added as hosts, with host key and engine
// state. A row is selected with a click or Enter to show its detail; hosts can be removed here.
import type { Target } from '../../../../shared/remote';
import { engineState, engineText } from '../../lib/targets';

interface Props {
  targets: readonly Target[];
  selected: string | null;
  removing: string | null;
  onSelect: (id: string) => void;
  onRemove: (id: string) => void;
}

const KIND_LABELS: Record<Target['kind'], string> = { local: 'this machine', host: 'SSH host', instance: 'instance' };
const ORDER: Record<Target['kind'], number> = { local: 0, host: 1, instance: 2 };

export function HostsTable({ targets, selected, removing, onSelect, onRemove }: Props) {
  const rows = [...targets].sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.id.localeCompare(b.id));
  return (
    <div className="table-scroll tall">
      <table className="data-table hosts-table" data-testid="hosts-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Address</th>
            <th>Host key</th>
            <th>Engine</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => {
            const isSelected = t.id === selected;
            const state = engineState(t);
            return (
              <tr
                key={t.id}
                className={isSelected ? 'selectable selected' : 'selectable'}
                data-testid="host-row"
                data-name={t.id}
                data-kind={t.kind}
                tabIndex={0}
                aria-selected={isSelected}
                onClick={() => onSelect(t.id)}
                onKeyDown={(e) => {
                  if (e.target === e.currentTarget && (e.key === 'Enter' || e.key === ' ')) {
                    e.preventDefault();
                    onSelect(t.id);
                  }
                }}
              >
                <td className="instance-name">
                  {t.kind === 'local' ? 'This machine' : t.id}
                  {t.instance && (
                    <div className="muted small">
                      {t.instance.account}/{t.instance.name}
                    </div>
                  )}
                </td>
                <td>{KIND_LABELS[t.kind]}</td>
                <td className="mono small">{t.kind === 'local' ? '-' : t.detail}</td>
                <td className="mono small" data-testid="host-fingerprint" title={t.hostKey?.keyType}>
                  {t.hostKey ? `${t.hostKey.keyType} ${t.hostKey.fingerprint}` : '-'}
                </td>
                <td>
                  <span className={`engine-dot engine-${state}`} data-testid="host-engine" data-state={state} title={engineText(t)}>
                    <span className="dot" aria-hidden="true" />
                    {engineText(t)}
                  </span>
                </td>
                <td>
                  {t.kind !== 'local' && (
                    <button
                      type="button"
                      className="danger small-button"
                      data-testid="host-remove"
                      disabled={removing === t.id}
                      onClick={(e) => {
                        e.stopPropagation();
                        onRemove(t.id);
                      }}
                    >
                      {removing === t.id ? 'Removing…' : 'Remove'}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
