// The egress filter on a run's output streams: what a sandbox prints is scanned as it arrives and
// released redacted. A secret can be cut anywhere by chunking, so the end of each stream is held
// back until it can no longer be the start of a secret:
//
// - Holdback: `holdBytes` = the longest match any detector can report (Detector.maxMatchLength,
//   the detectors' MAX_MATCH_LENGTH: 2750 for the format rules, a Bearer header), plus one,
//   rounded up to whole KiB (3 KiB). Released output lags what was pushed by at most that many
//   bytes; the one exception is an open PEM private key block, held from its BEGIN line until its
//   END line or PEM_HOLD_LIMIT (16 KiB), then redacted whole. The bound counts bytes for matches
//   of ASCII characters, which every rule matches. Once a window is scanned, less is held: only
//   what could still begin a match (see Scanning), usually a few hundred bytes.
// - Delay: held bytes wait at most `maxHoldMs` (30 ms): the caller runs a timer on `nextDueAt()`
//   and calls `flushDue(now)`. A secret cut by such a release is still found (the released tail
//   is kept as context and scanned with what follows) and alerted; only its released part cannot
//   be redacted. An open PEM block is not released by time, only by size or the end of stream.
// - Bytes: output is scanned as bytes: the detectors get each window's latin1 view (a one-byte
//   string, character i = byte i), so offsets are byte offsets, nothing is decoded, and invalid
//   UTF-8 costs nothing. Every rule, keyword and token class is ASCII, so ASCII secrets are found
//   exactly as in decoded text; a non-ASCII character is seen as its bytes (a value holding one is
//   still matched by the rules' "anything but a delimiter" classes; the context detector looks for
//   a secret's UTF-8 bytes too), and only a preview is decoded. Redaction replaces only matched
//   bytes. A chunk that is not text (NULs or many invalid sequences) is scanned and alerted on,
//   but released unchanged: rewriting binary output would corrupt it.
// - Scanning: a push is only appended while less than `holdBytes` is held; once that much is held
//   the window (a little released context, then the held bytes) is scanned and released down to
//   what could still begin a match: each detector says how much (Detector.holdFor: for the format
//   rules, from a keyword seen near the end, else the longest prefix a rule can have before its
//   keyword, about 250 characters; for the entropy detector, an open token run), else its
//   maxMatchLength; plus one, at least a PEM BEGIN line. So each byte is scanned about once, a
//   little more for small pushes (holdBytes / (holdBytes - held)).
// - Memory per stream: the held bytes, a little released context, and the chunk being pushed, in
//   one buffer reused from push to push.
// A finding carries where the secret was and a masked preview, never the secret.
import { isUtf8 } from 'node:buffer';
import { detectAll } from './detect';
import { MAX_TOKEN, TOKEN_CHAR } from './entropy';
import { withLatin1View } from './latin1';
import { pemHasBody } from './rules';
import { maskPreview, type Detector, type DetectorKind, type Match, type Severity } from './types';

export type StreamName = 'stdout' | 'stderr';

/** redact: release output with secrets replaced; block: release nothing; stop: redact, and call onCritical once. */
export type EgressPolicy = 'redact' | 'block' | 'stop';

export interface Finding {
  stream: StreamName;
  rule: string;
  title: string;
  detector: DetectorKind;
  severity: Severity;
  /** Absolute byte offset in that stream. */
  offset: number;
  /** Length in bytes. */
  length: number;
  preview: string;
  /** Found in output judged binary: alerted but not redacted. */
  binary: boolean;
}

export interface Released {
  stream: StreamName;
  data: Buffer;
}

export interface StreamScannerOptions {
  detectors: Detector[];
  policy?: EgressPolicy;
  maxHoldMs?: number;
  onFinding?: (f: Finding) => void;
  onCritical?: (f: Finding) => void;
  /** Milliseconds, for the arrival time of pushed bytes; Date.now by default. */
  clock?: () => number;
}

export const DEFAULT_MAX_HOLD_MS = 30;
export const PEM_HOLD_LIMIT = 16 * 1024;
/** Already released bytes kept before the held ones, so a match's left boundary is judged right. */
const LEFT_CONTEXT = 64;
/** Kept before a token run at the start of the context: what the entropy detector reads before a token. */
const TOKEN_LEFT = 48;
/** Held at least this much after a scan, so a PEM BEGIN line is never released in part. */
const PEM_LINE = 64;

