// Resource samples per run ('run.stats', about one a second), kept in bounded buffers so a chart
// still has its data after the run ends and a long session does not grow without bound.
import { create } from 'zustand';
import type { StatsSample } from '../../../shared/types';
import { api } from '../transport/client';

/** 15 minutes at one sample a second. */
export const SAMPLES_PER_RUN = 900;
/** Series kept for the most recently active runs. */
export const RUNS_KEPT = 20;

interface StatsStore {
  byRun: Record<string, readonly StatsSample[]>;
  init(): () => void;
  add(sample: StatsSample): void;
  /** Puts a past run's recorded samples in place, unless live samples are already there. */
  load(runId: string, samples: readonly StatsSample[]): void;
}

export function pushBounded<T>(buf: readonly T[], item: T, capacity: number): readonly T[] {
  return buf.length >= capacity ? [...buf.slice(buf.length - capacity + 1), item] : [...buf, item];
}

export const useStatsStore = create<StatsStore>()((set) => ({
  byRun: {},
  init() {
    return api().on('run.stats', (sample) => useStatsStore.getState().add(sample));
  },
  load(runId, samples) {
    if (samples.length === 0 || (useStatsStore.getState().byRun[runId]?.length ?? 0) > 0) return;
    set((s) => ({ byRun: { ...s.byRun, [runId]: samples.slice(-SAMPLES_PER_RUN) } }));
  },
  add(sample) {
    set((s) => {
      const prev = s.byRun[sample.runId] ?? [];
      // Re-inserting keeps key order = recency, which is what eviction goes by.
      const byRun: Record<string, readonly StatsSample[]> = { ...s.byRun };
      delete byRun[sample.runId];
      byRun[sample.runId] = pushBounded(prev, sample, SAMPLES_PER_RUN);
      const ids = Object.keys(byRun);
      for (const id of ids.slice(0, Math.max(0, ids.length - RUNS_KEPT))) delete byRun[id];
      return { byRun };
    });
  },
}));

const NO_SAMPLES: readonly StatsSample[] = [];

export function useRunSamples(runId: string | null): readonly StatsSample[] {
  return useStatsStore((s) => (runId ? (s.byRun[runId] ?? NO_SAMPLES) : NO_SAMPLES));
}
