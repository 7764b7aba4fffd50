// The high-entropy detector: catches secrets that have no known format, by how random they look.
// It costs false positives, so it is conservative and ranks low/medium; format rules do the real
// work. What it measures: Shannon entropy in bits per character over the token's own characters.
// A random token from an alphabet of size A tends to log2(min(A, length)); English identifiers,
// paths and words sit well below.
//
// Thresholds (tuned against test/fixtures/egress/corpus.jsonl):
// - mixed-case base64/base62 (upper, lower and digits all present): length >= 20 and entropy >=
//   min(4.6, 0.84 * log2(length)); medium at length >= 32, else low.
// - lowercase/digit (base36) tokens: length >= 32 and entropy >= 4.2; low.
// - hex: length >= 32 and entropy >= 3.4, except the lengths of standard digests (32/40/56/64/96/
//   128: md5, sha1/git, sha224, sha256/docker ids, sha384, sha512), which are far more often
//   hashes than keys; low.
// Kept out: UUIDs, digests with their algorithm prefix (sha256:…, sha512-…, sha256~ is a format
// rule), base64 data URLs and image payloads, runs longer than MAX_TOKEN (payloads, not keys),
// path-like runs (split at '/' unless the run has base64 padding or '+'), version strings and
// hostnames (a '.' ends a token).

import type { Severity } from './types';

export const MIN_TOKEN = 20;
/** Longer runs are payloads (images, archives, certificates), not keys. */
export const MAX_TOKEN = 256;

export interface EntropyHit {
  start: number;
  end: number;
  severity: Severity;
  entropy: number;
}

export function shannon(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const HASH_LENGTHS = new Set([32, 40, 56, 64, 96, 128]);
// '=' only as trailing padding: inside a run it is an assignment (NAME=value).
const TOKEN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,3}/g;
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST_PREFIX = /^(?:sha(?:1|224|256|384|512)|md5)[-_]/i;
const IMAGE_MAGIC = /^(?:iVBORw0KGgo|\/9j\/|R0lGOD|UklGR|PHN2Zy|AAAA[A-Za-z0-9]{4}ZnR5c|JVBERi0)/;

/** Why the text just before a token makes it a payload or a digest. */
function payloadContext(before: string): boolean {
  return (
    /;base64,$/.test(before) ||
    /\b(?:sha(?:1|224|256|384|512)|md5)[:=]$/i.test(before) ||
    /"(?:data|image|content|payload|b64_json|bytes|blob|thumbnail)"\s*:\s*"$/i.test(before) ||
    /\b(?:integrity|checksum|digest|hash|etag)["']?\s*[:=]\s*["']?$/i.test(before)
  );
}

function judge(tok: string): { severity: Severity; entropy: number } | null {
  if (tok.length < MIN_TOKEN || tok.length > MAX_TOKEN) return null;
  if (UUID_LIKE.test(tok) || DIGEST_PREFIX.test(tok) || IMAGE_MAGIC.test(tok)) return null;
  const core = tok.replace(/=+$/, '');
  const h = shannon(core);
  if (/^[0-9a-f]+$/i.test(core)) {
    if (core.length < 32 || HASH_LENGTHS.has(core.length)) return null;
    return h >= 3.4 ? { severity: 'low', entropy: h } : null;
  }
  // Hex groups joined by '-' or '_' (UUID variants, build ids): hashes, not keys.
  if (/^[0-9a-f]+(?:[-_][0-9a-f]+)+$/i.test(core)) return null;
  const upper = /[A-Z]/.test(core);
  const lower = /[a-z]/.test(core);
  const digits = (core.match(/[0-9]/g) ?? []).length;
  if (upper && lower && digits >= 2) {
    // Identifiers made of words (CamelCase, snake_case) have long letter runs; random text does not.
    if (/[A-Za-z]{14,}/.test(core)) return null;
    const need = Math.min(4.6, 0.84 * Math.log2(core.length));
    if (h < need) return null;
    return { severity: core.length >= 32 ? 'medium' : 'low', entropy: h };
  }
  if (!upper && lower && digits >= 4 && core.length >= 32 && !/[a-z]{10,}/.test(core)) {
    return h >= 4.2 ? { severity: 'low', entropy: h } : null;
  }
  return null;
}

export function findHighEntropy(text: string): EntropyHit[] {
  const hits: EntropyHit[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index;
    const run = m[0];
    if (run.length > MAX_TOKEN) continue;
    if (payloadContext(text.slice(Math.max(0, start - 40), start))) continue;
    // A '/' inside a run is a path separator unless the run looks like padded/'+' base64.
    const pieces = run.includes('/') && !/[+]|=$/.test(run) ? splitKeep(run, '/') : [{ s: run, at: 0 }];
    for (const p of pieces) {
      // Trim separators at the ends so "--foo" and "key_" do not change the verdict.
      const lead = p.s.length - p.s.replace(/^[-_/]+/, '').length;
      const tok = p.s.slice(lead).replace(/[-_/]+$/, '');
      const verdict = judge(tok);
      if (verdict) hits.push({ start: start + p.at + lead, end: start + p.at + lead + tok.length, ...verdict });
    }
  }
  return hits;
}

function splitKeep(s: string, sep: string): { s: string; at: number }[] {
  const out: { s: string; at: number }[] = [];
  let at = 0;
  for (const part of s.split(sep)) {
    out.push({ s: part, at });
    at += part.length + 1;
  }
  return out;
}
