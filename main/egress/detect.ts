// Runs the detectors over a piece of text, merges what they find, and redacts it.
//
// Merging: matches that overlap are one finding. The finding spans the union of the overlapping
// matches (so every character any detector flagged is redacted) and takes its label from the
// strongest: most severe first, then format over context over entropy, then a vendor rule over a
// generic assignment, then the longest, then the rule listed first in RULES.
//
// Speed (the format detector): one pass over the text with an Aho-Corasick automaton of every
// rule's keywords (case-insensitive) finds where each rule could match; a rule's regex then runs
// only over windows around its keyword hits (the hit ± the rule's maxLength, merged), cut out with
// a margin so the regex's boundary assertions see what they would in the whole text. A rule
// whose windows cover most of the text runs once over all of it. Unbounded rules (PEM blocks) run
// from their first hit to the end of the text. Text without any keyword costs one pass and no regex.
// A rule whose every match starts with one of its keywords (leadHeads) is not run over windows:
// its regex is tried, sticky, at each of those keyword hits only, in order, skipping hits inside
// an earlier match (what a scan of the whole text does). The few rules without a keyword that
// narrows anything run only around the entropy detector's token runs (Rule.tokenRun), which are
// found once per text (findTokenRuns) for both detectors.

import { entropyHoldFor, findHighEntropy, findTokenRuns, MAX_TOKEN, MIN_TOKEN, tokenRunSeparators } from './entropy';
import { GENERIC_REST, literalHead, looksFake, RULES, type Rule } from './rules';
import { contextDetector } from './context';
import { latin1Bytes } from './latin1';
import type { Detector, DetectorKind, Match, Severity } from './types';

/**
 * The longest match any bounded rule can produce (a Bearer header carrying a maximal JWT). A
 * streaming scanner holding back this many characters cannot miss a secret split across chunks,
 * PEM blocks excepted: those are found by their BEGIN line and redacted through their END line.
 */
export const MAX_MATCH_LENGTH = Math.max(MAX_TOKEN, ...RULES.filter((r) => !r.unbounded).map((r) => r.maxLength));

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };
const KIND_RANK: Record<DetectorKind, number> = { format: 3, context: 2, entropy: 1 };

interface Compiled {
  rule: Rule;
  re: RegExp;
  /** The same regex, sticky: tried at one position. */
  sticky: RegExp;
  /** The match starts at the name: re-find the name prefix for `validate` (Rule.scan). */
  namePrefix: boolean;
  /** A generic assignment: tried at a keyword hit only if an operator can follow (assignmentMayFollow). */
  assignment: boolean;
}

function compileRule(rule: Rule): Compiled {
  const pattern = rule.scan?.pattern ?? rule.pattern;
  const flags = new Set(pattern.flags.split(''));
  flags.add('g');
  flags.add('d');
  const source = byteWhitespace(pattern.source);
  const re = new RegExp(source, [...flags].join(''));
  flags.delete('g');
  flags.add('y');
  const head = pattern.source.slice(0, pattern.source.indexOf('(?<='));
  return {
    rule,
    re,
    sticky: new RegExp(source, [...flags].join('')),
    namePrefix: Boolean(rule.scan?.namePrefix),
    // Names of [A-Za-z0-9_.-] only (assignmentMayFollow reads past them), then GENERIC_REST.
    assignment: Boolean(
      rule.generic && rule.scan && pattern.source.includes(GENERIC_REST) && /^\(\?:(?:[A-Za-z0-9|?-]|\\b|\[_\.-\])*\)$/.test(head),
    ),
  };
}

/** [A-Za-z0-9_.-], by character code: what a generic name and the word after it are made of. */
const NAME_CHAR = new Uint8Array(0x10000);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-') NAME_CHAR[c.charCodeAt(0)] = 1;

/**
 * Whether a generic rule (GENERIC_REST after its name) can match at `at`: past the name and the
 * word characters after it, an optional quote and ']', then either at most 3 whitespace
 * characters, an operator ('=', ':', '=>', ':='), at most 3 more and an optional quote before at
 * least 8 value characters; or at most 12 whitespace characters and the '-', 'value' or 'Out[' of
 * a value on the next line. A keyword hit in prose ("token expires in", "/auth/login") or with a
 * short value ("tokens_used=12") fails here without running the rule's regex.
 */
