// Egress-filter alerts: the unacknowledged counter for the app frame (from the start, kept live by
// 'alerts.counts'), and the Alerts view's filtered list, selection, acknowledgement and per-rule
// suppressions (main records suppress and un-suppress in the audit log).
import { create } from 'zustand';
import type { Alert, AlertCounts, Suppression } from '../../../shared/egress';
import type { ErrorPayload } from '../../../shared/errors';
import { DEFAULT_FILTER, filterParams, markAcknowledged, matchesFilter, mergeAlerts, type AlertFilterForm } from '../lib/alerts';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';
import { useSettingsStore } from './settings';

interface AlertsStore {
  counts: AlertCounts | null;
  alerts: Alert[];
  loaded: boolean;
  loading: boolean;
  error: ErrorPayload | null;
  filter: AlertFilterForm;
  selectedId: string | null;
  suppressions: Suppression[];
  /** An ack, suppress or allow call in flight. */
  busy: boolean;
  /** The result of the last action, shown once (e.g. "Allowed api.x:443 for template python"). */
  notice: string | null;
  /** Subscribes to the counter and suppressions and reads the counter; returns the unsubscribe. */
  init(): () => void;
  refreshCounts(): Promise<void>;
  /** Subscribes to new alerts and reads the list and suppressions (the view opened); returns the unsubscribe. */
  open(): () => void;
  load(): Promise<void>;
  setFilter(patch: Partial<AlertFilterForm>): void;
  select(id: string | null): void;
  ack(ids: string[]): Promise<void>;
  suppress(rule: string, reason: string): Promise<void>;
  unsuppress(rule: string): Promise<void>;
  allowForTemplate(template: string, entry: string): Promise<void>;
  dismiss(): void;
}

let loadSeq = 0;

export const useAlertsStore = create<AlertsStore>()((set, get) => ({
  counts: null,
  alerts: [],
  loaded: false,
  loading: false,
  error: null,
  filter: DEFAULT_FILTER,
  selectedId: null,
  suppressions: [],
  busy: false,
  notice: null,

  init() {
    const offCounts = api().on('alerts.counts', (counts) => set({ counts }));
    const offSupp = api().on('alerts.suppressions', (suppressions) => set({ suppressions }));
    void get().refreshCounts();
    return () => {
      offCounts();
      offSupp();
    };
  },

  async refreshCounts() {
    try {
      set({ counts: await api()['alerts.counts']() });
    } catch {
      // The counter stays as it was; the Alerts view shows the error when opened.
    }
  },

  open() {
    const off = api().on('alerts.appended', (alert) =>
      set((s) => (matchesFilter(alert, s.filter) ? { alerts: mergeAlerts([alert], s.alerts) } : {})),
    );
    void get().load();
    void loadSuppressions();
    return off;
  },

  async load() {
    const seq = ++loadSeq;
    const filter = get().filter;
    set({ loading: true });
    try {
      const page = await api()['alerts.list'](filterParams(filter));
      if (seq !== loadSeq) return;
      // Alerts pushed while the page loaded are kept if the (same) filter takes them.
      set((s) => ({
        alerts: mergeAlerts(
          page,
          s.alerts.filter((a) => matchesFilter(a, filter)),
        ),
        loaded: true,
        loading: false,
        error: null,
      }));
    } catch (err) {
      if (seq === loadSeq) set({ loading: false, error: toDisplayError(err) });
    }
  },

  setFilter(patch) {
    set((s) => ({ filter: { ...s.filter, ...patch }, alerts: [], loaded: false }));
    void get().load();
  },

  select(selectedId) {
    set({ selectedId });
  },

  async ack(ids) {
    if (ids.length === 0) return;
    set({ busy: true, notice: null });
    try {
      const { acknowledged } = await api()['alerts.ack']({ ids });
      set((s) => ({
        busy: false,
        error: null,
        alerts: markAcknowledged(s.alerts, ids),
        notice: acknowledged === 1 ? 'Acknowledged 1 alert.' : `Acknowledged ${acknowledged} alerts.`,
      }));
      void get().refreshCounts();
    } catch (err) {
      set({ busy: false, error: toDisplayError(err) });
    }
  },

  async suppress(rule, reason) {
    set({ busy: true, notice: null });
    try {
      const r = reason.trim();
      const suppressions = await api()['alerts.suppress'](r ? { rule, reason: r } : { rule });
      set({ busy: false, error: null, suppressions, notice: `Suppressed ${rule}: its findings are neither alerted nor redacted.` });
    } catch (err) {
      set({ busy: false, error: toDisplayError(err) });
    }
  },

  async unsuppress(rule) {
    set({ busy: true, notice: null });
    try {
      const suppressions = await api()['alerts.unsuppress']({ rule });
      set({ busy: false, error: null, suppressions, notice: `${rule} is no longer suppressed.` });
    } catch (err) {
      set({ busy: false, error: toDisplayError(err) });
    }
  },

  async allowForTemplate(template, entry) {
    set({ busy: true, notice: null });
    try {
      const settings = await api()['egress.allowForTemplate']({ template, entry });
      useSettingsStore.getState().received(settings);
      set({ busy: false, error: null, notice: `Allowed ${entry} for template ${template}.` });
    } catch (err) {
      set({ busy: false, error: toDisplayError(err) });
    }
  },

  dismiss() {
    set({ notice: null, error: null });
  },
}));

async function loadSuppressions(): Promise<void> {
  try {
    useAlertsStore.setState({ suppressions: await api()['alerts.suppressions']() });
  } catch (err) {
    useAlertsStore.setState({ error: toDisplayError(err) });
  }
}

/** Re-reads the counter, and the list if the view is open (after a reconnect). */
export function reloadAlerts(viewOpen: boolean): void {
  void useAlertsStore.getState().refreshCounts();
  if (viewOpen) {
    void useAlertsStore.getState().load();
    void loadSuppressions();
  }
}
