// The egress scanner's fast paths against plain references: keyword windows against every gated
// regex over the whole text, the entropy detector's probing against a regex run finder, the
// context detector's probes against a brute-force whitespace-tolerant search, the stream
// scanner's UTF-8 view against byte offsets, and how often each byte is scanned.
//   node --import tsx --test test/egress-fast.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contextDetector, encodedForms, MIN_SECRET_LENGTH } from '../main/egress/context';
import { defaultDetectors, detectAll, entropyDetector, formatDetector, redact } from '../main/egress/detect';
import { findHighEntropy, findTokenRuns } from '../main/egress/entropy';
import { looksFake, RULES } from '../main/egress/rules';
import { StreamScanner, type Finding, type Released } from '../main/egress/stream';
import type { Detector, Match } from '../main/egress/types';
import { AN, B64, DIG, Fake, HEX, URL64 } from './fixtures/egress/fake';
import { SAMPLES } from './fixtures/egress/samples';

const rows = readFileSync(new URL('./fixtures/egress/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { kind: string; text: string });
const corpus = rows.map((r) => r.text);
const benign = rows.filter((r) => r.kind === 'benign').map((r) => r.text);

/** Corpus lines and every rule's samples, shuffled into texts of about `size` characters. */
function longTexts(seed: number, size: number): string[] {
  const f = new Fake(seed);
  const lines = [...corpus];
  for (const r of RULES) {
    const s = SAMPLES[r.id]!(f);
    lines.push(...s.pos, ...s.neg);
  }
  for (let i = lines.length - 1; i > 0; i--) {
    const j = f.int(i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  const out: string[] = [];
  let cur = '';
  for (const l of lines) {
    cur += l + f.pick(['\n', '\n', ' ', '\r\n', '\t']);
    if (cur.length >= size) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** The format rules as they were run before keyword windows: each gated regex over the whole text. */
function wholeTextFormat(text: string): Match[] {
  const lower = text.toLowerCase();
  const out: Match[] = [];
  for (const rule of RULES) {
    if (rule.keywords?.length && !rule.keywords.some((k) => lower.includes(k))) continue;
    const re = new RegExp(rule.pattern.source, rule.pattern.flags.includes('d') ? rule.pattern.flags : rule.pattern.flags + 'd');
    for (const m of text.matchAll(re)) {
      const g = rule.secretGroup ?? 0;
      const span = m.indices?.[g];
      const secret = m[g];
      if (!span || secret === undefined || looksFake(secret, rule.allowRepeats)) continue;
      if (rule.validate && !rule.validate(secret, m[0])) continue;
      out.push({ detector: 'format', rule: rule.id, title: rule.title, severity: rule.severity, start: span[0], end: span[1] });
    }
  }
  return out;
}

const key = (ms: Match[]): string[] => ms.map((m) => `${m.rule}@${m.start}-${m.end}`).sort();

/**
 * The format rules as the detector defines them: each gated rule's scan form (Rule.scan, else its
 * pattern) over the whole text, the name prefix re-found for `validate`.
 */
function wholeTextScan(text: string): Match[] {
  const lower = text.toLowerCase();
  const out: Match[] = [];
  const prefixStart = (at: number): number => {
    let best = at;
    for (let s = at; s >= Math.max(0, at - 30); s--) {
      if (s < at && !/[A-Za-z0-9_.-]/.test(text[s]!)) break;
      if (s === 0 || !/[A-Za-z0-9]/.test(text[s - 1]!)) best = s;
    }
    return best;
  };
  for (const rule of RULES) {
    if (rule.keywords?.length && !rule.keywords.some((k) => lower.includes(k))) continue;
    const p = rule.scan?.pattern ?? rule.pattern;
    const re = new RegExp(p.source, p.flags.includes('d') ? p.flags : p.flags + 'd');
    for (const m of text.matchAll(re)) {
      const g = rule.secretGroup ?? 0;
      const span = m.indices?.[g];
      const secret = m[g];
      if (!span || secret === undefined || looksFake(secret, rule.allowRepeats)) continue;
      const whole = rule.scan?.namePrefix ? text.slice(prefixStart(m.index), m.index + m[0].length) : m[0];
      if (rule.validate && !rule.validate(secret, whole)) continue;
      out.push({ detector: 'format', rule: rule.id, title: rule.title, severity: rule.severity, start: span[0], end: span[1] });
    }
  }
  return out;
}

test('keyword windows find what every gated regex finds over the whole text (corpus and samples, 4 KiB and 64 KiB texts)', () => {
  const fmt = formatDetector();
  let matches = 0;
  for (const size of [4096, 65536]) {
    for (const text of longTexts(size, size)) {
      const want = key(wholeTextFormat(text));
      matches += want.length;
      assert.deepEqual(key(fmt.find(text)), want);
    }
  }
  assert.ok(matches > 500, `positive control: ${matches} matches`);
});

test('entropy probing finds every token run the regex run finder sees, at any offset and length', () => {
  const f = new Fake(21);
  const noise = ['', ' ', '\n', '. ', ' = ', '"', ' a b ', ' short_word ', ' /x/ ', '::'];
  for (let round = 0; round < 40; round++) {
    let text = f.s('xyz .', f.int(40));
    const tokens: [number, number][] = [];
    for (let i = 0; i < 30; i++) {
      // Mixed case with digits and few words: mostly hits when seen whole.
      const len = f.int(2) ? 20 + f.int(3) : 20 + f.int(200);
      let tok = '';
      while (tok.length < len) tok += f.s(AN, 1);
      if (!/[A-Z]/.test(tok) || !/[a-z]/.test(tok) || (tok.match(/[0-9]/g) ?? []).length < 2 || /[a-z]{3}/.test(tok)) {
        tok = `Q7x${tok.slice(3)}`.replace(/([a-z]{2})[a-z]/g, '$19');
      }
      text += f.pick(noise);
      tokens.push([text.length, text.length + tok.length]);
      text += tok;
    }
    text += f.pick(noise);
    const runs = [...text.matchAll(/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,3}/g)].map((m) => `${m.index}-${m.index + m[0].length}`);
    const hits = findHighEntropy(text).map((h) => `${h.start}-${h.end}`);
    // Every hit is a whole run (nothing else in this text is a token) and every planted run is hit.
    for (const h of hits) assert.ok(runs.includes(h), `hit ${h} is not a run`);
    for (const [a, b] of tokens) {
      if (!runs.includes(`${a}-${b}`)) continue;
      // The verdict on the token seen alone: probing must not change it.
      const alone = findHighEntropy(` ${text.slice(a, b)} `).length > 0;
      assert.equal(hits.includes(`${a}-${b}`), alone, `run ${a}-${b}: ${text.slice(a, b)}`);
    }
    assert.ok(hits.length >= 20, `positive control: ${hits.length} hits`);
  }
});

/** The context detector's whitespace-tolerant search, by brute force over every start. */
function bruteContext(text: string, secrets: string[]): [number, number][] {
  const forms = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(encodedForms))];
  const ws = (c: string): boolean => /[\t-\r ]/.test(c);
  const found: [number, number][] = [];
  for (const form of forms) {
    for (let s = 0; s < text.length; s++) {
      if (text[s] !== form[0]) continue;
      let i = s;
      let total = 0;
      let ok = true;
      for (let k = 1; k < form.length && ok; k++) {
        let gap = 0;
        i++;
        while (i < text.length && ws(text[i]!)) {
          gap++;
          i++;
        }
        total += gap;
        ok = gap <= 4 && text[i] === form[k];
      }
      if (ok && total <= form.length) found.push([s, i + 1]);
    }
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const m of found) {
    const last = merged[merged.length - 1];
    if (last && m[0] < last[1]) last[1] = Math.max(last[1], m[1]);
    else merged.push([...m]);
  }
  return merged;
}

test('context probes find every echo the brute-force search finds, whitespace anywhere in it', () => {
  const f = new Fake(22);
  const secrets = ['mo4t-run-s3cret-Vq9XzL2pT7', 'db-pass:Hx7!kQ2@zW9#', 'hunter22'];
  const d = contextDetector(secrets);
  const filler = corpus.slice(0, 200).join('\n');
  let hits = 0;
  for (let round = 0; round < 60; round++) {
    const s = f.pick(secrets);
    const pre = 'q'.repeat(f.int(3));
    let form = f.pick([
      s,
      Buffer.from(`${pre}${s}tail`).toString('base64'),
      Buffer.from(`${pre}${s}tail`).toString('base64url'),
      Buffer.from(s).toString('hex'),
      encodeURIComponent(s),
    ]);
    for (let k = f.int(6); k > 0; k--) {
      const at = 1 + f.int(form.length - 1);
      form = form.slice(0, at) + f.pick([' ', '\n', '\r\n  ', '\t', '    ', '     ']) + form.slice(at);
    }
    const at = f.int(filler.length - 2000);
    const text = `${filler.slice(at, at + f.int(1500))}${form}${filler.slice(at, at + f.int(1500))}`;
    const want = bruteContext(text, secrets);
    hits += want.length;
    assert.deepEqual(
      d.find(text).map((m) => [m.start, m.end]),
      want,
      JSON.stringify(form),
    );
  }
  assert.ok(hits >= 30, `positive control: ${hits} echoes`);
});

test('UTF-8 output cut mid-character at every chunk boundary: byte offsets and redaction exact', () => {
  const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';
  const pieces = ['héllo wörld ', '日本語のテキスト ', 'emoji 😀🎉 ', 'naïve café ', `key=${KEY} `, 'ok ✓\n'];
  const f = new Fake(23);
  let text = '';
  for (let i = 0; i < 400; i++) text += f.pick(pieces);
  const input = Buffer.from(text);
  const offsets: number[] = [];
  for (let at = input.indexOf(KEY); at !== -1; at = input.indexOf(KEY, at + 1)) offsets.push(at);
  for (const size of [1, 7, 100, 4093, 65536]) {
    const findings: Finding[] = [];
    const s = new StreamScanner({ detectors: [formatDetector()], onFinding: (x) => findings.push(x) });
    const out: Released[] = [];
    for (let i = 0; i < input.length; i += size) out.push(...s.push('stdout', input.subarray(i, i + size)));
    out.push(...s.flush());
    const released = Buffer.concat(out.map((r) => r.data)).toString();
    assert.equal(released, text.replaceAll(KEY, '[REDACTED:aws-access-key-id]'), `chunks of ${size}`);
    assert.deepEqual(
      findings.map((x) => x.offset),
      offsets,
      `chunks of ${size}`,
    );
  }
});

/** Counts the characters the stream scanner hands a detector. */
function counting(d: Detector): { d: Detector; chars: () => number } {
  let n = 0;
  return {
    d: {
      kind: d.kind,
      maxMatchLength: d.maxMatchLength,
      find: (text: string) => {
        n += text.length;
        return d.find(text);
      },
      ...(d.holdFor ? { holdFor: (text: string) => d.holdFor!(text) } : {}),
    },
    chars: () => n,
  };
}

test('each byte is scanned a bounded number of times, for small pushes and large', () => {
  const f = new Fake(24);
  const input = Buffer.from(benign.join('\n').repeat(6));
  const cases: [string, number, number][] = [
    ['100-byte pushes', 100, 1.5],
    ['4 KiB pushes', 4096, 1.3],
    ['64 KiB pushes', 65536, 1.1],
  ];
  for (const [name, size, bound] of cases) {
    const c = counting(formatDetector());
    const s = new StreamScanner({ detectors: [c.d, entropyDetector()] });
    for (let i = 0; i < input.length;) {
      const n = Math.max(1, size + f.int(9) - 4);
      s.push('stdout', input.subarray(i, i + n));
      i += n;
    }
    s.flush();
    const ratio = c.chars() / input.length;
    assert.ok(ratio <= bound, `${name}: each byte scanned ${ratio.toFixed(2)} times (bound ${bound})`);
    assert.ok(ratio >= 1, `${name}: everything scanned (${ratio.toFixed(2)})`);
  }
});

// LARGE: 32 MB of mixed output through all detectors, a few seconds; memory bounded, every planted
// secret found and redacted, and far faster than the 3 MB/s the scanner started from.
// Speed is measured by bench/egress-throughput.ts (JSON out), not asserted here.
test('LARGE: 32 MB through every detector: bounded memory, every planted secret found', () => {
  const f = new Fake(25);
  const secrets = ['mo4t-run-s3cret-Vq9XzL2pT7'];
  const findings: Finding[] = [];
  const s = new StreamScanner({ detectors: defaultDetectors(secrets), onFinding: (x) => findings.push(x) });
  let text = '';
  while (text.length < 1 << 20) text += f.pick(benign) + '\n';
  const base = Buffer.from(text);
  const planted = [`AKIA${f.s('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`, `ghp_${f.s(AN, 36)}`, secrets[0]!];
  const TOTAL = 32 * 1024 * 1024;
  const CHUNK = 64 * 1024;
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let leaked = false;
  let pos = 0;
  const at: number[] = [];
  const push = (b: Buffer): void => {
    for (const r of s.push('stdout', b)) if (planted.some((p) => r.data.includes(p))) leaked = true;
    pos += b.length;
  };
  const t0 = performance.now();
  for (let k = 0; pos < TOTAL; k++) {
    const from = (k * CHUNK) % (base.length - CHUNK);
    if (k % 97 === 50) {
      // A planted secret straddling two pushes.
      const line = Buffer.from(` ${planted[at.length % planted.length]!} `);
      push(base.subarray(from, from + CHUNK - 5));
      at.push(pos + 1);
      push(line.subarray(0, 9));
      push(line.subarray(9));
      continue;
    }
    push(base.subarray(from, from + CHUNK));
    if (k % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  for (const r of s.flush()) if (planted.some((p) => r.data.includes(p))) leaked = true;
  const mbps = TOTAL / 1048576 / ((performance.now() - t0) / 1000);
  assert.equal(leaked, false);
  for (const a of at)
    assert.ok(
      findings.some((x) => x.offset <= a && x.offset + x.length > a),
      `planted at ${a} not found`,
    );
  assert.ok(peak - rss0 < 100 * 1024 * 1024, `RSS grew ${Math.round((peak - rss0) / 1048576)} MB`);
  console.log(JSON.stringify({ mb: 32, mbPerS: +mbps.toFixed(1), findings: findings.length, planted: at.length }));
});

test('defaultDetectors: format, entropy, and context when there are secrets', () => {
  assert.deepEqual(
    defaultDetectors().map((d) => d.kind),
    ['format', 'entropy'],
  );
  const ds = defaultDetectors(['mo4t-run-s3cret-Vq9XzL2pT7']);
  assert.deepEqual(
    ds.map((d) => d.kind),
    ['format', 'entropy', 'context'],
  );
  assert.deepEqual(
    detectAll('echo mo4t-run-s3cret-Vq9XzL2pT7', ds).map((m) => m.rule),
    ['context-echo'],
  );
});

test('positives of every rule, cut at every position where the scanner releases, are redacted whole', () => {
  const f = new Fake(27);
  const fmt = [formatDetector(), entropyDetector()];
  const filler = 'the quick brown fox jumps over the lazy dog\n'.repeat(80);
  assert.equal(detectAll(filler, fmt).length, 0, 'filler is clean');
  let cuts = 0;
  // Plus tokens only the entropy detector flags.
  const tokens = Array.from({ length: 6 }, (_, i) => ({
    id: `entropy-${i}`,
    pos: [`value ${`Q7${f.s(AN, 30 + 20 * i)}`.replace(/[a-z]{3,}/g, 'x9Z')} end`],
  }));
  for (const rule of [...RULES.map((r) => ({ id: r.id, pos: SAMPLES[r.id]!(f).pos })), ...tokens]) {
    for (const sample of rule.pos) {
      const whole = `${filler}${sample}\n${filler}`;
      const want = redact(whole, detectAll(whole, fmt));
      assert.notEqual(want, whole, `${rule.id}: positive control`);
      const step = Math.max(1, Math.floor(sample.length / 40));
      for (let k = 1; k < sample.length; k += step) {
        cuts++;
        const s = new StreamScanner({ detectors: fmt });
        // The first push ends inside the sample and is large enough to be scanned and released.
        const first = Buffer.from(whole.slice(0, filler.length + k));
        const out = [...s.push('stdout', first), ...s.push('stdout', Buffer.from(whole.slice(filler.length + k))), ...s.flush()];
        assert.equal(Buffer.concat(out.map((r) => r.data)).toString(), want, `${rule.id} cut at ${k}`);
      }
    }
  }
  assert.ok(cuts > 1000, String(cuts));
});

test('an open PEM block fed in small pushes is rescanned rarely, and redacted whole however its END line is cut', () => {
  const f = new Fake(28);
  const pem = f.pem('RSA PRIVATE KEY', 100);
  const text = `before\n${pem}\nafter\n`;
  assert.ok(pem.length > 2 * 3072, 'the block outgrows holdBytes while open');
  // Labelled by the format rule or by the scanner's own PEM hold, whichever found it whole.
  const want = /^before\n\[REDACTED:(?:rsa-)?private-key\]\nafter\n$/;
  const endAt = text.indexOf('-----END');
  for (const size of [1, 7, 100]) {
    for (let cut = endAt - 3; cut < endAt + 30; cut += 4) {
      const c = counting(formatDetector());
      const s = new StreamScanner({ detectors: [c.d] });
      const input = Buffer.from(text);
      const out: Released[] = [];
      // Small pushes up to the cut inside the END line, then the rest at once.
      for (let i = 0; i < cut; i += size) out.push(...s.push('stdout', input.subarray(i, Math.min(i + size, cut))));
      out.push(...s.push('stdout', input.subarray(cut)), ...s.flush());
      assert.match(Buffer.concat(out.map((r) => r.data)).toString(), want, `pushes of ${size}, cut at ${cut - endAt}`);
      assert.ok(c.chars() < 20 * text.length, `pushes of ${size}: scanned ${c.chars()} chars for ${text.length}`);
    }
  }
});

test('a keyword is found wherever it falls against the quarters of the text (four walks meet there), and in tiny texts', () => {
  const f = new Fake(29);
  const fmt = formatDetector();
  const token = `glpat-${f.s(AN, 20)}`;
  for (let pad = 0; pad < 240; pad++) {
    for (const tail of [0, 1, 7, 30]) {
      const text = `${' '.repeat(pad)}${token}${' '.repeat(tail)}`;
      assert.deepEqual(
        fmt.find(text).map((m) => [m.rule, m.start]),
        [['gitlab-pat', pad]],
        `pad ${pad}, tail ${tail}`,
      );
    }
  }
  for (const tiny of ['', 'g', 'gl', 'glpat-']) assert.deepEqual(fmt.find(tiny), []);
});

test('rules narrowed to token runs (Rule.tokenRun) and rules tried only at their keywords find what the whole-text regex finds', () => {
  const f = new Fake(31);
  const fmt = formatDetector();
  const pieces: (() => string)[] = [
    () => `AC${f.s(HEX, 32)}`,
    () => `SK${f.s(HEX, 32)}`,
    () => `${f.pick(['M', 'N', 'O'])}${f.s(URL64, 23 + f.int(3))}.${f.s(URL64, 6)}.${f.s(URL64, 27 + f.int(12))}`,
    () => `${f.s(DIG, 1)}/${f.s(DIG, 16)}${f.int(2) ? `/${f.s(DIG, 16)}` : ''}:${f.s(HEX, 32)}`,
    () => f.s(B64, f.int(60)),
    () => `token=${f.s(AN, 20)}`,
    () => `Password: ${f.s(AN, 12)}`,
    () => `api_secret = "${f.s(AN, 24)}"`,
    () => f.pick(['-', '_', '/', '+', ' ', '\n', '.', ':', '=', '\u2713']),
  ];
  // Plain text between them, so the runs' windows cover less than half of it (not scanned whole).
  const filler = (): string => ' the quick brown fox jumps over the lazy dog.'.repeat(1 + f.int(8));
  let matches = 0;
  for (let round = 0; round < 300; round++) {
    let text = '';
    for (let i = 0, n = 1 + f.int(60); i < n; i++) text += f.pick(pieces)() + (f.int(3) ? filler() : '');
    const want = key(wholeTextScan(text));
    matches += want.filter((k) => /^(?:twilio|discord|asana|generic)/.test(k)).length;
    assert.deepEqual(key(fmt.find(text)), want, JSON.stringify(text));
  }
  assert.ok(matches > 1000, `positive control: ${matches} matches`);
});

test('entropy: token runs found by probing are every maximal run of 20 or more, for texts with many runs', () => {
  const f = new Fake(37);
  const fmt = formatDetector();
  for (let round = 0; round < 60; round++) {
    let text = '';
    // Up to several hundred runs, some past MAX_TOKEN.
    for (let i = 0, n = f.int(400); i < n; i++)
      text += `${f.s(B64, f.int(2) ? 20 + f.int(40) : f.int(300))}${f.pick([' ', '\n', '.', '='])}`;
    const want = [...text.matchAll(/[A-Za-z0-9+/_-]{20,}/g)].flatMap((m) => [m.index, m.index + m[0].length]);
    assert.deepEqual([...findTokenRuns(text)], want);
    // The format detector asks for them first; the entropy detector's hits are the same either way.
    const hits = findHighEntropy(text);
    fmt.find(text);
    assert.deepEqual([...findTokenRuns(text)], want);
    assert.deepEqual(findHighEntropy(text), hits);
    if (text.length > 5000) assert.ok(hits.length > 10, `positive control: ${hits.length} hits`);
  }
});
