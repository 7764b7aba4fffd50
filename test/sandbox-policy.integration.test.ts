// Output floods, the gVisor requirement and its runc opt-in, and the warm pool, against the real
// engine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { MoatError } from '../shared/errors';
import { DockerEngine } from '../main/sandbox/docker-engine';
import type { EngineState } from '../main/sandbox/engine';
import { AuditLog } from '../main/store/audit';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';

const run = promisify(execFile);
const skip = skipUnlessReady(await engineUnavailableReason(), 'sandbox policy tests');

/**
 * Moat's stated bounds for its own memory while a sandbox floods 200 MiB of output: what the flood
 * adds to the process's peak RSS stays well under the flood itself (holding it would add 200), and
 * the peak under an absolute bound. The process starts at about 120 MiB (Node, tsx and the
 * services); the scan worker's isolate and the streaming buffers add about 70.
 */
const FLOOD_RSS_GROWTH_BOUND_MB = 120;
const FLOOD_RSS_BOUND_MB = 256;

describe('output flood', { skip: skip ?? false }, () => {
  test(`200 MiB of stdout pass through while Moat's RSS grows by under ${FLOOD_RSS_GROWTH_BOUND_MB} MiB (peak under ${FLOOD_RSS_BOUND_MB})`, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/flood-child.ts', '200', 'truncate'], {
      maxBuffer: 64 << 20,
    });
    const r = JSON.parse(stdout) as {
      maxRssKb: number;
      baselineRssKb: number;
      keptChars: number;
      run: { stdoutBytes: number; truncated: boolean; endReason: string; exitCode: number };
    };
    console.log(`# flood: peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MiB (before the run ${(r.baselineRssKb / 1024).toFixed(0)} MiB)`);
    assert.equal(r.run.endReason, 'exited', 'truncate policy lets the program finish');
    assert.equal(r.run.exitCode, 0);
    assert.equal(r.run.stdoutBytes, 200 * 1024 * 1024, 'every byte was read from the sandbox');
    assert.equal(r.run.truncated, true);
    assert.equal(r.keptChars, 1024 * 1024, 'only the cap was kept');
    assert.ok((r.maxRssKb - r.baselineRssKb) / 1024 < FLOOD_RSS_GROWTH_BOUND_MB, `RSS grew from ${r.baselineRssKb} to ${r.maxRssKb} KiB`);
    assert.ok(r.maxRssKb / 1024 < FLOOD_RSS_BOUND_MB, `peak RSS ${r.maxRssKb} KiB`);
    assert.deepEqual(await myContainers(), []);
  });
});

/** An engine that has no gVisor runtime: the same real engine with runsc hidden from Moat. */
class EngineWithoutGvisor extends DockerEngine {
  override async refresh(): Promise<EngineState> {
    const s = await super.refresh();
    delete s.gvisorRuntime;
    return s;
  }
}

describe('without gVisor', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices({ engine: new EngineWithoutGvisor() });
  });
  after(async () => services.dispose());

  test('a run is refused with the reason and how to fix it', async () => {
    const status = await services.handlers['system.status'](undefined);
    assert.equal(status.gvisor.available, false);
    assert.match(status.gvisor.fix ?? '', /runsc/);
    await assert.rejects(services.sandboxes.run({ template: 'python', code: 'print(1)' }), (err: unknown) => {
      assert.ok(err instanceof MoatError);
      assert.equal(err.code, 'GVISOR_UNAVAILABLE');
      assert.match(err.fix ?? '', /daemon\.json/);
      return true;
    });
    assert.equal((await services.handlers['runs.list'](undefined)).length, 0, 'a refused run is not recorded as run');
  });

  test('with an explicit opt-in it runs under runc, hardened, and is marked so', async () => {
    const { run: rec, stdout } = await runToEnd(services, {
      template: 'shell',
      code: 'uname -r\nid -u\ntouch /x 2>/dev/null && echo WROTE || echo DENIED\ngrep CapEff /proc/self/status\n',
      allowRunc: true,
    });
    assert.equal(rec.runtime.name, 'runc');
    assert.equal(rec.runtime.gvisor, false);
    assert.equal(rec.runcOptIn, true);
    assert.doesNotMatch(stdout, /^4\.4\.0/, "not gVisor's kernel");
    assert.match(stdout, /^65534$/m);
    assert.match(stdout, /^DENIED$/m);
    assert.match(stdout, /CapEff:\s+0+$/m);
    assert.deepEqual(await myContainers(), []);
    const audit = new AuditLog(services.dataDir).read();
    assert.ok(
      audit.some((e) => e.action === 'run.runc-opt-in' && e.details.run === rec.id),
      'the opt-in is in the audit log',
    );
  });
  test('under the runc opt-in, a program killed by the OOM killer is oom, not exited 137', async () => {
    // Under runc the OOM killer takes only the program; the bootstrap lives on and reports 137.
    const { run: rec } = await runToEnd(services, {
      template: 'python',
      code: 'b = bytearray(1024 ** 3)\nprint("ALLOCATED")\n',
      allowRunc: true,
      limits: { memoryMb: 128 },
    });
    assert.equal(rec.runtime.gvisor, false);
    assert.equal(rec.endReason, 'oom', `${rec.endReason} (${rec.exitCode}): ${rec.error ?? ''}`);
    assert.equal(rec.exitCode, null);
    // Positive control: a program that kills itself with SIGKILL is its own exit, not OOM.
    const self = await runToEnd(services, {
      template: 'python',
      code: 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n',
      allowRunc: true,
    });
    assert.equal(self.run.endReason, 'exited');
    assert.equal(self.run.exitCode, 137);
  });
});

