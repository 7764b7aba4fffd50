// The launch form's options and the progress of the launch under way. Progress events carry a
// launchId, but they can arrive before the launch call resolves with it: until then an event is
// matched by account and name.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { Instance, LaunchOptions, LaunchProgress, LaunchRequest } from '../../../shared/providers';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';
import { useFirewallStore } from './firewall';

export interface LaunchState {
  account: string;
  name: string;
  /** Launched with a locked start (only SSH from the user's address): the progress shows the firewall step. */
  locked: boolean;
  launchId: string | null;
  events: LaunchProgress[];
  /** The instance the launch call returned, once it resolved. */
  instance: Instance | null;
  submitting: boolean;
  /** The launch call rejected, or a 'failed' event said why. */
  error: ErrorPayload | null;
}

interface LaunchStore {
  options: LaunchOptions | null;
  optionsFor: string | null;
  optionsLoading: boolean;
  optionsError: ErrorPayload | null;
  /** The launch call rejected: shown in the form, which stays open to try again. */
  formError: ErrorPayload | null;
  launch: LaunchState | null;
  init(): () => void;
  loadOptions(account: string): Promise<void>;
  /** Resolves true once the provider accepted the launch. */
  submit(request: LaunchRequest): Promise<boolean>;
  dismiss(): void;
}

export function belongsTo(launch: Pick<LaunchState, 'account' | 'name' | 'launchId'>, e: LaunchProgress): boolean {
  if (launch.launchId !== null) return e.launchId === launch.launchId;
  return e.account === launch.account && e.name === launch.name;
}

export const useLaunchStore = create<LaunchStore>()((set, get) => ({
  options: null,
  optionsFor: null,
  optionsLoading: false,
  optionsError: null,
  formError: null,
  launch: null,

  init() {
    return api().on('instances.launch', (e) => {
      // A new instance changes the exposed count: read the posture again, once one was read at all.
      if (e.step === 'ready' && useFirewallStore.getState().overview) void useFirewallStore.getState().load();
      set((s) => {
        const l = s.launch;
        if (!l || !belongsTo(l, e)) return {};
        return { launch: { ...l, events: [...l.events, e], error: e.step === 'failed' ? (e.error ?? l.error) : l.error } };
      });
    });
  },

  async loadOptions(account) {
    set({ optionsFor: account, optionsLoading: true, optionsError: null, options: null });
    try {
      const options = await api()['instances.options']({ account });
      // The user may have picked another account meanwhile.
      if (get().optionsFor === account) set({ options, optionsLoading: false });
    } catch (err) {
      if (get().optionsFor === account) set({ optionsError: toDisplayError(err), optionsLoading: false });
    }
  },

  async submit(request) {
    const { account, name } = request;
    set({
      formError: null,
      launch: {
        account,
        name,
        locked: request.locked !== false,
        launchId: null,
        events: [],
        instance: null,
        submitting: true,
        error: null,
      },
    });
    const mine = () => {
      const l = get().launch;
      return l && l.account === account && l.name === name && l.submitting ? l : null;
    };
    try {
      const { launchId, instance } = await api()['instances.launch'](request);
      const l = mine();
      if (l) {
        // Events matched by account and name before the id was known, but from another launch of
        // the same name (an earlier attempt), are dropped now.
        set({ launch: { ...l, launchId, instance, submitting: false, events: l.events.filter((e) => e.launchId === launchId) } });
      }
      return true;
    } catch (err) {
      const error = toDisplayError(err);
      const l = mine();
      if (l) set({ formError: error, launch: { ...l, submitting: false, error: l.error ?? error } });
      return false;
    }
  },

  dismiss() {
    set({ launch: null });
  },
}));
