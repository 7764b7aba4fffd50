// The egress filter's shapes: what a detector finds in text, and how it is shown. A finding never
// carries the secret itself, only where it is and a masked preview.

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export type DetectorKind = 'format' | 'entropy' | 'context';

/** One match in a piece of text. Offsets are UTF-16 code unit indexes into that text, end exclusive. */
export interface Match {
  detector: DetectorKind;
  /** Stable id, e.g. "aws-access-key-id", "github-pat", "entropy", "context-echo". */
  rule: string;
  /** Human-readable, e.g. "AWS access key ID". */
  title: string;
  severity: Severity;
  start: number;
  end: number;
}

/**
 * A detector: finds secrets in text. `maxMatchLength` bounds how long a match can be, which
 * bounds how much output a streaming scanner must hold back to catch a secret split across chunks
 * (PEM blocks are the exception: they are found by their BEGIN line and redacted to their END).
 */
export interface Detector {
  kind: DetectorKind;
  find(text: string): Match[];
  maxMatchLength: number;
  /**
   * Optional: how many characters at the end of `text` could begin a match that what follows
   * completes (at most maxMatchLength). A streaming scanner holds back only that much after
   * scanning; without it, maxMatchLength. Called after find() on the same text.
   */
  holdFor?(text: string): number;
}

/** `AKIA************MPLE`: the first and last four characters (fewer for short secrets), the rest starred. */
export function maskPreview(secret: string): string {
  const s = secret.replace(/\s+/g, ' ');
  if (s.length <= 8) return '*'.repeat(s.length);
  const keep = s.length >= 16 ? 4 : 2;
  return `${s.slice(0, keep)}${'*'.repeat(Math.min(32, s.length - 2 * keep))}${s.slice(-keep)}`;
}
