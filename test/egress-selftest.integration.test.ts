// Network egress through the whole product (Docker + gVisor, the runsc-egress runtime): the egress
// self-test API with the default policy (every probe refused) and with an allowlist (only the
// allowed destination answers, the rest refused and raised as network alerts with destination and
// port); a run with --allow-net through the real CLI path; "allow for this template" making the
// template's runs reach a destination with no allowlist of their own. Every target is in a network
// namespace the test creates or on loopback, names resolve through a DNS server the test runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import Docker from 'dockerode';
import type { ProbeTargets } from '../main/egress/net/selftest';
import type { RunRecord } from '../shared/types';
import { startTestDns, type TestDns } from './helpers/dns-server';
import { engineUnavailableReason, skipUnlessReady, startServices } from './helpers/engine';
import { createTestHost, type TestHost } from './helpers/netns';
import { fetchHostKey } from '../main/remote/ssh';
import { SshDockerEngine } from '../main/sandbox/docker-engine';
import { sshdUnavailableReason, startSshd } from './helpers/sshd';

async function unavailable(): Promise<string | null> {
  const engine = await engineUnavailableReason();
  if (engine) return engine;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const info = (await new Docker().info()) as { Runtimes?: Record<string, unknown> };
  if (!info.Runtimes?.['runsc-egress']) return 'the runsc-egress runtime is not registered (bash scripts/setup.sh registers it)';
  return null;
}

const reason = await unavailable();

