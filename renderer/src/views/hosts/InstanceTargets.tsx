// "Use a running instance": running instances on the user's accounts that are not targets yet.
import { useShallow } from 'zustand/react/shallow';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { ErrorNotice } from '../../components/ErrorNotice';
import { instancesToAdd } from '../../lib/targets';
import { useInstancesStore } from '../../stores/instances';
import { useTargetsStore } from '../../stores/targets';

export function InstanceTargets() {
  const { list, listError } = useInstancesStore(useShallow((s) => ({ list: s.list, listError: s.listError })));
  const { targets, addingInstance, trusting, addInstance } = useTargetsStore(
    useShallow((s) => ({
      targets: s.targets,
      addingInstance: s.addingInstance,
      trusting: s.instanceTrust !== null,
      addInstance: s.addInstance,
    })),
  );
  const candidates = list ? instancesToAdd(list.instances, targets) : [];

  return (
    <section className="panel" aria-label="Use a running instance" data-testid="instance-targets">
      <div className="panel-header">
        <h2>Use a running instance</h2>
      </div>
      {listError && <ErrorNotice error={listError} testId="instance-targets-error" />}
      {list === null ? (
        !listError && <div className="empty-state">Asking the providers…</div>
      ) : candidates.length === 0 ? (
        <div className="empty-state" data-testid="instance-targets-empty">
          No running instance to add{list.instances.length > 0 ? ' (every running one is a target already)' : ''}.
        </div>
      ) : (
        <ul className="instance-candidates">
          {candidates.map((i) => {
            const label = `${i.account}/${i.name}`;
            return (
              <li key={`${i.provider}/${i.id}`} data-testid="instance-candidate" data-instance-id={i.id}>
                <span className="instance-name">{label}</span>{' '}
                <span className="muted small">
                  {PROVIDER_LABELS[i.provider] ?? i.provider} · {i.type} · {i.ipv4}
                </span>
                <button
                  type="button"
                  className="small-button"
                  data-testid="instance-target-add"
                  data-instance-id={i.id}
                  disabled={addingInstance !== null || trusting}
                  onClick={() => void addInstance(i.id, label)}
                >
                  {addingInstance === i.id ? 'Connecting…' : 'Add as a host'}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