export function assignmentMayFollow(text: string, at: number): boolean {
  const n = text.length;
  let p = at;
  while (p < n && NAME_CHAR[text.charCodeAt(p)] === 1) p++;
  let c = text.charCodeAt(p);
  if (c === 34 || c === 39) c = text.charCodeAt(++p);
  if (c === 93) c = text.charCodeAt(++p);
  let k = 0;
  for (; k < 12 && p < n && SPACE[c] === 1; k++) c = text.charCodeAt(++p);
  if (c === 45 || (c | 32) === 118 || (c | 32) === 111) return true;
  if ((c !== 61 && c !== 58) || k > 3) return false;
  // After a one-character operator, or a two-character one ('=>', ':=').
  const d = text.charCodeAt(p + 1);
  return valueFollows(text, p + 1) || ((d === 62 || d === 61) && valueFollows(text, p + 2));
}

/** At most 3 whitespace characters, an optional quote, then 8 characters of [^\s"'`,;]. */
function valueFollows(text: string, at: number): boolean {
  const n = text.length;
  let p = at;
  for (let k = 0; p < n && SPACE[text.charCodeAt(p)] === 1; k++, p++) if (k === 3) return false;
  const q = text.charCodeAt(p);
  if (q === 34 || q === 39) p++;
  if (p + 8 > n) return false;
  for (let e = p + 8; p < e; p++) if (VALUE_STOP[text.charCodeAt(p)] === 1) return false;
  return true;
}

/** JavaScript's \s but U+00A0, which in a latin1 view of UTF-8 is a byte inside a character (à is C3 A0). */
const SPACE_CHARS = '\\t-\\r \\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** 1 for the characters SPACE_CHARS holds, by code. */
const SPACE = new Uint8Array(0x10000);
for (const [a, b] of [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
])
  SPACE.fill(1, a!, b! + 1);
/** What ends a generic rule's value: whitespace (SPACE), quotes, '`', ',' and ';'. */
const VALUE_STOP = SPACE.slice();
for (const c of '"\'`,;') VALUE_STOP[c.charCodeAt(0)] = 1;

/**
 * A rule's source with `\s` and `\S` made to leave U+00A0 out: the stream scanner hands the rules
 * latin1 views of UTF-8 output, where 0xA0 is the last byte of à, of many CJK characters and of
 * NBSP, so a value holding one must not end there (and `\S` inside a class takes U+00A0 in).
 */
export function byteWhitespace(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const d = source[i + 1];
      i++;
      if (d === 's') out += inClass ? SPACE_CHARS : `[${SPACE_CHARS}]`;
      else if (d === 'S') out += inClass ? '\\S\\u00a0' : `[^${SPACE_CHARS}]`;
      else out += c + (d ?? '');
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    out += c;
  }
  return out;
}

/**
 * The literal starts a match of `source` can have: its leading alternatives (after zero-width
 * assertions), each by its literal head; null when that is not known (an optional group, a class).
 */
export function leadHeads(source: string): string[] | null {
  let s = source;
  for (;;) {
    if (s.startsWith('\\b') || s.startsWith('\\B')) s = s.slice(2);
    else if (s.startsWith('^')) s = s.slice(1);
    else if (/^\(\?<?[=!]/.test(s)) {
      const close = groupEnd(s);
      if (close < 0) return null;
      s = s.slice(close + 1);
    } else break;
  }
  if (s.startsWith('(?:')) {
    const close = groupEnd(s);
    if (close < 0 || '?*+{'.includes(s[close + 1] ?? '')) return null;
    const heads: string[] = [];
    for (const alt of splitTop(s.slice(3, close))) {
      const h = leadHeads(alt + s.slice(close + 1));
      if (!h) return null;
      heads.push(...h);
    }
    return heads;
  }
  const head = literalHead(s);
  return head ? [head] : null;
}

/** Index of the ')' closing the group that opens s[0], or -1. */
function groupEnd(s: string): number {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The top-level alternatives of a group's body. */
function splitTop(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(body.slice(from, i));
      from = i + 1;
    }
  }
  out.push(body.slice(from));
  return out;
}

/** The lookbehind a token rule starts with: not inside a word. */
const WORD_START = '(?<![A-Za-z0-9_])';
/** 1 for [A-Za-z0-9_], by character code. */
const WORD_CHAR = new Uint8Array(0x10000);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_') WORD_CHAR[c.charCodeAt(0)] = 1;

/**
 * The characters a match of `source` can start with, by code (1 = can): its literal head's first
 * character, or a leading class of plain characters and ranges; all of [A-Za-z0-9_] when not known.
 */
