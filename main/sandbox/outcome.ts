// How a run ended, decided from what was seen and in which order. Two things race: the program's
// end (the bootstrap's exit marker, or the engine reporting the sandbox gone) and Moat's own stops
// (timeout, cancel, output cap). Whichever is recorded first wins, and it is recorded synchronously
// where it is observed, so no later await (draining output, asking the engine about OOM) can let a
// timer that fires meanwhile rewrite an exit that had already happened. A sandbox that ended
// without the marker did not see its program exit, so such a run is never `exited`.
import type { EndReason } from '../../shared/types';

export type StopReason = Extract<EndReason, 'timeout' | 'cancelled' | 'output-limit' | 'secret-found'>;

export type FirstEvent =
  { kind: 'marker'; status: number | null } | { kind: 'engine'; status: number } | { kind: 'stop'; reason: StopReason };

/** Records the first of: program exit (marker), sandbox gone (engine), Moat stop. */
export class EndRace {
  private first: FirstEvent | null = null;

  /** Returns true when this event is the first (for a stop: go on and kill the sandbox). */
  record(e: FirstEvent): boolean {
    if (this.first !== null) return false;
    this.first = e;
    return true;
  }

  get winner(): FirstEvent | null {
    return this.first;
  }

  /** The stop that won the race, if one did. */
  get stopReason(): StopReason | null {
    return this.first?.kind === 'stop' ? this.first.reason : null;
  }
}

export interface EndFacts {
  first: FirstEvent;
  /** The engine's exit status of the sandbox, when it reported one. */
  engineStatus: number | null;
  /** The engine says the kernel's OOM killer fired in the sandbox. */
  oomKilled: boolean;
  gvisor: boolean;
  /** PID cgroup evidence: the limit was hit, or the peak seen against the backstop. */
  pids: { limitHit: boolean; peak: number; backstop: number };
  /** The engine did not answer right after the sandbox ended (it stopped, or is stopping). */
  engineLost: boolean;
  processes: number;
}

export interface Outcome {
  endReason: EndReason;
  /** The program's exit status, only when it exited (or the bootstrap reported it). */
  exitCode: number | null;
  error?: string;
}

/** gVisor's kernel exits with this status when it cannot create a host thread (Go runtime fatal). */
const GVISOR_FATAL_STATUS = 2;

export function decideOutcome(f: EndFacts): Outcome {
  const { first } = f;
  if (first.kind === 'stop') return { endReason: first.reason, exitCode: null };
  if (first.kind === 'marker') {
    // The program exited. Under runc the OOM killer kills only the program (the sandbox lives on
    // to report it), so a SIGKILL status is asked about; under gVisor OOM takes the whole sandbox.
    const status = first.status ?? f.engineStatus;
    if (status === 137 && f.oomKilled) return { endReason: 'oom', exitCode: null };
    if (status === null) {
      return {
        endReason: 'failed',
        exitCode: null,
        error: 'The program ended, but neither the sandbox nor the engine reported its exit status.',
      };
    }
    return { endReason: 'exited', exitCode: status };
  }
  const status = first.status;
  if (f.oomKilled) return { endReason: 'oom', exitCode: null };
  const pidsEvidence = f.pids.limitHit || f.pids.peak >= f.pids.backstop * 0.5;
  if (f.gvisor && status === GVISOR_FATAL_STATUS && pidsEvidence) {
    return {
      endReason: 'process-limit',
      exitCode: null,
      // Shown after "Killed:" (UI) and "was killed:" (CLI).
      error:
        `the sandbox's tasks (the program's processes and threads plus gVisor's own) reached its limit of ${f.pids.backstop} ` +
        `before the program's own limit of ${f.processes} processes gave it a fork error.`,
    };
  }
  if (f.engineLost) {
    return {
      endReason: 'failed',
      exitCode: null,
      error: `The Docker engine stopped while the program was running and the sandbox ended with it (status ${status}).`,
    };
  }
  if (f.gvisor && status === GVISOR_FATAL_STATUS) {
    return {
      endReason: 'failed',
      exitCode: null,
      error:
        "gVisor's kernel stopped (status 2) before the program finished. It stops this way when the sandbox's tasks " +
        'reach its PID limit, or on an internal gVisor error.',
    };
  }
  return {
    endReason: 'failed',
    exitCode: null,
    error:
      status === 137
        ? 'The sandbox was killed (SIGKILL) before the program finished, by something other than Moat: the program itself (e.g. `kill -9 -1`), or `docker kill`.'
        : `The sandbox ended (status ${status}) before the program finished: the bootstrap that runs the program did not report its exit.`,
  };
}
