// Host usage per target, fed by 'usage.sample' and kept in bounded buffers. Main samples a target
// for two minutes after each usage.watch call: the usage view asks again every minute while open.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { HostUsage } from '../../../shared/remote';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';
import { pushBounded } from './stats';

export const SAMPLES_PER_TARGET = 300;
export const DEFAULT_USAGE_INTERVAL_MS = 5000;

interface UsageStore {
  byTarget: Record<string, readonly HostUsage[]>;
  /** The sandboxes running on each target, as of its latest sample. */
  runs: Record<string, readonly string[]>;
  intervalMs: Record<string, number>;
  errors: Record<string, ErrorPayload | null>;
  init(): () => void;
  setInterval(target: string, ms: number): void;
  watch(target: string): Promise<void>;
}

export const useUsageStore = create<UsageStore>()((set, get) => ({
  byTarget: {},
  runs: {},
  intervalMs: {},
  errors: {},

  init() {
    return api().on('usage.sample', ({ target, sample, runs }) =>
      set((s) => ({
        byTarget: { ...s.byTarget, [target]: pushBounded(s.byTarget[target] ?? [], sample, SAMPLES_PER_TARGET) },
        runs: { ...s.runs, [target]: runs },
      })),
    );
  },

  setInterval(target, ms) {
    set((s) => ({ intervalMs: { ...s.intervalMs, [target]: ms } }));
  },

  async watch(target) {
    const intervalMs = get().intervalMs[target] ?? DEFAULT_USAGE_INTERVAL_MS;
    try {
      await api()['usage.watch']({ target, intervalMs });
      set((s) => ({ errors: { ...s.errors, [target]: null } }));
    } catch (err) {
      set((s) => ({ errors: { ...s.errors, [target]: toDisplayError(err) } }));
    }
  },
}));

const NONE: readonly HostUsage[] = [];
const NO_RUNS: readonly string[] = [];

export function useTargetSamples(target: string): readonly HostUsage[] {
  return useUsageStore((s) => s.byTarget[target] ?? NONE);
}

export function useTargetRuns(target: string): readonly string[] {
  return useUsageStore((s) => s.runs[target] ?? NO_RUNS);
}
