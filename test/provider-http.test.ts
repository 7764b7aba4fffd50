// The providers' HTTP client: bounded retries on what the provider says is temporary, with the
// provider's wait when it gives one; no retry for what is not temporary or for calls marked so;
// the key travels only in the Authorization header, never in an error.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HttpClient, retryAfterMs, type Classified, type HttpResponse } from '../main/providers/http';
import { VaultError } from '../main/credentials/errors';
import { ProviderError, type RetryNotice } from '../main/providers/provider';

const KEY = 'secret-key-0123456789abcdef';
let server: http.Server;
let base = '';
/** What the server answers next, one entry per request; then 200 {ok:true}. */
let script: { status: number; body: string; headers?: Record<string, string> }[] = [];
const seenAuth: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    const next = script.shift() ?? { status: 200, body: '{"ok":true}' };
    res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
    res.end(next.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function classify(res: HttpResponse): Classified {
  if (res.status < 400) return { ok: true };
  const kind = res.status === 429 ? 'rate-limited' : res.status >= 500 ? 'unavailable' : 'invalid';
  return { ok: false, error: new ProviderError('linode', kind, `status ${res.status}`), retryAfterMs: retryAfterMs(res.headers) };
}

function client(notices: RetryNotice[], waits: number[]): HttpClient {
  return new HttpClient({
    provider: 'linode',
    baseUrl: base,
    key: async () => KEY,
    classify,
    onRetry: (n) => notices.push(n),
    maxAttempts: 4,
    backoff: { baseMs: 100, maxMs: 1000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
}

test('429 and 5xx are retried (the Retry-After wait when given), with a notice each time, then succeed', async () => {
  script = [
    { status: 429, body: '{}', headers: { 'Retry-After': '7' } },
    { status: 503, body: '{}' },
  ];
  const notices: RetryNotice[] = [];
  const waits: number[] = [];
  const res = await client(notices, waits).request({ method: 'GET', path: '/x' });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { ok: true });
  assert.equal(waits[0], 7000, 'the provider said 7 s');
  // Second attempt: 100 ms × 2, ±25% jitter.
  assert.ok(waits[1]! >= 150 && waits[1]! <= 250, `back-off with jitter: ${waits[1]}`);
  assert.deepEqual(
    notices.map((n) => [n.attempt, n.maxAttempts]),
    [
      [1, 4],
      [2, 4],
    ],
  );
  assert.ok(seenAuth.every((a) => a === `Bearer ${KEY}`));
});

test('retries are bounded: the last error is thrown', async () => {
  script = Array.from({ length: 10 }, () => ({ status: 500, body: '{}' }));
  const waits: number[] = [];
  await assert.rejects(client([], waits).request({ method: 'GET', path: '/x' }), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'unavailable');
    assert.doesNotMatch(err.message, new RegExp(KEY));
    return true;
  });
  assert.equal(waits.length, 3, 'four attempts, three waits');
  script = [];
});

test('a refused request and a call marked not to retry fail at once', async () => {
  script = [{ status: 400, body: '{}' }];
  const waits: number[] = [];
  await assert.rejects(client([], waits).request({ method: 'GET', path: '/x' }), /status 400/);
  script = [{ status: 503, body: '{}' }];
  await assert.rejects(client([], waits).request({ method: 'POST', path: '/launch', retry: false }), /status 503/);
  assert.equal(waits.length, 0);
});

test('an HTML error page on a 5xx is a temporary fault (retried), not a malformed answer', async () => {
  script = [{ status: 502, body: '<html>bad gateway</html>' }];
  const waits: number[] = [];
  const res = await client([], waits).request({ method: 'GET', path: '/x' });
  assert.equal(res.status, 200);
  assert.equal(waits.length, 1);
});

test('a body that is not JSON is malformed, and says so without the key', async () => {
  script = [{ status: 200, body: '<html>proxy error</html>' }];
  await assert.rejects(client([], []).request({ method: 'GET', path: '/x' }), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, 'malformed');
    assert.doesNotMatch(err.message, new RegExp(KEY));
    return true;
  });
});

test('Retry-After: seconds or an HTTP date; anything else is no hint', () => {
  const h = (v: string): Headers => new Headers({ 'Retry-After': v });
  assert.equal(retryAfterMs(h('3')), 3000);
  assert.equal(retryAfterMs(h(new Date(10_000).toUTCString()), 4_000), 6_000);
  assert.equal(retryAfterMs(h('soon')), undefined);
  assert.equal(retryAfterMs(new Headers()), undefined);
});

test('a key the vault cannot give is said as such: no request, no retry, not "could not reach the provider"', async () => {
  const notices: RetryNotice[] = [];
  const locked = new VaultError('LOCKED', 'The keyring is locked.', 'Unlock it.');
  const c = new HttpClient({
    provider: 'linode',
    baseUrl: base,
    key: async () => {
      throw locked;
    },
    classify,
    onRetry: (n) => notices.push(n),
    maxAttempts: 4,
    sleep: async () => {},
  });
  const before = seenAuth.length;
  await assert.rejects(c.request({ method: 'GET', path: '/ok' }), (err: unknown) => err === locked);
  assert.equal(seenAuth.length, before, 'nothing was sent');
  assert.deepEqual(notices, [], 'nothing was retried');
});
