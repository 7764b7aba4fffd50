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
//
// Speed: token runs are found by probing every MIN_TOKEN-th character (a run of MIN_TOKEN or more
// must contain a probe), so most of the text is never looked at, once per text (findTokenRuns:
// the format detector asks first, for the rules it narrows to runs); the probe also notes where
// words start inside a run ('-', '/', '+'), for the format rules that start a word. A run is
// judged by one pass over its characters (cheap rejections first: too few digits and hex
// characters to be anything), and the text before it (payload and digest contexts, public PEM
// blocks) is examined only for runs that would otherwise be reported.

import { latin1Bytes } from './latin1';
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

const counts = new Int32Array(128);
// p * log2(p) for p = k / n, by (n, k), filled as needed: the same doubles shannon() computes.
const TERM_N = MAX_TOKEN + 4;
const terms = new Float64Array(TERM_N * TERM_N).fill(NaN);

/** shannon() for ASCII text, without allocating. */
function shannonAscii(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) counts[s.charCodeAt(i) & 127]!++;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) & 127;
    const k = counts[c]!;
    if (k === 0) continue;
    counts[c] = 0;
    let t = n < TERM_N ? terms[n * TERM_N + k]! : NaN;
    if (Number.isNaN(t)) {
      const p = k / n;
      t = p * Math.log2(p);
      if (n < TERM_N) terms[n * TERM_N + k] = t;
    }
    h -= t;
  }
  return h;
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
// What findHighEntropy reads as a token: runs of these characters, by a lookup table.
// 0: not a token character; 1: digit; 2: hex letter; 3: other letter, '_', '-'; 4: '/'; 5: '+'.
export const TOKEN_CHAR = new Uint8Array(0x10000);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') {
  TOKEN_CHAR[c.charCodeAt(0)] = /[0-9]/.test(c) ? 1 : /[a-fA-F]/.test(c) ? 2 : c === '/' ? 4 : c === '+' ? 5 : 3;
}
// What the run finder reads per byte: 0 for a character that is not a token character, else
// packed counts, 9 bits each: 1 for a digit, 1 << 9 for a hex character (digits too), 1 << 18 for
// '+', and 1 << 27 for any; plus SEP for the token characters that end a word ('-', '/', '+').
// Summed over a run of at most MAX_TOKEN characters the first three counts are exact (the sum of a
// longer run may wrap in its top bits: such a run is not judged).
const SEP = 1 << 30;
const RUN_INFO = new Int32Array(256);
for (let c = 0; c < 128; c++) {
  const k = TOKEN_CHAR[c]!;
  if (k === 0) continue;
  const sep = c === 45 || c === 47 || c === 43 ? SEP : 0;
  RUN_INFO[c] = (k === 1 ? 1 : 0) + (k === 1 || k === 2 ? 1 << 9 : 0) + (k === 5 ? 1 << 18 : 0) + (1 << 27) + sep;
}
/** 1 for an upper-case letter, 2 for a lower-case one (ASCII), by character code. */
const LETTER_CASE = new Uint8Array(0x10000);
for (let c = 65; c <= 90; c++) LETTER_CASE[c] = 1;
for (let c = 97; c <= 122; c++) LETTER_CASE[c] = 2;
// By TOKEN_CHAR kind (0 for any other character).
const IS_DIGIT = Uint8Array.of(0, 1, 0, 0, 0, 0);
const IS_HEX = Uint8Array.of(0, 1, 1, 0, 0, 0);
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST_PREFIX = /^(?:sha(?:1|224|256|384|512)|md5)[-_]/i;
// Image/PDF payloads by their base64 magic, and SSH public key blobs (AAAAB3NzaC1yc2E…).
const PAYLOAD_MAGIC = /^(?:iVBORw0KGgo|\/9j\/|R0lGOD|UklGR|PHN2Zy|AAAA[A-Za-z0-9]{4}ZnR5c|JVBERi0|AAAA[BCE][0-9A-Za-z]NzaC|AAAAE2VjZHNh)/;
const PAYLOAD_FIRST = new Set([...'i/RUPAJ'].map((c) => c.charCodeAt(0)));
// Object ids with a type prefix (OpenAI, Anthropic, Stripe objects, request ids): identifiers that
// are printed on purpose, not credentials.
const OBJECT_ID =
  /^(?:chatcmpl|cmpl|msg|msgbatch|req|request|resp|run|thread|asst|file|batch|toolu|call|ftjob|cus|pi|pm|ch|in|ii|sub|evt|prod|price|txn|seti|src|tok_test|acct|po|tr|re|cs_test|ord)[_-]/;
