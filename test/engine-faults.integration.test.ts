// Engine faults between Moat and the real Docker engine (test/helpers/fault-proxy.ts): the engine
// answers slowly, answers 500, or stops answering. For each: the API keeps answering, runs end with
// a clear reason, and once the fault clears every container with this process's owner label is
// tracked (warm pool or live run) or removed. Shutdown while the engine hangs is bounded.
//
// Bounds stated here, for the deadlines below (short 2 s, info 1.5 s, grace 2 s, stats silence 3 s):
// a run cut off by a fault ends within 12 s; after the fault clears the containers are in order
// within 15 s; shutdown during a hang finishes within 12 s.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { DockerEngine } from '../main/sandbox/docker-engine';
import { LABEL_OWNER, ownerId } from '../main/sandbox/labels';
import { MoatError } from '../shared/errors';
import type { RunRecord } from '../shared/types';
import { engineUnavailableReason, skipUnlessReady, startServices } from './helpers/engine';
import { startFaultProxy, type Fault, type FaultProxy } from './helpers/fault-proxy';

const skip = skipUnlessReady(await engineUnavailableReason(), 'the engine-fault tests');

const DEADLINES = { shortMs: 2000, infoMs: 1500, graceMs: 2000, silenceMs: 3000 };
const RUN_ENDS_WITHIN_MS = 12_000;
const IN_ORDER_WITHIN_MS = 15_000;
const SHUTDOWN_WITHIN_MS = 12_000;
const TICKS = 'i=0\nwhile [ $i -lt 40 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done\n';

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the value, or rejects if it takes longer than `ms`. */
async function within<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what} took over ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(t);
  }
}

const direct = new DockerEngine();
async function myContainersLabels(): Promise<Record<string, string>[]> {
  return (await direct.listManaged()).filter((c) => c.labels[LABEL_OWNER] === ownerId()).map((c) => c.labels);
}