describe('warm pool', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices({ pool: true });
  });
  after(async () => {
    await services.dispose();
    assert.deepEqual(await myContainers({ includePool: true }), [], 'closing Moat removes its warm sandboxes');
  });

  test('fills, serves a run from a warm sandbox, never reuses it, and refills', async () => {
    assert.equal(await services.sandboxes.poolReady(60_000), true, 'pool filled');
    const status = await services.handlers['system.status'](undefined);
    assert.equal(status.pool.warm, status.pool.target);
    assert.ok(status.pool.target >= 2, 'one warm sandbox per template');
    const warmBefore = new Set(await myContainers({ includePool: true }));

    const first = await runToEnd(services, { template: 'shell', code: 'ls /work; echo secret > /work/left-behind; hostname' });
    assert.equal(first.run.warm, true);
    assert.equal(first.run.endReason, 'exited');
    assert.equal(await services.sandboxes.poolReady(60_000), true, 'pool refilled');
    const second = await runToEnd(services, { template: 'shell', code: 'ls /work; hostname' });
    assert.equal(second.run.warm, true);
    assert.doesNotMatch(second.stdout, /left-behind/, 'a warm sandbox is used once');
    assert.notEqual(first.stdout.trim().split('\n').pop(), second.stdout.trim().split('\n').pop(), 'different sandboxes');

    assert.equal(await services.sandboxes.poolReady(60_000), true, 'pool refilled');
    const warmAfter = await myContainers({ includePool: true });
    assert.equal(warmAfter.filter((id) => warmBefore.has(id)).length < warmBefore.size, true, 'used sandboxes were replaced');
    assert.deepEqual(await myContainers(), [], 'no run container left');
  });

  test("a run with other limits than the pool's is started cold", async () => {
    const { run: rec } = await runToEnd(services, { template: 'python', code: 'print(1)', limits: { memoryMb: 300 } });
    assert.equal(rec.warm, false);
    assert.equal(rec.endReason, 'exited');
  });
});

describe('run queue', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices();
    await services.handlers['settings.update']({ maxConcurrentRuns: 1 });
  });
  after(async () => services.dispose());

  test('past maxConcurrentRuns, runs wait in order as queued; a queued run can be cancelled', async () => {
    const a = await services.sandboxes.run({ template: 'shell', code: 'echo a; sleep 2' });
    const b = await services.sandboxes.run({ template: 'shell', code: 'echo b' });
    const c = await services.sandboxes.run({ template: 'shell', code: 'echo c' });
    const live = await services.handlers['sandbox.live'](undefined);
    assert.equal(live.find((r) => r.id === b.id)?.status, 'queued');
    assert.equal(live.find((r) => r.id === c.id)?.status, 'queued');
    assert.deepEqual(await services.handlers['sandbox.cancel']({ runId: c.id }), { cancelled: true });
    const cDone = (await services.sandboxes.whenDone(c.id))!;
    assert.equal(cDone.endReason, 'cancelled');
    assert.equal(cDone.startedAt, undefined, 'a run cancelled in the queue never started');
    const aDone = (await services.sandboxes.whenDone(a.id))!;
    const bDone = (await services.sandboxes.whenDone(b.id))!;
    assert.equal(aDone.endReason, 'exited');
    assert.equal(bDone.endReason, 'exited');
    assert.ok(bDone.startedAt! >= aDone.endedAt!, 'b started after a ended');
    assert.equal((await services.handlers['runs.get']({ id: b.id })).output.map((o) => o.data).join(''), 'b\n');
    assert.deepEqual(await myContainers(), []);
  });
  test('close() while runs wait in the queue: they end cancelled and never start', async () => {
    const own = await startServices();
    await own.handlers['settings.update']({ maxConcurrentRuns: 1 });
    const a = await own.sandboxes.run({ template: 'shell', code: 'echo a; sleep 20' });
    const queued = [
      await own.sandboxes.run({ template: 'shell', code: 'echo b' }),
      await own.sandboxes.run({ template: 'shell', code: 'echo c' }),
    ];
    const started: string[] = [];
    own.onEvent((event, payload) => {
      const r = payload as { id?: string; status?: string };
      if (event === 'run.updated' && r.status === 'starting' && r.id) started.push(r.id);
    });
    await own.sandboxes.close();
    for (const q of queued) {
      const rec = own.handlers['runs.get']({ id: q.id });
      const { run } = await rec;
      assert.equal(run.endReason, 'cancelled');
      assert.equal(run.startedAt, undefined);
      assert.ok(!started.includes(q.id), 'a queued run never started after close()');
    }
    assert.equal((await own.handlers['runs.get']({ id: a.id })).run.endReason, 'cancelled');
    await own.dispose();
    assert.deepEqual(await myContainers(), []);
  });
});

describe('exit and timeout race', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices();
  });
  after(async () => services.dispose());

  test('a program that exits just before its timeout is exited with its status; one that does not is a timeout', async () => {
    // Exits at 0.85-1.15 s against a 1 s timeout: both sides of the race, and runs right at it.
    const seen = { exited: 0, timeout: 0 };
    for (let i = 0; i < 12; i++) {
      const at = (0.85 + (i % 7) * 0.05).toFixed(2);
      const { run } = await runToEnd(services, {
        template: 'shell',
        code: `sleep ${at}; exit 7`,
        limits: { timeoutMs: 1000 },
        warm: false,
      });
      assert.ok(run.endReason === 'exited' || run.endReason === 'timeout', `${run.endReason}: ${run.error ?? ''}`);
      if (run.endReason === 'exited') assert.equal(run.exitCode, 7, 'an exit keeps the program status');
      else assert.equal(run.exitCode, null, 'a timeout has no program status');
      seen[run.endReason]++;
    }
    assert.ok(seen.exited > 0 && seen.timeout > 0, `both outcomes seen: ${JSON.stringify(seen)}`);
  });
});