function firstChars(source: string, ignoreCase: boolean): Uint8Array {
  const can = new Uint8Array(0x10000);
  const set = (c: number): void => {
    can[c] = 1;
    if (ignoreCase) {
      can[String.fromCharCode(c).toLowerCase().charCodeAt(0)] = 1;
      can[String.fromCharCode(c).toUpperCase().charCodeAt(0)] = 1;
    }
  };
  const head = literalHead(source);
  const cls = /^\[((?:[A-Za-z0-9](?:-[A-Za-z0-9])?)+)\]/.exec(source);
  if (head) set(head.charCodeAt(0));
  else if (cls) {
    for (const [, a, b] of cls[1]!.matchAll(/([A-Za-z0-9])(?:-([A-Za-z0-9]))?/g)) {
      for (let c = a!.charCodeAt(0); c <= (b ?? a!).charCodeAt(0); c++) set(c);
    }
  } else can.set(WORD_CHAR);
  return can;
}

const PREFIX_CHAR = /[A-Za-z0-9_.-]/;
const ALNUM = /[A-Za-z0-9]/;

/** Where a generic rule's whole match starts: the leftmost allowed start of its name prefix. */
function prefixStart(text: string, at: number): number {
  let best = at;
  for (let s = at; s >= Math.max(0, at - 30); s--) {
    if (s < at && !PREFIX_CHAR.test(text[s]!)) break;
    if (s === 0 || !ALNUM.test(text[s - 1]!)) best = s;
  }
  return best;
}

/**
 * Keywords too common in ordinary output to gate anything ('.', '/', 'sk', 'ac'): a rule gated
 * only by these runs over the whole text, which for their regexes (a literal or a narrow class
 * first) is cheaper than tracking every hit. Its keyword is part of its pattern, so nothing changes.
 */
const DENSE = new Set(['.', '/', 'sk', 'ac']);

/**
 * Aho-Corasick over case-folded characters: every keyword of every rule in one pass. States are
 * stored as row offsets (state << SHIFT) so a step is one lookup, and numbered so that the states
 * where a keyword ends come last.
 */
interface KeywordAutomaton {
  /** Character code -> class; 0 for characters in no keyword (and anything above 0xff). */
  cls: Uint8Array;
  /** next[row + class] = next row. */
  next: Int32Array;
  /** Rows from here on are states where a keyword ends. */
  outRow: number;
  /** Per state: first index into `out`, or -1 when no keyword ends here. */
  outAt: Int32Array;
  /** Keyword ids, each list ended by -1. */
  out: Int32Array;
  length: Int32Array;
  /** The longest keyword. */
  longest: number;
  /** Keyword id -> indexes of the rules it gates: gated[gatedAt[id]] up to gatedAt[id + 1]. */
  gatedAt: Int32Array;
  gated: Int32Array;
}

const SHIFT = 6;

