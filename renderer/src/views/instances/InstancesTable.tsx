// Every instance on every account. Uptime and cost run on every second from the start time and
// hourly price main sent, so they grow between its updates.
import type { Instance } from '../../../../shared/providers';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { costBasisNote, formatDollars, formatRate, formatUptime, liveCost } from '../../lib/money';
import { useNow } from '../../lib/useNow';
import { statusTone } from './status';

function CostCell({ instance, now }: { instance: Instance; now: number }) {
  const { costCents } = liveCost(instance, now);
  const { prefix, note } = costBasisNote(instance.cost.basis);
  return (
    <td
      className="num"
      data-testid="instance-cost"
      data-cost-cents={costCents === null ? undefined : costCents}
      data-basis={instance.cost.basis}
      title={`Since ${new Date(instance.cost.since).toISOString()}: ${note}`}
    >
      {costCents === null ? (
        <span className="muted">price unknown</span>
      ) : (
        <>
          {prefix && <span className="cost-prefix">{prefix}</span>}
          {formatDollars(costCents)}
        </>
      )}
      <div className="cost-note">{note}</div>
    </td>
  );
}

interface RowActions {
  onTerminate: (i: Instance) => void;
  /** Run sandboxes on a running instance: add it as a target, or open its host if it is one. */
  onUseTarget?: (i: Instance) => void;
  /** The instance whose adding is under way. */
  usingTarget?: string | null;
}

function InstanceRow({ instance: i, now, onTerminate, onUseTarget, usingTarget }: { instance: Instance; now: number } & RowActions) {
  const { uptimeMs } = liveCost(i, now);
  return (
    <tr data-testid="instance-row" data-id={i.id} data-account={i.account} data-name={i.name} data-status={i.status}>
      <td>{PROVIDER_LABELS[i.provider] ?? i.provider}</td>
      <td>{i.account}</td>
      <td className="instance-name" title={`ID ${i.id}`}>
        {i.name}
        <div className="instance-id">{i.id}</div>
      </td>
      <td>{i.region}</td>
      <td>
        {i.type}
        {i.gpuDescription && <div className="muted small">{i.gpuDescription}</div>}
      </td>
      <td>
        <span
          className={`status-chip tone-${statusTone(i.status)}`}
          data-testid="instance-status"
          title={`Moat reads this as: ${i.status}`}
        >
          {i.rawStatus || i.status}
        </span>
      </td>
      <td className="mono small">
        <div data-testid="instance-ipv4">{i.ipv4 ?? '-'}</div>
        {i.ipv6 && (
          <div className="muted" data-testid="instance-ipv6">
            {i.ipv6}
          </div>
        )}
      </td>
      <td className="num">{formatRate(i.priceCentsPerHour)}</td>
      <td className="num" data-testid="instance-uptime" data-uptime-ms={uptimeMs}>
        {formatUptime(uptimeMs)}
      </td>
      <CostCell instance={i} now={now} />
      <td className="row-actions">
        {onUseTarget && i.status === 'running' && i.ipv4 && (
          <button
            type="button"
            className="small-button"
            data-testid="instance-use-target"
            data-instance-id={i.id}
            disabled={usingTarget === i.id}
            onClick={() => onUseTarget(i)}
          >
            {usingTarget === i.id ? 'Connecting…' : 'Run sandboxes here'}
          </button>
        )}
        {i.status !== 'terminated' && (
          <button type="button" className="danger small-button" data-testid="instance-terminate" onClick={() => onTerminate(i)}>
            Terminate
          </button>
        )}
      </td>
    </tr>
  );
}

const ORDER = (i: Instance) => (i.status === 'terminated' ? 1 : 0);

export function InstancesTable({ instances, onTerminate, onUseTarget, usingTarget }: { instances: readonly Instance[] } & RowActions) {
  const now = useNow(1000);
  const rows = [...instances].sort((a, b) => ORDER(a) - ORDER(b) || a.account.localeCompare(b.account) || a.name.localeCompare(b.name));
  return (
    <div className="table-scroll tall">
      <table className="data-table" data-testid="instances-table">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Account</th>
            <th>Name</th>
            <th>Region</th>
            <th>Type</th>
            <th>Status</th>
            <th>Address</th>
            <th className="num">$/h</th>
            <th className="num">Uptime</th>
            <th className="num">Cost so far</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((i) => (
            <InstanceRow
              key={`${i.account}/${i.id}`}
              instance={i}
              now={now}
              onTerminate={onTerminate}
              onUseTarget={onUseTarget}
              usingTarget={usingTarget}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
