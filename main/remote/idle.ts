// The idle rule: an instance whose GPUs have stayed below a threshold, with no sandbox running,
// for N minutes is reported (and, if the user chose so, terminated). Pure: the caller feeds
// samples with their times and gets transitions back, so tests drive it with a fake clock.
//
// Why it exists: a rented GPU bills by the hour whether it works or not (see BILLING below), and
// the most common waste is an instance left up after its last job.
import type { ProviderKind } from '../providers/provider';

export interface IdleRule {
  enabled: boolean;
  /** Idle while every GPU's utilization is below this (percent). Hosts without GPUs: CPU, see below. */
  gpuBelowPercent: number;
  minutes: number;
  action: 'warn' | 'terminate';
}

export const DEFAULT_IDLE_RULE: IdleRule = { enabled: false, gpuBelowPercent: 5, minutes: 30, action: 'warn' };

/** The part of a usage sample the rule reads (HostUsage fits). */
export interface IdleSample {
  at: number;
  /** 100 = one core (HostUsage's scale); null when not yet known. */
  cpuPercent: number | null;
  cpuCount: number;
  gpus: { utilPercent: number | null }[];
}

/** What idleness was judged on: the GPUs, or (no GPU readable) the whole machine's CPU. */
export type IdleBasis = 'gpu' | 'cpu';

export type IdleEvent =
  | { kind: 'idle-since'; since: number; basis: IdleBasis }
  /** Once per idle stretch, when it reaches rule.minutes. */
  | { kind: 'warn'; since: number; at: number; basis: IdleBasis }
  /** With the warn, when rule.action is 'terminate'. Once per idle stretch. */
  | { kind: 'terminate'; since: number; at: number; basis: IdleBasis }
  /** An idle stretch ended. */
  | { kind: 'active'; at: number; reason: 'sandboxes' | 'gpu' | 'cpu' | 'gap' | 'disabled' };

export interface IdleState {
  /** Start of the current idle stretch; null while active. */
  since: number | null;
  basis: IdleBasis | null;
  warned: boolean;
  terminated: boolean;
  /** Time of the last sample that was judged, for gap detection. */
  lastAt: number | null;
}

export const INITIAL_IDLE_STATE: IdleState = { since: null, basis: null, warned: false, terminated: false, lastAt: null };

export interface IdleOptions {
  /**
   * Samples further apart than this break an idle stretch: what happened while the host was not
   * being watched (SSH down) is unknown, and terminating is not undone. Default 5 minutes.
   */
  maxGapMs?: number;
}

/** How one sample reads: idle on which basis, or busy and why; null when it cannot be judged. */
export function judge(
  rule: IdleRule,
  sample: IdleSample,
  runningSandboxes: number,
): { idle: true; basis: IdleBasis } | { idle: false; reason: 'sandboxes' | 'gpu' | 'cpu' } | null {
  if (runningSandboxes > 0) return { idle: false, reason: 'sandboxes' };
  const utils = sample.gpus.map((g) => g.utilPercent).filter((u): u is number => u !== null);
  if (utils.length > 0) {
    return utils.every((u) => u < rule.gpuBelowPercent) ? { idle: true, basis: 'gpu' } : { idle: false, reason: 'gpu' };
  }
  // No readable GPU: the same threshold against the whole machine's CPU (percent of all cores).
  if (sample.cpuPercent === null) return null;
  const machinePercent = sample.cpuPercent / Math.max(1, sample.cpuCount);
  return machinePercent < rule.gpuBelowPercent ? { idle: true, basis: 'cpu' } : { idle: false, reason: 'cpu' };
}

