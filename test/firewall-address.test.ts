// Public-address detection for the firewall wizard, against local HTTP endpoints: a good answer,
// a private one (flagged), garbage, the wrong family, an error status, a redirect (refused), and
// an endpoint that never answers (bounded by the deadline). Env overrides win over settings.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { detectAddresses, nonPublicReason } from '../main/firewall/address';

let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    const answers: Record<string, [number, string]> = {
      '/v4': [200, '203.0.113.7\n'],
      '/v6': [200, '2001:db8:1::7'],
      '/private': [200, '192.168.1.20'],
      '/garbage': [200, '<html>hello</html>'],
      '/two': [200, '203.0.113.7 203.0.113.8'],
      '/500': [500, 'oops'],
    };
    if (req.url === '/hang') return; // never answers
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/v4' });
      return res.end();
    }
    const [status, body] = answers[(req.url ?? '').split('?')[0]!] ?? [404, 'no'];
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const detect = (v4: string, v6: string, env: NodeJS.ProcessEnv = {}) =>
  detectAddresses({ urls: { ipv4: `${base}${v4}`, ipv6: `${base}${v6}` }, env, timeoutMs: 500 });

test('good answers for both families; the source is shown without a query string', async () => {
  const r = await detectAddresses({ urls: { ipv4: `${base}/v4?token=x`, ipv6: `${base}/v6` }, env: {}, timeoutMs: 500 });
  assert.equal(r.ipv4.address, '203.0.113.7');
  assert.equal(r.ipv4.warning, undefined);
  assert.equal(r.ipv4.source, `${base}/v4`);
  assert.equal(r.ipv6.address, '2001:db8:1::7');
});

test('a private address is returned with a warning; garbage, two addresses and the wrong family are refused', async () => {
  const r = await detect('/private', '/v4');
  assert.equal(r.ipv4.address, '192.168.1.20');
  assert.match(r.ipv4.warning ?? '', /private/);
  assert.equal(r.ipv6.address, null, 'an IPv4 answer to the IPv6 question is refused');
  assert.match(r.ipv6.error ?? '', /did not answer with one IPv6 address/);
  for (const path of ['/garbage', '/two']) {
    const g = await detect(path, '/v6');
    assert.equal(g.ipv4.address, null, path);
    assert.match(g.ipv4.error ?? '', /did not answer with one IPv4 address/);
  }
});

test('an error status, a redirect and an endpoint that never answers give an error, within the deadline', async () => {
  const t0 = Date.now();
  const r = await detect('/500', '/hang');
  assert.match(r.ipv4.error ?? '', /HTTP 500/);
  assert.match(r.ipv6.error ?? '', /no answer within 0.5 s/);
  assert.ok(Date.now() - t0 < 5000, 'bounded by the deadline');
  const redirect = await detect('/redirect', '/v6');
  assert.equal(redirect.ipv4.address, null, 'a redirect is not followed');
  assert.match(redirect.ipv4.error ?? '', /could not be reached/);
});

test('MOAT_ADDRESS_URL and MOAT_ADDRESS6_URL override the settings', async () => {
  const r = await detect('/500', '/500', { MOAT_ADDRESS_URL: `${base}/v4`, MOAT_ADDRESS6_URL: `${base}/v6` });
  assert.equal(r.ipv4.address, '203.0.113.7');
  assert.equal(r.ipv6.address, '2001:db8:1::7');
});

test('nonPublicReason knows the private, loopback, CGNAT, link-local and unique-local ranges', () => {
  for (const a of [
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '127.0.0.1',
    '169.254.1.1',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fd00::1',
  ]) {
    assert.ok(nonPublicReason(a), a);
  }
  for (const a of ['203.0.113.7', '172.32.0.1', '8.8.8.8', '2001:db8::1', '2606:4700::1111']) {
    assert.equal(nonPublicReason(a), null, a);
  }
});
