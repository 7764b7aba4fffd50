// Every format rule against its own positives and negatives (test/fixtures/egress/samples.ts), then
// the merge and redaction contract. Each refusal sits beside a positive control, so a rule that
// matches nothing cannot pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAll, entropyDetector, formatDetector, MAX_MATCH_LENGTH, redact } from '../main/egress/detect';
import { RULES } from '../main/egress/rules';
import { Fake } from './fixtures/egress/fake';
import { maxMatchLength } from './fixtures/egress/regex-bound';
import { SAMPLES } from './fixtures/egress/samples';

const fmt = formatDetector();

test('there are at least 120 rules, each with a unique id and a sample table entry', () => {
  assert.ok(RULES.length >= 120, `${RULES.length} rules`);
  const ids = RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.ok(SAMPLES[id], `no samples for ${id}`);
  for (const id of Object.keys(SAMPLES)) assert.ok(ids.includes(id), `samples for unknown rule ${id}`);
});

test('every rule finds its positives, alone, within its maxLength', () => {
  const f = new Fake(7);
  for (const rule of RULES) {
    const { pos } = SAMPLES[rule.id]!(f);
    assert.ok(pos.length >= 1, rule.id);
    for (const text of pos) {
      const found = detectAll(text, [fmt]);
      assert.deepEqual(
        found.map((m) => m.rule),
        [rule.id],
        `${rule.id} on ${JSON.stringify(text.slice(0, 80))}`,
      );
      const raw = fmt.find(text).filter((m) => m.rule === rule.id);
      for (const m of raw) assert.ok(rule.unbounded || m.end - m.start <= rule.maxLength, rule.id);
    }
  }
});

test('no rule finds its negatives', () => {
  const f = new Fake(7);
  for (const rule of RULES) {
    const { neg } = SAMPLES[rule.id]!(f);
    assert.ok(neg.length >= 1, rule.id);
    for (const text of neg) {
      const hits = fmt.find(text).filter((m) => m.rule === rule.id);
      assert.equal(hits.length, 0, `${rule.id} matched negative ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
});

test('every pattern is global, and its maxLength bounds the longest string it can match', () => {
  // Positive control for the bound calculator itself.
  assert.equal(maxMatchLength('a(?:bc|defg){2}x?[a-z]{3,5}(?<![x])'), 15);
  assert.equal(maxMatchLength('a[b-d]+'), Infinity);
  for (const rule of RULES) {
    assert.ok(rule.pattern.global, rule.id);
    if (rule.unbounded) continue;
    const bound = maxMatchLength(rule.pattern.source);
    assert.ok(bound <= rule.maxLength, `${rule.id}: can match ${bound}, declares ${rule.maxLength}`);
  }
  assert.ok(MAX_MATCH_LENGTH >= 256 && MAX_MATCH_LENGTH <= 4096, String(MAX_MATCH_LENGTH));
});

test('keywords gate the regex: a rule whose keyword is absent never runs', () => {
  const f = new Fake(9);
  const key = `ghp_${f.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 36)}`;
  assert.equal(formatDetector().find(key).length, 1); // positive control
  const gated = formatDetector(RULES.filter((r) => r.id === 'github-pat').map((r) => ({ ...r, keywords: ['zzz-not-there'] })));
  assert.equal(gated.find(key).length, 0);
});

test('overlaps merge: the most severe label wins and the union is redacted', () => {
  const f = new Fake(11);
  const token = `ghp_${f.s('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 36)}`;
  const text = `GITHUB_TOKEN=${token} done`;
  const raw = [...fmt.find(text), ...entropyDetector().find(text)];
  assert.ok(
    raw.some((m) => m.rule === 'generic-token'),
    'the generic rule also matched (control)',
  );
  const found = detectAll(text, [fmt, entropyDetector()]);
  assert.equal(found.length, 1);
  assert.equal(found[0]!.rule, 'github-pat');
  assert.equal(found[0]!.severity, 'critical');
  assert.equal(redact(text, found), 'GITHUB_TOKEN=[REDACTED:github-pat] done');
});

test('matches come back sorted and redaction keeps the text between them', () => {
  const f = new Fake(12);
  const a = `AKIA${f.s('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
  const b = `npm_${f.s('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 36)}`;
  const text = `first ${b} then ${a} end`;
  const found = detectAll(text, [fmt]);
  assert.deepEqual(
    found.map((m) => m.rule),
    ['npm-access-token', 'aws-access-key-id'],
  );
  assert.equal(redact(text, found), 'first [REDACTED:npm-access-token] then [REDACTED:aws-access-key-id] end');
});

test('a PEM block is redacted from BEGIN to END, and to the end of the text when cut short', () => {
  const f = new Fake(13);
  const block = f.pem('RSA PRIVATE KEY');
  const text = `key:\n${block}\nafter`;
  assert.equal(redact(text, detectAll(text, [fmt])), 'key:\n[REDACTED:rsa-private-key]\nafter');
  const cut = `key:\n${block.slice(0, 200)}`;
  assert.equal(redact(cut, detectAll(cut, [fmt])), 'key:\n[REDACTED:rsa-private-key]');
});

test('JWTs need a JSON header with alg', () => {
  const f = new Fake(14);
  assert.equal(detectAll(f.jwt(), [fmt])[0]?.rule, 'jwt');
  const notJwt = `eyJ${f.s('abcdefghijklmnop', 20)}.eyJ${f.s('abcdefghijklmnop', 20)}.${f.s('abcdefghijklmnop', 20)}`;
  assert.equal(detectAll(notJwt, [fmt]).length, 0);
});

test('entropy: a token cut at punctuation inside a value is covered to the value end; a full stop or an @host is not taken', () => {
  const ent = entropyDetector();
  const cases: [string, string][] = [
    ['key: H2hGq8Zr4vXk2LmN9pQwEr7tY/b3Jx+Kd0Ws end', 'H2hGq8Zr4vXk2LmN9pQwEr7tY/b3Jx+Kd0Ws'],
    ["pw 'Weae7Kq2Lm9Xz4Rt8Yb3NvPv!h' x", 'Weae7Kq2Lm9Xz4Rt8Yb3NvPv!h'],
    ['url redis://:KM-T7x9Qa2Lm4Rz8Wq3Yb.~rD@localhost:6379', 'KM-T7x9Qa2Lm4Rz8Wq3Yb.~rD'],
    ['done Q7x9Ka2Lm4Rz8Wq3YbNv5T. next', 'Q7x9Ka2Lm4Rz8Wq3YbNv5T'],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(
      ent.find(text).map((m) => text.slice(m.start, m.end)),
      [want],
      text,
    );
  }
});

test('entropy: lines of a wrapped base64 block (64 or 76 columns) are not findings; a key alone on its line is', () => {
  const f = new Fake(41);
  const ent = entropyDetector();
  for (const width of [64, 76]) {
    const body = f.b64(width * 6).replace(new RegExp(`.{${width}}`, 'g'), '$&\n');
    const lines = body.split('\n').filter(Boolean);
    assert.ok(lines.length >= 8 && lines[0]!.length === width, `width ${width}`);
    assert.deepEqual(ent.find(`$ base64 model.bin\n${body}\n$ echo done\n`), [], `width ${width}`);
  }
  // Positive controls: the same kind of token alone on its line, and beside a line that is not base64.
  for (const text of [
    `export API_KEY\nQ7x9Ka2Lm4Rz8Wq3YbNv5TpE6cH1uJ0s\nok\n`,
    `${f.s('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 64)}\nready: listening on :8080 with 4 workers ok\n`,
  ]) {
    assert.equal(ent.find(text).length, 1, text);
  }
});