/** One sample in: the next state and the transitions it caused. */
export function idleStep(
  state: IdleState,
  rule: IdleRule,
  sample: IdleSample,
  runningSandboxes: number,
  opts: IdleOptions = {},
): { state: IdleState; events: IdleEvent[] } {
  const events: IdleEvent[] = [];
  const at = sample.at;
  const end = (reason: Extract<IdleEvent, { kind: 'active' }>['reason']): IdleState => {
    if (state.since !== null) events.push({ kind: 'active', at, reason });
    return { ...INITIAL_IDLE_STATE, lastAt: at };
  };
  if (!rule.enabled) return { state: end('disabled'), events };
  const verdict = judge(rule, sample, runningSandboxes);
  if (verdict === null) return { state: { ...state, lastAt: at }, events };
  if (!verdict.idle) return { state: end(verdict.reason), events };

  let s = state;
  const gap = s.lastAt !== null && at - s.lastAt > (opts.maxGapMs ?? 5 * 60_000);
  if (s.since !== null && gap) s = end('gap');
  if (s.since === null) {
    s = { since: at, basis: verdict.basis, warned: false, terminated: false, lastAt: at };
    events.push({ kind: 'idle-since', since: at, basis: verdict.basis });
  }
  const since = s.since!;
  s = { ...s, basis: verdict.basis, lastAt: at };
  if (at - since >= rule.minutes * 60_000) {
    if (!s.warned) {
      events.push({ kind: 'warn', since, at, basis: verdict.basis });
      s = { ...s, warned: true };
    }
    if (rule.action === 'terminate' && !s.terminated) {
      events.push({ kind: 'terminate', since, at, basis: verdict.basis });
      s = { ...s, terminated: true };
    }
  }
  return { state: s, events };
}

/** idleStep with the state kept: one per instance. */
export class IdleTracker {
  state: IdleState = INITIAL_IDLE_STATE;

  constructor(
    public rule: IdleRule,
    private readonly opts: IdleOptions = {},
  ) {}

  update(sample: IdleSample, runningSandboxes: number): IdleEvent[] {
    const r = idleStep(this.state, this.rule, sample, runningSandboxes, this.opts);
    this.state = r.state;
    return r.events;
  }

  /** Minutes idle so far at `now`, or null while active. */
  idleMinutes(now: number): number | null {
    return this.state.since === null ? null : Math.max(0, now - this.state.since) / 60_000;
  }
}

export interface BillingFacts {
  /** Can the instance be stopped (kept, not billed)? */
  canStop: boolean;
  /** Is a stopped / powered-off instance still billed? */
  billedWhileStopped: boolean;
  /** When billing ends. */
  billedUntil: string;
  /** One sentence for the UI. */
  text: string;
}

export const BILLING: Record<ProviderKind, BillingFacts> = {
  lambda: {
    canStop: false,
    billedWhileStopped: true,
    billedUntil: 'terminated',
    text: 'Lambda bills an instance until it is terminated; it cannot be stopped, so an idle instance costs its full hourly price.',
  },
  linode: {
    canStop: true,
    billedWhileStopped: true,
    billedUntil: 'deleted',
    text: 'Linode bills a Linode while it exists: a powered-off Linode is still billed. Only deleting it stops the charge.',
  },
};

/** What an idle instance costs per hour: its price, whatever it is doing (null when unknown). */
export function idleCostCentsPerHour(instance: { priceCentsPerHour: number | null }): number | null {
  return instance.priceCentsPerHour;
}

/** The basis, said plainly for the UI. */
export function basisText(basis: IdleBasis, rule: IdleRule): string {
  return basis === 'gpu'
    ? `every GPU below ${rule.gpuBelowPercent}% and no sandbox running`
    : `no GPU on this instance, so its CPU is used instead: below ${rule.gpuBelowPercent}% of all cores and no sandbox running`;
}

/** A warning line for the UI: how long, on what basis, what it is costing, what the rule will do. */
export function idleText(
  provider: ProviderKind,
  rule: IdleRule,
  state: IdleState,
  instance: { priceCentsPerHour: number | null },
  now: number,
): string | null {
  if (state.since === null || state.basis === null) return null;
  const minutes = Math.floor((now - state.since) / 60_000);
  const price = idleCostCentsPerHour(instance);
  const cost = price === null ? 'at an unknown hourly price' : `at $${(price / 100).toFixed(2)}/hour`;
  const then =
    rule.action === 'terminate'
      ? state.terminated
        ? 'Moat is terminating it.'
        : `Moat will terminate it after ${rule.minutes} minutes.`
      : 'Moat will only warn; terminate it yourself if it is not needed.';
  return `Idle for ${minutes} min (${basisText(state.basis, rule)}), billed ${cost}. ${BILLING[provider].text} ${then}`;
}
