// The egress scanner's shortcuts for speed, each against what it stands in for: the byte view the
// stream scanner hands the detectors (latin1.ts) against the plain string, and the check that lets
// a generic assignment rule skip its regex (assignmentMayFollow) against the regex itself.
//   node --import tsx --test test/egress-speed.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assignmentMayFollow, byteWhitespace, defaultDetectors, detectAll, formatDetector } from '../main/egress/detect';
import { withLatin1View } from '../main/egress/latin1';
import { RULES } from '../main/egress/rules';
import { AN, Fake } from './fixtures/egress/fake';

const corpus = readFileSync(new URL('./fixtures/egress/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const secrets = ['mo4t-run-s3cret-Vq9XzL2pT7', 'pässwörd-ünïcode-42'];

test('detectors given the bytes of a latin1 view find what they find in the string alone (UTF-8 output, echoes, every detector)', () => {
  const f = new Fake(5);
  const detectors = defaultDetectors(secrets);
  let found = 0;
  for (let i = 0; i < corpus.length; i += 3) {
    // As the stream scanner sees output: UTF-8 bytes, each a character; with an echo now and then.
    const utf8 = Buffer.from(corpus[i]! + (f.int(4) === 0 ? ` ${f.pick(secrets)} ` : '') + corpus[(i + 7) % corpus.length]!, 'utf8');
    const text = utf8.toString('latin1');
    const plain = detectAll(text, detectors);
    found += plain.length;
    assert.deepEqual(
      withLatin1View(text, utf8, () => detectAll(text, detectors)),
      plain,
      text,
    );
  }
  assert.ok(found > 300, `positive control: ${found} matches`);
  // Control: the view is what the detectors read (other bytes behind the same text change the result).
  const text = 'aws: using access key AKIAQ4YRM3AV6G5C2N2K for s3 upload';
  const fmt = [formatDetector()];
  assert.equal(detectAll(text, fmt).length, 1);
  assert.equal(withLatin1View(text, Buffer.from(text.replace('AKIA', 'XXXX'), 'latin1'), () => detectAll(text, fmt)).length, 0);
  // And none of it is kept: the same text afterwards is read from the string again.
  assert.equal(detectAll(text, fmt).length, 1);
});

test('a generic assignment rule matches only where assignmentMayFollow lets its regex run (every operator, quote and next-line form)', () => {
  const f = new Fake(9);
  const generic = RULES.filter((r) => r.generic);
  assert.equal(generic.length, 5);
  const names = [
    'password',
    'passwd',
    'pwd',
    'pass',
    'client_secret',
    'app.secret',
    'secret',
    'private-key',
    'api_key',
    'apikey',
    'x-api-key',
    'access.key',
    'token',
    'auth',
    'credential',
    'AUTH',
    'Token',
  ];
  const suffixes = ['', '_value', 's', 'X1', '_0123456789', '_0123456789a'];
  const quotes = ['', '"', "'", '"]', "']", ']'];
  const ops = [
    '=',
    ':',
    '=>',
    ':=',
    '==',
    ':>',
    ' = ',
    '   :',
    '    =',
    ' =    ',
    '= ',
    ':  ',
    '=\t',
    ' ',
    '\t',
    '\n  value: ',
    '\n  - value: ',
    '\r\nOut[12]: ',
    ' VALUE: ',
    ' out[3]:',
    ' expires in ',
    '/',
    '(',
    '.',
    '-',
    '=`',
    '=,',
    '=;',
  ];
  const values = () =>
    f.pick([
      `"${f.s(AN, 20)}"`,
      f.s(AN, 16),
      `'${f.s(AN, 12)}x9'`,
      'short',
      f.s(AN, 7),
      f.s(AN, 8),
      `>${f.s(AN, 9)}`,
      `"${f.s(AN, 7)}"`,
      `  ${f.s(AN, 10)}`,
      `${f.s(AN, 4)},${f.s(AN, 9)}`,
      `${f.s(AN, 6)}\u00a0${f.s(AN, 3)}`,
    ]);
  let matched = 0;
  let skipped = 0;
  for (let i = 0; i < 9000; i++) {
    const text = `${f.pick(['', 'export ', 'my_', ' "', "os.environ['", 'DB_'])}${f.pick(names)}${f.pick(suffixes)}${f.pick(quotes)}${f.pick(ops)}${values()}`;
    for (const rule of generic) {
      const re = new RegExp(byteWhitespace((rule.scan ?? rule).pattern.source), 'iy');
      for (let at = 0; at < text.length; at++) {
        re.lastIndex = at;
        const hit = re.test(text);
        const may = assignmentMayFollow(text, at);
        if (hit) {
          matched++;
          assert.ok(may, `${rule.id} matches at ${at} in ${JSON.stringify(text)} but the check refused it`);
        } else if (!may) skipped++;
      }
    }
  }
  assert.ok(matched > 2000, `positive control: ${matched} matches`);
  assert.ok(skipped > 100000, `the check refuses most positions: ${skipped}`);
  // Prose around a keyword: refused without the regex.
  for (const s of [
    'token expires in 5 minutes',
    '/auth/login',
    "reading 'token')",
    'password reset requested',
    'tokens_used=1234',
    '"prompt_tokens":3000,',
    'auth=ok)',
  ])
    assert.equal(assignmentMayFollow(s, s.search(/token|auth|password/)), false, s);
});
