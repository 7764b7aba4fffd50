// Runs a preparation plan step by step over an Exec, reporting each step as it starts and ends and
// its output as log lines, and stops at the first failure with that step's output. Each step is
// one exec round trip, so its output arrives when it ends (Exec returns the whole output); the
// progress a user sees is per step, which is why the plan splits the work into small steps.
import type { Exec } from './prepare-check';
import { STEP_MARK, type PrepPlan, type StepId } from './prepare-plan';

export type StepOutcome = 'already-done' | 'would-change' | 'changed';

export type PrepEvent =
  | { type: 'step-started'; step: StepId; label: string; index: number; total: number }
  | { type: 'log'; step: StepId; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'step-done'; step: StepId; outcome: StepOutcome; durationMs: number }
  | { type: 'step-failed'; step: StepId; message: string; code: number | null; stdout: string; stderr: string; durationMs: number };

export interface StepReport {
  id: StepId;
  label: string;
  outcome: StepOutcome | 'failed' | 'not-run';
  durationMs: number;
}

export interface PrepResult {
  ok: boolean;
  checkOnly: boolean;
  steps: StepReport[];
  failed?: { step: StepId; label: string; message: string; code: number | null; stdout: string; stderr: string };
  /** A step changed the login user's groups: the SSH connection must be made again. */
  reconnectNeeded: boolean;
  /** Every log line, prefixed with its step. */
  log: string[];
}

/** The outcome a step printed on its last marker line, or null when it printed none. */
export function stepOutcome(stdout: string): StepOutcome | null {
  let found: StepOutcome | null = null;
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${STEP_MARK} (already-done|would-change|changed)\\s*$`).exec(line);
    if (m) found = m[1] as StepOutcome;
  }
  return found;
}

export async function runPreparation(
  exec: Exec,
  plan: PrepPlan,
  onProgress: (e: PrepEvent) => void = () => {},
  opts: { signal?: AbortSignal } = {},
): Promise<PrepResult> {
  const result: PrepResult = {
    ok: true,
    checkOnly: plan.checkOnly,
    steps: plan.steps.map((s) => ({ id: s.id, label: s.label, outcome: 'not-run', durationMs: 0 })),
    reconnectNeeded: false,
    log: [],
  };
  const emit = (e: PrepEvent) => {
    if (e.type === 'log') result.log.push(`[${e.step}] ${e.stream === 'stderr' ? '! ' : ''}${e.line}`);
    try {
      onProgress(e);
    } catch {
      /* a listener's failure is not the host's */
    }
  };
  for (const [index, step] of plan.steps.entries()) {
    const report = result.steps[index]!;
    const fail = (message: string, code: number | null, stdout: string, stderr: string, t0: number) => {
      report.outcome = 'failed';
      report.durationMs = Date.now() - t0;
      result.ok = false;
      result.failed = { step: step.id, label: step.label, message, code, stdout, stderr };
      emit({ type: 'step-failed', step: step.id, message, code, stdout, stderr, durationMs: report.durationMs });
    };
    const t0 = Date.now();
    if (opts.signal?.aborted) {
      fail('Stopped before this step.', null, '', '', t0);
      break;
    }
    emit({ type: 'step-started', step: step.id, label: step.label, index, total: plan.steps.length });
    let res: Awaited<ReturnType<Exec>>;
    try {
      res = await exec(step.command, { timeoutMs: step.timeoutMs });
    } catch (err) {
      fail(`${step.label}: ${(err as Error).message}`, null, '', '', t0);
      break;
    }
    for (const [stream, text] of [
      ['stdout', res.stdout],
      ['stderr', res.stderr],
    ] as const) {
      for (const line of text.split('\n')) {
        if (line.trim() && !line.startsWith(STEP_MARK)) emit({ type: 'log', step: step.id, stream, line: line.replace(/\s+$/, '') });
      }
    }
    const outcome = stepOutcome(res.stdout);
    if (res.code !== 0 || !outcome) {
      const last = res.stderr.trim().split('\n').slice(-3).join(' / ') || res.stdout.trim().split('\n').slice(-3).join(' / ');
      fail(`${step.label} failed (exit ${res.code ?? 'none'})${last ? `: ${last}` : ''}`, res.code, res.stdout, res.stderr, t0);
      break;
    }
    report.outcome = outcome;
    report.durationMs = Date.now() - t0;
    if (outcome === 'changed' && step.reconnectAfter) result.reconnectNeeded = true;
    emit({ type: 'step-done', step: step.id, outcome, durationMs: report.durationMs });
  }
  return result;
}
