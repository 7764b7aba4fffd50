// The streaming egress filter (main/egress/stream.ts) and the context-echo detector
// (main/egress/context.ts). A small local AKIA detector stands in for the format rules so these
// tests pin the scanner's own behaviour. Each refusal has a positive control beside it.
//   node --import tsx --test test/egress-stream.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextDetector } from '../main/egress/context';
import { entropyDetector, formatDetector } from '../main/egress/detect';
import { StreamScanner, PEM_HOLD_LIMIT, type Finding, type Released, type StreamScannerOptions } from '../main/egress/stream';
import type { Detector, Match } from '../main/egress/types';

const KEY = 'AKIAIOSFODNN7EXAMPLE';

function akia(): Detector {
  return {
    kind: 'format',
    maxMatchLength: 20,
    find(text: string): Match[] {
      return [...text.matchAll(/AKIA[0-9A-Z]{16}/g)].map((m) => ({
        detector: 'format',
        rule: 'aws-access-key-id',
        title: 'AWS access key ID',
        severity: 'critical',
        start: m.index,
        end: m.index + m[0].length,
      }));
    },
  };
}

function scanner(opts: Partial<StreamScannerOptions> = {}): { s: StreamScanner; findings: Finding[] } {
  const findings: Finding[] = [];
  const s = new StreamScanner({ detectors: [akia()], onFinding: (f) => findings.push(f), ...opts });
  return { s, findings };
}

const joined = (rs: Released[], stream = 'stdout'): Buffer => Buffer.concat(rs.filter((r) => r.stream === stream).map((r) => r.data));

test('a key split across two chunks at every position is found, redacted, never released', () => {
  const text = Buffer.from(`before ${KEY} after\n`);
  for (let cut = 0; cut <= text.length; cut++) {
    const { s, findings } = scanner();
    const out = [...s.push('stdout', text.subarray(0, cut)), ...s.push('stdout', text.subarray(cut)), ...s.flush()];
    const released = joined(out).toString();
    assert.equal(released, 'before [REDACTED:aws-access-key-id] after\n', `cut at ${cut}`);
    assert.equal(findings.length, 1, `cut at ${cut}`);
    assert.deepEqual(
      { offset: findings[0]!.offset, length: findings[0]!.length, preview: findings[0]!.preview },
      { offset: 7, length: 20, preview: 'AKIA************MPLE' },
    );
    assert.ok(!JSON.stringify(findings).includes(KEY));
  }
});

test('one byte at a time: still found; positive control: clean text passes unchanged', () => {
  const { s, findings } = scanner();
  const text = Buffer.from(`x ${KEY} y ${'z'.repeat(3000)}`);
  const out: Released[] = [];
  for (const b of text) out.push(...s.push('stdout', Buffer.from([b])));
  out.push(...s.flush());
  assert.ok(!joined(out).includes(KEY));
  assert.equal(findings.length, 1);

  const clean = scanner();
  const plain = Buffer.from('nothing secret here, AKIA-not-a-key\n'.repeat(100));
  const rel = [...clean.s.push('stdout', plain), ...clean.s.flush()];
  assert.ok(joined(rel).equals(plain));
  assert.equal(clean.findings.length, 0);
});

test('holdback: released output lags by at most holdBytes; flushDue releases after maxHoldMs', () => {
  let now = 1000;
  const { s } = scanner({ clock: () => now });
  assert.equal(s.holdBytes, 1024, 'maxMatchLength 20 rounds up to 1 KiB');
  let pushed = 0;
  let released = 0;
  for (let i = 0; i < 200; i++) {
    const chunk = Buffer.alloc(97 + (i % 13), 'a');
    pushed += chunk.length;
    released += joined(s.push('stdout', chunk)).length;
    assert.ok(pushed - released <= s.holdBytes, `lag ${pushed - released} at push ${i}`);
  }
  assert.ok(pushed - released > 0, 'something is held');
  assert.deepEqual(s.flushDue(now + 29), [], 'not due before maxHoldMs');
  assert.equal(s.nextDueAt() !== null && s.nextDueAt()! <= now + 30, true);
  now += 30;
  released += joined(s.flushDue(now)).length;
  assert.equal(released, pushed, 'everything released once due');
  assert.equal(s.nextDueAt(), null);
});

test('a key cut by a timed release is still alerted, and its held part redacted', () => {
  let now = 0;
  const { s, findings } = scanner({ clock: () => now });
  const out = s.push('stdout', Buffer.from(`x ${KEY.slice(0, 10)}`));
  now = 100;
  out.push(...s.flushDue(now));
  out.push(...s.push('stdout', Buffer.from(`${KEY.slice(10)} y\n`)), ...s.flush());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.offset, 2);
  assert.ok(!joined(out).toString().includes(KEY.slice(10)));
});

