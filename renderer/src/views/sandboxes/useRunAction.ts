// "Run" from the button or the editor's shortcut: build the request from the form, then start it.
import { useCallback } from 'react';
import { useEditorStore } from '../../stores/editor';
import { useRunsStore } from '../../stores/runs';
import { useSystemStore } from '../../stores/system';

export function useRunAction(): () => void {
  return useCallback(() => {
    const runs = useRunsStore.getState();
    if (runs.submitting) return;
    // Unknown gVisor status counts as available: the opt-in is only ever sent when it is shown.
    const gvisorAvailable = useSystemStore.getState().status?.gvisor.available ?? true;
    const built = useEditorStore.getState().buildRequest(gvisorAvailable);
    if (!built.ok) {
      runs.setRunError({ code: 'INVALID_REQUEST', message: built.message });
      return;
    }
    void runs.startRun(built.request);
    // The runc opt-in is per run (README): the next run is refused again unless it opts in anew.
    if (built.request.allowRunc) useEditorStore.getState().setAllowRunc(false);
  }, []);
}
