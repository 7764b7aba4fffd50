// A host's checklist and its preparation, per target. Progress arrives as 'hosts.prepare' events
// (a step's log lines when the step ends) while the hosts.prepare call is under way; its answer is
// the final word on every step.
import { create } from 'zustand';
import type { ErrorPayload } from '../../../shared/errors';
import type { Checklist, PrepareRequest, PrepareResult } from '../../../shared/remote';
import { toDisplayError } from '../lib/errors';
import { applyPrepareProgress, EMPTY_PREPARE, stepsFromResult, type PrepareLive } from '../lib/targets';
import { api } from '../transport/client';

export interface CheckState {
  checklist: Checklist | null;
  checking: boolean;
  error: ErrorPayload | null;
}

export interface PrepareState {
  running: boolean;
  checkOnly: boolean;
  live: PrepareLive;
  result: PrepareResult | null;
  error: ErrorPayload | null;
}

interface HostPrepStore {
  checks: Record<string, CheckState>;
  prepares: Record<string, PrepareState>;
  init(): () => void;
  check(target: string): Promise<void>;
  prepare(request: PrepareRequest): Promise<void>;
}

const NO_CHECK: CheckState = { checklist: null, checking: false, error: null };

export const useHostPrepStore = create<HostPrepStore>()((set) => ({
  checks: {},
  prepares: {},

  init() {
    return api().on('hosts.prepare', (e) =>
      set((s) => {
        const p = s.prepares[e.target];
        if (!p?.running) return {};
        return { prepares: { ...s.prepares, [e.target]: { ...p, live: applyPrepareProgress(p.live, e) } } };
      }),
    );
  },

  async check(target) {
    set((s) => ({ checks: { ...s.checks, [target]: { ...(s.checks[target] ?? NO_CHECK), checking: true, error: null } } }));
    try {
      const checklist = await api()['hosts.check']({ target });
      set((s) => ({ checks: { ...s.checks, [target]: { checklist, checking: false, error: null } } }));
    } catch (err) {
      set((s) => ({
        checks: { ...s.checks, [target]: { ...(s.checks[target] ?? NO_CHECK), checking: false, error: toDisplayError(err) } },
      }));
    }
  },

  async prepare(request) {
    const { target } = request;
    const fresh: PrepareState = { running: true, checkOnly: request.checkOnly ?? false, live: EMPTY_PREPARE, result: null, error: null };
    set((s) => ({ prepares: { ...s.prepares, [target]: fresh } }));
    const finish = (change: Partial<PrepareState>) =>
      set((s) => ({ prepares: { ...s.prepares, [target]: { ...(s.prepares[target] ?? fresh), running: false, ...change } } }));
    try {
      const result = await api()['hosts.prepare'](request);
      set((s) => {
        const live = s.prepares[target]?.live ?? EMPTY_PREPARE;
        const log = live.log.length > 0 ? live.log : result.log;
        return {
          prepares: {
            ...s.prepares,
            [target]: { ...fresh, running: false, result, live: { ...live, log, steps: stepsFromResult(result, live) } },
          },
          checks: result.after ? { ...s.checks, [target]: { checklist: result.after, checking: false, error: null } } : s.checks,
        };
      });
    } catch (err) {
      finish({ error: toDisplayError(err) });
    }
  },
}));

export function useCheck(target: string): CheckState {
  return useHostPrepStore((s) => s.checks[target] ?? NO_CHECK);
}

export function usePrepare(target: string): PrepareState | null {
  return useHostPrepStore((s) => s.prepares[target] ?? null);
}
