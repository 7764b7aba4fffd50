// The audit log, newest first: a page read when the view opens, then entries prepended as main
// appends them. Entries have no id, so an entry pushed while the page was loading is recognised by
// its content.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { AuditEntry } from '../../../shared/providers';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

export const AUDIT_PAGE = 200;
const KEPT = 1000;

interface AuditStore {
  entries: AuditEntry[];
  loaded: boolean;
  loading: boolean;
  error: ErrorPayload | null;
  /** Subscribes to appended entries and loads the newest page; returns the unsubscribe. */
  open(): () => void;
  load(): Promise<void>;
}

function entryKey(e: AuditEntry): string {
  return JSON.stringify([e.t, e.action, e.by, e.details]);
}

/** Newest first, without duplicates, at most `limit`. */
export function mergeEntries(a: readonly AuditEntry[], b: readonly AuditEntry[], limit = KEPT): AuditEntry[] {
  const seen = new Set<string>();
  const out: AuditEntry[] = [];
  for (const e of [...a, ...b]) {
    const k = entryKey(e);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  // Stable: entries with the same time keep the order they came in.
  return out.sort((x, y) => y.t - x.t).slice(0, limit);
}

export const useAuditStore = create<AuditStore>()((set, get) => ({
  entries: [],
  loaded: false,
  loading: false,
  error: null,

  open() {
    const off = api().on('audit.appended', (entry) => set((s) => ({ entries: mergeEntries([entry], s.entries) })));
    void get().load();
    return off;
  },

  async load() {
    set({ loading: true });
    try {
      const page = await api()['audit.list']({ limit: AUDIT_PAGE });
      set((s) => ({ entries: mergeEntries(s.entries, page), loaded: true, loading: false, error: null }));
    } catch (err) {
      set({ loading: false, error: toDisplayError(err) });
    }
  },
}));
