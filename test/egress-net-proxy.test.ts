// Moat's filtering proxy (main/egress/net/proxy.ts) on a unix socket, driven from the test: HTTP
// CONNECT, SOCKS5 with names resolved by the proxy, plain HTTP, names resolved through a DNS
// server the test runs, rebinding, metadata, TLS server names. Every target is on loopback: the
// allowlist lets 127.0.0.1 through only on the test servers' ports (a CIDR rule), so a name that
// resolves to loopback on another port is a rebinding attempt.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { parseAllowEntry, type AllowRule } from '../shared/egress';
import { findNetfwd, openEgressNet, SANDBOX_NET_DIR, SANDBOX_NETFWD, SOCKET_NAME } from '../main/egress/net/open';
import { startEgressProxy, type EgressProxy } from '../main/egress/net/proxy';
import { peekClientHello } from '../main/egress/net/tls';
import type { RefusedConnection } from '../main/egress/net/types';
import { startTestDns, type TestDns } from './helpers/dns-server';

function listen(server: Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));
}

/** Collects what a socket receives until it closes (or `ms` pass). */
function drain(s: Socket, ms = 3000): Promise<Buffer> {
  return new Promise((res) => {
    const parts: Buffer[] = [];
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      res(Buffer.concat(parts));
    });
  });
}

/** Reads until `n` bytes or the end of the HTTP head. */
function readHead(s: Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((res, rej) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const at = buf.indexOf('\r\n\r\n');
      if (at >= 0) {
        s.off('data', onData);
        s.pause();
        res({ head: buf.subarray(0, at).toString('latin1'), rest: buf.subarray(at + 4) });
      }
    };
    s.on('data', onData);
    s.resume();
    s.once('close', () => rej(new Error(`closed before a response: ${JSON.stringify(buf.toString('latin1'))}`)));
  });
}

function readN(s: Socket, n: number): Promise<Buffer> {
  return new Promise((res, rej) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) {
        s.off('data', onData);
        s.pause();
        if (buf.length > n) s.unshift(buf.subarray(n));
        res(buf.subarray(0, n));
      }
    };
    s.on('data', onData);
    s.resume();
    s.once('close', () => rej(new Error(`closed after ${buf.length} of ${n} bytes`)));
  });
}

