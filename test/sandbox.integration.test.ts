// The hardened default sandbox against the real Docker engine with gVisor: isolation, limits,
// how runs end, and that nothing is left behind.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import { DockerEngine } from '../main/sandbox/docker-engine';
import type { Services } from '../main/services';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';
import { createTestHost, fetchPong, type TestHost } from './helpers/netns';

const skip = skipUnlessReady(await engineUnavailableReason(), 'sandbox integration tests');

describe('default sandbox (gVisor)', { skip }, () => {
  let services: Services & { dispose(): Promise<void> };

  before(async () => {
    services = await startServices();
  });
  after(async () => {
    await services.dispose();
  });
  afterEach(async () => {
    assert.deepEqual(await myContainers(), [], 'a sandbox container was left behind');
  });

  test('runs Python and reports exit code, output streams and gVisor runtime', async () => {
    const { run, stdout, stderr } = await runToEnd(services, {
      template: 'python',
      code: 'import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.exit(7)\n',
    });
    assert.equal(run.endReason, 'exited');
    assert.equal(run.exitCode, 7);
    assert.equal(stdout, 'out\n');
    assert.equal(stderr, 'err\n');
    assert.equal(run.runtime.gvisor, true);
    assert.equal(run.runcOptIn, false);
    assert.ok((run.durationMs ?? -1) >= 0);
  });

  test('stdin: the given text byte for byte, else /dev/null', async () => {
    const input = "3 4\nline with 'quotes' % \\ and é\n";
    const { run, stdout } = await runToEnd(services, {
      template: 'python',
      code: 'import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data == ' + JSON.stringify(input) + '.encode())\n',
      stdin: input,
    });
    assert.equal(run.endReason, 'exited');
    assert.equal(stdout, `${Buffer.byteLength(input)} True\n`);
    assert.equal((await services.handlers['runs.get']({ id: run.id })).run.stdin, input, 'kept with the run');
    const none = await runToEnd(services, { template: 'shell', code: 'wc -c' });
    assert.equal(none.stdout.trim(), '0');
  });

  describe('network', () => {
    let host: TestHost | null = null;
    let hostError: string | null = null;
    before(async () => {
      try {
        host = await createTestHost();
      } catch (err) {
        hostError = (err as Error).message;
      }
    });
    after(() => host?.close());

    test('a TCP connection out fails (while the same target answers the host)', async (t) => {
      if (!host) return t.skip(skipUnlessReady(`could not create a network-namespace test host: ${hostError}`, 'the TCP test'));
      assert.equal(await fetchPong(host.address, host.port), 'pong', 'positive control: the test host answers from outside');
      const { run, stdout } = await runToEnd(services, {
        template: 'python',
        code: [
          'import socket',
          'try:',
          `    s = socket.create_connection(("${host.address}", ${host.port}), timeout=3)`,
          '    print("CONNECTED", s.recv(10))',
          'except OSError as e:',
          '    print("BLOCKED", type(e).__name__, e)',
        ].join('\n'),
      });
      assert.equal(run.endReason, 'exited');
      assert.match(stdout, /^BLOCKED /);
    });

    test('name resolution fails and there is no interface but loopback', async () => {
      const { stdout } = await runToEnd(services, {
        template: 'python',
        code: [
          'import socket',
          'try:',
          '    print("RESOLVED", socket.getaddrinfo("example.com", 443))',
          'except OSError as e:',
          '    print("NORESOLVE", e)',
          'print("IFACES", sorted(n for _, n in socket.if_nameindex()))',
        ].join('\n'),
      });
      assert.match(stdout, /^NORESOLVE /m);
      assert.match(stdout, /^IFACES \[('lo')?\]$/m);
    });
  });

  test('the root filesystem is read-only and only the tmpfs mounts are writable', async () => {
    const { stdout } = await runToEnd(services, {
      template: 'shell',
      code: [
        'for p in /x /usr/x /etc/x; do if touch "$p" 2>/dev/null; then echo "WROTE $p"; else echo "DENIED $p"; fi; done',
        'echo data > /work/f && cat /work/f',
        'echo t > /tmp/f && cat /tmp/f',
        'awk \'$2=="/" {print "ROOTMOUNT", $4}\' /proc/mounts',
        'id -u',
      ].join('\n'),
    });
    assert.match(stdout, /DENIED \/x\nDENIED \/usr\/x\nDENIED \/etc\/x\n/);
    assert.match(stdout, /^data$/m);
    assert.match(stdout, /^t$/m);
    assert.match(stdout, /^ROOTMOUNT ro\b/m);
    assert.match(stdout, /^65534$/m, 'runs as nobody, not root');
  });

  test("/etc/shadow is the image's, not the host's, and is unreadable", async () => {
    const host = statSync('/etc/shadow');
    const { stdout } = await runToEnd(services, {
      template: 'python',
      code: [
        'import os',
        'st = os.stat("/etc/shadow")',
        'print("STAT", st.st_size, int(st.st_mtime), st.st_ino)',
        'try:',
        '    open("/etc/shadow").read(); print("READABLE")',
        'except OSError as e:',
        '    print("UNREADABLE", e.errno)',
      ].join('\n'),
    });
    assert.match(stdout, /^UNREADABLE 13$/m);
    const m = /^STAT (\d+) (\d+) (\d+)$/m.exec(stdout);
    assert.ok(m, stdout);
    const same = Number(m[1]) === host.size && Number(m[2]) === Math.floor(host.mtimeMs / 1000) && Number(m[3]) === host.ino;
    assert.equal(same, false, 'the sandbox sees the host /etc/shadow');
  });

  test("the kernel is gVisor's, and capabilities are all dropped", async () => {
    const { stdout } = await runToEnd(services, {
      template: 'shell',
      code: 'dmesg 2>/dev/null | head -1\ngrep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status\n',
    });
    assert.match(stdout, /Starting gVisor/);
    assert.match(stdout, /CapPrm:\s+0+\n/);
    assert.match(stdout, /CapEff:\s+0+\n/);
    assert.match(stdout, /CapBnd:\s+0+\n/);
  });

  test('allocating 2 GB under a 256 MB limit ends as OOM-killed', async () => {
    const { run } = await runToEnd(services, {
      template: 'python',
      code: 'b = bytearray(2 * 1024 ** 3)\nprint("ALLOCATED")\n',
      limits: { memoryMb: 256 },
    });
    assert.equal(run.endReason, 'oom');
    assert.equal(run.exitCode, null, 'the program did not exit: it was killed');
  });

  test('an infinite loop ends at the timeout', async () => {
    const { run } = await runToEnd(services, { template: 'python', code: 'while True:\n    pass\n', limits: { timeoutMs: 2000 } });
    assert.equal(run.endReason, 'timeout');
    assert.ok(run.durationMs! >= 2000 && run.durationMs! < 10_000, `duration ${run.durationMs}`);
  });

  test('output past the cap stops the sandbox by default and is truncated', async () => {
    const { run, stdout } = await runToEnd(services, {
      template: 'python',
      code: 'import sys\nwhile True:\n    sys.stdout.write("x" * 65536)\n',
      limits: { outputBytes: 100_000 },
    });
    assert.equal(run.endReason, 'output-limit');
    assert.equal(run.truncated, true);
    assert.equal(stdout.length, 100_000);
  });

  test('cancel stops a running sandbox', async () => {
    const rec = await services.sandboxes.run({ template: 'shell', code: 'echo begin\nsleep 60\necho never\n' });
    await new Promise<void>((resolve) => {
      const off = services.onEvent((e, p) => {
        if (e === 'run.output' && (p as { runId: string }).runId === rec.id) {
          off();
          resolve();
        }
      });
    });
    const t0 = Date.now();
    assert.deepEqual(await services.handlers['sandbox.cancel']({ runId: rec.id }), { cancelled: true });
    const run = (await services.sandboxes.whenDone(rec.id))!;
    assert.equal(run.endReason, 'cancelled');
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(await services.handlers['sandbox.cancel']({ runId: rec.id }), { cancelled: false });
  });

  test('the container is created with the whole hardened profile', async () => {
    const rec = await services.sandboxes.run({
      template: 'shell',
      code: 'echo up; sleep 30',
      limits: { memoryMb: 300, cpus: 0.5, processes: 50 },
    });
    try {
      const engine = new DockerEngine();
      let id: string | undefined;
      for (let i = 0; i < 100 && !id; i++) {
        id = (await engine.listManaged()).find((c) => c.labels['moat.run'] === rec.id)?.id;
        if (!id) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(id, 'the run has a labelled container');
      const info = await engine.docker.getContainer(id).inspect();
      const h = info.HostConfig;
      assert.equal(h.Runtime, 'runsc');
      assert.equal(h.NetworkMode, 'none');
      assert.equal(h.ReadonlyRootfs, true);
      assert.deepEqual(h.CapDrop, ['ALL']);
      assert.deepEqual(h.CapAdd ?? null, null);
      assert.equal(h.Privileged, false);
      assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
      assert.equal(h.Memory, 300 * 1024 * 1024);
      assert.equal(h.MemorySwap, h.Memory, 'no swap');
      assert.equal(h.NanoCpus, 0.5e9);
      assert.ok((h.PidsLimit ?? 0) >= 100, 'PID limit set, above what gVisor itself needs');
      assert.deepEqual(
        h.Ulimits?.find((u) => u.Name === 'nproc'),
        { Name: 'nproc', Soft: 50, Hard: 50 },
      );
      assert.deepEqual(h.LogConfig, { Type: 'none', Config: {} });
      assert.deepEqual(h.Binds ?? [], []);
      assert.deepEqual(info.Mounts, [], 'no host paths, no Docker socket');
      assert.deepEqual(Object.keys(h.Tmpfs ?? {}).sort(), ['/tmp', '/work']);
      assert.match(info.Config.User, /^65534(:65534)?$/);
      assert.equal(info.Config.Labels['moat.managed'], 'true');
    } finally {
      services.sandboxes.cancel(rec.id);
      await services.sandboxes.whenDone(rec.id);
    }
  });

  test('process and open-file limits reach the program', async () => {
    const { stdout } = await runToEnd(services, {
      template: 'python',
      code: 'import resource as r\nprint(r.getrlimit(r.RLIMIT_NPROC)[0])\nprint(r.getrlimit(r.RLIMIT_NOFILE)[0])\n',
      limits: { processes: 77, cpus: 0.5, memoryMb: 300 },
    });
    assert.equal(stdout, '77\n1024\n');
  });
});