test('invalid UTF-8 is tolerated: bytes kept, the key beside them redacted', () => {
  const { s, findings } = scanner();
  const input = Buffer.concat([Buffer.from('caf\xc3\xa9 \xff\xfe ', 'latin1'), Buffer.from(`${KEY} é\n`)]);
  const out = joined([...s.push('stdout', input), ...s.flush()]);
  const expected = Buffer.concat([Buffer.from('caf\xc3\xa9 \xff\xfe ', 'latin1'), Buffer.from('[REDACTED:aws-access-key-id] é\n')]);
  assert.ok(out.equals(expected), out.toString('latin1'));
  assert.equal(findings[0]!.offset, 9, 'byte offset, not character offset');
});

test('binary output is released byte-identical and still alerted', () => {
  const { s, findings } = scanner();
  const bin = Buffer.alloc(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 131) & 0xff;
  Buffer.from(KEY).copy(bin, 1000);
  const out: Released[] = [];
  for (let i = 0; i < bin.length; i += 700) out.push(...s.push('stdout', bin.subarray(i, i + 700)));
  out.push(...s.flush());
  assert.ok(joined(out).equals(bin));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.binary, true);
  assert.equal(findings[0]!.offset, 1000);
});

const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  ...Array.from({ length: 25 }, (_, i) => `MIIEowIBAAKCAQEA${String(i).padStart(2, '0')}`.padEnd(64, 'q')),
  '-----END RSA PRIVATE KEY-----',
].join('\n');

test('a PEM block split across chunks is redacted from BEGIN to END, past holdBytes', () => {
  const { s, findings } = scanner();
  const text = Buffer.from(`log line\n${PEM}\nafter\n`);
  assert.ok(PEM.length > s.holdBytes);
  const out: Released[] = [];
  for (let i = 0; i < text.length; i += 100) out.push(...s.push('stdout', text.subarray(i, i + 100)));
  out.push(...s.flush());
  assert.equal(joined(out).toString(), 'log line\n[REDACTED:private-key]\nafter\n');
  assert.equal(findings.filter((f) => f.rule === 'private-key').length, 1);
});

test('an unterminated PEM block is held up to 16 KiB, then what is held is redacted', () => {
  const { s } = scanner();
  const out = s.push('stdout', Buffer.from('ok\n-----BEGIN PRIVATE KEY-----\n'));
  for (let i = 0; i < 20; i++) out.push(...s.push('stdout', Buffer.from('A'.repeat(1023) + '\n')));
  const text = joined(out).toString();
  assert.ok(text.startsWith('ok\n[REDACTED:private-key]'), text.slice(0, 80));
  assert.ok(!text.includes('BEGIN PRIVATE KEY'));
  assert.ok(PEM_HOLD_LIMIT === 16 * 1024);
});

test("policy 'block' releases nothing and reports; 'stop' calls onCritical once", () => {
  const blocked = scanner({ policy: 'block' });
  const out = [...blocked.s.push('stdout', Buffer.from(`a ${KEY} b ${KEY}\n`.repeat(100))), ...blocked.s.flush()];
  assert.deepEqual(out, []);
  assert.equal(blocked.findings.length, 200);

  const stops: Finding[] = [];
  const stopping = scanner({ policy: 'stop', onCritical: (f) => stops.push(f) });
  const rel = [...stopping.s.push('stderr', Buffer.from(`a ${KEY} b ${KEY}\n`)), ...stopping.s.flush()];
  assert.equal(stops.length, 1);
  assert.equal(stops[0]!.stream, 'stderr');
  assert.equal(joined(rel, 'stderr').toString(), 'a [REDACTED:aws-access-key-id] b [REDACTED:aws-access-key-id]\n');

  const control = scanner({ policy: 'stop', onCritical: (f) => stops.push(f) });
  control.s.push('stdout', Buffer.from('clean\n'));
  control.s.flush();
  assert.equal(stops.length, 1, 'no onCritical on clean output');
});

