// What the process-limit tests share, local and over SSH: a Python loop forking sleeping children,
// and one run of it at a lowered PID backstop (300 tasks, far below what RLIMIT_NPROC 256 allows
// under gVisor: about 50 processes), straight through the runner, the sandbox removed afterwards.
import assert from 'node:assert/strict';
import { newExitNonce, programScript } from '../../main/sandbox/bootstrap';
import type { SandboxEngine } from '../../main/sandbox/engine';
import { resolveImage } from '../../main/sandbox/images';
import { hardenedCreateOptions } from '../../main/sandbox/profile';
import { startRun } from '../../main/sandbox/runner';
import { findTemplate } from '../../main/sandbox/templates';
import { SandboxTracker } from '../../main/sandbox/tracker';
import { DEFAULT_LIMITS, type Limits } from '../../shared/types';

export const FORK_LOOP = `import os, sys, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        n += 1
except OSError as e:
    print(f"fork failed after {n} children: {e}", flush=True)
`;

export const BACKSTOP_PIDS = 300;

/** Runs FORK_LOOP at a PID backstop of 300 tasks on `engine` (a Docker engine with its `docker`). */
export async function runAtLoweredBackstop(engine: SandboxEngine & { docker: Parameters<typeof resolveImage>[0] }) {
  const tracker = new SandboxTracker(engine, () => {});
  const template = findTemplate('python')!;
  const { image } = await resolveImage(engine.docker, template, { preferOfficial: true });
  assert.ok(image);
  const limits: Limits = { ...DEFAULT_LIMITS, processes: 256, timeoutMs: 30_000, memoryMb: 2048 };
  const key = tracker.begin();
  const id = await engine.create(
    hardenedCreateOptions({
      template,
      image,
      runtime: engine.current.gvisorRuntime!,
      limits,
      runId: 'backstop',
      sandboxKey: key,
      pidsLimit: BACKSTOP_PIDS,
    }),
  );
  tracker.created(key, id, 'run');
  try {
    const nonce = newExitNonce();
    const { done } = startRun({
      engine,
      runId: 'backstop',
      containerId: id,
      alreadyStarted: false,
      script: programScript({ template, code: FORK_LOOP }, nonce),
      exitNonce: nonce,
      limits,
      gvisor: true,
      pidsLimit: BACKSTOP_PIDS,
      hooks: { onStarted: () => {}, onOutput: () => {}, onStats: () => {} },
    });
    return await done;
  } finally {
    assert.equal(await tracker.remove(key), true);
  }
}
