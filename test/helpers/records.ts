// Store test helpers: a valid run record (finished and exited unless overridden) and a temporary
// data directory. Free of the sandbox and services modules, so store tests need neither Docker
// nor anything beyond main/store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export function storeDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'moat-store-test-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
