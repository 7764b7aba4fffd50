// Network egress end to end, in real gVisor sandboxes: the probe program (selftest.ts) runs inside
// a sandbox under the egress runtime (runsc --network=none --host-uds=open) with the proxy's
// socket and the forwarder mounted, against a TCP server in a network namespace the test creates,
// with names resolved by a DNS server the test runs. Only the allowed destination answers; every
// other probe is refused, and each refusal at the proxy is reported (onRefused). Then the same
// probes in a default sandbox (runsc, no network, no proxy): every one fails.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { parseAllowEntry, type AllowRule, type EgressTestReport } from '../shared/egress';
import { DEFAULT_LIMITS } from '../shared/types';
import { findNetfwd, openEgressNet } from '../main/egress/net/open';
import { buildReport, probeSource, type ProbeTargets } from '../main/egress/net/selftest';
import { EGRESS_RUNTIME, type EgressNet, type RefusedConnection } from '../main/egress/net/types';
import { programScript, newExitNonce } from '../main/sandbox/bootstrap';
import { hardenedCreateOptions } from '../main/sandbox/profile';
import { findTemplate } from '../main/sandbox/templates';
import { startTestDns, type TestDns } from './helpers/dns-server';
import { skipUnlessReady } from './helpers/engine';
import { createTestHost, fetchPong, type TestHost } from './helpers/netns';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
const template = findTemplate('python')!;

async function unavailable(): Promise<string | null> {
  let info: { Runtimes?: Record<string, { runtimeArgs?: string[] }> };
  try {
    info = (await docker.info()) as typeof info;
  } catch (err) {
    return `Docker engine not reachable (${(err as Error).message})`;
  }
  const rt = info.Runtimes?.[EGRESS_RUNTIME];
  if (!rt) return `the ${EGRESS_RUNTIME} runtime is not registered (docker info); run \`bash scripts/setup.sh\``;
  if (!info.Runtimes?.runsc) return 'the runsc runtime is not registered; run `bash scripts/setup.sh`';
  try {
    findNetfwd();
  } catch (err) {
    return (err as Error).message;
  }
  if (process.getuid?.() !== 0) return 'network namespaces (test/helpers/netns.ts) need root';
  for (const image of [template.localImage, template.officialImage]) {
    try {
      await docker.getImage(image).inspect();
      return null;
    } catch {
      // try the next
    }
  }
  return `no image for the python template (${template.localImage})`;
}

async function pythonImage(): Promise<string> {
  for (const image of [template.localImage, template.officialImage]) {
    try {
      await docker.getImage(image).inspect();
      return image;
    } catch {
      // next
    }
  }
  throw new Error('no python image');
}

/** Runs the probe program in a sandbox; returns its stdout. */
async function runProbes(code: string, runtime: string, net: EgressNet | null): Promise<{ stdout: string; stderr: string }> {
  const opts = hardenedCreateOptions({
    template,
    image: await pythonImage(),
    runtime,
    limits: DEFAULT_LIMITS,
    runId: null,
    sandboxKey: `egress-net-test-${process.pid}-${Date.now()}`,
  });
  if (net) opts.HostConfig!.Mounts = [...(opts.HostConfig!.Mounts ?? []), ...net.mounts];
  const script = (net ? net.prelude.join('\n') + '\n' : '') + programScript({ template, code, deadlineMs: 60_000 }, newExitNonce());
  const c = await docker.createContainer(opts);
  try {
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream;
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    docker.modem.demuxStream(stream, out, err);
    await c.start();
    stream.write(script);
    (stream as unknown as { end(): void }).end();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.wait(),
        new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('sandbox did not end in 90 s')), 90_000))),
      ]);
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 200));
    return { stdout, stderr };
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

function byId(r: EgressTestReport): Record<string, EgressTestReport['probes'][number]> {
  return Object.fromEntries(r.probes.map((p) => [p.id, p]));
}

const reason = await unavailable();

