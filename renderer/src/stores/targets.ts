// Where sandboxes can run (this machine, SSH hosts, instances added as hosts), adding and removing
// hosts, and the host selected in the Hosts view. A private key or passphrase passes through here
// only as an argument on its way to main: nothing in this store ever holds one.
import { create } from 'zustand';
import type { ParamsOf } from '../../../shared/api';
import type { ErrorPayload } from '../../../shared/errors';
import type { AddHostResult, HostKey, Target } from '../../../shared/remote';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

/** An instance waiting for the user to trust the host key it showed. */
export interface InstanceTrust {
  ref: string;
  /** account/name, for the dialog. */
  label: string;
  hostKey: HostKey;
}

interface TargetsStore {
  targets: Target[];
  loaded: boolean;
  listError: ErrorPayload | null;
  /** The host shown in the Hosts view's detail. */
  selected: string | null;
  adding: boolean;
  addError: ErrorPayload | null;
  /** The instance ref whose hosts.addInstance call is in flight. */
  addingInstance: string | null;
  instanceTrust: InstanceTrust | null;
  instanceError: ErrorPayload | null;
  removing: string | null;
  removeError: ErrorPayload | null;
  load(): Promise<void>;
  select(name: string | null): void;
  /** One hosts.add call; null when it was refused (the error is in addError). */
  addHost(request: ParamsOf<'hosts.add'>): Promise<AddHostResult | null>;
  clearAddError(): void;
  /** Asks to add an instance; a host key to confirm lands in instanceTrust. Resolves with the target once added. */
  addInstance(ref: string, label: string, trustFingerprint?: string): Promise<Target | null>;
  cancelInstanceTrust(): void;
  clearInstanceError(): void;
  remove(name: string): Promise<boolean>;
  clearRemoveError(): void;
}

function withTarget(targets: readonly Target[], target: Target): Target[] {
  return [...targets.filter((t) => t.id !== target.id), target];
}

export const useTargetsStore = create<TargetsStore>()((set, get) => ({
  targets: [],
  loaded: false,
  listError: null,
  selected: null,
  adding: false,
  addError: null,
  addingInstance: null,
  instanceTrust: null,
  instanceError: null,
  removing: null,
  removeError: null,

  async load() {
    try {
      const targets = await api()['targets.list']();
      set((s) => ({
        targets,
        loaded: true,
        listError: null,
        selected: s.selected && targets.some((t) => t.id === s.selected) ? s.selected : null,
      }));
    } catch (err) {
      set({ listError: toDisplayError(err) });
    }
  },

  select(selected) {
    set({ selected });
  },

  async addHost(request) {
    set({ adding: true, addError: null });
    try {
      const result = await api()['hosts.add'](request);
      if (result.status === 'added') {
        set((s) => ({ adding: false, targets: withTarget(s.targets, result.target), selected: result.target.id }));
        void get().load();
      } else set({ adding: false });
      return result;
    } catch (err) {
      set({ adding: false, addError: toDisplayError(err) });
      return null;
    }
  },

  clearAddError() {
    set({ addError: null });
  },

  async addInstance(ref, label, trustFingerprint) {
    set({ addingInstance: ref, instanceError: null });
    try {
      const result = await api()['hosts.addInstance'](trustFingerprint ? { ref, trustFingerprint } : { ref });
      if (result.status === 'needs-trust') {
        set({ addingInstance: null, instanceTrust: { ref, label, hostKey: result.hostKey } });
        return null;
      }
      set((s) => ({
        addingInstance: null,
        instanceTrust: null,
        targets: withTarget(s.targets, result.target),
        selected: result.target.id,
      }));
      void get().load();
      return result.target;
    } catch (err) {
      set({ addingInstance: null, instanceTrust: null, instanceError: toDisplayError(err) });
      return null;
    }
  },

  cancelInstanceTrust() {
    set({ instanceTrust: null });
  },

  clearInstanceError() {
    set({ instanceError: null });
  },

  async remove(name) {
    set({ removing: name, removeError: null });
    try {
      await api()['hosts.remove']({ name });
      set((s) => ({
        removing: null,
        targets: s.targets.filter((t) => t.id !== name),
        selected: s.selected === name ? null : s.selected,
      }));
      void get().load();
      return true;
    } catch (err) {
      set({ removing: null, removeError: toDisplayError(err) });
      return false;
    }
  },

  clearRemoveError() {
    set({ removeError: null });
  },
}));
