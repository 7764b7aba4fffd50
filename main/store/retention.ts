// Which runs retention removes. Pure: the store supplies the runs and their stored sizes.
import type { Retention, RunStatus } from '../../shared/types';

export interface StoredRun {
  id: string;
  createdAt: number;
  endedAt?: number | undefined;
  status: RunStatus;
  /** Bytes of the run's files (code and stdin, output and samples). */
  bytes: number;
}

export interface PruneVictim {
  id: string;
  createdAt: number;
  bytes: number;
  reason: 'age' | 'count' | 'size';
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Newest first, a finished run is kept while it is younger than maxAgeDays and fits in what is
 * left of maxRuns and maxBytes; the others go. A large run therefore does not take older small
 * ones with it. Unfinished runs are never removed (another process may still be running them),
 * but they count against the limits.
 */
export function planPrune(runs: StoredRun[], retention: Retention, now = Date.now()): PruneVictim[] {
  const oldest = now - retention.maxAgeDays * DAY_MS;
  const victims: PruneVictim[] = [];
  let keptRuns = 0;
  let keptBytes = 0;
  for (const r of [...runs].sort((a, b) => b.createdAt - a.createdAt)) {
    let reason: PruneVictim['reason'] | null = null;
    if (r.status === 'finished') {
      if ((r.endedAt ?? r.createdAt) < oldest) reason = 'age';
      else if (keptRuns >= retention.maxRuns) reason = 'count';
      else if (keptBytes + r.bytes > retention.maxBytes) reason = 'size';
    }
    if (reason) victims.push({ id: r.id, createdAt: r.createdAt, bytes: r.bytes, reason });
    else {
      keptRuns++;
      keptBytes += r.bytes;
    }
  }
  return victims;
}
