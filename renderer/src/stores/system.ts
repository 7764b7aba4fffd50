// Engine, gVisor and warm-pool status for the status bar and the run form.
import { create } from 'zustand';
import type { SystemStatus } from '../../../shared/types';
import type { ErrorPayload } from '../../../shared/errors';
import { api } from '../transport/client';
import { toDisplayError } from '../lib/errors';

interface SystemStore {
  status: SystemStatus | null;
  error: ErrorPayload | null;
  init(): () => void;
  refresh(): Promise<void>;
}

export const useSystemStore = create<SystemStore>()((set) => ({
  status: null,
  error: null,
  init() {
    const off = api().on('system.status', (status) => set({ status, error: null }));
    void useSystemStore.getState().refresh();
    return off;
  },
  async refresh() {
    try {
      set({ status: await api()['system.status'](), error: null });
    } catch (err) {
      set({ error: toDisplayError(err) });
    }
  },
}));
