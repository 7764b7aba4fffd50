// The context-echo detector: finds secrets we know (the run's own credentials, handed in by the
// caller) when the sandbox prints them back, plainly or lightly disguised: base64 (standard and
// URL-safe, at any byte alignment), hex (lower/upper), percent-encoded, and any of those with
// whitespace inserted (wrapped at 64/76 columns, CRLF, indentation).
//
// Secrets shorter than MIN_SECRET_LENGTH are ignored: a 4-character password occurs by chance in
// ordinary output, so flagging it would bury real findings (and redacting it would mangle output).
//
// Speed: a text is first probed every few characters: at each probe, the next Q non-whitespace
// characters are looked up in a bitmap of every Q-character piece of every form. An echo of a
// form of length L puts a probe within its first L - Q + 1 characters, so probing every
// (shortest form - Q + 1) characters cannot miss one, whitespace or not. Only around probes that
// hit is the whitespace-tolerant match run. A gram is shared by ordinary words ("pass" in a
// secret and in "password"), so a probe that hits is first checked against the forms holding that
// gram, aligned there (echoAt): only a whole echo opens a window for the match.
import { latin1View } from './latin1';
import type { Detector, Match } from './types';

export const MIN_SECRET_LENGTH = 8;

/** At most this many whitespace characters between two characters of an echoed secret ("\r\n" + indentation). */
const MAX_GAP = 4;

const RULE = 'context-echo';
const TITLE = 'Secret of this run echoed back';

/** Every form of `secret` we look for, without whitespace, deduplicated. */
export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  // The secret itself, and its UTF-8 bytes as latin1 (how the stream scanner sees output) when they differ.
  const forms = new Set<string>([secret, bytes.toString('latin1')]);
  for (const b64 of base64Needles(bytes)) {
    forms.add(b64);
    forms.add(b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  const uri = encodeURIComponent(secret);
  forms.add(uri);
  forms.add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  // Every byte percent-encoded, as some encoders (and deliberate evasion) do.
  forms.add(hex.replace(/../g, '%$&'));
  forms.add(hex.toUpperCase().replace(/../g, '%$&'));
  // Matching ignores whitespace (see stripWhitespace), so the forms carry none either.
  return [...new Set([...forms].map((f) => f.replace(/[\t-\r ]/g, '')))].filter((f) => f.length > 0);
}

/**
 * The parts of a base64 text that depend only on the secret, for each of the three alignments
 * the secret can have inside a longer encoded text. With k bytes before the secret, the secret's
 * bits are 8k..8(k+L); the output characters whose 6 bits all fall inside that range are
 * ceil(8k/6) .. floor(8(k+L)/6), whatever the neighbouring bytes are.
 */
function base64Needles(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes, Buffer.alloc(3)]);
    const b64 = padded.toString('base64');
    out.push(b64.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6)));
  }
  return out;
}

/** Characters per probe. */
const Q = 4;
const BITS = 16;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** 1 for the whitespace isSpace() means, by character code. */
const SPACE = new Uint8Array(0x10000);
for (const c of [9, 10, 11, 12, 13, 32]) SPACE[c] = 1;

function gramHash(a: number, b: number, c: number, d: number): number {
  return (Math.imul(Math.imul(Math.imul(a, 0x2f) ^ b, 0x2f) ^ c, 0x2f) ^ d ^ (a << 9)) & ((1 << BITS) - 1);
}

