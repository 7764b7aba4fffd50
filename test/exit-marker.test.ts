import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitMarker } from '../main/sandbox/exit-marker';

const NONCE = 'MOATdeadbeefdeadbeefdeadbeefdeadbeef';

function feed(marker: ExitMarker, parts: ['stdout' | 'stderr', string][]): Record<string, string> {
  const out: Record<string, string> = { stdout: '', stderr: '' };
  for (const [s, text] of parts) out[s] += marker.filter(s, Buffer.from(text)).toString();
  return out;
}

test('finds the markers across any chunk split and strips them from the output', () => {
  const stdout = `hello MOAT wor${NONCE}`;
  const stderr = `warn${NONCE}042`;
  for (let cut = 1; cut < stdout.length; cut++) {
    let status: number | null = null;
    const m = new ExitMarker(NONCE, (s) => (status = s));
    const k = Math.min(cut, stderr.length);
    const out = feed(m, [
      ['stdout', stdout.slice(0, cut)],
      ['stderr', stderr.slice(0, k)],
    ]);
    assert.equal(status, null, 'not before both streams are complete');
    out.stdout += m.filter('stdout', Buffer.from(stdout.slice(cut))).toString();
    out.stderr += m.filter('stderr', Buffer.from(stderr.slice(k))).toString();
    assert.equal(status, 42);
    assert.equal(out.stdout, 'hello MOAT wor');
    assert.equal(out.stderr, 'warn');
  }
});

test('a lookalike prefix is output after all, and held bytes come back on drain', () => {
  const m = new ExitMarker(NONCE, () => assert.fail('no exit'));
  const out = feed(m, [
    ['stdout', `x${NONCE.slice(0, 10)}`],
    ['stdout', 'y'],
    ['stderr', NONCE.slice(0, 5)],
  ]);
  assert.equal(out.stdout, `x${NONCE.slice(0, 10)}y`);
  assert.equal(out.stderr, '');
  assert.equal(m.drain('stderr').toString(), NONCE.slice(0, 5));
});

test('the status is exactly three digits 0-255; anything else is reported as unknown (null)', async () => {
  const { parseStatus } = await import('../main/sandbox/exit-marker');
  assert.equal(parseStatus('000'), 0);
  assert.equal(parseStatus('042'), 42);
  assert.equal(parseStatus('255'), 255);
  for (const bad of ['256', '999', '-01', ' 42', '4a2', '+12', '1e2', '0x1']) assert.equal(parseStatus(bad), null, bad);
  let calls = 0;
  let status: number | null = -1;
  const m = new ExitMarker(NONCE, (s) => {
    calls++;
    status = s;
  });
  feed(m, [
    ['stdout', NONCE],
    ['stderr', `${NONCE}999`],
  ]);
  assert.equal(calls, 1, 'the marker was seen');
  assert.equal(status, null, 'with a status that is not one');
});
