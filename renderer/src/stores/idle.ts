// The idle rule of each target: what counts as idle, and whether Moat warns or terminates the
// instance (terminating is refused for plain hosts by main; the form does not offer it there).
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { IdleRule, IdleStatus } from '../../../shared/remote';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

interface IdleStore {
  status: Record<string, IdleStatus>;
  saving: string | null;
  errors: Record<string, ErrorPayload | null>;
  load(target: string): Promise<void>;
  save(target: string, rule: IdleRule): Promise<boolean>;
  clearError(target: string): void;
}

export const useIdleStore = create<IdleStore>()((set) => ({
  status: {},
  saving: null,
  errors: {},

  async load(target) {
    try {
      const status = await api()['idle.get']({ target });
      set((s) => ({ status: { ...s.status, [target]: status }, errors: { ...s.errors, [target]: null } }));
    } catch (err) {
      set((s) => ({ errors: { ...s.errors, [target]: toDisplayError(err) } }));
    }
  },

  async save(target, rule) {
    set((s) => ({ saving: target, errors: { ...s.errors, [target]: null } }));
    try {
      const status = await api()['idle.set']({ target, rule });
      set((s) => ({ saving: null, status: { ...s.status, [target]: status } }));
      return true;
    } catch (err) {
      set((s) => ({ saving: null, errors: { ...s.errors, [target]: toDisplayError(err) } }));
      return false;
    }
  },

  clearError(target) {
    set((s) => ({ errors: { ...s.errors, [target]: null } }));
  },
}));
