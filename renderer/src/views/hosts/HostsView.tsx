// The Hosts view: where sandboxes can run. This machine, SSH hosts the user added, and instances
// added as hosts; adding a host (its key confirmed by the user), making a running instance a host,
// and the selected host's checklist, preparation, usage and idle rule.
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useInstancesStore } from '../../stores/instances';
import { useTargetsStore } from '../../stores/targets';
import { AddHostForm } from './AddHostForm';
import { HostDetail } from './HostDetail';
import { HostsTable } from './HostsTable';
import { InstanceTargets } from './InstanceTargets';
import { InstanceTrust } from './InstanceTrust';
import { RemoveConfirm } from './RemoveConfirm';

const RELOAD_MS = 30_000;
const RELIST_INSTANCES_MS = 60_000;

export function HostsView() {
  const { targets, listError, selected, removing, removeError, load, select, remove, clearRemoveError } = useTargetsStore(
    useShallow((s) => ({
      targets: s.targets,
      listError: s.listError,
      selected: s.selected,
      removing: s.removing,
      removeError: s.removeError,
      load: s.load,
      select: s.select,
      remove: s.remove,
      clearRemoveError: s.clearRemoveError,
    })),
  );
  const loadInstances = useInstancesStore((s) => s.load);
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);

  useEffect(() => {
    void load();
    void loadInstances();
    // Engine state changes as hosts are used: read it again while the view is open.
    const targetsTimer = setInterval(() => void load(), RELOAD_MS);
    const instancesTimer = setInterval(() => void loadInstances(), RELIST_INSTANCES_MS);
    return () => {
      clearInterval(targetsTimer);
      clearInterval(instancesTimer);
    };
  }, [load, loadInstances]);

  const current = targets.find((t) => t.id === selected) ?? null;
  const removingTarget = confirmRemove ? targets.find((t) => t.id === confirmRemove) : undefined;

  return (
    <div className="page hosts" data-testid="hosts-view">
      <section className="panel" aria-label="Hosts">
        <div className="panel-header">
          <h2>Hosts</h2>
          <div className="header-actions">
            <span className="muted small">Where sandboxes can run</span>
            <button type="button" data-testid="hosts-refresh" onClick={() => void load()}>
              Refresh
            </button>
          </div>
        </div>
        {listError && <ErrorNotice error={listError} testId="hosts-error" />}
        <HostsTable
          targets={targets}
          selected={current ? selected : null}
          removing={removing}
          onSelect={select}
          onRemove={(id) => {
            clearRemoveError();
            setConfirmRemove(id);
          }}
        />
        {removingTarget && (
          <RemoveConfirm
            target={removingTarget}
            busy={removing === removingTarget.id}
            onYes={() => void remove(removingTarget.id).then((ok) => ok && setConfirmRemove(null))}
            onNo={() => setConfirmRemove(null)}
          />
        )}
        {removeError && <ErrorNotice error={removeError} testId="host-remove-error" onDismiss={clearRemoveError} />}
      </section>

      {current && <HostDetail key={current.id} target={current} />}

      <section className="panel" aria-label="Add a host">
        <AddHostForm />
      </section>

      <InstanceTargets />
      <InstanceTrust />
    </div>
  );
}
