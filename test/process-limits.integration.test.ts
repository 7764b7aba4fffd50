// Hostile process counts meet a clean fork error, never the sandbox's death: a Python fork loop, a
// thread loop and a shell fork bomb under the default limits, the fork loop at the smallest and
// the largest `processes` setting, and the next run works. Where the PID backstop itself is
// reached (forced here with a low backstop), the run ends as `process-limit`, never `exited`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DockerEngine } from '../main/sandbox/docker-engine';
import { pidsLimitFor } from '../main/sandbox/profile';
import { DEFAULT_LIMITS, Limits, MAX_PROCESSES } from '../shared/types';
import { FORK_LOOP, runAtLoweredBackstop } from './helpers/backstop';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'the process-limit tests');

const THREAD_LOOP = `import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(20,), daemon=True).start()
        n += 1
except RuntimeError as e:
    print(f"thread start failed after {n} threads: {e}", flush=True)
`;

const SHELL_BOMB = 'f() { f | f & }\nf\nsleep 3\necho survived\n';

describe('process limits under gVisor', { skip }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices();
  });
  after(async () => {
    await services.dispose();
    assert.deepEqual(await myContainers(), [], 'no container left behind');
  });

  async function assertNextRunWorks(): Promise<void> {
    const next = await runToEnd(services, { template: 'python', code: 'print("next")' });
    assert.equal(next.run.endReason, 'exited', next.run.error);
    assert.equal(next.stdout, 'next\n');
  }

  function assertWellBelowBackstop(run: { peakTasks?: number | undefined; limits: Limits }): void {
    const backstop = pidsLimitFor(run.limits);
    assert.ok(run.peakTasks !== undefined && run.peakTasks > 0, 'the sandbox task count was observed');
    assert.ok(run.peakTasks < backstop * 0.8, `peak ${run.peakTasks} tasks against a backstop of ${backstop}`);
  }

  const forkCases: { name: string; limits: Partial<Limits> }[] = [
    { name: 'default limits', limits: {} },
    { name: 'the smallest setting (8)', limits: { processes: Limits.shape.processes.minValue! } },
    // 256 Python children need about 1.2 GB of sandbox memory under gVisor.
    { name: `the largest setting (${MAX_PROCESSES})`, limits: { processes: MAX_PROCESSES, memoryMb: 2048 } },
  ];
  for (const c of forkCases) {
    test(`a Python fork loop gets a fork error at ${c.name}`, async () => {
      const { run, stdout } = await runToEnd(services, { template: 'python', code: FORK_LOOP, limits: { timeoutMs: 60_000, ...c.limits } });
      const processes = c.limits.processes ?? DEFAULT_LIMITS.processes;
      assert.equal(run.endReason, 'exited', `${run.endReason}: ${run.error ?? ''}`);
      assert.equal(run.exitCode, 0);
      // The bootstrap shell and the parent count against the limit too.
      const m = /fork failed after (\d+) children: \[Errno 11\] Resource temporarily unavailable/.exec(stdout);
      assert.ok(m, `the program saw EAGAIN: ${stdout.slice(-300)}`);
      assert.ok(Number(m[1]) >= processes - 4 && Number(m[1]) < processes, `children: ${m[1]} of ${processes}`);
      assertWellBelowBackstop(run);
      await assertNextRunWorks();
    });
  }

  test('a Python thread loop gets a thread error at the default limit', async () => {
    const { run, stdout } = await runToEnd(services, { template: 'python', code: THREAD_LOOP, limits: { timeoutMs: 60_000 } });
    assert.equal(run.endReason, 'exited', `${run.endReason}: ${run.error ?? ''}`);
    assert.match(stdout, /thread start failed after 12\d threads: can't start new thread/);
    assertWellBelowBackstop(run);
    await assertNextRunWorks();
  });

  test('a shell fork bomb gets fork errors at the default limit and the sandbox survives it', async () => {
    const { run, stdout, stderr } = await runToEnd(services, { template: 'shell', code: SHELL_BOMB, limits: { timeoutMs: 60_000 } });
    assert.equal(run.endReason, 'exited', `${run.endReason}: ${run.error ?? ''}`);
    assert.match(stderr, /Cannot fork/);
    assert.match(stdout, /survived/);
    assertWellBelowBackstop(run);
    await assertNextRunWorks();
  });
});

describe('the PID backstop', { skip }, () => {
  test('a sandbox killed by its PID backstop ends as process-limit, never exited', async () => {
    const engine = new DockerEngine();
    await engine.refresh();
    const out = await runAtLoweredBackstop(engine);
    assert.equal(out.endReason, 'process-limit', `${out.endReason} (${out.exitCode}): ${out.error ?? ''}`);
    assert.equal(out.exitCode, null);
    assert.match(out.error ?? '', /limit of 300/);
  });
});
