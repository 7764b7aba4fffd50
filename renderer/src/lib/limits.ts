// The limits form: what the user edits (seconds, MB, KB) and how it maps onto the API's Limits.
// Bounds come from the shared zod schema, so the form cannot drift from what main accepts.
import { Limits } from '../../../shared/types';

/**
 * Shown next to the Processes field. The limit is the program's RLIMIT_NPROC (a clean fork error);
 * the sandbox's cgroup PID limit sits above it as a backstop (main/sandbox/profile.ts) and, under
 * gVisor, also counts the sandbox's own host threads. Measured, every setting the form offers
 * meets the fork error well before the backstop (README, "Measured").
 */
export const PROCESSES_NOTE =
  'The program gets a fork error at this limit. Under gVisor each process also costs the sandbox about 5 host threads, ' +
  'counted against a higher backstop (1024 + 40 per process, at most 8192); every setting here meets the fork error first. ' +
  'A sandbox that reaches the backstop is killed (process-limit).';

type NumericLimitKey = 'timeoutMs' | 'memoryMb' | 'cpus' | 'processes' | 'outputBytes';

export type LimitField = 'timeout' | 'memory' | 'cpus' | 'processes' | 'output';

export interface LimitFieldSpec {
  field: LimitField;
  key: NumericLimitKey;
  label: string;
  unit: string;
  /** API value = form value * scale. */
  scale: number;
  /** Whether the form value itself must be a whole number. */
  integer: boolean;
  step: number;
  min: number;
  max: number;
  hint: string;
  /** A longer note shown with the field. */
  note?: string;
}

function bounds(key: NumericLimitKey, scale: number): { min: number; max: number } {
  const schema = Limits.shape[key];
  return { min: (schema.minValue ?? 0) / scale, max: (schema.maxValue ?? Number.MAX_SAFE_INTEGER) / scale };
}

function spec(s: Omit<LimitFieldSpec, 'min' | 'max'>): LimitFieldSpec {
  return { ...s, ...bounds(s.key, s.scale) };
}

export const LIMIT_FIELDS: readonly LimitFieldSpec[] = [
  spec({
    field: 'timeout',
    key: 'timeoutMs',
    label: 'Timeout',
    unit: 's',
    scale: 1000,
    integer: false,
    step: 1,
    hint: 'Wall-clock limit from start to exit',
  }),
  spec({
    field: 'memory',
    key: 'memoryMb',
    label: 'Memory',
    unit: 'MB',
    scale: 1,
    integer: true,
    step: 64,
    hint: 'Memory and memory+swap (no swap)',
  }),
  spec({ field: 'cpus', key: 'cpus', label: 'CPUs', unit: 'cores', scale: 1, integer: false, step: 0.5, hint: 'CPU quota' }),
  spec({
    field: 'processes',
    key: 'processes',
    label: 'Processes',
    unit: 'max',
    scale: 1,
    integer: true,
    step: 8,
    hint: 'Processes and threads; past it, fork fails cleanly',
    note: PROCESSES_NOTE,
  }),
  spec({
    field: 'output',
    key: 'outputBytes',
    label: 'Output cap',
    unit: 'KB',
    scale: 1024,
    integer: true,
    step: 256,
    hint: 'stdout + stderr kept for the run',
  }),
];

export type LimitsForm = Record<LimitField, string>;

function trimNumber(n: number): string {
  return String(Number(n.toFixed(3)));
}

export function formFromLimits(limits: Limits): LimitsForm {
  const form = {} as LimitsForm;
  for (const f of LIMIT_FIELDS) form[f.field] = trimNumber(limits[f.key] / f.scale);
  return form;
}

/** Why a form value is unusable, or null when it is fine. */
export function validateLimit(f: LimitFieldSpec, raw: string): string | null {
  const text = raw.trim();
  if (text === '') return `${f.label} is required`;
  const v = Number(text);
  if (!Number.isFinite(v)) return `${f.label} must be a number`;
  if (f.integer && !Number.isInteger(v)) return `${f.label} must be a whole number`;
  if (v < f.min || v > f.max) return `${f.label} must be between ${trimNumber(f.min)} and ${trimNumber(f.max)} ${f.unit}`;
  return null;
}

export type LimitsParseResult = { ok: true; limits: Partial<Limits> } | { ok: false; errors: Partial<Record<LimitField, string>> };

/**
 * Only the fields the user edited are sent: the rest stay main's defaults, which is also what lets
 * a run use a warm sandbox from the pool.
 */
export type EditedFields = Partial<Record<LimitField, boolean>>;

export function limitsFromForm(form: LimitsForm, edited: EditedFields): LimitsParseResult {
  const limits: Partial<Limits> = {};
  const errors: Partial<Record<LimitField, string>> = {};
  for (const f of LIMIT_FIELDS) {
    if (!edited[f.field]) continue;
    const problem = validateLimit(f, form[f.field]);
    if (problem) {
      errors[f.field] = problem;
      continue;
    }
    const value = Number(form[f.field].trim()) * f.scale;
    limits[f.key] = f.key === 'cpus' ? value : Math.round(value);
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, limits };
}
