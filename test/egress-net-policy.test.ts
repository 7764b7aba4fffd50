// The network allowlist as decisions (main/egress/net/policy.ts) and the TLS ClientHello reader
// (tls.ts), the latter on real ClientHello bytes from node:tls.
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, it } from 'node:test';
import { parseAllowEntry, type AllowRule } from '../shared/egress';
import {
  addressClass,
  checkAddress,
  checkName,
  checkResolved,
  formatIp,
  matchAddress,
  matchName,
  parseIp,
  unmapIp,
  type PolicyContext,
} from '../main/egress/net/policy';
import { buildReport, defaultProbeTargets, PROBE_PREFIX, PROBE_SOURCE, probeSource, type ProbeTargets } from '../main/egress/net/selftest';
import { peekClientHello } from '../main/egress/net/tls';

function rules(...entries: string[]): AllowRule[] {
  return entries.map((e) => {
    const r = parseAllowEntry(e);
    assert.ok(r, e);
    return r;
  });
}

describe('egress policy: names', () => {
  const r = rules('pypi.org:443', '*.example.com', 'intranet:8080');
  it('matches exact names, any case, trailing dot', () => {
    assert.ok(matchName(r, 'pypi.org', 443));
    assert.ok(matchName(r, 'PyPI.org.', 443));
    assert.equal(matchName(r, 'pypi.org', 80), null);
    assert.equal(matchName(r, 'evil-pypi.org', 443), null);
    assert.equal(matchName(r, 'pypi.org.evil.net', 443), null);
  });
  it('a wildcard matches subdomains at any depth, not the domain itself; no port means any port', () => {
    assert.ok(matchName(r, 'a.example.com', 1));
    assert.ok(matchName(r, 'a.b.example.com', 65535));
    assert.equal(matchName(r, 'example.com', 443), null);
    assert.equal(matchName(r, 'badexample.com', 443), null);
  });
  it('bare labels with their port', () => {
    assert.ok(matchName(r, 'intranet', 8080));
    assert.equal(matchName(r, 'intranet', 80), null);
  });
  it('rejects what is not a host name', () => {
    assert.equal(matchName(r, 'pypi.org/x', 443), null);
    assert.equal(matchName(r, '', 443), null);
    assert.equal(checkName({ rules: r }, 'a b', 443).allowed, false);
  });
  it('an address is never allowed by a domain rule', () => {
    assert.equal(checkName({ rules: r }, '93.184.216.34', 443).allowed, false);
    assert.equal(checkName({ rules: r }, '[::1]', 443).allowed, false);
  });
});

