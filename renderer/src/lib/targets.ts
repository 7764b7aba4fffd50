// Pure pieces of targets (where sandboxes run) and host preparation: how a target and a run's
// target read, which instances can still become targets, how to verify a host key, and how the
// preparation's progress events fold into the list of steps shown.
import type { Instance } from '../../../shared/providers';
import type { Checklist, PrepareProgress, PrepareResult, Target } from '../../../shared/remote';

/** Host names main accepts (shared/remote.ts TargetName). */
export const HOST_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** A private key as main accepts it (AddHostRequest.privateKey). */
export const PRIVATE_KEY_MAX_CHARS = 16 * 1024;

export type EngineState = 'connected' | 'down' | 'unknown';

export function engineState(t: Pick<Target, 'engine'>): EngineState {
  if (!t.engine) return 'unknown';
  return t.engine.connected ? 'connected' : 'down';
}

export function engineText(t: Pick<Target, 'engine'>): string {
  const e = t.engine;
  if (!e) return 'not contacted yet';
  if (!e.connected) return `engine unavailable${e.error ? `: ${e.error}` : ''}`;
  const parts = ['engine connected'];
  if (e.version) parts.push(`Docker ${e.version}`);
  parts.push(e.gvisorRuntime ? `gVisor (${e.gvisorRuntime})` : 'no gVisor runtime');
  return parts.join(' · ');
}

const DOTS: Record<EngineState, string> = { connected: '●', down: '○', unknown: '' };

/** One line for a target in a <select>: a dot for the engine state when known, the name, where it is. */
export function targetOptionLabel(t: Target): string {
  if (t.kind === 'local') return 'This machine';
  const dot = DOTS[engineState(t)];
  const state = engineState(t) === 'down' ? ' (engine unavailable)' : '';
  return `${dot ? `${dot} ` : ''}${t.id} · ${t.detail}${state}`;
}

/** Where a run ran, from its record's engine id ('ssh:NAME'; absent for this machine). */
export function runTargetLabel(target: string | undefined): string {
  if (!target || target === 'local') return 'this machine';
  return target.startsWith('ssh:') ? target.slice(4) : target;
}

export function targetForInstance(targets: readonly Target[], i: Pick<Instance, 'provider' | 'id'>): Target | undefined {
  return targets.find((t) => t.instance?.provider === i.provider && t.instance.id === i.id);
}

/** Running instances with an address that are not targets yet. */
export function instancesToAdd(instances: readonly Instance[], targets: readonly Target[]): Instance[] {
  return instances
    .filter((i) => i.status === 'running' && i.ipv4 && !targetForInstance(targets, i))
    .sort((a, b) => a.account.localeCompare(b.account) || a.name.localeCompare(b.name));
}

/** The public key file on the host whose fingerprint matches a key of this type. */
export function hostKeyFile(keyType: string): string {
  const t = keyType.toLowerCase();
  const kind = t.includes('ed25519') ? 'ed25519' : t.includes('ecdsa') ? 'ecdsa' : t.includes('rsa') ? 'rsa' : 'ed25519';
  return `/etc/ssh/ssh_host_${kind}_key.pub`;
}

export function verifyCommand(keyType: string): string {
  return `ssh-keygen -lf ${hostKeyFile(keyType)}`;
}

/** A first look at the add form; main checks the URL and key properly. */
export function addHostProblem(name: string, url: string, privateKey: string): string | null {
  if (!HOST_NAME_RE.test(name)) return "A name is 1-40 lower-case letters, digits, '-' or '_', starting with a letter or digit.";
  if (!/^ssh:\/\/[^@/\s]+@[^/\s]+\/?$/.test(url.trim())) return 'The address is ssh://user@host or ssh://user@host:port.';
  if (privateKey.length > PRIVATE_KEY_MAX_CHARS) return `A private key is at most ${PRIVATE_KEY_MAX_CHARS / 1024} KiB.`;
  return null;
}

/** The checklist has an NVIDIA GPU with a working driver: only then is GPU sandboxing offered. */
export function nvidiaReady(checklist: Checklist | null | undefined): boolean {
  return checklist?.items.some((i) => i.id === 'nvidia' && i.status === 'ok') ?? false;
}

/** The idle form's fields as main accepts them (IdleRule). */
export function idleFormProblem(threshold: string, minutes: string): string | null {
  const t = Number(threshold);
  if (threshold.trim() === '' || !Number.isFinite(t) || t < 0 || t > 100) return 'The threshold is a percentage from 0 to 100.';
  const m = Number(minutes);
  if (minutes.trim() === '' || !Number.isInteger(m) || m < 1 || m > 24 * 60) return 'Minutes are a whole number from 1 to 1440.';
  return null;
}

const OUTCOMES: Record<string, string> = {
  'already-done': 'already done',
  'would-change': 'would change',
  changed: 'changed',
  failed: 'failed',
  'not-run': 'not run',
};

export function outcomeText(outcome: string | undefined): string {
  if (!outcome) return '';
  return OUTCOMES[outcome] ?? outcome;
}

export type StepState = 'running' | 'done' | 'failed' | 'not-run';

export interface PrepareStepView {
  id: string;
  label: string;
  state: StepState;
  outcome?: string;
  message?: string;
  durationMs?: number;
}

export interface PrepareLive {
  steps: PrepareStepView[];
  total: number | null;
  log: string[];
}

export const EMPTY_PREPARE: PrepareLive = { steps: [], total: null, log: [] };
/** Log lines kept on screen; main sends each step's lines when the step ends. */
export const PREPARE_LOG_LINES = 2000;

function updateStep(steps: PrepareStepView[], id: string, change: Partial<PrepareStepView>): PrepareStepView[] {
  const at = steps.findIndex((s) => s.id === id);
  if (at < 0) return [...steps, { id, label: change.label ?? id, state: change.state ?? 'running', ...change }];
  const next = [...steps];
  next[at] = { ...next[at]!, ...change };
  return next;
}

/** Folds one progress event into what is shown. */
export function applyPrepareProgress(live: PrepareLive, e: PrepareProgress): PrepareLive {
  switch (e.type) {
    case 'step-started':
      return {
        ...live,
        total: e.total ?? live.total,
        steps: updateStep(live.steps, e.step, { label: e.label ?? e.step, state: 'running' }),
      };
    case 'log': {
      if (e.line === undefined) return live;
      const line = e.stream === 'stderr' ? `! ${e.line}` : e.line;
      const log = [...live.log, line];
      return { ...live, log: log.length > PREPARE_LOG_LINES ? log.slice(-PREPARE_LOG_LINES) : log };
    }
    case 'step-done':
      return { ...live, steps: updateStep(live.steps, e.step, { state: 'done', ...(e.outcome ? { outcome: e.outcome } : {}) }) };
    case 'step-failed':
      return {
        ...live,
        steps: updateStep(live.steps, e.step, { state: 'failed', outcome: 'failed', ...(e.message ? { message: e.message } : {}) }),
      };
    default:
      return live;
  }
}

/** The final list once the call answered: every planned step, including those never run. */
export function stepsFromResult(result: PrepareResult, live: PrepareLive): PrepareStepView[] {
  return result.steps.map((s) => {
    const seen = live.steps.find((x) => x.id === s.id);
    const state: StepState = s.outcome === 'failed' ? 'failed' : s.outcome === 'not-run' ? 'not-run' : 'done';
    const message = result.failed?.step === s.id ? result.failed.message : seen?.message;
    return { id: s.id, label: s.label, state, outcome: s.outcome, durationMs: s.durationMs, ...(message ? { message } : {}) };
  });
}
