// How the UI reaches main: which transport, and (for the headless host) whether the socket is up.
import { create } from 'zustand';
import type { ConnectionState } from '../transport/websocket';

export type TransportKind = 'electron' | 'websocket';

interface ConnectionStore {
  kind: TransportKind | null;
  state: ConnectionState;
  /** True once the first connection succeeded: later drops show "lost", not "connecting". */
  everOpened: boolean;
  setKind(kind: TransportKind): void;
  setState(state: ConnectionState): void;
}

export const useConnectionStore = create<ConnectionStore>()((set) => ({
  kind: null,
  state: { phase: 'connecting', attempt: 1 },
  everOpened: false,
  setKind: (kind) => set(kind === 'electron' ? { kind, state: { phase: 'open' }, everOpened: true } : { kind }),
  setState: (state) => set((s) => ({ state, everOpened: s.everOpened || state.phase === 'open' })),
}));
