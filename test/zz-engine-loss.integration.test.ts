// The Docker daemon dies in the middle of a run: the run ends as failed with a clear reason, the
// app keeps answering, and Moat reconnects by itself when the daemon is back. Runs last (zz-)
// because it stops the machine's real daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { MoatError } from '../shared/errors';
import { join } from 'node:path';
import { FileVault } from '../main/credentials/file-vault';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices, tempDir } from './helpers/engine';
import { sshdUnavailableReason, startSshd, type TestSshd } from './helpers/sshd';

const skip = skipUnlessReady(
  (await engineUnavailableReason()) ?? (process.getuid?.() === 0 ? null : 'stopping the Docker daemon needs root'),
  'the engine-loss test',
);

function dockerd(action: 'start' | 'stop' | 'kill'): void {
  execFileSync('bash', ['scripts/dockerd.sh', action], { stdio: 'inherit', timeout: 90_000 });
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// SIGTERM: the daemon kills its containers on the way down, and the run sees the sandbox end
// (status 137) a moment before the socket closes. SIGKILL: the connections simply break.
for (const [signal, action] of [
  ['SIGTERM', 'stop'],
  ['SIGKILL', 'kill'],
] as const) {
  describe(`Docker daemon lost mid-run (${signal})`, { skip }, () => {
    let services: Awaited<ReturnType<typeof startServices>>;
    before(async () => {
      services = await startServices({ pool: true, healthIntervalMs: 300 });
    });
    after(async () => {
      dockerd('start');
      await services.dispose();
    });

    test('fails the run with the reason (never exited), keeps serving, and reconnects', async () => {
      await services.sandboxes.poolReady(60_000);
      const rec = await services.sandboxes.run({
        template: 'shell',
        code: 'i=0\nwhile [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done\n',
        limits: { timeoutMs: 120_000 },
      });
      await until('first output', async () =>
        (await services.handlers['sandbox.live'](undefined)).some((r) => r.id === rec.id && r.status === 'running'),
      );
      await new Promise((r) => setTimeout(r, 500));

      dockerd(action);
      const failed = (await services.sandboxes.whenDone(rec.id))!;
      assert.equal(failed.endReason, 'failed', `ended as ${failed.endReason} (${failed.exitCode}): ${failed.error ?? ''}`);
      assert.equal(failed.exitCode, null);
      assert.match(failed.error ?? '', /Docker engine (stopped|.*lost|is not running)/);
      assert.doesNotMatch(failed.error ?? '', /\n|at .*\(/, 'no stack trace in the reason');

      const down = await until('engine reported down', async () => {
        const s = await services.handlers['system.status'](undefined);
        return s.engine.connected ? null : s;
      });
      assert.match(down.engine.error ?? '', /not running|lost|refused/);
      const history = await services.handlers['runs.list'](undefined);
      assert.equal(history[0]?.id, rec.id, 'history still answers');
      await assert.rejects(services.sandboxes.run({ template: 'shell', code: 'echo hi' }), (err: unknown) => {
        assert.ok(err instanceof MoatError);
        assert.equal(err.code, 'ENGINE_UNAVAILABLE');
        assert.ok(err.fix);
        return true;
      });

      dockerd('start');
      await until('engine reconnected', async () => (await services.handlers['system.status'](undefined)).engine.connected);
      const next = await runToEnd(services, { template: 'shell', code: 'echo back' });
      assert.equal(next.run.endReason, 'exited', next.run.error);
      assert.equal(next.stdout, 'back\n');
      assert.equal(await services.sandboxes.poolReady(60_000), true, 'warm pool refilled after reconnect');
      await until('every container of this process tracked or removed', async () => {
        const mine = await myContainers({ includePool: true });
        return mine.length === services.sandboxes.poolCounts().warm;
      });
    });
  });
}

// The same on a remote host: its Docker daemon dies behind a live SSH connection (the host here is
// this machine through a loopback sshd). The run fails with the reason, the host shows its engine
// down, and the next run on it works once the daemon is back, with no container left behind.
describe(
  'Docker daemon lost mid-run on a remote host (SIGKILL behind SSH)',
  { skip: skip || skipUnlessReady(sshdUnavailableReason(), 'the remote engine-loss test') },
  () => {
    let services: Awaited<ReturnType<typeof startServices>>;
    let sshd: TestSshd;
    let vaultDir: ReturnType<typeof tempDir>;
    before(async () => {
      sshd = await startSshd();
      vaultDir = tempDir('moat-vault-');
      const vault = await FileVault.open(join(vaultDir.path, 'keys.enc'), 'engine loss', { N: 1024, r: 8, p: 1 });
      services = await startServices({ pool: true, healthIntervalMs: 300, vault });
      const added = await services.handlers['hosts.add']({
        name: 'far',
        url: sshd.url,
        privateKey: sshd.privateKey,
        trustFingerprint: sshd.fingerprint(),
      });
      assert.equal(added.status, 'added');
    });
    after(async () => {
      dockerd('start');
      await services?.dispose();
      await sshd?.close();
      vaultDir?.cleanup();
    });

    test('fails the run with the reason, shows the engine down, and the next run works when it is back', async () => {
      const remote = await services.targets.manager('far');
      const { runId } = await services.handlers['sandbox.run']({
        template: 'shell',
        code: 'i=0\nwhile [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done\n',
        limits: { timeoutMs: 120_000 },
        target: 'far',
      });
      await until('running', async () => remote.liveRuns().some((r) => r.id === runId && r.status === 'running'));
      await new Promise((r) => setTimeout(r, 500));

      dockerd('kill');
      const failed = (await remote.whenDone(runId))!;
      assert.equal(failed.endReason, 'failed', `ended as ${failed.endReason}: ${failed.error ?? ''}`);
      assert.equal(failed.exitCode, null);
      assert.equal(failed.target, 'ssh:far');
      assert.ok(failed.error && failed.error.length > 10, `a reason: ${failed.error}`);
      assert.doesNotMatch(failed.error ?? '', /\n|at .*\(/, 'no stack trace in the reason');
      await until('the host shows its engine down', async () =>
        (await services.handlers['targets.list'](undefined)).find((t) => t.id === 'far' && t.engine && !t.engine.connected),
      );

      dockerd('start');
      const next = await until(
        'a run on the host again',
        async () => {
          try {
            const { runId: id } = await services.handlers['sandbox.run']({ template: 'shell', code: 'echo back', target: 'far' });
            const r = (await remote.whenDone(id))!;
            return r.endReason === 'exited' ? r : null;
          } catch {
            return null;
          }
        },
        90_000,
      );
      assert.equal(next.exitCode, 0);
      await until('no container left behind', async () => (await myContainers()).length === 0, 60_000);
    });
  },
);
