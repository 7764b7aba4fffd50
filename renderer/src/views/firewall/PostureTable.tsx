// One row per instance: where it is, how exposed, and the worst thing found. A row is selected
// with a click or Enter to show its detail.
import type { InstancePosture } from '../../../../shared/firewall';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { postureKey, sortPostures, topFinding } from '../../lib/firewall';
import { LevelBadge } from './LevelBadge';

interface Props {
  postures: readonly InstancePosture[];
  selected: string | null;
  onSelect: (key: string) => void;
}

export function PostureTable({ postures, selected, onSelect }: Props) {
  return (
    <div className="table-scroll tall">
      <table className="data-table posture-table" data-testid="posture-table">
        <thead>
          <tr>
            <th>Instance</th>
            <th>Provider</th>
            <th>Region</th>
            <th>Posture</th>
            <th>Most severe finding</th>
          </tr>
        </thead>
        <tbody>
          {sortPostures(postures).map((p) => {
            const key = postureKey(p);
            const top = topFinding(p.posture.findings);
            const isSelected = key === selected;
            return (
              <tr
                key={key}
                className={isSelected ? 'selectable selected' : 'selectable'}
                data-testid="posture-row"
                data-instance-id={p.instance.id}
                data-account={p.instance.account}
                data-name={p.instance.name}
                data-level={p.posture.level}
                tabIndex={0}
                aria-selected={isSelected}
                onClick={() => onSelect(key)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onSelect(key);
                  }
                }}
              >
                <td className="instance-name">
                  <span className="muted">{p.instance.account}/</span>
                  {p.instance.name}
                </td>
                <td>{PROVIDER_LABELS[p.instance.provider] ?? p.instance.provider}</td>
                <td>{p.instance.region}</td>
                <td>
                  <LevelBadge level={p.posture.level} />
                </td>
                <td className="posture-top" data-testid="posture-top-finding" data-severity={top?.severity}>
                  {top ? top.message : <span className="muted">Nothing found.</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
