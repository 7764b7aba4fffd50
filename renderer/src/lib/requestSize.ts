// Code and stdin are limited in UTF-8 bytes (shared/types.ts), the unit the host's frame limit and
// the sandbox count in. The form checks them before sending, so an oversized run is explained next
// to its box instead of being refused (or, worse, cutting the connection) after it was sent.
import { CODE_MAX_BYTES, STDIN_MAX_BYTES, utf8ByteLength } from '../../../shared/types';
import { formatBytes } from './format';

export type SizedField = 'code' | 'stdin';

const MIB = 1024 * 1024;

const LIMITS: Record<SizedField, { label: string; max: number }> = {
  code: { label: 'Code', max: CODE_MAX_BYTES },
  stdin: { label: 'Standard input', max: STDIN_MAX_BYTES },
};

/** Why `text` is too large for `field`, or null when it fits. */
export function sizeProblem(field: SizedField, text: string): string | null {
  const { label, max } = LIMITS[field];
  // Each UTF-16 unit is at least one byte: short texts need no count.
  if (text.length <= max / 3) return null;
  const bytes = utf8ByteLength(text);
  if (bytes <= max) return null;
  const maxText = max % MIB === 0 ? `${max / MIB} MiB` : formatBytes(max);
  return `${label} is too large: ${count(bytes)} bytes (UTF-8); the limit is ${count(max)} bytes (${maxText}).`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