describe('network egress in gVisor sandboxes', { skip: skipUnlessReady(reason, 'the egress network integration tests') }, () => {
  let host: TestHost;
  let dns: TestDns;
  let loop: Server;
  let loopPort = 0;
  let targets: ProbeTargets;
  let allowNet: string[];

  before(async () => {
    host = await createTestHost();
    loop = createServer((s) => s.end('loopback'));
    await new Promise<void>((r) => loop.listen(0, '::', () => r()));
    loopPort = (loop.address() as AddressInfo).port;
    dns = await startTestDns({
      'pong.test': [host.address],
      'denied.test': [host.address],
      'loop.test': ['127.0.0.1'],
    });
    const hostSide = host.address.replace(/\.2$/, '.1');
    allowNet = [`pong.test:${host.port}`, `${host.address}/32:${host.port}`, 'loop.test'];
    targets = {
      rawIp: { host: host.address, port: host.port },
      dnsName: 'pong.test',
      denied: { host: 'denied.test', port: host.port, resolvesTo: [host.address] },
      allowed: { host: 'pong.test', port: host.port, resolvesTo: [host.address] },
      privateAddr: { host: hostSide, port: host.port },
      metadata: { host: '169.254.169.254', port: 80 },
      ipv6: { host: '::1', port: loopPort },
      loopbackName: { host: 'loop.test', port: loopPort, resolvesTo: ['127.0.0.1'] },
      timeoutMs: 5000,
    };
    // positive controls: from the host, the test host and the loopback server answer
    assert.equal(await fetchPong(host.address, host.port), 'pong');
    assert.equal(await fetchPong('::1', loopPort), 'loopback');
  });

  after(async () => {
    host?.close();
    await dns?.close();
    loop?.close();
  });

  it('with an allowlist, only the allowed destination answers; the rest are refused and reported', async (t) => {
    const refused: RefusedConnection[] = [];
    const rules = allowNet.map((e) => parseAllowEntry(e)).filter((r): r is AllowRule => r !== null);
    const net = await openEgressNet({
      runId: 'egress-net-test',
      allow: rules,
      dnsServers: [dns.server],
      onRefused: (ev) => refused.push(ev),
    });
    let got: { stdout: string; stderr: string };
    try {
      got = await runProbes(probeSource(targets), EGRESS_RUNTIME, net);
    } finally {
      await net.close();
    }
    const report = buildReport('egress-net-test', allowNet, got.stdout, targets);
    const p = byId(report);
    const summary = JSON.stringify(report.probes, null, 1) + '\nstderr: ' + got.stderr;
    for (const probe of report.probes) t.diagnostic(`${probe.id}: ${probe.declared}/${probe.enforced} ${probe.detail}`);
    assert.equal(p.allowed?.declared, 'allowed', summary);
    assert.equal(p.allowed?.enforced, 'allowed', summary);
    assert.match(p.allowed!.detail, /answered: pong/, summary);
    for (const id of ['raw-ip', 'dns', 'denied-domain', 'private', 'metadata', 'ipv6', 'rebinding']) {
      assert.equal(p[id]?.declared, 'refused', `${id}: ${summary}`);
      assert.equal(p[id]?.enforced, 'refused', `${id}: ${summary}`);
    }
    assert.ok(report.pass, summary);
    // Every refusal at the proxy became an event with its destination and port.
    const seen = refused.map((r) => `${r.destination}:${r.port}`).sort();
    assert.deepEqual(
      seen,
      [
        `denied.test:${host.port}`,
        `${targets.privateAddr.host}:${host.port}`,
        '169.254.169.254:80',
        `::1:${loopPort}`,
        `loop.test:${loopPort}`,
      ].sort(),
      JSON.stringify(refused),
    );
    assert.match(refused.find((r) => r.destination === 'loop.test')!.reason, /resolves to 127\.0\.0\.1 \(loopback\)/);
    assert.ok(
      dns.queries.some((q) => q.startsWith('pong.test/')),
      'names were resolved by the proxy through the test DNS',
    );
  });

  it('with the default policy (runsc, no network, no proxy) every probe fails', async (t) => {
    const got = await runProbes(probeSource(targets), 'runsc', null);
    const report = buildReport('egress-net-default', [], got.stdout, targets);
    const summary = JSON.stringify(report.probes, null, 1) + '\nstderr: ' + got.stderr;
    for (const probe of report.probes) t.diagnostic(`${probe.id}: ${probe.declared}/${probe.enforced} ${probe.detail}`);
    assert.equal(report.probes.length, 8, summary);
    for (const probe of report.probes) {
      assert.equal(probe.declared, 'refused', summary);
      assert.equal(probe.enforced, 'refused', summary);
      assert.ok(probe.detail.includes('Error') || probe.detail.includes('error'), summary);
    }
    assert.ok(report.pass, summary);
  });

  it('large transfers both ways and half-close pass through the forwarder and the proxy', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');
    const down = createServer((s) => s.end(big));
    // counts what the client sends until it half-closes, then answers with the count
    const up = createServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('end', () => s.end(`got ${n}`));
    });
    await Promise.all([down, up].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))));
    const downPort = (down.address() as AddressInfo).port;
    const upPort = (up.address() as AddressInfo).port;
    const rules = [`127.0.0.1:${downPort}`, `127.0.0.1:${upPort}`].map((e) => parseAllowEntry(e)!);
    const net = await openEgressNet({ runId: 'egress-net-big', allow: rules, onRefused: () => {} });
    const code = `import hashlib, socket
def tunnel(port):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\\r\\n\\r\\n" % port)
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += s.recv(1)
    assert b" 200 " in head, head
    return s
s = tunnel(${downPort})
h = hashlib.sha256(); n = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    h.update(d); n += len(d)
print("DOWN", n, h.hexdigest())
s = tunnel(${upPort})
s.sendall(b"x" * (3 * 1024 * 1024))
s.shutdown(socket.SHUT_WR)
print("UP", s.recv(100).decode())
`;
    try {
      const got = await runProbes(code, EGRESS_RUNTIME, net);
      const sha = createHash('sha256').update(big).digest('hex');
      assert.match(got.stdout, new RegExp(`DOWN ${big.length} ${sha}`), got.stdout + got.stderr);
      assert.match(got.stdout, new RegExp(`UP got ${3 * 1024 * 1024}`), got.stdout + got.stderr);
    } finally {
      await net.close();
      down.close();
      up.close();
    }
  });

  it('the egress sandbox has no network device either (loopback only)', async () => {
    const rules = allowNet.map((e) => parseAllowEntry(e)!);
    const net = await openEgressNet({ runId: 'egress-net-dev', allow: rules, dnsServers: [dns.server], onRefused: () => {} });
    try {
      const code = "import socket\nprint('IFACES', sorted(n for _, n in socket.if_nameindex()))\n";
      const got = await runProbes(code, EGRESS_RUNTIME, net);
      assert.match(got.stdout, /IFACES \['lo'\]/, got.stdout + got.stderr);
    } finally {
      await net.close();
    }
  });
});