export function contextDetector(secrets: string[]): Detector {
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(encodedForms))];
  const longest = needles.reduce((n, s) => Math.max(n, s.length), 0);
  const shortest = needles.reduce((n, s) => Math.min(n, s.length), Infinity);
  // One bit per hash value (8 KiB: it stays in the first-level cache; a gram that shares a bit
  // with a form's is told apart by echoed()).
  const grams = new Int32Array(1 << (BITS - 5));
  // Every two characters in a row in a form (each folded to its low byte: a pair that shares a
  // slot with a form's is only looked at further), so most probes end after two characters.
  const pairs = new Uint8Array(1 << 16);
  for (const f of needles) for (let i = 0; i + 1 < f.length; i++) pairs[((f.charCodeAt(i) & 0xff) << 8) | (f.charCodeAt(i + 1) & 0xff)] = 1;
  // By gram hash: where that gram occurs in the forms, as (form index, offset) pairs.
  const gramAt = new Map<number, number[]>();
  needles.forEach((f, ni) => {
    for (let i = 0; i + Q <= f.length; i++) {
      const h = gramHash(f.charCodeAt(i), f.charCodeAt(i + 1), f.charCodeAt(i + 2), f.charCodeAt(i + 3));
      grams[h >>> 5]! |= 1 << (h & 31);
      let at = gramAt.get(h);
      if (!at) gramAt.set(h, (at = []));
      at.push(ni, i);
    }
  });
  /** Whether a whole form is echoed with its gram at offset `off` starting at text[p0]. */
  const echoed = (text: string, p0: number, h: number): boolean => {
    const at = gramAt.get(h);
    if (!at) return false;
    for (let k = 0; k < at.length; k += 2) if (echoAt(text, p0, needles[at[k]!]!, at[k + 1]!)) return true;
    return false;
  };
  const step = Math.max(1, shortest - Q + 1);
  // Around a probe that hits: the longest echo (a form and as much whitespace) either side.
  const reach = 2 * longest + Q;
  const exact = (text: string): Match[] => findExact(text, needles);
  return {
    kind: 'context',
    // A form plus at most as much whitespace as it has characters (see withinGaps).
    maxMatchLength: 2 * longest,
    find(text: string): Match[] {
      if (needles.length === 0) return [];
      if (shortest < Q) return exact(text);
      const n = text.length;
      const found: Match[] = [];
      let winA = -1;
      let winB = -1;
      const flush = (): void => {
        if (winA < 0) return;
        for (const m of exact(text.slice(winA, winB))) found.push({ ...m, start: m.start + winA, end: m.end + winA });
      };
      const hit = (p: number): void => {
        const from = Math.max(0, p - reach);
        const to = Math.min(n, p + reach);
        if (winA >= 0 && from <= winB) winB = to;
        else {
          flush();
          winA = from;
          winB = to;
        }
      };
      // The probes read the text's bytes when the stream scanner handed them over (see latin1.ts).
      const codes = latin1View(text) ?? charCodes(text);
      for (let p = 0; p < n; p += step) {
        if (p + Q <= n) {
          const a = codes[p]!;
          const b = codes[p + 1]!;
          // Two characters that no form has in a row begin no gram (whatever follows them).
          if ((SPACE[a]! | SPACE[b]!) === 0 && pairs[((a & 0xff) << 8) | (b & 0xff)] === 0) continue;
          // Common case: no whitespace in the Q characters at p.
          const c = codes[p + 2]!;
          const d = codes[p + 3]!;
          if ((SPACE[a]! | SPACE[b]! | SPACE[c]! | SPACE[d]!) === 0) {
            const h = gramHash(a, b, c, d);
            if ((grams[h >>> 5]! & (1 << (h & 31))) === 0) continue;
            if (echoed(text, p, h)) hit(p);
            continue;
          }
        }
        // The next Q non-whitespace characters from p (an echo's gaps are at most MAX_GAP wide).
        let a = -1;
        let b = -1;
        let c = -1;
        let d = -1;
        let p0 = -1;
        for (let i = p, got = 0, gap = 0; i < n && got < Q; i++) {
          const ch = text.charCodeAt(i);
          if (isSpace(ch)) {
            if (++gap > MAX_GAP) break;
            continue;
          }
          gap = 0;
          if (got === 0) {
            a = ch;
            p0 = i;
          } else if (got === 1) {
            b = ch;
            if (pairs[((a & 0xff) << 8) | (b & 0xff)] === 0) break;
          } else if (got === 2) c = ch;
          else d = ch;
          got++;
        }
        if (d < 0) continue;
        const h = gramHash(a, b, c, d);
        if ((grams[h >>> 5]! & (1 << (h & 31))) === 0) continue;
        if (echoed(text, p0, h)) hit(p);
      }
      flush();
      return mergeOverlaps(found);
    },
  };
}

