// Shown while the headless host's socket is down (never in Electron, whose IPC cannot drop).
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useConnectionStore } from '../stores/connection';

function useSecondsUntil(at: number | null): number {
  // The state only drives re-renders; the clock is read fresh so a new deadline never shows a
  // countdown computed from a stale "now".
  const [, setTick] = useState(0);
  useEffect(() => {
    if (at === null) return;
    const timer = setInterval(() => setTick((n) => n + 1), 250);
    return () => clearInterval(timer);
  }, [at]);
  return at === null ? 0 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export function ConnectionBanner() {
  const { kind, state, everOpened } = useConnectionStore(useShallow((s) => ({ kind: s.kind, state: s.state, everOpened: s.everOpened })));
  const retryAt = state.phase === 'waiting' ? state.retryAt : null;
  const seconds = useSecondsUntil(retryAt);
  if (kind !== 'websocket' || state.phase === 'open') return null;

  if (!everOpened && state.phase === 'connecting' && state.attempt === 1) {
    return (
      <div className="banner banner-info" role="status" data-testid="connection-banner">
        Connecting to Moat…
      </div>
    );
  }
  if (state.phase === 'waiting' && state.tooLarge) {
    return (
      <div className="banner banner-error" role="alert" data-testid="connection-banner" data-reason="request-too-large">
        <strong>Request too large:</strong> Moat closed the connection because a request was larger than it accepts. Reconnecting in{' '}
        {seconds} s…
      </div>
    );
  }
  const what = everOpened ? 'Connection to Moat lost.' : 'Cannot reach Moat.';
  const next = state.phase === 'connecting' ? 'Reconnecting…' : `Reconnecting in ${seconds} s…`;
  return (
    <div className="banner banner-error" role="alert" data-testid="connection-banner">
      <strong>{what}</strong> {next}
      <span className="banner-hint">
        If <code>moat serve</code> was restarted, open the new URL it printed: the access token changes on every launch.
      </span>
    </div>
  );
}