export function buildAutomaton(rules: Rule[]): KeywordAutomaton {
  const ids = new Map<string, number>();
  const length: number[] = [];
  const gated: number[][] = [];
  rules.forEach((r, ri) => {
    for (const k0 of r.keywords ?? []) {
      const k = k0.toLowerCase();
      // Keywords outside latin1 never occur in the scanned views (they are never written).
      if (!k || DENSE.has(k) || [...k].some((ch) => ch.charCodeAt(0) > 0xff)) continue;
      let id = ids.get(k);
      if (id === undefined) {
        id = length.length;
        ids.set(k, id);
        length.push(k.length);
        gated.push([]);
      }
      if (!gated[id]!.includes(ri)) gated[id]!.push(ri);
    }
  });
  const cls = new Uint8Array(0x10000);
  let classes = 1;
  for (const k of ids.keys()) {
    for (const ch of k) {
      const c = ch.charCodeAt(0);
      if (cls[c] !== 0) continue;
      cls[c] = classes;
      const up = ch.toUpperCase().charCodeAt(0);
      if (up <= 0xff && up !== c) cls[up] = classes;
      classes++;
    }
  }
  if (classes > 1 << SHIFT) throw new Error(`too many keyword characters (${classes})`);
  const goto: Map<number, number>[] = [new Map()];
  const outs: number[][] = [[]];
  for (const [k, id] of ids) {
    let s = 0;
    for (const ch of k) {
      const c = cls[ch.charCodeAt(0)]!;
      let t = goto[s]!.get(c);
      if (t === undefined) {
        t = goto.length;
        goto.push(new Map());
        outs.push([]);
        goto[s]!.set(c, t);
      }
      s = t;
    }
    outs[s]!.push(id);
  }
  const n = goto.length;
  const W = 1 << SHIFT;
  const to = new Int32Array(n * W);
  const fail = new Int32Array(n);
  const queue: number[] = [];
  for (let c = 0; c < W; c++) {
    const t = goto[0]!.get(c);
    to[c] = t ?? 0;
    if (t !== undefined) queue.push(t);
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q]!;
    const f = fail[s]!;
    for (const o of outs[f]!) if (!outs[s]!.includes(o)) outs[s]!.push(o);
    for (let c = 0; c < W; c++) {
      const t = goto[s]!.get(c);
      if (t === undefined) to[s * W + c] = to[f * W + c]!;
      else {
        fail[t] = to[f * W + c]!;
        to[s * W + c] = t;
        queue.push(t);
      }
    }
  }
  // Renumber: the start state first, states where a keyword ends last, so "a keyword ends here"
  // is one comparison of the row offset with outRow.
  const order = [
    0,
    ...[...Array(n).keys()].filter((x) => x !== 0 && outs[x]!.length === 0),
    ...[...Array(n).keys()].filter((x) => x !== 0 && outs[x]!.length > 0),
  ];
  const id = new Int32Array(n);
  order.forEach((old, i) => (id[old] = i));
  const firstOut = order.findIndex((x) => outs[x]!.length > 0);
  const next = new Int32Array(n * W);
  for (let s = 0; s < n; s++) for (let c = 0; c < W; c++) next[(id[s]! << SHIFT) + c] = id[to[s * W + c]!]! << SHIFT;
  const outAt = new Int32Array(n).fill(-1);
  const out: number[] = [];
  for (let s = 0; s < n; s++) {
    if (outs[s]!.length === 0) continue;
    outAt[id[s]!] = out.length;
    out.push(...outs[s]!, -1);
  }
  const gatedAt = new Int32Array(gated.length + 1);
  gated.forEach((g, i) => (gatedAt[i + 1] = gatedAt[i]! + g.length));
  const outRow = (firstOut < 0 ? n : firstOut) << SHIFT;
  const longest = Math.max(1, ...length);
  const outList = Int32Array.from(out);
  return {
    cls,
    next,
    outRow,
    outAt,
    out: outList,
    length: Int32Array.from(length),
    longest,
    gatedAt,
    gated: Int32Array.from(gated.flat()),
  };
}

/** The automaton's state after walking the L - 1 characters before `at` from the start state. */
function warm(ac: KeywordAutomaton, bytes: Uint8Array, at: number, L: number): number {
  let s = 0;
  for (let i = Math.max(0, at - L + 1); i < at; i++) s = ac.next[s + ac.cls[bytes[i]!]!]!;
  return s;
}

/**
 * Characters of real text kept around a window when it is cut out, so the rule's lookbehinds and
 * lookaheads (a name prefix of up to 30, a URL scheme of up to 21, one boundary character) see
 * what they would in the whole text.
 */
const MARGIN = 64;

const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
const genericRules = new Set(RULES.filter((r) => r.generic).map((r) => r.id));

let defaultCompiled: { compiled: Compiled[]; ac: KeywordAutomaton } | null = null;

