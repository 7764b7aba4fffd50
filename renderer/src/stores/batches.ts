// Batches started through the API (batch.start: the window's, and `moat batch`'s while this owner
// runs): the list when the view opens, then each 'batch.progress' summary replacing its batch's
// (newest first).
import { create } from 'zustand';
import type { BatchDetail, BatchSummary } from '../../../shared/batch';
import type { ErrorPayload } from '../../../shared/errors';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

interface BatchesStore {
  batches: BatchSummary[];
  loaded: boolean;
  error: ErrorPayload | null;
  selected: string | null;
  detail: BatchDetail | null;
  /** Subscribes to progress and loads the list; returns the unsubscribe. */
  open(): () => void;
  load(): Promise<void>;
  select(id: string | null): Promise<void>;
  cancel(id: string): Promise<void>;
}

/** The list with `s` in its place (or first when new). */
export function upsertBatch(list: readonly BatchSummary[], s: BatchSummary): BatchSummary[] {
  const i = list.findIndex((b) => b.batchId === s.batchId);
  if (i === -1) return [s, ...list];
  const out = list.slice();
  out[i] = s;
  return out;
}

export const useBatchesStore = create<BatchesStore>()((set, get) => ({
  batches: [],
  loaded: false,
  error: null,
  selected: null,
  detail: null,

  open() {
    const off = api().on('batch.progress', (s) => {
      set((st) => ({ batches: upsertBatch(st.batches, s) }));
      if (get().selected === s.batchId && s.status !== 'running') void get().select(s.batchId);
    });
    void get().load();
    return off;
  },

  async load() {
    try {
      const batches = await api()['batch.list']({});
      set({ batches, loaded: true, error: null });
    } catch (err) {
      set({ error: toDisplayError(err) });
    }
  },

  async select(id) {
    set({ selected: id, detail: id === get().selected ? get().detail : null });
    if (!id) return;
    try {
      const detail = await api()['batch.get']({ id });
      if (get().selected === id) set({ detail });
    } catch (err) {
      set({ error: toDisplayError(err) });
    }
  },

  async cancel(id) {
    try {
      await api()['batch.cancel']({ id });
    } catch (err) {
      set({ error: toDisplayError(err) });
    }
  },
}));
