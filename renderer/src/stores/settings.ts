// Settings as the run form and the Settings view need them: the default egress policy and each
// template's allowlist. Read at start; every change goes through settings.update (or
// egress.allowForTemplate) and the settings main returns replace these.
import { create } from 'zustand';
import type { EgressPolicy } from '../../../shared/egress';
import type { ErrorPayload } from '../../../shared/errors';
import type { Settings } from '../../../shared/types';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

interface SettingsStore {
  settings: Settings | null;
  error: ErrorPayload | null;
  saving: boolean;
  load(): Promise<void>;
  /** Settings main sent back from another call. */
  received(settings: Settings): void;
  setEgressPolicy(policy: EgressPolicy): Promise<void>;
  /** Replaces one template's allowlist (an empty list removes the template's entry). */
  setTemplateAllowNet(template: string, entries: string[]): Promise<void>;
}

export const useSettingsStore = create<SettingsStore>()((set, get) => ({
  settings: null,
  error: null,
  saving: false,

  async load() {
    try {
      set({ settings: await api()['settings.get'](), error: null });
    } catch (err) {
      set({ error: toDisplayError(err) });
    }
  },

  received(settings) {
    set({ settings });
  },

  async setEgressPolicy(egressPolicy) {
    await update({ egressPolicy });
  },

  async setTemplateAllowNet(template, entries) {
    const current = get().settings?.templateAllowNet ?? {};
    const next = { ...current };
    if (entries.length === 0) delete next[template];
    else next[template] = entries;
    await update({ templateAllowNet: next });
  },
}));

async function update(patch: Partial<Settings>): Promise<void> {
  useSettingsStore.setState({ saving: true });
  try {
    const settings = await api()['settings.update'](patch);
    useSettingsStore.setState({ settings, saving: false, error: null });
  } catch (err) {
    useSettingsStore.setState({ saving: false, error: toDisplayError(err) });
  }
}

const NONE: readonly string[] = Object.freeze([]);

/** The template's own allowlist (settings), empty when none: the same array each time, so it can be a selector's result. */
export function templateAllowNet(settings: Settings | null, template: string | null): readonly string[] {
  if (!settings || !template) return NONE;
  return settings.templateAllowNet?.[template] ?? NONE;
}