export function formatDetector(rules: Rule[] = RULES): Detector {
  // The default rules are compiled once (their regexes are reset before every use).
  const built =
    rules === RULES
      ? (defaultCompiled ??= { compiled: rules.map(compileRule), ac: buildAutomaton(rules) })
      : { compiled: rules.map(compileRule), ac: buildAutomaton(rules) };
  const { compiled, ac } = built;
  const R = rules.length;
  // A rule's window around a keyword hit: from (hit end - maxLength) to (hit start + maxLength),
  // or to the end of the text for unbounded rules.
  const reach = Int32Array.from(rules.map((r) => r.maxLength));
  const unbounded = Uint8Array.from(rules.map((r) => (r.unbounded ? 1 : 0)));
  const gatedRules = new Set(ac.gated);
  const ungated = rules.map((_, i) => i).filter((i) => !gatedRules.has(i));
  const winStart = new Int32Array(R);
  const winEnd = new Int32Array(R);
  const windows: number[][] = rules.map(() => []);
  // For holdFor: per rule, the start of its first keyword hit within maxLength of the end.
  const recentHit = new Int32Array(R);
  // Only for rules whose every keyword the automaton tracks (not the dense ones).
  const tracked = (k: string): boolean => !DENSE.has(k.toLowerCase()) && [...k].every((ch) => ch.charCodeAt(0) <= 0xff);
  const keywordAt = rules.map((r) => (r.keywords?.length && r.keywords.every(tracked) ? r.keywordAt : undefined));
  const longestKeyword = rules.map((r) => Math.max(0, ...(r.keywords ?? []).map((k) => k.length)));
  // Rules whose every match starts with one of their tracked keywords: their regex is tried only
  // at those keyword hits (sticky), in order, as a scan of the whole text would meet them.
  const startsAtKeyword = rules.map((r, ri) => {
    if (!gatedRules.has(ri)) return null;
    const heads = leadHeads((r.scan?.pattern ?? r.pattern).source);
    const kws = (r.keywords ?? []).filter(tracked).map((k) => k.toLowerCase());
    if (!heads || !heads.every((h) => kws.some((k) => h.toLowerCase().startsWith(k)))) return null;
    return compiled[ri]!.sticky;
  });
  const starts: number[][] = rules.map(() => []);
  // Ungated rules that Rule.tokenRun narrows to the token runs the walk finds.
  const runGated = ungated.filter((ri) => (rules[ri]!.tokenRun?.length ?? 0) >= MIN_TOKEN);
  const everywhere = ungated.filter((ri) => !runGated.includes(ri));
  // Run-gated rules whose match starts at its run of token characters and not inside a word.
  // For each: the characters a match can start with (by code, 1 = can), or null.
  const wordStartRule = rules.map((r) => {
    const tr = r.tokenRun;
    const re = r.scan?.pattern ?? r.pattern;
    if (!tr || tr.starts || tr.at[0] !== 0 || tr.at[1] !== 0 || !re.source.startsWith(WORD_START)) return null;
    return firstChars(re.source.slice(WORD_START.length), re.flags.includes('i'));
  });
  const runWindows: number[] = [];
  const minWordNeed = Math.min(MAX_TOKEN, ...rules.filter((_, ri) => wordStartRule[ri]).map((r) => r.tokenRun!.length));
  // The characters any of those rules can start with.
  const anyWordFirst = new Uint8Array(0x10000);
  for (const first of wordStartRule) if (first) for (let c = 0; c < first.length; c++) if (first[c] === 1) anyWordFirst[c] = 1;
  let wordStarts = new Int32Array(256);
  /**
   * Lists (word start, its run's end) for every word start at least `need` before the end of its
   * run that one of the rules can start with: the run's start, and each position after a non-word
   * token character ('-', '/', '+'), which findTokenRuns noted.
   */
  const listWordStarts = (text: string, runs: Int32Array, need: number): number => {
    const { seps, from } = tokenRunSeparators();
    let k = 0;
    const add = (p: number, re: number): void => {
      if (anyWordFirst[text.charCodeAt(p)] === 0) return;
      if (k + 2 > wordStarts.length) {
        const grown = new Int32Array(2 * wordStarts.length);
        grown.set(wordStarts);
        wordStarts = grown;
      }
      wordStarts[k++] = p;
      wordStarts[k++] = re;
    };
    for (let r = 0; r < runs.length; r += 2) {
      const rs = runs[r]!;
      const re = runs[r + 1]!;
      const last = re - need;
      if (rs > last) continue;
      add(rs, re);
      for (let x = from[r >> 1]!, xEnd = from[(r >> 1) + 1]!; x < xEnd && seps[x]! < last; x++) add(seps[x]! + 1, re);
    }
    return k;
  };
  let lastText: string | null = null;
  // Keyword hits of the two walks (end index, state), reused from call to call.
  let hits = new Int32Array(0);
  return {
    kind: 'format',
    maxMatchLength: Math.max(...rules.filter((r) => !r.unbounded).map((r) => r.maxLength)),
    find(text: string): Match[] {
      const n = text.length;
      const out: Match[] = [];
      // Per rule: its merged windows as [start, end, start, end, ...]; `touched` lists the rules hit.
      const touched: number[] = [];
      winStart.fill(-1);
      recentHit.fill(-1);
      lastText = text;
      const { cls, next, outRow, outAt, out: outs, length, gatedAt, gated } = ac;
      // Four walks at once, over the four quarters of the text, each started far enough back to
      // see a keyword ending in its quarter: their lookups do not wait on each other. Each walk's
      // hits (end index, state) go to its own part of `hits`, so they are read in text order.
      // The walks read the text's bytes (see latin1.ts).
      const bytes = latin1Bytes(text);
      const L = ac.longest;
      const q = n >> 2;
      const cap = 2 * (n - 3 * q + L) + 8;
      if (hits.length < 4 * cap) hits = new Int32Array(4 * cap + 64);
      const b1 = q;
      const b2 = 2 * q;
      const b3 = 3 * q;
      // Lanes 1..3 start their walk L - 1 characters before their quarter (hits there are not theirs).
      let s0 = 0;
      let s1 = warm(ac, bytes, b1, L);
      let s2 = warm(ac, bytes, b2, L);
      let s3 = warm(ac, bytes, b3, L);
      let h0 = 0;
      let h1 = cap;
      let h2 = 2 * cap;
      let h3 = 3 * cap;
      for (let i = 0; i < q; i++) {
        s0 = next[s0 + cls[bytes[i]!]!]!;
        s1 = next[s1 + cls[bytes[b1 + i]!]!]!;
        s2 = next[s2 + cls[bytes[b2 + i]!]!]!;
        s3 = next[s3 + cls[bytes[b3 + i]!]!]!;
        if (s0 >= outRow) {
          hits[h0++] = i;
          hits[h0++] = s0;
        }
        if (s1 >= outRow) {
          hits[h1++] = b1 + i;
          hits[h1++] = s1;
        }
        if (s2 >= outRow) {
          hits[h2++] = b2 + i;
          hits[h2++] = s2;
        }
        if (s3 >= outRow) {
          hits[h3++] = b3 + i;
          hits[h3++] = s3;
        }
      }
      for (let j = b3 + q; j < n; j++) {
        s3 = next[s3 + cls[bytes[j]!]!]!;
        if (s3 >= outRow) {
          hits[h3++] = j;
          hits[h3++] = s3;
        }
      }
      const laneEnd = [h0, h1, h2, h3];
      for (let lane = 0; lane < 4; lane++)
        for (let h = lane * cap, hEnd = laneEnd[lane]!; h < hEnd; h += 2) {
          const i = hits[h]!;
          const s = hits[h + 1]!;
          for (let k = outAt[s >> SHIFT]!; outs[k]! >= 0; k++) {
            const kw = outs[k]!;
            const ks = i + 1 - length[kw]!;
            for (let g = gatedAt[kw]!, gEnd = gatedAt[kw + 1]!; g < gEnd; g++) {
              const ri = gated[g]!;
              if (recentHit[ri]! < 0 && ks >= n - reach[ri]!) recentHit[ri] = ks;
              if (startsAtKeyword[ri] !== null) {
                if (winStart[ri]! < 0) {
                  touched.push(ri);
                  winStart[ri] = 0;
                  starts[ri]!.length = 0;
                }
                starts[ri]!.push(ks);
                continue;
              }
              const ws = i + 1 - reach[ri]! > 0 ? i + 1 - reach[ri]! : 0;
              const we = unbounded[ri] === 1 || ks + reach[ri]! > n ? n : ks + reach[ri]!;
              if (winStart[ri]! >= 0 && ws <= winEnd[ri]!) {
                if (we > winEnd[ri]!) winEnd[ri] = we;
              } else {
                if (winStart[ri]! >= 0) windows[ri]!.push(winStart[ri]!, winEnd[ri]!);
                else {
                  touched.push(ri);
                  windows[ri]!.length = 0;
                }
                winStart[ri] = ws;
                winEnd[ri] = we;
              }
            }
          }
        }
      for (const ri of touched) if (startsAtKeyword[ri] === null) windows[ri]!.push(winStart[ri]!, winEnd[ri]!);
      for (const ri of everywhere) scan(compiled[ri]!, text, 0, n, out);
      // Token runs (the entropy detector's, which reuses them for this text).
      const runs = runGated.length ? findTokenRuns(text) : null;
      let wordCount = -1;
      for (const ri of runGated) {
        // Where a match can start: from at[1] before a long enough run to at[0] before its last
        // `length` characters. The text searched runs a match's length past that, so a match is
        // never cut by scan's margin; each window starts past the previous one's last match, as
        // a scan of the whole text would.
        const { length: need, at, starts: runStarts, after } = rules[ri]!.tokenRun!;
        if (runStarts) {
          const cand = starts[ri]!;
          cand.length = 0;
          const afterCode = after === undefined ? -1 : after.charCodeAt(0);
          for (let r = 0; r < runs!.length; r += 2) {
            if (runs![r + 1]! - runs![r]! < need) continue;
            if (afterCode >= 0 && text.charCodeAt(runs![r]! - 1) !== afterCode) continue;
            for (const k of runStarts) if (runs![r]! - k >= 0) cand.push(runs![r]! - k);
          }
          if (cand.length) scanAt(compiled[ri]!, compiled[ri]!.sticky, text, cand, out);
          continue;
        }
        if (wordStartRule[ri]) {
          // The match starts a word inside a long enough run: at the run's start or after one of
          // the run's non-word characters ('-', '/', '+'), at least `length` before its end.
          // The word starts (with their run's end) are listed once per text for all such rules.
          if (wordCount < 0) wordCount = listWordStarts(text, runs!, minWordNeed);
          const cand = starts[ri]!;
          cand.length = 0;
          const first = wordStartRule[ri]!;
          for (let w = 0; w < wordCount; w += 2) {
            const p = wordStarts[w]!;
            if (p <= wordStarts[w + 1]! - need && first[text.charCodeAt(p)] === 1) cand.push(p);
          }
          if (cand.length) scanAt(compiled[ri]!, compiled[ri]!.sticky, text, cand, out);
          continue;
        }
        runWindows.length = 0;
        let covered = 0;
        for (let r = 0; r < runs!.length; r += 2) {
          const rs = runs![r]!;
          const re = runs![r + 1]!;
          if (re - rs < need) continue;
          const from = rs - at[1] > 0 ? rs - at[1] : 0;
          const to = re - need - at[0];
          if (to < from) continue;
          const w = runWindows.length;
          if (w > 0 && from <= runWindows[w - 1]! + 1) {
            if (to > runWindows[w - 1]!) {
              covered += to - runWindows[w - 1]!;
              runWindows[w - 1] = to;
            }
          } else {
            runWindows.push(from, to);
            covered += to - from + 1;
          }
        }
        if (covered * 2 >= n) scan(compiled[ri]!, text, 0, n, out);
        else {
          let last = 0;
          for (let w = 0; w < runWindows.length; w += 2) {
            const from = runWindows[w]! > last ? runWindows[w]! : last;
            if (from <= runWindows[w + 1]!) last = scan(compiled[ri]!, text, from, runWindows[w + 1]!, out, reach[ri]!);
          }
        }
      }
      touched.sort((x, y) => x - y);
      for (const ri of touched) {
        const sticky = startsAtKeyword[ri];
        if (sticky) {
          scanAt(compiled[ri]!, sticky, text, starts[ri]!, out);
          continue;
        }
        const w = windows[ri]!;
        let covered = 0;
        for (let j = 0; j < w.length; j += 2) covered += w[j + 1]! - w[j]!;
        if (covered * 2 >= n) {
          scan(compiled[ri]!, text, 0, n, out);
          continue;
        }
        for (let j = 0; j < w.length; j += 2) scan(compiled[ri]!, text, w[j]!, w[j + 1]!, out);
      }
      return out;
    },
    holdFor(text: string): number {
      if (text !== lastText) this.find(text);
      const n = text.length;
      let hold = 0;
      for (let ri = 0; ri < R; ri++) {
        const r = rules[ri]!;
        const at = keywordAt[ri];
        if (r.unbounded) {
          // A block (PGP, a key in JSON) seen begun near the end is held from its start; the
          // stream scanner caps this at holdBytes.
          const h = at === undefined ? r.maxLength : recentHit[ri]! >= 0 ? n - recentHit[ri]! + at : at + longestKeyword[ri]!;
          if (h > hold) hold = h;
          continue;
        }
        // A match still open at the end began within maxLength; with its keyword inside, at most
        // keywordAt before the keyword, which is either seen (recentHit) or not complete yet.
        let h = r.maxLength;
        if (at !== undefined) {
          h = Math.min(h, at + longestKeyword[ri]!);
          if (recentHit[ri]! >= 0) h = Math.max(h, Math.min(r.maxLength, n - recentHit[ri]! + at));
        }
        if (h > hold) hold = h;
      }
      return Math.min(hold, n);
    },
  };
}

