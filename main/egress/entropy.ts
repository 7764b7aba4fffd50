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
// Image/PDF payloads by their base64 magic, and SSH public key blobs (AAAAB3NzaC1yc2E…).
const PAYLOAD_MAGIC = /^(?:iVBORw0KGgo|\/9j\/|R0lGOD|UklGR|PHN2Zy|AAAA[A-Za-z0-9]{4}ZnR5c|JVBERi0|AAAA[BCE][0-9A-Za-z]NzaC|AAAAE2VjZHNh)/;
// Object ids with a type prefix (OpenAI, Anthropic, Stripe objects, request ids): identifiers that
// are printed on purpose, not credentials.
const OBJECT_ID =
  /^(?:chatcmpl|cmpl|msg|msgbatch|req|request|resp|run|thread|asst|file|batch|toolu|call|ftjob|cus|pi|pm|ch|in|ii|sub|evt|prod|price|txn|seti|src|tok_test|acct|po|tr|re|cs_test|ord)[_-]/;
// crypt(3)-style password hashes ($2b$12$…, $6$…, $argon2id$…): stored hashes, not secrets.
const PASSWORD_HASH = /^\$(?:2[abxy]?|5|6|y|argon2(?:id|i|d)|pbkdf2(?:-sha\d+)?|scrypt)\$/;
// Certificates and public keys are meant to be shared; their bodies are high-entropy base64.
const PUBLIC_PEM =
  /-----BEGIN (?:CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|PGP PUBLIC KEY BLOCK|PGP SIGNATURE|X509 CRL|CERTIFICATE REQUEST|NEW CERTIFICATE REQUEST|OPENSSH PUBLIC KEY|SSH2 PUBLIC KEY|PGP MESSAGE)-----[\s\S]*?(?:-----END [A-Z0-9 ]{3,40}-----|$)/g;

/** Why the text just before a token makes it a payload or a digest. */
function payloadContext(before: string): boolean {
  return (
    /;base64,$/.test(before) ||
    /\b(?:sha(?:1|224|256|384|512)|md5|h1)[:=]$/i.test(before) ||
    /\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d{3}|sk-ssh-ed25519@openssh\.com)\s$/.test(before) ||
    /"(?:data|image|content|payload|b64_json|bytes|blob|thumbnail)"\s*:\s*"$/i.test(before) ||
    /\b(?:integrity|checksum|digest|hash|etag)["']?\s*[:=]\s*["']?$/i.test(before)
  );
}

/**
 * Identifiers made of words (CamelCase, snake_case, kebab-case) are mostly runs of three or more
 * lowercase letters, optionally capitalised; random base62 is not (about a fifth of it is). Long
 * lowercase runs are words too: random text has a run of ten with probability under 1%.
 */
function wordy(s: string): boolean {
  if (/[a-z]{10,}/.test(s)) return true;
  const covered = (s.match(/[A-Z]?[a-z]{3,}/g) ?? []).reduce((n, w) => n + w.length, 0);
  return covered / s.length >= 0.5;
}

function judge(tok: string): { severity: Severity; entropy: number } | null {
  if (tok.length < MIN_TOKEN || tok.length > MAX_TOKEN) return null;
  if (UUID_LIKE.test(tok) || DIGEST_PREFIX.test(tok) || PAYLOAD_MAGIC.test(tok) || OBJECT_ID.test(tok)) return null;
  // `node-modules-<sha256>`, `build_<sha1>`: a word prefix on a hash is still a hash.
  const core = tok.replace(/=+$/, '').replace(/^(?:[A-Za-z]+[-_])+(?=[0-9a-f]{32,}$)/i, '');
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
    if (wordy(core)) return null;
    const need = Math.min(4.6, 0.84 * Math.log2(core.length));
    if (h < need) return null;
    return { severity: core.length >= 32 ? 'medium' : 'low', entropy: h };
  }
  if (!upper && lower && digits >= 4 && core.length >= 32 && !wordy(core)) {
    return h >= 4.2 ? { severity: 'low', entropy: h } : null;
  }
  return null;
}

export function findHighEntropy(text: string): EntropyHit[] {
  const hits: EntropyHit[] = [];
  const publicBlocks = [...text.matchAll(PUBLIC_PEM)].map((b) => [b.index, b.index + b[0].length] as const);
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index;
    const run = m[0];
    if (publicBlocks.some(([a, b]) => start >= a && start < b)) continue;
    if (run.length > MAX_TOKEN) continue;
    const before = text.slice(Math.max(0, start - 40), start);
    if (payloadContext(before) || PASSWORD_HASH.test(/\S*$/.exec(before)?.[0] ?? '')) continue;
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
