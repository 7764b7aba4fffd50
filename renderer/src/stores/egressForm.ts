// The run form's egress part: environment variables, the output policy and "scan output", the
// network allowlist (a preset or typed entries), and the egress self-test of that allowlist.
import { create } from 'zustand';
import type { EgressPolicy, EgressTestReport, EnvVar } from '../../../shared/egress';
import type { ErrorPayload } from '../../../shared/errors';
import { allowEntryProblem, allowNetFor, envFromRows, type AllowPreset, type EnvRow } from '../lib/egress';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';

export interface EgressFormState {
  env: EnvRow[];
  /** '' : the settings' default. */
  policy: EgressPolicy | '';
  /** Scan the output for secrets (egressFilter). */
  scan: boolean;
  preset: AllowPreset;
  custom: string[];
}

interface EgressFormStore extends EgressFormState {
  nextKey: number;
  testing: boolean;
  report: EgressTestReport | null;
  testError: ErrorPayload | null;
  addEnv(): void;
  setEnv(key: number, patch: Partial<Omit<EnvRow, 'key'>>): void;
  removeEnv(key: number): void;
  setPolicy(policy: EgressPolicy | ''): void;
  setScan(scan: boolean): void;
  setPreset(preset: AllowPreset): void;
  /** Adds a typed entry; returns why not, or null when added. */
  addEntry(text: string): string | null;
  removeEntry(entry: string): void;
  selfTest(template: string | null): Promise<void>;
}

export type EgressPart = { env?: EnvVar[]; egressFilter?: boolean; egressPolicy?: EgressPolicy; allowNet?: string[] };

/** What the form adds to a RunRequest (only what differs from main's defaults), or why it cannot. */
export function egressRequestPart(s: EgressFormState): { ok: true; part: EgressPart } | { ok: false; message: string } {
  const env = envFromRows(s.env);
  if (!env.ok) return env;
  const part: EgressPart = {};
  if (env.env.length > 0) part.env = env.env;
  if (!s.scan) part.egressFilter = false;
  if (s.policy) part.egressPolicy = s.policy;
  const allowNet = allowNetFor(s.preset, s.custom);
  if (allowNet.length > 0) part.allowNet = allowNet;
  return { ok: true, part };
}

export const useEgressFormStore = create<EgressFormStore>()((set, get) => ({
  env: [],
  policy: '',
  scan: true,
  preset: 'none',
  custom: [],
  nextKey: 1,
  testing: false,
  report: null,
  testError: null,

  addEnv() {
    set((s) => ({ env: [...s.env, { key: s.nextKey, name: '', value: '', secret: false }], nextKey: s.nextKey + 1 }));
  },

  setEnv(key, patch) {
    set((s) => ({ env: s.env.map((r) => (r.key === key ? { ...r, ...patch } : r)) }));
  },

  removeEnv(key) {
    set((s) => ({ env: s.env.filter((r) => r.key !== key) }));
  },

  setPolicy(policy) {
    set({ policy });
  },

  setScan(scan) {
    set({ scan });
  },

  setPreset(preset) {
    // Switching to custom starts from what the preset listed, so it can be edited.
    set((s) => ({
      preset,
      custom: preset === 'custom' && s.preset !== 'custom' ? allowNetFor(s.preset, s.custom) : s.custom,
      report: null,
    }));
  },

  addEntry(text) {
    const s = get();
    const current = allowNetFor(s.preset, s.custom);
    const problem = allowEntryProblem(text, current);
    if (problem) return problem;
    set({ preset: 'custom', custom: [...current, text.trim()], report: null });
    return null;
  },

  removeEntry(entry) {
    const s = get();
    set({ preset: 'custom', custom: allowNetFor(s.preset, s.custom).filter((e) => e !== entry), report: null });
  },

  async selfTest(template) {
    const s = get();
    set({ testing: true, testError: null, report: null });
    try {
      const allowNet = allowNetFor(s.preset, s.custom);
      const report = await api()['egress.test'](template ? { template, allowNet } : { allowNet });
      set({ testing: false, report });
    } catch (err) {
      set({ testing: false, testError: toDisplayError(err) });
    }
  },
}));