/**
 * Runs one rule over its window text[from, to]: the matches that start in it (those holding one
 * of its keyword hits do), searched in the window with MARGIN characters of text either side.
 */
function scan({ rule, re, namePrefix }: Compiled, text: string, from: number, to: number, out: Match[], extra = 0): number {
  const n = text.length;
  const a = Math.max(0, from - MARGIN);
  const b = Math.min(n, to + MARGIN + extra);
  let last = from;
  const t = a === 0 && b === n ? text : text.slice(a, b);
  re.lastIndex = from - a;
  const g = rule.secretGroup ?? 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    if (m[0].length === 0) re.lastIndex++;
    // Past the window; or cut by the margin's end, where the rule's boundary is not known.
    if (m.index + a > to || (b < n && m.index + m[0].length >= t.length)) break;
    last = m.index + a + m[0].length;
    const span = m.indices?.[g];
    const secret = m[g];
    if (!span || secret === undefined) continue;
    if (looksFake(secret, rule.allowRepeats)) continue;
    if (rule.validate) {
      const whole = namePrefix ? t.slice(prefixStart(t, m.index), m.index + m[0].length) : m[0];
      if (!rule.validate(secret, whole)) continue;
    }
    out.push({
      detector: 'format',
      rule: rule.id,
      title: rule.title,
      severity: rule.severity,
      start: span[0] + a,
      end: span[1] + a,
    });
  }
  return last;
}