describe('egress proxy', () => {
  let dir: string;
  let sock: string;
  let proxy: EgressProxy;
  let dns: TestDns;
  const refused: RefusedConnection[] = [];
  const servers: Server[] = [];
  let pongPort = 0;
  let otherPort = 0;
  let echoPort = 0;
  let webPort = 0;
  let tlsPort = 0;
  const webSeen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const tlsSeen: (string | null)[] = [];

  before(async () => {
    const pong = createServer((s) => s.end('pong'));
    const other = createServer((s) => s.end('other'));
    // echoes everything, and ends when the client has ended (half-close)
    const echo = createServer({ allowHalfOpen: true }, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(Buffer.concat(parts)));
    });
    const web = createHttpServer((req, res) => {
      webSeen.push({ url: req.url ?? '', headers: req.headers });
      res.end(`hello from ${req.url}`);
    });
    // records the server name of the ClientHello it receives, then closes
    const tlsish = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const p = peekClientHello(buf);
        if (p.kind === 'hello') {
          tlsSeen.push(p.sni);
          s.destroy();
        }
      });
      s.on('error', () => {});
    });
    servers.push(pong, other, echo, web, tlsish);
    [pongPort, otherPort, echoPort, webPort, tlsPort] = await Promise.all([
      listen(pong),
      listen(other),
      listen(echo),
      listen(web as unknown as Server),
      listen(tlsish),
    ]);
    dns = await startTestDns({
      'ok.test': ['127.0.0.1'],
      'denied.test': ['127.0.0.1'],
      'rebind.test': ['127.0.0.1'],
      'meta.test': ['169.254.169.254'],
      'mixed.test': ['93.184.216.34', '127.0.0.1'],
      'web.test': ['127.0.0.1'],
      'tls.test': ['127.0.0.1'],
      'echo.test': ['127.0.0.1'],
    });
    const allow: AllowRule[] = [
      'ok.test',
      'rebind.test',
      'meta.test',
      'mixed.test',
      'web.test',
      'tls.test',
      'echo.test',
      'missing.test',
      `127.0.0.1:${pongPort}`,
      `127.0.0.1:${echoPort}`,
      `127.0.0.1:${webPort}`,
      `127.0.0.1:${tlsPort}`,
    ].map((e) => parseAllowEntry(e)!);
    dir = mkdtempSync(join(tmpdir(), 'moat-proxy-test-'));
    sock = join(dir, 'proxy.sock');
    proxy = await startEgressProxy({
      socketPath: sock,
      rules: allow,
      dnsServers: [dns.server],
      onRefused: (ev) => refused.push(ev),
      maxConnections: 8,
      handshakeTimeoutMs: 5000,
      tlsOnlyPorts: [tlsPort],
    });
  });

  after(async () => {
    await proxy.close();
    await dns.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function httpConnect(target: string): Promise<{ status: number; head: string; s: Socket; rest: Buffer }> {
    const s = connect(sock);
    s.on('error', () => {});
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const { head, rest } = await readHead(s);
    return { status: Number(head.split(' ')[1]), head, s, rest };
  }

  function lastRefusal(): RefusedConnection {
    const r = refused.at(-1);
    assert.ok(r, 'onRefused was called');
    return r;
  }

  it('HTTP CONNECT to an allowed name: the destination answers', async () => {
    const c = await httpConnect(`ok.test:${pongPort}`);
    assert.equal(c.status, 200);
    c.s.resume();
    const body = Buffer.concat([c.rest, await drain(c.s)]).toString();
    assert.equal(body, 'pong');
    assert.ok(dns.queries.includes('ok.test/A'), 'the name was resolved through the test DNS');
  });

  it('HTTP CONNECT to a name not allowed: 403 with a reason, and an alert', async () => {
    const n = refused.length;
    const c = await httpConnect(`denied.test:${pongPort}`);
    assert.equal(c.status, 403);
    c.s.resume();
    const body = Buffer.concat([c.rest, await drain(c.s)]).toString();
    assert.match(body, /not in the allowlist/);
    assert.equal(refused.length, n + 1);
    assert.deepEqual(lastRefusal(), { destination: 'denied.test', port: pongPort, reason: 'not in the allowlist' });
  });

  it('an allowed name that resolves to loopback on a port no rule allows is refused (rebinding)', async () => {
    const c = await httpConnect(`rebind.test:${otherPort}`);
    assert.equal(c.status, 403);
    c.s.destroy();
    assert.equal(lastRefusal().destination, 'rebind.test');
    assert.match(lastRefusal().reason, /resolves to 127\.0\.0\.1 \(loopback\)/);
  });

  it('one loopback address among public ones refuses the name', async () => {
    const c = await httpConnect(`mixed.test:${otherPort}`);
    assert.equal(c.status, 403);
    c.s.destroy();
    assert.match(lastRefusal().reason, /mixed\.test resolves to 127\.0\.0\.1 \(loopback\)/);
  });

  it('the metadata address is refused, by address and by an allowed name', async () => {
    const a = await httpConnect('169.254.169.254:80');
    assert.equal(a.status, 403);
    a.s.destroy();
    assert.deepEqual(lastRefusal(), { destination: '169.254.169.254', port: 80, reason: 'not in the allowlist' });
    const b = await httpConnect('meta.test:80');
    assert.equal(b.status, 403);
    b.s.destroy();
    assert.match(lastRefusal().reason, /169\.254\.169\.254 \(link-local\)/);
  });

  it('addresses: the CIDR rule decides, ports included', async () => {
    const ok = await httpConnect(`127.0.0.1:${pongPort}`);
    assert.equal(ok.status, 200);
    ok.s.destroy();
    const no = await httpConnect(`127.0.0.1:${otherPort}`);
    assert.equal(no.status, 403);
    no.s.destroy();
    const v6 = await httpConnect(`[::1]:${pongPort}`);
    assert.equal(v6.status, 403);
    v6.s.destroy();
    assert.deepEqual(lastRefusal(), { destination: '::1', port: pongPort, reason: 'not in the allowlist' });
  });

  it('half-close passes through a tunnel', async () => {
    const c = await httpConnect(`echo.test:${echoPort}`);
    assert.equal(c.status, 200);
    c.s.resume();
    const got = drain(c.s);
    c.s.end('hello, half-closed');
    assert.equal((await got).toString(), 'hello, half-closed');
  });

  async function socks(atyp: 'name' | 'v4' | 'v6', host: string, port: number): Promise<{ rep: number; s: Socket }> {
    const s = connect(sock);
    s.on('error', () => {});
    s.write(Buffer.from([0x05, 0x01, 0x00]));
    assert.deepEqual([...(await readN(s, 2))], [0x05, 0x00]);
    let addr: Buffer;
    if (atyp === 'name') addr = Buffer.concat([Buffer.from([0x03, host.length]), Buffer.from(host)]);
    else if (atyp === 'v4') addr = Buffer.from([0x01, ...host.split('.').map(Number)]);
    else addr = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(15), Buffer.from([1])]); // ::1
    const p = Buffer.alloc(2);
    p.writeUInt16BE(port);
    s.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), addr, p]));
    const reply = await readN(s, 10);
    assert.equal(reply[0], 0x05);
    return { rep: reply[1]!, s };
  }

  it('SOCKS5 with a name the proxy resolves: allowed answers, others get reply 0x02', async () => {
    const ok = await socks('name', 'ok.test', pongPort);
    assert.equal(ok.rep, 0x00);
    ok.s.resume();
    assert.equal((await drain(ok.s)).toString(), 'pong');
    const no = await socks('name', 'denied.test', pongPort);
    assert.equal(no.rep, 0x02);
    no.s.destroy();
    assert.deepEqual(lastRefusal(), { destination: 'denied.test', port: pongPort, reason: 'not in the allowlist' });
    const rebind = await socks('name', 'rebind.test', otherPort);
    assert.equal(rebind.rep, 0x02);
    rebind.s.destroy();
  });

  it('SOCKS5 by address; a name that does not resolve is 0x04; a closed port is 0x05', async () => {
    const v4 = await socks('v4', '127.0.0.1', pongPort);
    assert.equal(v4.rep, 0x00);
    v4.s.destroy();
    const v6 = await socks('v6', '::1', pongPort);
    assert.equal(v6.rep, 0x02);
    v6.s.destroy();
    assert.deepEqual(lastRefusal(), { destination: '::1', port: pongPort, reason: 'not in the allowlist' });
    const n = refused.length;
    const nx = await socks('name', 'missing.test', pongPort);
    assert.equal(nx.rep, 0x04);
    nx.s.destroy();
    assert.equal(refused.length, n, 'a failure to resolve is not a refusal');
    // a port in the allowlist where nothing listens
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const p2 = await startEgressProxy({ port: 0, rules: [parseAllowEntry(`127.0.0.1:${port}`)!], onRefused: () => {} });
    try {
      const s = connect(p2.port!, '127.0.0.1');
      s.write(Buffer.from([0x05, 0x01, 0x00]));
      await readN(s, 2);
      s.write(Buffer.from([0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, port >> 8, port & 0xff]));
      const reply = await readN(s, 10);
      assert.equal(reply[1], 0x05);
      s.destroy();
    } finally {
      await p2.close();
    }
  });

  it('plain HTTP: forwarded in origin form to an allowed host, 403 otherwise', async () => {
    const s = connect(sock);
    s.write(`GET http://web.test:${webPort}/path?q=1 HTTP/1.1\r\nHost: web.test:${webPort}\r\nProxy-Connection: keep-alive\r\n\r\n`);
    const text = (await drain(s)).toString();
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /hello from \/path\?q=1$/);
    assert.equal(webSeen.at(-1)!.url, '/path?q=1');
    assert.equal(webSeen.at(-1)!.headers['proxy-connection'], undefined);
    assert.equal(webSeen.at(-1)!.headers.connection, 'close');
    const d = connect(sock);
    d.write(`GET http://denied.test:${webPort}/ HTTP/1.1\r\nHost: denied.test\r\n\r\n`);
    const refusedText = (await drain(d)).toString();
    assert.match(refusedText, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(refusedText, /denied\.test:\d+ refused: not in the allowlist/);
  });

  function tlsThrough(target: string, servername: string): Promise<{ error: string | null }> {
    return httpConnect(target).then(
      (c) =>
        new Promise((res) => {
          assert.equal(c.status, 200);
          const t = tlsConnect({ socket: c.s, servername, rejectUnauthorized: false });
          const done = (error: string | null): void => {
            t.destroy();
            res({ error });
          };
          t.on('error', (e) => done(e.message));
          t.on('close', () => done('closed'));
          t.on('secureConnect', () => done(null));
        }),
    );
  }

  it('TLS: the ClientHello reaches the server when its name is the one asked for', async () => {
    const before = tlsSeen.length;
    const r = await tlsThrough(`tls.test:${tlsPort}`, 'tls.test');
    // the fake server hangs up after reading the hello: a disconnect, not a refusal
    assert.doesNotMatch(r.error ?? '', /access denied/i);
    assert.deepEqual(tlsSeen.slice(before), ['tls.test']);
  });

  it('TLS: another server name is refused with a TLS alert, and nothing reaches the server', async () => {
    const before = tlsSeen.length;
    const r = await tlsThrough(`tls.test:${tlsPort}`, 'evil.test');
    assert.match(r.error ?? '', /access denied/i);
    assert.deepEqual(lastRefusal(), {
      destination: 'tls.test',
      port: tlsPort,
      reason: 'TLS server name evil.test does not match tls.test',
    });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(tlsSeen.length, before);
  });

  it('TLS to an allowed address: a server name not in the allowlist is refused, an allowed one passes', async () => {
    const bad = await tlsThrough(`127.0.0.1:${tlsPort}`, 'evil.test');
    assert.match(bad.error ?? '', /access denied/i);
    assert.match(lastRefusal().reason, /TLS server name evil\.test is not in the allowlist/);
    const before = tlsSeen.length;
    await tlsThrough(`127.0.0.1:${tlsPort}`, 'tls.test');
    assert.deepEqual(tlsSeen.slice(before), ['tls.test']);
  });

  it('a port that carries TLS only: a tunnel that does not start with a ClientHello is closed and reported', async () => {
    const before = tlsSeen.length;
    const c = await httpConnect(`tls.test:${tlsPort}`);
    assert.equal(c.status, 200);
    c.s.resume();
    const got = drain(c.s);
    c.s.write('GET / HTTP/1.1\r\nHost: tls.test\r\n\r\n');
    assert.equal((await got).length, 0);
    assert.deepEqual(lastRefusal(), {
      destination: 'tls.test',
      port: tlsPort,
      reason: `port ${tlsPort} carries TLS only, and the client did not start a TLS handshake`,
    });
    assert.equal(tlsSeen.length, before);
  });

  it('connections above the cap are closed at once; the count goes back down', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const s = connect(sock);
      s.on('error', () => {});
      held.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(proxy.connections(), 8);
    const extra = connect(sock);
    extra.on('error', () => {});
    const got = await drain(extra, 2000);
    assert.equal(got.length, 0);
    assert.ok(extra.destroyed);
    held.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proxy.connections(), 0);
  });

  it('counts refusals', () => {
    assert.equal(proxy.refused(), refused.length);
    assert.ok(refused.length >= 10);
  });
});

