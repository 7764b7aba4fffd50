// Instances across every account, their burn rates, and terminating one. Main pushes a fresh list
// ('instances.updated') whenever something changes, but only keeps asking the providers for a few
// minutes after the last 'instances.list' call: the Instances view calls `load()` while it is open.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { InstancesList } from '../../../shared/providers';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

interface InstancesStore {
  list: InstancesList | null;
  listError: ErrorPayload | null;
  /** A list call with `refresh: true` is in flight. */
  refreshing: boolean;
  terminating: string | null;
  terminateError: ErrorPayload | null;
  init(): () => void;
  load(refresh?: boolean): Promise<void>;
  /** Resolves true once the provider accepted the termination. */
  terminate(id: string): Promise<boolean>;
  clearTerminateError(): void;
}

/** An older answer (a slow list call overtaken by a push) never replaces a newer one. */
function newer(current: InstancesList | null, incoming: InstancesList): InstancesList {
  return current && current.at > incoming.at ? current : incoming;
}

export const useInstancesStore = create<InstancesStore>()((set, get) => ({
  list: null,
  listError: null,
  refreshing: false,
  terminating: null,
  terminateError: null,

  init() {
    return api().on('instances.updated', (list) => set((s) => ({ list: newer(s.list, list), listError: null })));
  },

  async load(refresh = false) {
    if (refresh) set({ refreshing: true });
    try {
      const list = await api()['instances.list'](refresh ? { refresh: true } : undefined);
      set((s) => ({ list: newer(s.list, list), listError: null, refreshing: false }));
    } catch (err) {
      set({ listError: toDisplayError(err), refreshing: false });
    }
  },

  async terminate(id) {
    set({ terminating: id, terminateError: null });
    try {
      await api()['instances.terminate']({ ref: id });
      set({ terminating: null });
      void get().load();
      return true;
    } catch (err) {
      set({ terminating: null, terminateError: toDisplayError(err) });
      return false;
    }
  },

  clearTerminateError() {
    set({ terminateError: null });
  },
}));