describe(
  'egress self-test and allowlisted runs through the services',
  { skip: skipUnlessReady(reason, 'the egress self-test tests') },
  () => {
    let host: TestHost;
    let dns: TestDns;
    let loop: Server;
    let loopPort = 0;
    let s: Awaited<ReturnType<typeof startServices>>;
    let allowNet: string[];
    const saved = { dns: process.env.MOAT_EGRESS_DNS, targets: process.env.MOAT_EGRESS_TEST_TARGETS };

    before(async () => {
      host = await createTestHost();
      loop = createServer((c) => c.end('loopback'));
      await new Promise<void>((r) => loop.listen(0, '127.0.0.1', () => r()));
      loopPort = (loop.address() as AddressInfo).port;
      dns = await startTestDns({ 'pong.test': [host.address], 'denied.test': [host.address], 'loop.test': ['127.0.0.1'] });
      allowNet = [`pong.test:${host.port}`, `${host.address}/32:${host.port}`, 'loop.test'];
      const targets: ProbeTargets = {
        rawIp: { host: host.address, port: host.port },
        dnsName: 'pong.test',
        denied: { host: 'denied.test', port: host.port, resolvesTo: [host.address] },
        allowed: { host: 'pong.test', port: host.port, resolvesTo: [host.address] },
        privateAddr: { host: host.address.replace(/\.2$/, '.1'), port: host.port },
        metadata: { host: '169.254.169.254', port: 80 },
        ipv6: { host: '::1', port: loopPort },
        loopbackName: { host: 'loop.test', port: loopPort, resolvesTo: ['127.0.0.1'] },
        timeoutMs: 5000,
      };
      process.env.MOAT_EGRESS_DNS = dns.server;
      process.env.MOAT_EGRESS_TEST_TARGETS = JSON.stringify(targets);
      s = await startServices();
    });

    after(async () => {
      await s?.dispose();
      host?.close();
      await dns?.close();
      loop?.close();
      for (const [k, v] of [
        ['MOAT_EGRESS_DNS', saved.dns],
        ['MOAT_EGRESS_TEST_TARGETS', saved.targets],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('default policy: every probe is refused inside the sandbox, as declared', async () => {
      const r = await s.handlers['egress.test']({ allowNet: [] });
      const summary = JSON.stringify(r.probes, null, 1);
      assert.equal(r.pass, true, summary);
      assert.ok(r.probes.length >= 8, summary);
      for (const p of r.probes) assert.equal(p.enforced, 'refused', `${p.id}: ${summary}`);
    });

    it('with an allowlist: only the allowed destination answers; the refused ones are network alerts', async () => {
      const r = await s.handlers['egress.test']({ allowNet });
      const summary = JSON.stringify(r.probes, null, 1);
      assert.equal(r.pass, true, summary);
      const allowed = r.probes.find((p) => p.id === 'allowed')!;
      assert.equal(allowed.enforced, 'allowed', summary);
      assert.deepEqual(
        r.probes.filter((p) => p.enforced === 'allowed').map((p) => p.id),
        ['allowed'],
        summary,
      );
      const run = (await s.handlers['runs.get']({ id: r.runId })).run;
      assert.deepEqual(run.egress?.allowNet, allowNet);
      assert.ok((run.egress?.refused ?? 0) >= 5, JSON.stringify(run.egress));
      const alerts = await s.handlers['alerts.list']({ runId: r.runId, kind: 'network' });
      const seen = alerts.map((a) => `${a.destination}:${a.port}`).sort();
      assert.ok(seen.includes(`denied.test:${host.port}`), seen.join(' '));
      assert.ok(seen.includes('169.254.169.254:80'), seen.join(' '));
      const rebind = alerts.find((a) => a.destination === 'loop.test');
      assert.match(rebind?.reason ?? '', /loopback/);
      assert.equal(rebind?.rule, 'net-refused');
    });

    async function runPython(code: string, extra: Record<string, unknown> = {}): Promise<{ run: RunRecord; stdout: string }> {
      const { runId } = await s.handlers['sandbox.run']({ template: 'python', code, ...extra });
      const run = (await s.sandboxes.whenDone(runId))!;
      const detail = await s.handlers['runs.get']({ id: runId });
      return { run, stdout: detail.output.map((c) => c.data).join('') };
    }

    const FETCH = (name: string, port: number): string =>
      [
        'import os, socket',
        'p = os.environ.get("HTTP_PROXY", "")',
        'if not p: print("no proxy"); raise SystemExit(0)',
        'h, port = p.rsplit("/", 1)[-1].rsplit(":", 1)',
        's = socket.create_connection((h, int(port)), timeout=5)',
        `s.sendall(b"CONNECT ${name}:${port} HTTP/1.1\\r\\nHost: ${name}:${port}\\r\\n\\r\\n")`,
        // Everything until the proxy or the server closes: the reply and what follows may come in one piece.
        'data = b""',
        'while True:',
        '    try: chunk = s.recv(4096)',
        '    except OSError: break',
        '    if not chunk: break',
        '    data += chunk',
        'head, _, rest = data.decode("latin1").partition("\\r\\n\\r\\n")',
        'print(head.split("\\r\\n")[0])',
        'print(rest)',
      ].join('\n');

    it('a run without an allowlist has no proxy and no network; allowing the destination for its template lets the next run reach it', async () => {
      const before = await runPython(FETCH('pong.test', host.port));
      assert.equal(before.stdout.trim(), 'no proxy');
      assert.deepEqual(before.run.egress?.allowNet, []);
      await s.handlers['egress.allowForTemplate']({ template: 'python', entry: `pong.test:${host.port}` });
      await s.handlers['egress.allowForTemplate']({ template: 'python', entry: `${host.address}/32:${host.port}` });
      const after = await runPython(FETCH('pong.test', host.port));
      assert.match(after.stdout, /HTTP\/1\.1 200/, after.stdout);
      assert.match(after.stdout, /pong/, after.stdout);
      assert.deepEqual(after.run.egress?.allowNet, [`pong.test:${host.port}`, `${host.address}/32:${host.port}`]);
      const audit = await s.handlers['audit.list']({});
      assert.ok(audit.some((e) => e.action === 'egress.allow-for-template' && e.details.entry === `pong.test:${host.port}`));
      // And a destination still not allowed is refused with 403, and alerted.
      const denied = await runPython(FETCH('denied.test', host.port));
      assert.match(denied.stdout, /HTTP\/1\.1 403/, denied.stdout);
      const alerts = await s.handlers['alerts.list']({ runId: denied.run.id, kind: 'network' });
      assert.equal(alerts[0]?.destination, 'denied.test');
      await s.handlers['settings.update']({ templateAllowNet: {} });
    });

    it("on a remote host (SSH): the sandbox there reaches the allowed destination through Moat's proxy; the rest is refused", async (t) => {
      const noSshd = sshdUnavailableReason();
      if (noSshd) {
        t.skip(noSshd);
        return;
      }
      // OpenSSH's defaults (`yes` for both); the test server allows only local forwarding unless
      // told, and sshd lets a remote socket forward through only where remote TCP forwarding is allowed.
      const sshd = await startSshd({ extraConfig: ['AllowStreamLocalForwarding yes', 'AllowTcpForwarding yes'] });
      const hostKey = await fetchHostKey({ name: 'box', host: '127.0.0.1', port: sshd.port, user: 'root' });
      const engine = new SshDockerEngine({
        host: {
          name: 'box',
          user: 'root',
          host: '127.0.0.1',
          port: sshd.port,
          identity: { kind: 'vault', account: 'host-key:box', passphrase: false },
          hostKey,
          addedAt: Date.now(),
        },
        auth: async () => ({ privateKey: sshd.privateKey }),
      });
      const remote = await startServices({ engine });
      try {
        const run = async (name: string): Promise<{ run: RunRecord; stdout: string }> => {
          const { runId } = await remote.handlers['sandbox.run']({
            template: 'python',
            code: FETCH(name, host.port),
            allowNet: [`pong.test:${host.port}`, `${host.address}/32:${host.port}`],
          });
          const rec = (await remote.sandboxes.whenDone(runId))!;
          const detail = await remote.handlers['runs.get']({ id: runId });
          return { run: rec, stdout: detail.output.map((c) => c.data).join('') };
        };
        const ok = await run('pong.test');
        assert.equal(ok.run.target, 'ssh:box');
        assert.equal(ok.run.runtime.name, 'runsc', 'the record names the gVisor runtime family');
        assert.match(ok.stdout, /HTTP\/1\.1 200[^]*pong/, JSON.stringify(ok));
        const no = await run('denied.test');
        assert.match(no.stdout, /HTTP\/1\.1 403/, no.stdout);
        assert.equal(no.run.egress?.refused, 1);
        const [alert] = await remote.handlers['alerts.list']({ runId: no.run.id, kind: 'network' });
        assert.equal(alert?.destination, 'denied.test');
        assert.equal(alert?.target, 'ssh:box');
      } finally {
        await remote.dispose();
        engine.close();
        await sshd.close();
      }
    });

    it('bad allowlist entries are refused at the API with the reason', async () => {
      await assert.rejects(
        Promise.resolve().then(() =>
          s.handlers['sandbox.run']({ template: 'python', code: 'print(1)', allowNet: ['http://example.com/'] } as never),
        ),
        /allowed destination/,
      );
    });
  },
);