// The same two prefixes, tried in place at a token's start (judgeRuns: no substring for them).
const DIGEST_PREFIX_AT = new RegExp(DIGEST_PREFIX.source.slice(1), 'iy');
const OBJECT_ID_AT = new RegExp(OBJECT_ID.source.slice(1), 'y');
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
    /\b(?:integrity|checksum|digest|hash|etag)["']?\s*[:=]\s*["']?$/i.test(before) ||
    // Identifiers services print on purpose: object versions, request and trace ids.
    /\b(?:version_?id|x-amz-(?:id-2|request-id|cf-id)|x-request-id|request_?id|trace_?id|span_?id|correlation_?id)["']?\s*[:=]\s*["']?$/i.test(
      before,
    ) ||
    // A weak ETag (W/"<size>-<hash>").
    /\betag["']?\s*[:=]\s*(?:W\/)?"(?:[0-9a-f]+-)?$/i.test(before) ||
    // Output that says it is base64 data ("payload (base64): ..."), unless it names a secret.
    (/\bbase64\)?\s*[:=]\s*["']?$/i.test(before) && !/secret|token|passw|credential|auth|api[_-]?key|private/i.test(before))
  );
}

/** Base64 of JSON (pagination cursors, state parameters): data, not a credential, unless it names one. */
function base64Json(tok: string): boolean {
  const c0 = tok.charCodeAt(0);
  // '{' and '[' start base64 with "e" and "W".
  if (c0 !== 101 && c0 !== 87) return false;
  const text = Buffer.from(tok, 'base64').toString('latin1');
  if (!/^[{[]["{[\s]/.test(text)) return false;
  // All of it printable (a cut-off tail may be partial): JSON, not random bytes.
  for (let i = 0; i < text.length - 2; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c > 126) return false;
  }
  return !/secret|token|passw|credential|private|api_?key/i.test(text);
}

/**
 * Identifiers made of words (CamelCase, snake_case, kebab-case) are mostly runs of three or more
 * lowercase letters, optionally capitalised; random base62 is not (about a fifth of it is). Long
 * lowercase runs are words too: random text has a run of ten with probability under 1%.
 */
function wordy(s: string): boolean {
  // What /[a-z]{10,}/ and the matches of /[A-Z]?[a-z]{3,}/g say, in one pass.
  const n = s.length;
  let covered = 0;
  for (let i = 0; i < n;) {
    const up = isUpper(s.charCodeAt(i)) ? 1 : 0;
    let j = i + up;
    while (j < n && isLower(s.charCodeAt(j))) j++;
    const run = j - i - up;
    if (run >= 10) return true;
    if (run >= 3) {
      covered += j - i;
      i = j;
    } else i += up === 1 && run === 0 ? 1 : Math.max(1, j - i);
  }
  return covered / n >= 0.5;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

function judge(tok: string): { severity: Severity; entropy: number } | null {
  const n = tok.length;
  if (n < MIN_TOKEN || n > MAX_TOKEN) return null;
  // Cheap first: every verdict needs two digits (mixed case), four (lowercase) or 32 hex characters.
  let digits = 0;
  let hex = 0;
  // Which cases of letters it has: 1 upper, 2 lower.
  let cases = 0;
  for (let i = 0; i < n; i++) {
    const c = tok.charCodeAt(i);
    const k = TOKEN_CHAR[c]!;
    digits += IS_DIGIT[k]!;
    hex += IS_HEX[k]!;
    cases |= LETTER_CASE[c]!;
  }
  if (digits < 2 && hex < 32) return null;
  if (hex === n) {
    // Plain hex: no prefix, padding, UUID or payload shape applies.
    if (n < 32 || HASH_LENGTHS.has(n)) return null;
    const h = shannonAscii(tok);
    return h >= 3.4 ? { severity: 'low', entropy: h } : null;
  }
  // The verdicts below need 32 hex characters (a hex core), or both cases and two digits, or lower
  // case and four digits: without any of these nothing below can say yes.
  const upper = (cases & 1) !== 0;
  const lower = (cases & 2) !== 0;
  if (hex < 32 && !(upper && lower && digits >= 2) && !(!upper && lower && digits >= 4)) return null;
  // The shapes kept out, each tried only when its first character allows it.
  const c0 = tok.charCodeAt(0);
  if (n === 36 && UUID_LIKE.test(tok)) return null;
  if ((c0 | 32) === 115 || (c0 | 32) === 109) {
    if (DIGEST_PREFIX.test(tok)) return null; // sha…, md5…
  }
  if (PAYLOAD_FIRST.has(c0) && PAYLOAD_MAGIC.test(tok)) return null;
  if (c0 >= 97 && c0 <= 122 && OBJECT_ID.test(tok)) return null;
  if (base64Json(tok)) return null;
  // `node-modules-<sha256>`, `build_<sha1>`: a word prefix on a hash is still a hash.
  let core = tok.endsWith('=') ? tok.replace(/=+$/, '') : tok;
  if (/[-_]/.test(core)) core = core.replace(/^(?:[A-Za-z]+[-_])+(?=[0-9a-f]{32,}$)/i, '');
  // The entropy (two passes over the token) only where a verdict turns on it.
  if (/^[0-9a-f]+$/i.test(core)) {
    if (core.length < 32 || HASH_LENGTHS.has(core.length)) return null;
    const h = shannonAscii(core);
    return h >= 3.4 ? { severity: 'low', entropy: h } : null;
  }
  // Hex groups joined by '-' or '_' (UUID variants, build ids): hashes, not keys.
  if (/^[0-9a-f]+(?:[-_][0-9a-f]+)+$/i.test(core)) return null;
  // Here core is the token without its '=' padding (a prefix is only cut off a hex core, judged
  // above), so the token's letters and digits are the core's.
  const coreDigits = digits;
  if (upper && lower && coreDigits >= 2) {
    if (wordy(core)) return null;
    const need = Math.min(4.6, 0.84 * Math.log2(core.length));
    const h = shannonAscii(core);
    if (h < need) return null;
    return { severity: core.length >= 32 ? 'medium' : 'low', entropy: h };
  }
  if (!upper && lower && coreDigits >= 4 && core.length >= 32 && !wordy(core)) {
    const h = shannonAscii(core);
    return h >= 4.2 ? { severity: 'low', entropy: h } : null;
  }
  return null;
}

// The token runs of the last text looked at: detect.ts asks for them first (they narrow some
// format rules), and findHighEntropy then reuses them for the same text.
let runsText: string | null = null;
let probed: Int32Array = new Int32Array(64);
let probedCount = 0;
/** Per run (run r at probed[2r]): where its word separators start in `seps`, up to sepFrom[r + 1]. */
let sepFrom: Int32Array = new Int32Array(33);
/** Offsets of the '-', '/' and '+' inside the runs, in order. */
let seps: Int32Array = new Int32Array(256);
/** Per run: its RUN_INFO sum (its digits, hex characters and '+'). */
let runSum: Int32Array = new Int32Array(32);

/**
 * The maximal runs of token characters ([A-Za-z0-9+/_-]) MIN_TOKEN or longer in `text`, as
 * [start, end) pairs in order, found by probing every MIN_TOKEN-th character (each such run holds
 * a probe). The array is reused: read it before the next call.
 */
export function findTokenRuns(text: string): Int32Array {
  if (text !== runsText) {
    probedCount = probe(text);
    runsText = text;
  }
  return probed.subarray(0, probedCount);
}

/**
 * Where words start inside the runs findTokenRuns last returned, besides each run's start: one
 * past each offset in seps[from[r]] up to from[r + 1] for run r (the run at runs[2r]).
 */
export function tokenRunSeparators(): { seps: Int32Array; from: Int32Array } {
  return { seps, from: sepFrom };
}

function probe(text: string): number {
  const n = text.length;
  const bytes = latin1Bytes(text);
  let count = 0;
  let nsep = 0;
  // Locals: module variables that are reassigned (grown) are slower to read in the loops.
  let sp = seps;
  let sums = runSum;
  for (let j = MIN_TOKEN - 1; j < n;) {
    const vj = RUN_INFO[bytes[j]!]!;
    if (vj === 0) {
      j += MIN_TOKEN;
      continue;
    }
    // Back to the run's start, then on to its end, summing RUN_INFO and noting separators (those
    // before j come in backwards: put in order once the run is known).
    const sep0 = nsep;
    let sum = vj;
    let start = j;
    while (start > 0) {
      const v = RUN_INFO[bytes[start - 1]!]!;
      if (v === 0) break;
      start--;
      sum = (sum + v) | 0;
      if (v >= SEP) {
        if (nsep === sp.length) sp = grow(sp);
        sp[nsep++] = start;
      }
    }
    for (let a = sep0, b = nsep - 1; a < b; a++, b--) {
      const t = sp[a]!;
      sp[a] = sp[b]!;
      sp[b] = t;
    }
    if (vj >= SEP) {
      if (nsep === sp.length) sp = grow(sp);
      sp[nsep++] = j;
    }
    let end = j + 1;
    while (end < n) {
      const v = RUN_INFO[bytes[end]!]!;
      if (v === 0) break;
      sum = (sum + v) | 0;
      if (v >= SEP) {
        if (nsep === sp.length) sp = grow(sp);
        sp[nsep++] = end;
      }
      end++;
    }
    if (end - start >= MIN_TOKEN) {
      if (count + 2 > probed.length) probed = grow(probed);
      const r = count >> 1;
      if (r + 2 > sepFrom.length) sepFrom = grow(sepFrom);
      if (r + 1 > sums.length) sums = grow(sums);
      probed[count++] = start;
      probed[count++] = end;
      sepFrom[r] = sep0;
      sums[r] = sum;
    } else nsep = sep0;
    j = end + MIN_TOKEN;
  }
  sepFrom[count >> 1] = nsep;
  seps = sp;
  runSum = sums;
  return count;
}

function grow(a: Int32Array): Int32Array {
  const grown = new Int32Array(2 * a.length);
  grown.set(a);
  return grown;
}

export function findHighEntropy(text: string): EntropyHit[] {
  const runs = findTokenRuns(text);
  return judgeRuns(text, runs, runs.length);
}

/** Judges the runs findTokenRuns just found in `text` (their sums and separators are its). */
function judgeRuns(text: string, runs: Int32Array, count: number): EntropyHit[] {
  const hits: EntropyHit[] = [];
  const n = text.length;
  let publicBlocks: (readonly [number, number])[] | null = null;
  for (let r = 0; r < count; r += 2) {
    const start = runs[r]!;
    const end = runs[r + 1]!;
    const len = end - start;
    if (len < MIN_TOKEN || len > MAX_TOKEN) continue;
    // What judge() needs, counted when the run was found: digits and hex characters (every
    // verdict needs a few), '+', and the longest '/'-separated piece (a path's pieces are judged
    // alone), from the run's separators.
    const sum = runSum[r >> 1]!;
    const digits = sum & 511;
    const hex = (sum >>> 9) & 511;
    const plus = ((sum >>> 18) & 511) > 0;
    if (digits < 2 && hex < 32) continue;
    if (hex === len && (len < 32 || HASH_LENGTHS.has(len)) && text.charCodeAt(end) !== 61) continue;
    if (len === 36 && hex === 32 && isUuidShape(text, start)) continue;
    let slash = start - 1;
    let longest = 0;
    for (let x = sepFrom[r >> 1]!, xEnd = sepFrom[(r >> 1) + 1]!; x < xEnd; x++) {
      const i = seps[x]!;
      if (text.charCodeAt(i) !== 47) continue;
      if (i - slash - 1 > longest) longest = i - slash - 1;
      slash = i;
    }
    if (end - slash - 1 > longest) longest = end - slash - 1;
    if (longest < MIN_TOKEN && !plus && text.charCodeAt(end) !== 61) continue;
    // Up to three '=' of base64 padding belong to the token.
    let e = end;
    while (e < n && e - end < 3 && text.charCodeAt(e) === 61) e++;
    if (e - start > MAX_TOKEN) continue;
    if (wrappedLine(text, start, e)) continue;
    // A '/' inside a run is a path separator unless the run looks like padded/'+' base64.
    const split = longest < len && !plus && e === end;
    const found: EntropyHit[] = [];
    for (let a = start; a < e;) {
      let b = e;
      if (split) {
        b = a;
        while (b < e && text.charCodeAt(b) !== 47) b++;
      }
      // Trim separators at the ends so "--foo" and "key_" do not change the verdict.
      let ta = a;
      let tb = b;
      if (tb - ta >= MIN_TOKEN) {
        while (ta < tb && isSeparator(text.charCodeAt(ta))) ta++;
        while (tb > ta && isSeparator(text.charCodeAt(tb - 1))) tb--;
        const verdict = tb - ta >= MIN_TOKEN && !knownPrefix(text, ta) ? judge(text.slice(ta, tb)) : null;
        if (verdict) found.push({ start: ta, end: tb, severity: verdict.severity, entropy: verdict.entropy });
      }
      a = b + 1;
    }
    if (found.length === 0) continue;
    publicBlocks ??= text.includes('BEGIN ') ? [...text.matchAll(PUBLIC_PEM)].map((b) => [b.index, b.index + b[0].length] as const) : [];
    if (publicBlocks.some(([a, b]) => start >= a && start < b)) continue;
    const before = text.slice(Math.max(0, start - 40), start);
    if (payloadContext(before) || PASSWORD_HASH.test(lastWord(before))) continue;
    for (const h of found) h.end = valueEnd(text, h.start, h.end);
    hits.push(...found);
  }
  return hits;
}

/**
 * Whether the token at `at` starts with a digest's algorithm or an object id's type, which judge()
 * turns down whatever follows (neither prefix is hex, and both are shorter than MIN_TOKEN): the
 * commonest tokens judged in ordinary output (lockfile integrity, API object ids), told without
 * cutting them out of the text.
 */
function knownPrefix(text: string, at: number): boolean {
  const c0 = text.charCodeAt(at);
  if ((c0 | 32) === 115 || (c0 | 32) === 109) {
    DIGEST_PREFIX_AT.lastIndex = at;
    if (DIGEST_PREFIX_AT.test(text)) return true;
  }
  if (c0 < 97 || c0 > 122) return false;
  OBJECT_ID_AT.lastIndex = at;
  return OBJECT_ID_AT.test(text);
}

/**
 * How much of the end of `text` a token still open there takes: the value it is in (its run of
 * token characters, '=' padding, and the punctuation a value goes on through, see valueEnd). A run already longer than any token judged (a payload) is held at MAX_TOKEN + 1,
 * so what follows is still seen as part of a payload, not as a short token of its own.
 */
export function entropyHoldFor(text: string): number {
  let i = text.length;
  while (i > 0 && VALUE_END[text.charCodeAt(i - 1)] === 0 && text.length - i <= MAX_TOKEN) i--;
  return text.length - i;
}

// What ends a value printed in output (whitespace, quotes, brackets, separators of lists and
// of user@host), and the punctuation a token run stops at but a value goes on through.
const VALUE_END = new Uint8Array(0x10000);
for (const c of ' \t\n\r\v\f"\'`,;<>()[]{}@') VALUE_END[c.charCodeAt(0)] = 1;
const CUT = new Uint8Array(0x10000);
for (const c of './!~+=%&?#*^$|') CUT[c.charCodeAt(0)] = 1;

/**
 * Where the value a high-entropy token belongs to ends: a token cut at punctuation inside a value
 * (`…Pv!h`, `…/x9`, `….~rD`) is redacted to the value's end, so none of it is left; at most
 * MAX_TOKEN characters in all. A token followed by anything else ends where it ends.
 */
function valueEnd(text: string, start: number, end: number): number {
  if (end + 1 >= text.length || CUT[text.charCodeAt(end)] === 0 || VALUE_END[text.charCodeAt(end + 1)] === 1) return end;
  let x = end;
  while (x < text.length && x - start < MAX_TOKEN && VALUE_END[text.charCodeAt(x)] === 0) x++;
  // A value still open at the end of the text may go on in what follows: left as it is here (a
  // stream holds an open value back, see entropyHoldFor, and finds it whole with what follows).
  if (x === text.length) return end;
  // Not past punctuation that closes a sentence.
  while (x > end && CUT[text.charCodeAt(x - 1)] === 1) x--;
  return x;
}

/** Base64 wrapped at these widths: MIME (76), PEM and `base64 -w 64` (64). */
const WRAP_WIDTHS = [64, 76];

/**
 * Whether the run [start, end) is a whole line of a wrapped base64 block (a certificate's body, a
 * `base64` dump, a MIME part): the line before or after it is all base64 and exactly a wrap width
 * long, and this line is no longer. A key printed alone on its line has no such neighbour.
 */
function wrappedLine(text: string, start: number, end: number): boolean {
  const len = end - start;
  if (len > 76 || (start > 0 && !isLineBreak(text.charCodeAt(start - 1))) || (end < text.length && !isLineBreak(text.charCodeAt(end))))
    return false;
  // The next line.
  let a = end;
  while (a < text.length && isLineBreak(text.charCodeAt(a)) && a - end < 2) a++;
  if (a > end) {
    const next = base64LineLength(text, a, 1);
    if (WRAP_WIDTHS.includes(next) && len <= next) return true;
  }
  // The previous line.
  let b = start;
  while (b > 0 && isLineBreak(text.charCodeAt(b - 1)) && start - b < 2) b--;
  if (b < start && b > 0) {
    const prev = base64LineLength(text, b - 1, -1);
    if (WRAP_WIDTHS.includes(prev) && (b - 1 - prev < 0 || isLineBreak(text.charCodeAt(b - 1 - prev))) && len <= prev) return true;
  }
  return false;
}

/** The length of the base64 line from `at` in direction `dir`, or -1 when it holds anything else. */
function base64LineLength(text: string, at: number, dir: 1 | -1): number {
  let n = 0;
  for (let i = at; i >= 0 && i < text.length; i += dir) {
    const k = LINE_CHAR[text.charCodeAt(i)]!;
    if (k === 2) break;
    if (k === 0) return -1;
    if (++n > 76) return -1;
  }
  return n;
}

/** By character code: 1 for base64 ([A-Za-z0-9+/=]), 2 for a line break, 0 for anything else. */
const LINE_CHAR = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) LINE_CHAR[c] = isLineBreak(c) ? 2 : isBase64(c) ? 1 : 0;

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13;
}

function isBase64(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61;
}

/** '-', '_' or '/': trimmed from the ends of a token. */
function isSeparator(c: number): boolean {
  return c === 45 || c === 95 || c === 47;
}

/** Hex in 8-4-4-4-12 groups (the caller counted 32 hex characters in 36). */
function isUuidShape(text: string, at: number): boolean {
  return [8, 13, 18, 23].every((k) => text.charCodeAt(at + k) === 45);
}

/** The non-whitespace characters at the end of `s`. */
function lastWord(s: string): string {
  let i = s.length;
  while (i > 0 && !/\s/.test(s[i - 1]!)) i--;
  return s.slice(i);
}