let codeScratch = new Uint16Array(4096);

/** The text's character codes, in a buffer reused from call to call (up to 1 MiB of text). */
function charCodes(text: string): Uint16Array {
  const n = text.length;
  if (codeScratch.length < n && n <= 1 << 20) codeScratch = new Uint16Array(Math.min(1 << 20, Math.max(n, 2 * codeScratch.length)));
  const codes = n <= codeScratch.length ? codeScratch : new Uint16Array(n);
  for (let i = 0; i < n; i++) codes[i] = text.charCodeAt(i);
  return codes;
}

/**
 * Whether `form` is echoed in `text` with its character `off` at `p0`: the characters before and
 * after it in order, whitespace between them as findExact allows it (withinGaps).
 */
function echoAt(text: string, p0: number, form: string, off: number): boolean {
  const n = text.length;
  let ws = 0;
  let i = p0;
  for (let k = off - 1; k >= 0; k--) {
    let gap = 0;
    while (--i >= 0 && SPACE[text.charCodeAt(i)] === 1) if (++gap > MAX_GAP) return false;
    if (i < 0 || text.charCodeAt(i) !== form.charCodeAt(k)) return false;
    ws += gap;
  }
  if (text.charCodeAt(p0) !== form.charCodeAt(off)) return false;
  let j = p0;
  for (let k = off + 1; k < form.length; k++) {
    let gap = 0;
    while (++j < n && SPACE[text.charCodeAt(j)] === 1) if (++gap > MAX_GAP) return false;
    if (j >= n || text.charCodeAt(j) !== form.charCodeAt(k)) return false;
    ws += gap;
  }
  return ws <= form.length;
}

/** The whitespace-tolerant match of every form over the whole of `text`. */
function findExact(text: string, needles: string[]): Match[] {
  const { compact, index } = stripWhitespace(text);
  const found: Match[] = [];
  for (const needle of needles) {
    for (let at = compact.indexOf(needle); at !== -1; at = compact.indexOf(needle, at + 1)) {
      if (!withinGaps(index, at, needle.length)) continue;
      found.push({
        detector: 'context',
        rule: RULE,
        title: TITLE,
        severity: 'critical',
        start: index[at]!,
        end: index[at + needle.length - 1]! + 1,
      });
    }
  }
  return mergeOverlaps(found);
}

/** The text without whitespace, and for each of its characters the index in the original text. */
function stripWhitespace(text: string): { compact: string; index: Int32Array } {
  const index = new Int32Array(text.length);
  let compact = '';
  let n = 0;
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ws = c === 32 || (c >= 9 && c <= 13);
    if (ws) {
      if (i > runStart) compact += text.slice(runStart, i);
      runStart = i + 1;
    } else index[n++] = i;
  }
  if (runStart < text.length) compact += text.slice(runStart);
  return { compact, index };
}

/** Whitespace inside the hit: at most MAX_GAP per gap and, in all, no more than the hit's length. */
function withinGaps(index: Int32Array, at: number, length: number): boolean {
  let total = 0;
  for (let j = at; j < at + length - 1; j++) {
    const gap = index[j + 1]! - index[j]! - 1;
    if (gap > MAX_GAP) return false;
    total += gap;
  }
  return total <= length;
}

function mergeOverlaps(found: Match[]): Match[] {
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Match[] = [];
  for (const m of found) {
    const last = out[out.length - 1];
    if (last && m.start < last.end) last.end = Math.max(last.end, m.end);
    else out.push({ ...m });
  }
  return out;
}