describe('egress policy: addresses and CIDRs', () => {
  const r = rules('10.1.0.0/16:80', '203.0.113.7', '[2001:db8::/32]:443', '[::1]:9');
  it('IPv4 CIDRs with and without ports', () => {
    assert.ok(matchAddress(r, '10.1.255.3', 80));
    assert.equal(matchAddress(r, '10.1.255.3', 81), null);
    assert.equal(matchAddress(r, '10.2.0.1', 80), null);
    assert.ok(matchAddress(r, '203.0.113.7', 22));
    assert.equal(matchAddress(r, '203.0.113.8', 22), null);
  });
  it('IPv6 CIDRs, and IPv4-mapped IPv6 against IPv4 rules', () => {
    assert.ok(matchAddress(r, '2001:db8:ffff::1', 443));
    assert.equal(matchAddress(r, '2001:db9::1', 443), null);
    assert.ok(matchAddress(r, '::ffff:10.1.2.3', 80));
    assert.ok(matchAddress(r, '::ffff:a01:203', 80));
    assert.ok(matchAddress(r, '::1', 9));
  });
  it('parses and formats', () => {
    assert.equal(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
    assert.equal(formatIp(unmapIp(parseIp('::ffff:127.0.0.1')!)), '127.0.0.1');
    assert.equal(parseIp('1.2.3'), null);
    assert.equal(parseIp('example.com'), null);
    assert.equal(formatIp(parseIp('[fe80::1%eth0]')!), 'fe80::1');
  });
  it('classes', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['fd12::1', 'private'],
      ['100.64.0.1', 'cgnat'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['64:ff9b::a9fe:a9fe', 'reserved'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['1.1.1.1', 'public'],
      ['2606:4700:4700::1111', 'public'],
    ];
    for (const [a, cls] of cases) assert.equal(addressClass(a), cls, a);
  });
});

describe('egress policy: decisions (rebinding, metadata, own ports)', () => {
  const ctx: PolicyContext = {
    rules: rules('api.example.com:443', 'lan.example.com', '10.9.0.0/16', 'loop.example.com'),
    protectedPorts: [7777],
    local: [parseIp('192.0.2.10')!],
  };
  it('an allowed name resolving to public addresses is allowed', () => {
    const d = checkResolved(ctx, 'api.example.com', 443, ['93.184.216.34', '2606:2800:220:1::1']);
    assert.equal(d.allowed, true);
  });
  it('an allowed name resolving to loopback, metadata or private addresses is refused (rebinding)', () => {
    for (const a of ['127.0.0.1', '::1', '169.254.169.254', '192.168.0.5', '::ffff:127.0.0.1', '0.0.0.0', 'fd00::5']) {
      const d = checkResolved(ctx, 'api.example.com', 443, [a]);
      assert.equal(d.allowed, false, a);
      assert.match((d as { reason: string }).reason, /resolves to/);
    }
  });
  it('one bad address refuses the name even among good ones', () => {
    const d = checkResolved(ctx, 'api.example.com', 443, ['93.184.216.34', '127.0.0.1']);
    assert.equal(d.allowed, false);
  });
  it('a private address a CIDR rule allows is allowed for an allowed name', () => {
    assert.equal(checkResolved(ctx, 'lan.example.com', 22, ['10.9.1.2']).allowed, true);
    assert.equal(checkResolved(ctx, 'lan.example.com', 22, ['10.8.1.2']).allowed, false);
  });
  it('addresses: only CIDR rules; metadata refused', () => {
    assert.equal(checkAddress(ctx, '10.9.3.4', 80).allowed, true);
    assert.equal(checkAddress(ctx, '93.184.216.34', 443).allowed, false);
    assert.equal(checkAddress(ctx, '169.254.169.254', 80).allowed, false);
  });
  it("Moat's own ports are refused on local addresses whatever the rules say", () => {
    const c2: PolicyContext = { ...ctx, rules: rules('127.0.0.0/8', '192.0.2.0/24') };
    assert.equal(checkAddress(c2, '127.0.0.1', 7777).allowed, false);
    assert.equal(checkAddress(c2, '192.0.2.10', 7777).allowed, false);
    assert.equal(checkAddress(c2, '192.0.2.11', 7777).allowed, true);
    assert.equal(checkAddress(c2, '127.0.0.1', 7778).allowed, true);
  });
  it('empty allowlist refuses everything', () => {
    const c0: PolicyContext = { rules: [] };
    assert.equal(checkName(c0, 'example.com', 443).allowed, false);
    assert.equal(checkName(c0, '1.1.1.1', 443).allowed, false);
  });
});

/** The first bytes node:tls sends as a client to a TCP server that never answers. */
async function realClientHello(opts: { servername?: string; host?: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const peek = peekClientHello(buf);
        if (peek.kind !== 'incomplete') {
          s.destroy();
          server.close();
          resolve(buf);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const c = tlsConnect({
        port,
        host: opts.host ?? '127.0.0.1',
        ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      });
      c.on('error', () => {});
      setTimeout(() => reject(new Error('no ClientHello')), 5000).unref();
    });
  });
}

describe('TLS ClientHello server name', () => {
  it('reads the SNI node:tls sends', async () => {
    const hello = await realClientHello({ servername: 'Pypi.org' });
    assert.deepEqual(peekClientHello(hello), { kind: 'hello', sni: 'pypi.org' });
  });
  it('no SNI when connecting to an address', async () => {
    const hello = await realClientHello({});
    assert.deepEqual(peekClientHello(hello), { kind: 'hello', sni: null });
  });
  it('incomplete while cut short, at any point', async () => {
    const hello = await realClientHello({ servername: 'a.example.com' });
    for (const n of [1, 3, 5, 6, 40, hello.length - 1]) assert.equal(peekClientHello(hello.subarray(0, n)).kind, 'incomplete', String(n));
  });
  it('reassembles a hello split over two records', async () => {
    const hello = await realClientHello({ servername: 'split.example.com' });
    const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
    const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const two = Buffer.concat([rec(body.subarray(0, 50)), rec(body.subarray(50))]);
    assert.deepEqual(peekClientHello(two), { kind: 'hello', sni: 'split.example.com' });
  });
  it('not TLS, and malformed', () => {
    assert.deepEqual(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
    assert.deepEqual(peekClientHello(Buffer.from('SSH-2.0-x\r\n')), { kind: 'not-tls' });
    const bad = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]);
    assert.equal(peekClientHello(bad).kind, 'malformed');
  });
});

