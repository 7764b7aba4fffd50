// Runs: live ones and history, the selected run, the output streamed for each run, and the run and
// cancel actions. Output events are batched and applied a few dozen times a second at most.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { OutputChunk, RunRecord } from '../../../shared/types';
import { toDisplayError } from '../lib/errors';
import { api } from '../transport/client';
import type { RunRequestParams } from './editor';
import { appendOutput, EMPTY_OUTPUT, outputFrom, type RunOutput } from './outputBuffer';
import { upsertRecords } from './runRecords';
import { useStatsStore } from './stats';

/** Outputs kept in memory besides live and selected runs (older ones reload from runs.get). */
const OUTPUTS_KEPT = 12;
const FLUSH_MS = 40;
const HISTORY_PAGE = 200;

export interface SelectedDetail {
  runId: string;
  loading: boolean;
  error: ErrorPayload | null;
}

interface RunsStore {
  runs: Record<string, RunRecord>;
  outputs: Record<string, RunOutput>;
  selectedId: string | null;
  /** Loading state of runs.get for a run opened from the history. */
  detail: SelectedDetail | null;
  /** A sandbox.run call is in flight. */
  submitting: boolean;
  cancelling: string | null;
  runError: ErrorPayload | null;
  listError: ErrorPayload | null;
  init(): () => void;
  refresh(): Promise<void>;
  /** After the connection came back: re-read runs, and the selected run's output if events were missed. */
  resync(): Promise<void>;
  startRun(request: RunRequestParams): Promise<void>;
  cancel(runId: string): Promise<void>;
  select(runId: string): Promise<void>;
  setRunError(error: ErrorPayload | null): void;
}

export const useRunsStore = create<RunsStore>()((set, get) => ({
  runs: {},
  outputs: {},
  selectedId: null,
  detail: null,
  submitting: false,
  cancelling: null,
  runError: null,
  listError: null,

  init() {
    const offUpdated = api().on('run.updated', (run) => {
      // Output sent before the end must be on screen before the run shows as finished.
      if (run.status === 'finished' && pending.some((c) => c.runId === run.id)) {
        if (flushTimer) clearTimeout(flushTimer);
        flushOutput();
      }
      set((s) => ({
        runs: upsertRecords(s.runs, [run]),
        cancelling: s.cancelling === run.id && run.status === 'finished' ? null : s.cancelling,
      }));
      if (run.status === 'finished' && gappedStreams.delete(run.id) && get().selectedId === run.id) void get().select(run.id);
    });
    const offOutput = api().on('run.output', queueOutput);
    void get().refresh();
    return () => {
      offUpdated();
      offOutput();
    };
  },

  async refresh() {
    try {
      const [history, live] = await Promise.all([api()['runs.list']({ limit: HISTORY_PAGE }), api()['sandbox.live']()]);
      set((s) => ({ runs: upsertRecords(s.runs, [...history, ...live]), listError: null }));
    } catch (err) {
      set({ listError: toDisplayError(err) });
    }
  },

  async resync() {
    for (const r of Object.values(get().runs)) if (r.status !== 'finished') gappedStreams.add(r.id);
    await get().refresh();
    const { selectedId, runs } = get();
    for (const id of gappedStreams) if (runs[id]?.status === 'finished') gappedStreams.delete(id);
    // A finished run's stored output is complete; a live one is reloaded when it finishes.
    if (selectedId && runs[selectedId]?.status === 'finished') await get().select(selectedId);
  },

  async startRun(request) {
    set({ submitting: true, runError: null });
    try {
      const { runId } = await api()['sandbox.run'](request);
      set((s) => ({ submitting: false, selectedId: runId, detail: null, outputs: pruneOutputs(s.outputs, s.runs, runId) }));
    } catch (err) {
      set({ submitting: false, runError: toDisplayError(err) });
    }
  },

  async cancel(runId) {
    set({ cancelling: runId, runError: null });
    try {
      const { cancelled } = await api()['sandbox.cancel']({ runId });
      if (!cancelled) set({ cancelling: null });
    } catch (err) {
      set({ cancelling: null, runError: toDisplayError(err) });
    }
  },

  async select(runId) {
    set({ selectedId: runId, detail: { runId, loading: true, error: null } });
    try {
      const detail = await api()['runs.get']({ id: runId });
      useStatsStore.getState().load(runId, detail.stats);
      set((s) => {
        const runs = upsertRecords(s.runs, [detail.run]);
        // A finished run's stored output is complete and authoritative; a live run keeps what
        // was streamed so far, if anything was.
        const useStored = detail.run.status === 'finished' || !s.outputs[runId];
        // Chunks still waiting for the next flush are already in the stored output.
        if (useStored) pending = pending.filter((c) => c.runId !== runId);
        const outputs = useStored ? { ...s.outputs, [runId]: outputFrom(detail.output) } : s.outputs;
        const still = s.selectedId === runId;
        return {
          runs,
          outputs: pruneOutputs(outputs, runs, s.selectedId),
          detail: still ? { runId, loading: false, error: null } : s.detail,
        };
      });
    } catch (err) {
      set((s) => (s.selectedId === runId ? { detail: { runId, loading: false, error: toDisplayError(err) } } : {}));
    }
  },

  setRunError(runError) {
    set({ runError });
  },
}));

/** Live runs whose output events may have been missed while the connection was down. */
const gappedStreams = new Set<string>();

let pending: OutputChunk[] = [];
let flushTimer: ReturnType<typeof setTimeout> | null = null;

function queueOutput(chunk: OutputChunk): void {
  pending.push(chunk);
  flushTimer ??= setTimeout(flushOutput, FLUSH_MS);
}

function flushOutput(): void {
  flushTimer = null;
  const chunks = pending;
  pending = [];
  const byRun = new Map<string, OutputChunk[]>();
  for (const c of chunks) {
    const list = byRun.get(c.runId);
    if (list) list.push(c);
    else byRun.set(c.runId, [c]);
  }
  useRunsStore.setState((s) => {
    const outputs = { ...s.outputs };
    for (const [runId, list] of byRun) outputs[runId] = appendOutput(outputs[runId] ?? EMPTY_OUTPUT, list);
    return { outputs: pruneOutputs(outputs, s.runs, s.selectedId) };
  });
}

function pruneOutputs(
  outputs: Record<string, RunOutput>,
  runs: Readonly<Record<string, RunRecord>>,
  selectedId: string | null,
): Record<string, RunOutput> {
  const ids = Object.keys(outputs);
  if (ids.length <= OUTPUTS_KEPT) return outputs;
  const droppable = ids.filter((id) => id !== selectedId && runs[id]?.status === 'finished');
  const next = { ...outputs };
  for (const id of droppable.slice(0, ids.length - OUTPUTS_KEPT)) delete next[id];
  return next;
}

const NO_OUTPUT = EMPTY_OUTPUT;

export function useRunOutput(runId: string | null): RunOutput {
  return useRunsStore((s) => (runId ? (s.outputs[runId] ?? NO_OUTPUT) : NO_OUTPUT));
}

export function useSelectedRun(): RunRecord | null {
  return useRunsStore((s) => (s.selectedId ? (s.runs[s.selectedId] ?? null) : null));
}