/**
 * Runs one rule at each of its keyword hits (`at`, starts in the order found), as a scan of the
 * whole text would: in increasing order, none inside an earlier match.
 */
function scanAt({ rule, namePrefix, assignment }: Compiled, re: RegExp, text: string, at: number[], out: Match[]): void {
  // Hits come in order of their end: starts are out of order only where keywords of different
  // lengths end close together.
  for (let h = 1; h < at.length; h++) {
    if (at[h]! < at[h - 1]!) {
      at.sort((x, y) => x - y);
      break;
    }
  }
  const g = rule.secretGroup ?? 0;
  let next = 0;
  for (let h = 0; h < at.length; h++) {
    const s = at[h]!;
    if (s < next) continue;
    if (assignment && !assignmentMayFollow(text, s)) {
      next = s + 1;
      continue;
    }
    re.lastIndex = s;
    const m = re.exec(text);
    if (!m) {
      next = s + 1;
      continue;
    }
    next = m[0].length === 0 ? s + 1 : s + m[0].length;
    const span = m.indices?.[g];
    const secret = m[g];
    if (!span || secret === undefined) continue;
    if (looksFake(secret, rule.allowRepeats)) continue;
    if (rule.validate) {
      const whole = namePrefix ? text.slice(prefixStart(text, s), s + m[0].length) : m[0];
      if (!rule.validate(secret, whole)) continue;
    }
    out.push({ detector: 'format', rule: rule.id, title: rule.title, severity: rule.severity, start: span[0], end: span[1] });
  }
}