const PEM_BEGIN = /-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----/g;
const PEM_END = /-----END[A-Z0-9 ]*PRIVATE KEY-----/g;

export function holdBytesFor(detectors: Detector[]): number {
  const longest = detectors.reduce((n, d) => Math.max(n, d.maxMatchLength), 0);
  return Math.ceil((longest + 1) / 1024) * 1024;
}

interface Lane {
  name: StreamName;
  /** Released context, then held bytes: store[0, len). */
  store: Buffer;
  len: number;
  /** How many bytes at the start of buf were already released. */
  ctxLen: number;
  /** Absolute stream offset of buf[0]. */
  base: number;
  /** End offset and arrival time of each push whose bytes are still held. */
  arrivals: { end: number; t: number }[];
  /** Absolute ranges of chunks judged binary, pruned as they leave buf. */
  binary: [number, number][];
  /** Absolute end of what was reported: a match ending at or before it was already reported. */
  reportedTo: number;
  /** Absolute offset of an open PEM block's BEGIN, or -1. */
  pemAt: number;
  /** len when the lane was last scanned. */
  scannedLen: number;
}

interface ByteMatch {
  start: number;
  end: number;
  m: Match;
}

export class StreamScanner {
  readonly holdBytes: number;
  readonly maxHoldMs: number;
  readonly policy: EgressPolicy;
  private readonly detectors: Detector[];
  private readonly opts: StreamScannerOptions;
  private readonly clock: () => number;
  private readonly lanes: Record<StreamName, Lane>;
  private stopped = false;

  constructor(opts: StreamScannerOptions) {
    this.opts = opts;
    this.detectors = opts.detectors;
    this.holdBytes = holdBytesFor(opts.detectors);
    this.maxHoldMs = opts.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
    this.policy = opts.policy ?? 'redact';
    this.clock = opts.clock ?? Date.now;
    const lane = (name: StreamName): Lane => ({
      name,
      store: Buffer.alloc(0),
      len: 0,
      ctxLen: 0,
      base: 0,
      arrivals: [],
      binary: [],
      reportedTo: 0,
      pemAt: -1,
      scannedLen: 0,
    });
    this.lanes = { stdout: lane('stdout'), stderr: lane('stderr') };
  }

  /** Scans a chunk; returns what may be released now (redacted), nothing or one piece. */
  push(stream: StreamName, chunk: Buffer): Released[] {
    if (chunk.length === 0) return [];
    const lane = this.lanes[stream];
    const start = lane.base + lane.len;
    if (looksBinary(chunk)) lane.binary.push([start, start + chunk.length]);
    lane.arrivals.push({ end: start + chunk.length, t: this.clock() });
    append(lane, chunk);
    // Nothing has to be released before holdBytes are held (the timer releases earlier).
    if (lane.len - lane.ctxLen < this.holdBytes) return [];
    // An open PEM block is held whole: it is scanned again once an END line may be complete, it
    // reached PEM_HOLD_LIMIT, or another holdBytes arrived (not on every small push).
    if (lane.pemAt >= 0 && lane.len - lane.scannedLen < this.holdBytes && lane.base + lane.len - lane.pemAt < PEM_HOLD_LIMIT) {
      const held = lane.store.subarray(0, lane.len);
      const end = held.indexOf('-----END', Math.max(0, lane.scannedLen - PEM_LINE));
      if (end === -1 || held.indexOf('KEY-----', end) === -1) return [];
    }
    return this.process(lane, 'push');
  }

  /** Releases held bytes that have waited maxHoldMs or more (an open PEM block stays held). */
  flushDue(now: number = this.clock()): Released[] {
    const out: Released[] = [];
    for (const lane of Object.values(this.lanes)) {
      const due = this.dueAt(lane);
      if (due !== null && due <= now) out.push(...this.process(lane, 'due'));
    }
    return out;
  }

  /** When flushDue next has something to release, or null when nothing is held (or only an open PEM block). */
  nextDueAt(): number | null {
    const dues = Object.values(this.lanes)
      .map((l) => this.dueAt(l))
      .filter((d): d is number => d !== null);
    return dues.length ? Math.min(...dues) : null;
  }

  /** End of stream(s): releases everything held, an unterminated PEM block redacted to the end. */
  flush(stream?: StreamName): Released[] {
    const names: StreamName[] = stream ? [stream] : ['stdout', 'stderr'];
    return names.flatMap((n) => this.process(this.lanes[n], 'end'));
  }