describe('openEgressNet', () => {
  it('a per-run socket the sandbox user can reach, the mounts, the prelude; close removes it all', async () => {
    const fake = join(mkdtempSync(join(tmpdir(), 'moat-netfwd-')), 'moat-netfwd');
    writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    const net = await openEgressNet({
      runId: 'r1',
      allow: [parseAllowEntry('example.com:443')!],
      onRefused: () => {},
      netfwdPath: fake,
    });
    const dirMount = net.mounts.find((m) => m.Target === SANDBOX_NET_DIR)!;
    assert.deepEqual(
      net.mounts.map((m) => [m.Target, m.ReadOnly]),
      [
        [SANDBOX_NET_DIR, true],
        [SANDBOX_NETFWD, true],
      ],
    );
    assert.equal(net.mounts[1]!.Source, fake);
    assert.equal(statSync(dirMount.Source).mode & 0o777, 0o711);
    const sockPath = join(dirMount.Source, SOCKET_NAME);
    assert.ok(statSync(sockPath).isSocket());
    assert.equal(statSync(sockPath).mode & 0o777, 0o666);
    assert.match(net.prelude[0]!, /^\/usr\/local\/bin\/moat-netfwd 127\.0\.0\.1:3128 \/run\/moat-net\/proxy\.sock /);
    assert.ok(net.prelude.some((l) => l.includes('HTTPS_PROXY=http://127.0.0.1:3128')));
    assert.ok(net.prelude.some((l) => l.includes('ALL_PROXY=socks5h://127.0.0.1:3128')));
    // the prelude is valid sh
    execFileSync('sh', ['-n', '-c', net.prelude.join('\n')]);
    // the proxy answers there
    const s = connect(sockPath);
    s.write('CONNECT denied.example:443 HTTP/1.1\r\n\r\n');
    assert.match((await drain(s)).toString(), /^HTTP\/1\.1 403/);
    assert.equal(net.refused(), 1);
    await net.close();
    await net.close();
    assert.equal(existsSync(dirMount.Source), false);
    rmSync(dirname(fake), { recursive: true, force: true });
  });

  it('the forwarder: MOAT_NETFWD first; a missing one is an error that says how to build it', async () => {
    assert.throws(
      () => findNetfwd({ MOAT_NETFWD: '/nonexistent/moat-netfwd' }),
      (err: Error & { fix?: string }) => /not at \/nonexistent\/moat-netfwd/.test(err.message) && /build-netfwd\.sh/.test(err.fix ?? ''),
    );
    await assert.rejects(openEgressNet({ runId: 'r2', allow: [], onRefused: () => {}, netfwdPath: '/bin/true' }), /empty allowlist/);
  });
});
