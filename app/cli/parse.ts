// Parsing of the CLI's human-friendly values (durations, sizes), with errors that say what was wrong.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gb: 1 << 30,
  gib: 1 << 30,
};

/** "30s", "2m", "500ms", or plain seconds ("30"). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}": use e.g. 500ms, 30s, 2m`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!);
}

/** "1MiB", "512k", "2g", or plain bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size "${text}": use e.g. 512k, 1MiB, 2g`);
  return Math.round(Number(m[1]) * unit);
}

/** Memory in MB: "512", "512m", "1g". */
export function parseMemoryMb(text: string): number {
  return /^\d+$/.test(text.trim()) ? Number(text) : Math.round(parseSize(text) / (1 << 20));
}

export function parseNumber(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`invalid ${what} "${text}": expected a number`);
  return n;
}
