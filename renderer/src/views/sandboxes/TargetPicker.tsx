// Where the next run goes: this machine, or a host or instance added in the Hosts view.
import { useShallow } from 'zustand/react/shallow';
import { engineState, engineText, targetOptionLabel } from '../../lib/targets';
import { useEditorStore } from '../../stores/editor';
import { useTargetsStore } from '../../stores/targets';

export function TargetPicker() {
  const { target, setTarget } = useEditorStore(useShallow((s) => ({ target: s.target, setTarget: s.setTarget })));
  const targets = useTargetsStore((s) => s.targets);
  const remote = targets.filter((t) => t.kind !== 'local');
  const chosen = targets.find((t) => t.id === target);
  // A host removed since it was picked is still listed, so the form never silently runs elsewhere.
  const missing = target !== 'local' && !chosen;
  const state = chosen && chosen.kind !== 'local' ? engineState(chosen) : null;

  return (
    <div className="target-picker">
      <label htmlFor="target-select">Run on</label>
      <select id="target-select" data-testid="target-select" value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="local">This machine</option>
        {remote.map((t) => (
          <option key={t.id} value={t.id}>
            {targetOptionLabel(t)}
          </option>
        ))}
        {missing && <option value={target}>{target} (no longer a target)</option>}
      </select>
      {state && chosen && (
        <span className={`engine-dot engine-${state}`} data-testid="target-engine" data-state={state} title={engineText(chosen)}>
          <span className="dot" aria-hidden="true" />
          {state === 'unknown' ? 'not contacted yet' : state === 'connected' ? 'engine connected' : 'engine unavailable'}
        </span>
      )}
    </div>
  );
}