// LARGE: 200 MB through the scanner in 64 KiB chunks, a few keys planted; a few seconds.
test('LARGE: a 200 MB stream is scanned with bounded memory and every planted key found', () => {
  const { s, findings } = scanner();
  const CHUNK = 64 * 1024;
  const TOTAL = 200 * 1024 * 1024;
  const base = Buffer.alloc(CHUNK);
  const line = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n');
  for (let i = 0; i < CHUNK; i += line.length) line.copy(base, i);
  const planted = [5, 777, 1601, 3199].map((c) => c * CHUNK - 7); // each one straddles a chunk boundary
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let releasedBytes = 0;
  let leaked = false;
  for (let off = 0; off < TOTAL; off += CHUNK) {
    const chunk = Buffer.from(base);
    for (const p of planted) {
      for (let i = 0; i < KEY.length; i++) if (p + i >= off && p + i < off + CHUNK) chunk[p + i - off] = KEY.charCodeAt(i);
    }
    for (const r of s.push('stdout', chunk)) {
      releasedBytes += r.data.length;
      if (r.data.includes(KEY)) leaked = true;
    }
    if ((off / CHUNK) % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  for (const r of s.flush()) releasedBytes += r.data.length;
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.equal(leaked, false);
  assert.deepEqual(
    findings.map((f) => f.offset),
    planted,
  );
  assert.equal(releasedBytes, TOTAL + planted.length * ('[REDACTED:aws-access-key-id]'.length - KEY.length));
  assert.ok(peak - rss0 < 100 * 1024 * 1024, `RSS grew ${Math.round((peak - rss0) / 1048576)} MB`);
});

test('context echo: plain, base64 at 3 offsets, hex, URL-encoded, wrapped at 64 columns', () => {
  const secret = 'sk-live/Zq8+p@ss w0rd!x9Tq3Lm';
  const d = contextDetector([secret]);
  const hit = (text: string): boolean => d.find(text).some((m) => m.rule === 'context-echo' && m.severity === 'critical');
  assert.equal(hit(`echo: ${secret}`), true, 'plain');
  for (const pre of ['', 'a', 'ab']) {
    const b64 = Buffer.from(`${pre}${secret}tail`).toString('base64');
    assert.equal(hit(`data: ${b64}`), true, `base64 offset ${pre.length}`);
    assert.equal(hit(`data: ${Buffer.from(`${pre}${secret}tail`).toString('base64url')}`), true, `base64url offset ${pre.length}`);
  }
  const hex = Buffer.from(secret).toString('hex');
  assert.equal(hit(hex), true, 'hex');
  assert.equal(hit(hex.toUpperCase()), true, 'HEX');
  assert.equal(hit(`?q=${encodeURIComponent(secret)}&x=1`), true, 'url');
  const long = Buffer.from(`${'x'.repeat(40)}${secret}${'y'.repeat(40)}`).toString('base64');
  const wrapped = long.replace(/.{64}/g, '$&\n');
  assert.ok(wrapped.includes('\n'));
  assert.equal(hit(wrapped), true, 'base64 wrapped at 64');
  assert.equal(hit(`${secret.slice(0, 12)}\r\n  ${secret.slice(12)}`), true, 'plain split across lines');
  // The match covers exactly the echoed text.
  const [m] = d.find(`>> ${secret} <<`);
  assert.deepEqual([m!.start, m!.end], [3, 3 + secret.length]);
  // Controls: unrelated text, a near miss, and a secret too short to look for.
  assert.equal(hit('nothing to see here'), false);
  assert.equal(hit(secret.slice(0, -1) + 'Z'), false);
  assert.deepEqual(contextDetector(['hunter2']).find('my password is hunter2'), []);
  assert.equal(contextDetector(['hunter22']).find('my password is hunter22').length, 1);
});

test('context echo through the stream scanner: a base64 echo split across chunks is redacted', () => {
  const secret = 'ghp_0123456789abcdefABCDEF';
  const findings: Finding[] = [];
  const s = new StreamScanner({ detectors: [contextDetector([secret])], onFinding: (f) => findings.push(f) });
  const text = Buffer.from(`token=${Buffer.from(secret).toString('base64')}\n`);
  const out = [...s.push('stdout', text.subarray(0, 15)), ...s.push('stdout', text.subarray(15)), ...s.flush()];
  assert.ok(joined(out).toString().includes('[REDACTED:context-echo]'));
  assert.equal(findings.length, 1);
});

test('output is scanned as bytes: a non-ASCII secret echoed back is found split at every byte, previewed decoded; UTF-8 around it kept', () => {
  const secret = 'pässwörd-Geheim-42✓';
  const text = Buffer.from(`naïve café ━━ ${secret} — fin\n`);
  const at = text.indexOf(Buffer.from(secret));
  for (let cut = 0; cut <= text.length; cut++) {
    const findings: Finding[] = [];
    const s = new StreamScanner({ detectors: [contextDetector([secret])], onFinding: (f) => findings.push(f) });
    const out = [...s.push('stdout', text.subarray(0, cut)), ...s.push('stdout', text.subarray(cut)), ...s.flush()];
    assert.equal(joined(out).toString(), 'naïve café ━━ [REDACTED:context-echo] — fin\n', `cut at ${cut}`);
    assert.deepEqual(
      findings.map((f) => [f.offset, f.length, f.preview]),
      [[at, Buffer.byteLength(secret), 'päss***********-42✓']],
      `cut at ${cut}`,
    );
  }
  // Positive control: the same text without the secret passes unchanged.
  const s = new StreamScanner({ detectors: [contextDetector([secret])] });
  const clean = Buffer.from('naïve café ━━ pässwörd — fin\n');
  assert.deepEqual(joined([...s.push('stdout', clean), ...s.flush()]), clean);
});

test('a secret value holding non-ASCII characters is redacted whole (its UTF-8 bytes are not whitespace to the rules)', () => {
  // 'à' is C3 A0 in UTF-8: A0 is U+00A0 (a space to JavaScript's \s) in the byte view the rules get.
  const value = 'voilà-s3cr3t-Ünïcødé-2026';
  const findings: Finding[] = [];
  const s = new StreamScanner({ detectors: [formatDetector()], onFinding: (f) => findings.push(f) });
  const text = Buffer.from(`DB_PASSWORD=${value}\nnext line\n`);
  const out = [...s.push('stdout', text), ...s.flush()];
  assert.equal(joined(out).toString(), 'DB_PASSWORD=[REDACTED:generic-password]\nnext line\n');
  assert.deepEqual(
    findings.map((f) => [f.rule, f.length]),
    [['generic-password', Buffer.byteLength(value)]],
  );
  // Positive control: the same line with an ASCII value.
  const s2 = new StreamScanner({ detectors: [formatDetector()] });
  assert.equal(
    joined([...s2.push('stdout', Buffer.from('DB_PASSWORD=voila-s3cr3t-2026\n')), ...s2.flush()]).toString(),
    'DB_PASSWORD=[REDACTED:generic-password]\n',
  );
});

test('a value the entropy detector finds, cut at punctuation inside it, is held and redacted whole wherever the chunks split it', () => {
  const filler = 'lorem ipsum dolor sit amet\n'.repeat(130);
  // Longer than the 64 bytes always kept back, so only holding the open value keeps it whole.
  const line = "pw 'Weae7Kq2Lm9Xz4Rt8Yb3NvPvQ7x9Ka2Lm4Rz8Wq3YbNv5TpE6cH1uJ0sWeae7Kq2Lm9Xz4Rt8Yb3NvPv!h.~rD' x\n";
  const text = Buffer.from(filler + line);
  for (let cut = filler.length; cut <= text.length; cut++) {
    const s = new StreamScanner({ detectors: [entropyDetector()] });
    const out = [...s.push('stdout', text.subarray(0, cut)), ...s.push('stdout', text.subarray(cut)), ...s.flush()];
    assert.equal(joined(out).toString(), `${filler}pw '[REDACTED:entropy]' x\n`, `cut at ${cut - filler.length}`);
  }
  // Positive control: the filler alone passes unchanged.
  const s = new StreamScanner({ detectors: [entropyDetector()] });
  assert.equal(joined([...s.push('stdout', Buffer.from(filler)), ...s.flush()]).toString(), filler);
});

test('a token cut by a timed release is judged whole: a digest is not alerted, a random key is, once', () => {
  const run = (line: string, cut: number): Finding[] => {
    let now = 0;
    const findings: Finding[] = [];
    const s = new StreamScanner({ detectors: [entropyDetector()], clock: () => now, onFinding: (f) => findings.push(f) });
    const text = Buffer.from(line);
    s.push('stdout', text.subarray(0, cut));
    now += 31;
    s.flushDue(now);
    s.push('stdout', text.subarray(cut));
    s.flush();
    return findings;
  };
  const digest = 'layer sha: ae049dae40e4bebd132198a4bfa40c2270be1e99cb8f95ae3ea02d6d649c6a54 ok\n';
  const key = 'key: Q7x9Ka2Lm4Rz8Wq3YbNv5TpE6cH1uJ0sWeae7Kq2 ok\n';
  for (let cut = 12; cut < 70; cut++) assert.deepEqual(run(digest, cut), [], `digest cut at ${cut}`);
  for (let cut = 6; cut < 45; cut++) {
    const found = run(key, cut);
    assert.equal(found.length, 1, `key cut at ${cut}`);
    assert.deepEqual([found[0]!.offset, found[0]!.length], [5, key.length - 9], `key cut at ${cut}`);
  }
});