// No promise may go unhandled under any fault (Node would end the host for one). Recorded here,
// not swallowed: each one fails the suite.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe('engine faults through a proxy', { skip }, () => {
  let proxy: FaultProxy;
  let services: Awaited<ReturnType<typeof startServices>>;

  before(async () => {
    proxy = await startFaultProxy();
  });
  afterEach(async () => {
    proxy.set({ kind: 'none' });
    await services?.dispose();
  });
  after(async () => {
    await proxy.close();
    // Whatever a shutdown during a hang had to leave behind is this test's to remove.
    const left = (await direct.listManaged()).filter((c) => c.labels[LABEL_OWNER] === ownerId());
    for (const c of left) await direct.remove(c.id);
    assert.deepEqual(unhandled.map(String), [], 'no unhandled promise rejection');
  });

  async function start(): Promise<void> {
    services = await startServices({
      pool: true,
      healthIntervalMs: 300,
      engine: new DockerEngine({ socketPath: proxy.socketPath, deadlines: DEADLINES }),
    });
    assert.equal(await services.sandboxes.poolReady(60_000), true, 'warm pool ready before the fault');
  }

  async function runningTicker(): Promise<RunRecord> {
    const rec = await services.sandboxes.run({ template: 'shell', code: TICKS, limits: { timeoutMs: 30_000 } });
    await until(
      'the run is running',
      async () => (await services.handlers['sandbox.live'](undefined)).find((r) => r.id === rec.id && r.status === 'running'),
      20_000,
    );
    return rec;
  }

  async function assertApiAnswers(): Promise<void> {
    // Listing templates asks the engine for images: it answers within the short deadline.
    await within('templates.list', services.handlers['templates.list'](undefined), DEADLINES.shortMs + 1000);
    for (let i = 0; i < 3; i++) {
      await within('system.status', services.handlers['system.status'](undefined), 1000);
      await within('runs.list', services.handlers['runs.list'](undefined), 1000);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function assertInOrderAfterClearing(): Promise<void> {
    proxy.set({ kind: 'none' });
    const t0 = Date.now();
    await until(
      'engine connected again',
      async () => (await services.handlers['system.status'](undefined)).engine.connected,
      IN_ORDER_WITHIN_MS,
    );
    await until(
      'every container of this process tracked or removed',
      async () => (await myContainersLabels()).every((labels) => services.sandboxes.tracks(labels)),
      IN_ORDER_WITHIN_MS - (Date.now() - t0),
    );
    const next = await services.handlers['runs.get']({
      id: (await services.sandboxes.run({ template: 'shell', code: 'echo after' })).id,
    }).then(async ({ run }) => (await services.sandboxes.whenDone(run.id))!);
    assert.equal(next.endReason, 'exited', next.error);
    assert.equal(await services.sandboxes.poolReady(30_000), true, 'the warm pool is full again');
  }

  const cutOff: { name: string; fault: Fault }[] = [
    { name: 'stops answering', fault: { kind: 'hang' } },
    { name: 'answers late (3 s a chunk)', fault: { kind: 'delay', ms: 3000 } },
  ];
  for (const c of cutOff) {
    test(`the engine ${c.name}: the run fails clearly, the API answers, all is in order after`, async () => {
      await start();
      const rec = await runningTicker();
      proxy.set(c.fault);
      const t0 = Date.now();
      await assertApiAnswers();
      const ended = (await within('the run ends', services.sandboxes.whenDone(rec.id), RUN_ENDS_WITHIN_MS))!;
      assert.equal(ended.endReason, 'failed');
      assert.match(ended.error ?? '', /Docker engine/);
      assert.doesNotMatch(ended.error ?? '', /\n|at .*\(/, 'no stack trace');
      assert.ok(Date.now() - t0 < RUN_ENDS_WITHIN_MS);
      // A new run while the fault lasts is refused, or fails, with a reason; it never hangs.
      const attempt = services.sandboxes.run({ template: 'shell', code: 'echo during' }).then(
        async (r) => (await services.sandboxes.whenDone(r.id))!,
        (err: unknown) => err,
      );
      const during = await within('a run during the fault', attempt, RUN_ENDS_WITHIN_MS);
      if (during instanceof MoatError) assert.equal(during.code, 'ENGINE_UNAVAILABLE');
      else {
        const r = during as RunRecord;
        assert.equal(r.endReason, 'failed');
        assert.match(r.error ?? '', /Docker engine/);
      }
      await assertInOrderAfterClearing();
    });
  }

  test('the engine answers 500 to every new request: new runs are refused with its reason; all is in order after', async () => {
    await start();
    const rec = await runningTicker();
    proxy.set({ kind: 'error500' });
    await assertApiAnswers();
    await until('engine reported unavailable', async () => !(await services.handlers['system.status'](undefined)).engine.connected, 5000);
    await assert.rejects(services.sandboxes.run({ template: 'shell', code: 'echo during' }), (err: unknown) => {
      assert.ok(err instanceof MoatError);
      assert.equal(err.code, 'ENGINE_UNAVAILABLE');
      assert.match(err.message, /injected fault/);
      return true;
    });
    // The run already attached keeps its connections and ends by itself; its removal waits.
    const ended = (await within('the running run ends', services.sandboxes.whenDone(rec.id), RUN_ENDS_WITHIN_MS))!;
    assert.equal(ended.endReason, 'exited', ended.error);
    await assertInOrderAfterClearing();
  });

  test('shutdown while the engine hangs finishes within its bound', async () => {
    await start();
    const rec = await runningTicker();
    proxy.set({ kind: 'hang' });
    const t0 = Date.now();
    await within('shutdown', services.close(), SHUTDOWN_WITHIN_MS);
    const run = services.sandboxes.liveRuns().find((r) => r.id === rec.id);
    assert.equal(run, undefined, 'no run left live');
    assert.ok(Date.now() - t0 < SHUTDOWN_WITHIN_MS);
  });
});
