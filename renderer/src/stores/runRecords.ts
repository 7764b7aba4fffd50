// Merging run records that arrive from two directions (list calls and 'run.updated' events) in
// any order, and keeping the set bounded.
import type { RunRecord, RunStatus } from '../../../shared/types';

const PROGRESS: Record<RunStatus, number> = { queued: 0, starting: 1, running: 2, finished: 3 };

/** The record that knows more: a later status wins, so a stale list never un-finishes a run. */
export function newerRecord(current: RunRecord | undefined, incoming: RunRecord): RunRecord {
  if (!current) return incoming;
  if (PROGRESS[incoming.status] < PROGRESS[current.status]) return current;
  // History pages leave code and stdin out; keep what runs.get or an update already brought.
  return { ...incoming, code: incoming.code ?? current.code, stdin: incoming.stdin ?? current.stdin };
}

export const RECORDS_KEPT = 500;

export function upsertRecords(
  runs: Readonly<Record<string, RunRecord>>,
  incoming: readonly RunRecord[],
  limit = RECORDS_KEPT,
): Record<string, RunRecord> {
  const next: Record<string, RunRecord> = { ...runs };
  for (const r of incoming) next[r.id] = newerRecord(next[r.id], r);
  const ids = Object.keys(next);
  if (ids.length > limit) {
    const finished = ids
      .map((id) => next[id]!)
      .filter((r) => r.status === 'finished')
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const r of finished.slice(0, ids.length - limit)) delete next[r.id];
  }
  return next;
}

export function newestFirst(runs: Readonly<Record<string, RunRecord>>): RunRecord[] {
  return Object.values(runs).sort((a, b) => b.createdAt - a.createdAt);
}