  /** Absolute offset below which no finding can be reported any more (for callers mapping offsets). */
  windowStart(stream: StreamName): number {
    return this.lanes[stream].base;
  }

  private dueAt(lane: Lane): number | null {
    const first = lane.arrivals[0];
    if (!first || lane.len === lane.ctxLen) return null;
    if (lane.pemAt >= 0 && lane.pemAt <= lane.base + lane.ctxLen) return null;
    return first.t + this.maxHoldMs;
  }

  private process(lane: Lane, why: 'push' | 'due' | 'end'): Released[] {
    const { ctxLen, base } = lane;
    const buf = lane.store.subarray(0, lane.len);
    const W = buf.length;
    if (W === ctxLen) return [];
    lane.binary = lane.binary.filter(([, e]) => e > base);
    // The bytes as a one-byte string, character i = byte i (see Bytes above).
    const text = buf.toString('latin1');
    const byteAt = (i: number): number => i;

    const found: ByteMatch[] = [];
    // Overlapping matches of several detectors are one finding (detectAll merges them).
    for (const m of withLatin1View(text, buf, () => detectAll(text, this.detectors))) {
      const start = byteAt(m.start);
      const end = byteAt(m.end);
      if (end > ctxLen && end > start) found.push({ start, end, m });
    }
    // An open PEM block: hold from BEGIN until END, or redact what is held at the bound / the end.
    let pemHold = -1;
    // Most windows hold no BEGIN line: a native search says so before the regex runs ("BEGIN":
    // searching for the dashes is slower in output full of them).
    PEM_BEGIN.lastIndex = text.indexOf('BEGIN') === -1 ? text.length : 0;
    for (let b = PEM_BEGIN.exec(text); b; b = PEM_BEGIN.exec(text)) {
      const bStart = byteAt(b.index);
      if (bStart < ctxLen) continue;
      PEM_END.lastIndex = PEM_BEGIN.lastIndex;
      const e = PEM_END.exec(text);
      const pem = (end: number): ByteMatch => ({
        start: bStart,
        end: byteAt(end),
        m: { detector: 'format', rule: 'private-key', title: 'Private key (PEM)', severity: 'critical', start: b.index, end },
      });
      if (e) {
        // A block without key material ("...", a placeholder) is documentation, not a key.
        if (pemHasBody(text.slice(b.index, e.index + e[0].length))) found.push(pem(e.index + e[0].length));
        PEM_BEGIN.lastIndex = e.index + e[0].length;
        continue;
      }
      if (why === 'end' || W - bStart >= PEM_HOLD_LIMIT) {
        if (pemHasBody(text.slice(b.index))) found.push(pem(text.length));
      } else pemHold = bStart;
      break;
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);

    let R: number;
    if (why === 'push') {
      // Hold back what could still begin a match (each detector's holdFor, else its longest match),
      // plus one, and at least a PEM BEGIN line; never more than holdBytes.
      let tail = 0;
      withLatin1View(text, buf, () => {
        for (const d of this.detectors) tail = Math.max(tail, d.holdFor ? d.holdFor(text) : d.maxMatchLength);
      });
      const keep = Math.min(this.holdBytes, Math.max(PEM_LINE, W - byteAt(Math.max(0, text.length - tail - 1))));
      R = Math.max(ctxLen, W - keep);
      // A match starting before the release point is complete (it is shorter than the holdback):
      // release it whole, redacted, rather than hold part of it.
      for (const f of found) if (f.start < R) R = Math.max(R, f.end);
    } else R = W;
    if (pemHold >= 0) R = Math.min(R, pemHold);
    lane.pemAt = pemHold >= 0 ? base + pemHold : -1;

    const released = found.filter((f) => f.start < R);
    const isBinary = (f: ByteMatch): boolean => lane.binary.some(([s, e]) => s < base + f.end && e > base + f.start);
    let reportedTo = lane.reportedTo;
    for (const f of released) {
      // Reported already, unless it runs past what was: a secret cut by a timed release, found
      // again whole with what followed, is alerted (its first part may have matched on its own).
      if (base + f.end <= lane.reportedTo) continue;
      // A timed release cuts whatever is open at the end: a token there (a digest cut short looks
      // random) is redacted but judged, and alerted, only once it is seen whole with what follows.
      if (why === 'due' && f.m.detector === 'entropy' && f.end >= W) continue;
      reportedTo = Math.max(reportedTo, base + f.end);
      this.report(lane, f, buf, isBinary(f));
    }
    lane.reportedTo = reportedTo;

    const out =
      R > ctxLen
        ? redactBytes(
            buf,
            ctxLen,
            R,
            released.filter((f) => !isBinary(f)),
          )
        : null;

    // Keep left context, then the held bytes, at the front of the lane's buffer. After a push
    // every match starting before R was complete and reported; after a timed release (or at the
    // end) one may have been cut, so more context is kept for it to be found with what follows.
    const keep = why === 'push' ? LEFT_CONTEXT : Math.max(LEFT_CONTEXT, this.holdBytes - (W - R));
    let from = Math.max(0, R - keep);
    // A token run cut by the start of the kept context would be judged short next time (a tail of
    // a payload, of a 128-character digest, as a token of its own): keep all of it, or enough of it
    // (MAX_TOKEN + 1) for the entropy detector to see it as too long to be a key.
    // The text just before a token says whether it is a payload ("data": "…): keep that too.
    for (const stop = Math.max(0, from - MAX_TOKEN - 1); from > stop && TOKEN_CHAR[buf[from - 1]!] !== 0;) from--;
    from = Math.max(0, from - TOKEN_LEFT);
    lane.store.copyWithin(0, from, W);
    lane.len = W - from;
    if (lane.store.length > 4 * Math.max(lane.len, 64 * 1024)) lane.store = Buffer.from(lane.store.subarray(0, lane.len));
    lane.base = base + from;
    lane.ctxLen = R - from;
    lane.scannedLen = lane.len;
    const releasedTo = base + R;
    while (lane.arrivals.length && lane.arrivals[0]!.end <= releasedTo) lane.arrivals.shift();
    if (!out || out.length === 0 || this.policy === 'block') return [];
    return [{ stream: lane.name, data: out }];
  }

