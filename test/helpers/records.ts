// A valid run record for store tests (finished and exited unless overridden).
import { DEFAULT_LIMITS, type RunRecord } from '../../shared/types';

export function runRecord(id: string, createdAt: number, patch: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    template: 'python',
    image: 'img',
    runtime: { name: 'runsc', gvisor: true },
    runcOptIn: false,
    argv: ['python3'],
    limits: DEFAULT_LIMITS,
    warm: false,
    status: 'finished',
    endReason: 'exited',
    exitCode: 0,
    createdAt,
    stdoutBytes: 1,
    stderrBytes: 0,
    truncated: false,
    ...patch,
  };
}
