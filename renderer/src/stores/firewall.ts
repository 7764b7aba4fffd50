// Every instance's firewall posture, and the user's public address as main detects it. Main pushes
// a fresh overview ('firewall.updated') after each read and each apply. The status bar's exposed
// count needs an overview even when the Firewall view was never opened: `watch()` asks once at
// startup, when there are accounts to ask about, then every few minutes.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { DetectedAddresses, FirewallOverview } from '../../../shared/firewall';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

export const STATUS_POLL_MS = 5 * 60_000;

interface FirewallStore {
  overview: FirewallOverview | null;
  overviewError: ErrorPayload | null;
  loading: boolean;
  detected: DetectedAddresses | null;
  detecting: boolean;
  detectError: ErrorPayload | null;
  /** Follows 'firewall.updated'; returns the unsubscribe. */
  init(): () => void;
  /** One overview now, then every STATUS_POLL_MS, each only while there are accounts; returns the stop. */
  watch(): () => void;
  load(): Promise<void>;
  /** Asks main for the user's public addresses; resolves with them (null when the call failed). */
  detect(): Promise<DetectedAddresses | null>;
}

/** An older answer (a slow call overtaken by a push) never replaces a newer one. */
export function newerOverview(current: FirewallOverview | null, incoming: FirewallOverview): FirewallOverview {
  return current && current.at > incoming.at ? current : incoming;
}

export const useFirewallStore = create<FirewallStore>()((set, get) => ({
  overview: null,
  overviewError: null,
  loading: false,
  detected: null,
  detecting: false,
  detectError: null,

  init() {
    return api().on('firewall.updated', (o) => set((s) => ({ overview: newerOverview(s.overview, o), overviewError: null })));
  },

  watch() {
    const tick = async () => {
      try {
        const accounts = await api()['accounts.list']();
        if (accounts.length > 0) await get().load();
      } catch (err) {
        set({ overviewError: toDisplayError(err) });
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), STATUS_POLL_MS);
    return () => clearInterval(timer);
  },

  async load() {
    set({ loading: true });
    try {
      const overview = await api()['firewall.overview']();
      set((s) => ({ overview: newerOverview(s.overview, overview), overviewError: null, loading: false }));
    } catch (err) {
      set({ overviewError: toDisplayError(err), loading: false });
    }
  },

  async detect() {
    set({ detecting: true, detectError: null });
    try {
      const detected = await api()['firewall.detectAddress']();
      set({ detected, detecting: false });
      return detected;
    } catch (err) {
      set({ detectError: toDisplayError(err), detecting: false });
      return null;
    }
  },
}));
