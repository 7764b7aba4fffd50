// The Docker daemon dies in the middle of a run: the run ends as failed with a clear reason, the
// app keeps answering, and Moat reconnects by itself when the daemon is back. Runs last (zz-)
// because it stops the machine's real daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { MoatError } from '../shared/errors';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';

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