export function entropyDetector(): Detector {
  return {
    kind: 'entropy',
    maxMatchLength: MAX_TOKEN,
    holdFor: entropyHoldFor,
    find(text: string): Match[] {
      return findHighEntropy(text).map((h) => ({
        detector: 'entropy',
        rule: 'entropy',
        title: 'High-entropy string',
        severity: h.severity,
        start: h.start,
        end: h.end,
      }));
    },
  };
}

/** The egress filter's detectors: format rules, high-entropy tokens, and echoes of the run's own secrets. */
export function defaultDetectors(secrets: string[] = []): Detector[] {
  const ds = [formatDetector(), entropyDetector()];
  if (secrets.length) ds.push(contextDetector(secrets));
  return ds;
}

/** Positive when `a` should label a merged finding over `b`. */
function stronger(a: Match, b: Match): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    KIND_RANK[a.detector] - KIND_RANK[b.detector] ||
    Number(genericRules.has(b.rule)) - Number(genericRules.has(a.rule)) ||
    a.end - a.start - (b.end - b.start) ||
    (ruleIndex.get(b.rule) ?? Infinity) - (ruleIndex.get(a.rule) ?? Infinity)
  );
}

/** Every detector's matches, overlaps merged, sorted by start. */
export function detectAll(text: string, detectors: Detector[]): Match[] {
  const all: Match[] = [];
  for (const d of detectors) for (const m of d.find(text)) if (m.end > m.start) all.push(m);
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Match[] = [];
  for (const m of all) {
    const last = merged[merged.length - 1];
    if (last && m.start < last.end) {
      const label = stronger(m, last) > 0 ? m : last;
      merged[merged.length - 1] = { ...label, start: last.start, end: Math.max(last.end, m.end) };
    } else {
      merged.push({ ...m });
    }
  }
  return merged;
}

/** `text` with each match replaced by `[REDACTED:<rule>]`. Matches must not overlap (detectAll's output). */
export function redact(text: string, matches: Match[]): string {
  const sorted = [...matches].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const m of sorted) {
    if (m.start < at) continue;
    out += text.slice(at, m.start) + `[REDACTED:${m.rule}]`;
    at = m.end;
  }
  return out + text.slice(at);
}
