// How each end reason is told to the user.
import type { EndReason, RunRecord } from '../../../../shared/types';
import { formatBytes, formatDuration } from '../../lib/format';

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

export function endReasonTone(run: RunRecord): Tone {
  switch (run.endReason) {
    case 'exited':
      return run.exitCode === 0 ? 'good' : 'warn';
    case 'cancelled':
      return 'neutral';
    case 'failed':
      return 'bad';
    case 'compile-error':
    case 'timeout':
    case 'oom':
    case 'output-limit':
    case 'process-limit':
    case 'secret-found':
      return 'warn';
    default:
      return 'neutral';
  }
}

const SHORT: Record<EndReason, string> = {
  exited: 'exited',
  'compile-error': 'compile error',
  timeout: 'timed out',
  oom: 'OOM-killed',
  cancelled: 'cancelled',
  'output-limit': 'output limit',
  'process-limit': 'process limit',
  'secret-found': 'secret found',
  failed: 'failed',
};

export function endReasonLabel(reason: EndReason): string {
  return SHORT[reason];
}

export function endReasonDetail(run: RunRecord): string {
  switch (run.endReason) {
    case 'exited':
      return run.exitCode === 0 ? 'Exited normally' : `Exited with code ${run.exitCode ?? '?'}`;
    case 'compile-error':
      return `Did not compile: ${run.error?.replace(/^compile error: /, '') ?? `the compiler exited with status ${run.exitCode ?? '?'}`}`;
    case 'timeout':
      return `Killed after the ${formatDuration(run.limits.timeoutMs)} timeout`;
    case 'oom':
      return `Killed: out of memory (limit ${run.limits.memoryMb} MB)`;
    case 'cancelled':
      return 'Cancelled';
    case 'output-limit':
      return `Stopped: output reached the ${formatBytes(run.limits.outputBytes)} cap`;
    case 'process-limit':
      // The program's own limit gives it a clean fork error; a kill means the sandbox's backstop
      // above that limit was reached, which also counts gVisor's own threads.
      return `Killed: ${run.error ?? `too many processes and threads: the sandbox reached its backstop above the ${run.limits.processes}-process limit`}`;
    case 'secret-found':
      return `Stopped: ${run.error ?? 'the egress filter found a critical secret in the output'}`;
    case 'failed':
      return `Failed: ${run.error ?? 'no reason given'}`;
    default:
      return '';
  }
}
