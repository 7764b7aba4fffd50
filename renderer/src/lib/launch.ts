// Pure pieces of the launch form and its progress list: which regions a type may launch in, a
// fresh instance name, and how the steps received so far map onto the list shown.
import type { LaunchOptions, LaunchProgress, LaunchStep } from '../../../shared/providers';

/**
 * The steps a launch goes through, in order; 'failed' can end it at any of them. A locked launch
 * (the default) also makes its rule set, after the SSH key: LOCKED_LAUNCH_STEPS.
 */
export const LOCKED_LAUNCH_STEPS = [
  'checking',
  'ssh-key',
  'firewall',
  'requested',
  'booting',
  'ready',
] as const satisfies readonly LaunchStep[];
export type OrderedStep = (typeof LOCKED_LAUNCH_STEPS)[number];
export const LAUNCH_STEPS: readonly OrderedStep[] = LOCKED_LAUNCH_STEPS.filter((s) => s !== 'firewall');

export const STEP_LABELS: Record<LaunchStep, string> = {
  checking: 'Checking type, capacity and name',
  'ssh-key': 'SSH key',
  firewall: 'Firewall: only SSH allowed in',
  requested: 'Requested from the provider',
  booting: 'Booting',
  ready: 'Running and reachable',
  failed: 'Failed',
};

/** Only regions with capacity for the type right now, labelled from the options' region list. */
export function regionsForType(options: LaunchOptions, typeId: string): { id: string; label: string }[] {
  const type = options.types.find((t) => t.id === typeId);
  if (!type) return [];
  const labels = new Map(options.regions.map((r) => [r.id, r.label]));
  return type.regionsWithCapacity.map((id) => ({ id, label: labels.get(id) ?? id }));
}

/** The type to preselect: the first with capacity somewhere, else the first. */
export function defaultTypeId(options: LaunchOptions): string {
  return (options.types.find((t) => t.regionsWithCapacity.length > 0) ?? options.types[0])?.id ?? '';
}

const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

/** "moat-" and six random lowercase letters. */
export function suggestName(random: () => number = Math.random): string {
  let tail = '';
  for (let i = 0; i < 6; i += 1) tail += NAME_ALPHABET[Math.floor(random() * NAME_ALPHABET.length) % NAME_ALPHABET.length];
  return `moat-${tail}`;
}

export type StepState = 'done' | 'current' | 'pending' | 'failed';

export interface StepRow {
  step: OrderedStep;
  state: StepState;
  /** When the step was first reported. */
  at: number | null;
  /** The provider's status word for the step, when it reported one (the latest). */
  rawStatus: string | null;
}

/** The furthest step reached, or 'failed'; null before anything was reported. */
export function latestStep(events: readonly Pick<LaunchProgress, 'step'>[], failed = false): LaunchStep | null {
  if (failed || events.some((e) => e.step === 'failed')) return 'failed';
  let best = -1;
  for (const e of events) best = Math.max(best, LOCKED_LAUNCH_STEPS.indexOf(e.step as OrderedStep));
  return best < 0 ? null : LOCKED_LAUNCH_STEPS[best]!;
}

// 'checking', 'ssh-key' and 'firewall' are reported as they begin, 'requested' once the provider accepted the
// launch: a failure after it happened while booting.
const REPORTED_WHEN_DONE: ReadonlySet<LaunchStep> = new Set(['requested']);

/**
 * One row per step; the 'firewall' row only for a locked launch (`locked`; by default, when main
 * reported that step). Steps before the furthest reached are done; the furthest is current (in
 * progress), except 'ready' (the end) and 'requested' (reported once done, so booting is current);
 * before any report, checking is (the launch call is on its way).
 * When the launch failed (a 'failed' event, or `failed`: the launch call rejected) the step under
 * way is marked failed instead and those after it stay pending. Events may arrive in any order;
 * the step order decides.
 */
export function stepRows(
  events: readonly Pick<LaunchProgress, 'step' | 'at' | 'rawStatus'>[],
  failed = false,
  locked = events.some((e) => e.step === 'firewall'),
): StepRow[] {
  const steps = locked ? LOCKED_LAUNCH_STEPS : LAUNCH_STEPS;
  const firstAt = new Map<LaunchStep, number>();
  const raw = new Map<LaunchStep, { at: number; raw: string }>();
  for (const e of events) {
    const prev = firstAt.get(e.step);
    if (prev === undefined || e.at < prev) firstAt.set(e.step, e.at);
    const r = raw.get(e.step);
    if (e.rawStatus && (!r || e.at >= r.at)) raw.set(e.step, { at: e.at, raw: e.rawStatus });
  }
  let reached = -1;
  steps.forEach((s, i) => {
    if (firstAt.has(s)) reached = i;
  });
  const reachedStep = reached < 0 ? null : steps[reached]!;
  // The step in progress: the one after the last reported, when that one is reported once done.
  let underWay = reachedStep === null ? 0 : REPORTED_WHEN_DONE.has(reachedStep) ? reached + 1 : reached;
  if (reachedStep === 'ready') underWay = -1;
  const isFailed = (failed || firstAt.has('failed')) && underWay >= 0;
  return steps.map((step, i) => {
    let state: StepState;
    if (i === underWay) state = isFailed ? 'failed' : 'current';
    else if (i <= reached) state = 'done';
    else state = 'pending';
    const at = firstAt.get(step) ?? (state === 'failed' ? (firstAt.get('failed') ?? null) : null);
    return { step, state, at, rawStatus: raw.get(step)?.raw ?? null };
  });
}
