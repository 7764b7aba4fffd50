// The egress filter as the renderer shows and edits it: redaction markers in output, the run form's
// environment and network allowlist, and a run's egress record as facts. Plain functions, unit-tested.
import { ALLOW_PRESETS, EnvName, parseAllowEntry, type EgressRecord, type EnvRecord, type EnvVar } from '../../../shared/egress';
import { ALLOW_MAX_ITEMS, ENV_MAX_BYTES, ENV_MAX_ITEMS, utf8ByteLength } from '../../../shared/types';

// ---- Redactions in output

/** What main puts in place of a secret in output: `[REDACTED:<rule-id>]`. */
const REDACTION = /\[REDACTED:([a-z0-9-]{1,100})\]/g;

export type OutputPart = { kind: 'text'; text: string } | { kind: 'redacted'; rule: string; text: string };

/** Text split at the redaction markers, in order; concatenating every part's text gives the input back. */
export function splitRedactions(text: string): OutputPart[] {
  if (!text.includes('[REDACTED:')) return [{ kind: 'text', text }];
  const parts: OutputPart[] = [];
  let last = 0;
  for (const m of text.matchAll(REDACTION)) {
    if (m.index > last) parts.push({ kind: 'text', text: text.slice(last, m.index) });
    parts.push({ kind: 'redacted', rule: m[1]!, text: m[0] });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

export function redactionTitle(rule: string): string {
  return `redacted: ${rule}`;
}

// ---- Environment editor

export interface EnvRow {
  /** Stable key for React; not sent. */
  key: number;
  name: string;
  value: string;
  secret: boolean;
}

function blank(row: EnvRow): boolean {
  return row.name.trim() === '' && row.value === '';
}

/** Why each row cannot be sent, by row key (rows left entirely blank are ignored). */
export function envProblems(rows: readonly EnvRow[]): Record<number, string> {
  const problems: Record<number, string> = {};
  const seen = new Set<string>();
  for (const row of rows) {
    if (blank(row)) continue;
    const name = row.name.trim();
    if (name === '') problems[row.key] = 'a value needs a name';
    else if (!EnvName.safeParse(name).success)
      problems[row.key] = `${JSON.stringify(name)} is not a variable name: letters, digits and _, not starting with a digit`;
    else if (seen.has(name)) problems[row.key] = `${name} is set twice`;
    seen.add(name);
  }
  return problems;
}

export type EnvResult = { ok: true; env: EnvVar[] } | { ok: false; message: string };

/** The rows as the request's `env`, or why not. */
export function envFromRows(rows: readonly EnvRow[]): EnvResult {
  const problems = Object.values(envProblems(rows));
  if (problems.length > 0) return { ok: false, message: `Environment: ${problems.join('; ')}.` };
  const env: EnvVar[] = rows
    .filter((r) => !blank(r))
    .map((r) => (r.secret ? { name: r.name.trim(), value: r.value, secret: true } : { name: r.name.trim(), value: r.value }));
  if (env.length > ENV_MAX_ITEMS) return { ok: false, message: `Environment: at most ${ENV_MAX_ITEMS} variables.` };
  const bytes = utf8ByteLength(env.map((v) => v.name + v.value).join(''));
  if (bytes > ENV_MAX_BYTES) return { ok: false, message: `Environment: ${bytes} bytes, at most ${ENV_MAX_BYTES}.` };
  return { ok: true, env };
}

/** A recorded variable as the run summary shows it: a secret's value never is. */
export function envLabel(v: EnvRecord): string {
  if (v.secret) return `${v.name}=••••`;
  return v.value === undefined ? v.name : `${v.name}=${v.value}`;
}

// ---- Network allowlist

export type AllowPreset = keyof typeof ALLOW_PRESETS | 'custom';

export const ALLOW_PRESET_CHOICES: readonly { id: AllowPreset; label: string }[] = [
  ...Object.entries(ALLOW_PRESETS).map(([id, p]) => ({ id, label: p.label })),
  { id: 'custom', label: 'Custom' },
];

/** Why a typed entry cannot be added to `current`, or null when it can. */
export function allowEntryProblem(input: string, current: readonly string[] = []): string | null {
  const text = input.trim();
  if (text === '') return 'type a destination, e.g. api.example.com:443';
  if (/\s/.test(text)) return 'one destination per entry, without spaces';
  const rule = parseAllowEntry(text);
  if (!rule) {
    const port = /:(\d+)$/.exec(text);
    if (port && !text.startsWith('[') && (Number(port[1]) < 1 || Number(port[1]) > 65535)) return `port ${port[1]} is not 1–65535`;
    if (/^https?:\/\//i.test(text)) return 'a host name, not a URL: drop the scheme (https://)';
    if (text.includes('/') && !/^[\d.[\]:a-fA-F]+\/\d+/.test(text)) return 'a host name, not a URL: drop the path';
    return `${JSON.stringify(text)} is not DOMAIN[:PORT] (*.example.com for subdomains), an IPv4 CIDR, or [IPv6 CIDR], with an optional :PORT`;
  }
  if (current.some((e) => e.trim().toLowerCase() === text.toLowerCase())) return `${text} is already in the list`;
  if (current.length >= ALLOW_MAX_ITEMS) return `at most ${ALLOW_MAX_ITEMS} entries`;
  return null;
}

/** The destinations the preset or the custom list stands for. */
export function allowNetFor(preset: AllowPreset, custom: readonly string[]): string[] {
  if (preset === 'custom') return custom.map((e) => e.trim());
  return [...(ALLOW_PRESETS[preset]?.entries ?? [])];
}

/** The entry a network alert's "allow" button adds: `destination[:port]`, or null when that is not an entry. */
export function allowEntryForAlert(a: { destination?: string; port?: number }): string | null {
  const dest = a.destination?.trim();
  if (!dest) return null;
  const host = dest.includes(':') && !dest.startsWith('[') ? `[${dest}]` : dest;
  const entry = a.port === undefined ? host : `${host}:${a.port}`;
  return parseAllowEntry(entry) ? entry : null;
}

// ---- A run's egress record

export interface EgressFact {
  label: string;
  value: string;
  tone: 'good' | 'warn' | 'bad' | 'neutral';
  testId: string;
}

export function egressFacts(e: EgressRecord): EgressFact[] {
  return [
    { label: 'Filter', value: e.filter ? `on · ${e.policy}` : 'off', tone: e.filter ? 'good' : 'warn', testId: 'egress-filter' },
    {
      label: 'Findings',
      value: e.critical > 0 ? `${e.findings} (${e.critical} critical)` : String(e.findings),
      tone: e.critical > 0 ? 'bad' : e.findings > 0 ? 'warn' : 'neutral',
      testId: 'egress-findings',
    },
    ...(e.blocked ? [{ label: 'Output', value: 'withheld (policy block)', tone: 'bad' as const, testId: 'egress-blocked' }] : []),
    {
      label: 'Network',
      value: e.allowNet.length === 0 ? 'none' : e.allowNet.join(', '),
      tone: e.allowNet.length === 0 ? 'good' : 'neutral',
      testId: 'egress-allow-net',
    },
    { label: 'Refused', value: String(e.refused), tone: e.refused > 0 ? 'warn' : 'neutral', testId: 'egress-refused' },
  ];
}
