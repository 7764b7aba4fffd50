// Only while the engine has no gVisor runtime: the explicit, visible choice to run under runc.
import { useShallow } from 'zustand/react/shallow';
import { useEditorStore } from '../../stores/editor';
import { useSystemStore } from '../../stores/system';

export function RuncOptIn() {
  const { gvisor, engineUp } = useSystemStore(
    useShallow((s) => ({ gvisor: s.status?.gvisor, engineUp: s.status?.engine.connected ?? false })),
  );
  const { allowRunc, setAllowRunc, local } = useEditorStore(
    useShallow((s) => ({ allowRunc: s.allowRunc, setAllowRunc: s.setAllowRunc, local: s.target === 'local' })),
  );
  // With no engine at all the choice means nothing yet; it appears once the engine answers. The
  // status is this machine's: another target is prepared from the Hosts view instead.
  if (!local || !gvisor || gvisor.available || !engineUp) return null;
  return (
    <div className={allowRunc ? 'runc-optin checked' : 'runc-optin'}>
      <label className="checkbox">
        <input type="checkbox" data-testid="allow-runc" checked={allowRunc} onChange={(e) => setAllowRunc(e.target.checked)} />
        <span>Run under runc with the same hardening (less isolation)</span>
      </label>
      <p>
        This engine has no gVisor runtime, so runs are refused unless you opt in. Under runc the sandbox keeps the same hardening (no
        network, read-only root, all capabilities dropped, non-root user, resource limits), but the code talks to the host kernel directly
        instead of through gVisor: a kernel bug is enough to escape. Only opt in for code you would be willing to run with that weaker
        isolation.
      </p>
      {gvisor.fix && (
        <p className="fix">
          <span className="fix-label">To get gVisor: </span>
          {gvisor.fix}
        </p>
      )}
    </div>
  );
}