  private report(lane: Lane, f: ByteMatch, buf: Buffer, binary: boolean): void {
    const finding: Finding = {
      stream: lane.name,
      rule: f.m.rule,
      title: f.m.title,
      detector: f.m.detector,
      severity: f.m.severity,
      offset: lane.base + f.start,
      length: f.end - f.start,
      // Decoded for the preview only (a secret with non-ASCII characters is masked by character).
      preview: maskPreview(buf.toString('utf8', f.start, f.end)),
      binary,
    };
    this.opts.onFinding?.(finding);
    if (this.policy === 'stop' && finding.severity === 'critical' && !this.stopped) {
      this.stopped = true;
      this.opts.onCritical?.(finding);
    }
  }
}

/** Appends a chunk to the lane's buffer, growing it by doubling. */
function append(lane: Lane, chunk: Buffer): void {
  const need = lane.len + chunk.length;
  if (need > lane.store.length) {
    const grown = Buffer.allocUnsafe(Math.max(need, 2 * lane.store.length, 4096));
    lane.store.copy(grown, 0, 0, lane.len);
    lane.store = grown;
  }
  chunk.copy(lane.store, lane.len);
  lane.len = need;
}

/** Released bytes [from, to) with matched ranges replaced by `[REDACTED:<rule>]` (overlaps merged). */
function redactBytes(buf: Buffer, from: number, to: number, matches: ByteMatch[]): Buffer {
  const parts: Buffer[] = [];
  let at = from;
  for (const f of matches) {
    const s = Math.max(f.start, at);
    const e = Math.min(f.end, to);
    if (e <= s) continue;
    parts.push(buf.subarray(at, s), Buffer.from(`[REDACTED:${f.m.rule}]`));
    at = e;
  }
  parts.push(buf.subarray(at, to));
  // Always a copy: `buf` is the lane's buffer, reused by the next push.
  return Buffer.concat(parts);
}

/** Binary: any NUL, or more invalid UTF-8 than a chunk cut mid-character at both ends explains. */
function looksBinary(chunk: Buffer): boolean {
  if (chunk.indexOf(0) !== -1) return true;
  if (isUtf8(chunk)) return false;
  const text = chunk.toString('utf8');
  let invalid = 0;
  for (let at = text.indexOf('\ufffd'); at !== -1; at = text.indexOf('\ufffd', at + 1)) invalid++;
  return invalid > Math.max(6, chunk.length / 100);
}