describe('runtime detection', () => {
  const runtimes = {
    runc: { path: 'runc' },
    runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--network=none'] },
    'runsc-egress': { path: '/usr/bin/runsc', runtimeArgs: ['--network=none', '--host-uds=open'] },
  };
  it('default runs never get a runtime that may open host sockets', async () => {
    const { findGvisorRuntime, findEgressRuntime } = await import('../main/sandbox/engine');
    assert.equal(findGvisorRuntime(runtimes), 'runsc');
    assert.equal(findGvisorRuntime({ 'runsc-egress': runtimes['runsc-egress'] }), undefined);
    assert.equal(findGvisorRuntime({ a: { path: '/usr/bin/runsc', runtimeArgs: ['--host-uds', 'all'] } }), undefined);
    assert.equal(findGvisorRuntime({ a: { path: '/usr/bin/runsc', runtimeArgs: ['--host-uds=none'] } }), 'a');
    assert.equal(findEgressRuntime(runtimes), 'runsc-egress');
    assert.equal(findEgressRuntime({ runsc: runtimes.runsc }), undefined);
    // a runtime with host sockets but a network of its own is not the egress runtime
    assert.equal(findEgressRuntime({ x: { path: '/usr/bin/runsc', runtimeArgs: ['--host-uds=open'] } }), undefined);
  });
});

describe('egress self-test report', () => {
  const line = (id: string, ok: boolean, detail = ''): string => `${PROBE_PREFIX}${JSON.stringify({ id, ok, detail })}`;

  it('default targets follow the allowlist; the program embeds them', () => {
    const t = defaultProbeTargets(['pypi.org:443', '*.example.net']);
    assert.deepEqual(t.allowed, { host: 'pypi.org', port: 443 });
    assert.equal(t.denied.host, 'example.com');
    assert.equal(defaultProbeTargets(['example.com']).denied.host, 'example.org');
    assert.equal(defaultProbeTargets([]).allowed, null);
    assert.deepEqual(defaultProbeTargets(['*.example.net:8443']).allowed, { host: 'www.example.net', port: 8443 });
    const src = probeSource(t);
    assert.match(src, /pypi\.org/);
    assert.match(src, /169\.254\.169\.254/);
    assert.equal(PROBE_SOURCE, probeSource(defaultProbeTargets()));
  });

  it('declared against enforced: pass when they agree, fail when not or when a probe is silent', () => {
    const allow = ['ok.example:443', 'loop.example'];
    const t: ProbeTargets = {
      rawIp: { host: '1.1.1.1', port: 443 },
      dnsName: 'ok.example',
      denied: { host: 'no.example', port: 443 },
      allowed: { host: 'ok.example', port: 443 },
      privateAddr: { host: '10.0.0.1', port: 80 },
      metadata: { host: '169.254.169.254', port: 80 },
      ipv6: { host: '2001:db8::1', port: 443 },
      loopbackName: { host: 'loop.example', port: 80, resolvesTo: ['127.0.0.1'] },
    };
    const all = ['raw-ip', 'dns', 'denied-domain', 'private', 'metadata', 'ipv6', 'rebinding'].map((id) => line(id, false, 'refused'));
    const good = buildReport('r', allow, ['noise', ...all, line('allowed', true, 'answered')].join('\n'), t);
    assert.equal(good.pass, true);
    assert.equal(good.probes.length, 8);
    const byId = Object.fromEntries(good.probes.map((p) => [p.id, p]));
    assert.equal(byId.allowed!.declared, 'allowed');
    assert.equal(byId.rebinding!.declared, 'refused');
    assert.match(byId.rebinding!.detail, /resolves to 127\.0\.0\.1 \(loopback\)/);
    assert.match(byId['raw-ip']!.target, /connect 1\.1\.1\.1:443 directly/);
    assert.match(byId.ipv6!.target, /\[2001:db8::1\]:443/);
    // a leak: the metadata address answered
    const leak = buildReport(
      'r',
      allow,
      [...all.filter((l) => !l.includes('"metadata"')), line('metadata', true), line('allowed', true)].join('\n'),
      t,
    );
    assert.equal(leak.pass, false);
    assert.deepEqual(
      leak.probes.filter((p) => !p.pass).map((p) => [p.id, p.declared, p.enforced]),
      [['metadata', 'refused', 'allowed']],
    );
    // the allowed one did not answer
    const blocked = buildReport('r', allow, [...all, line('allowed', false)].join('\n'), t);
    assert.deepEqual(
      blocked.probes.filter((p) => !p.pass).map((p) => p.id),
      ['allowed'],
    );
    // silent probes fail
    const silent = buildReport('r', allow, all.slice(0, 3).join('\n'), t);
    assert.equal(silent.pass, false);
    assert.match(silent.probes.find((p) => p.id === 'metadata')!.detail, /reported nothing/);
    // default policy: everything declared refused
    const none = buildReport('r', [], [...all, line('allowed', false)].join('\n'), t);
    assert.ok(none.probes.every((p) => p.declared === 'refused'));
    assert.equal(none.pass, true);
  });
});
