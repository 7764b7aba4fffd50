// The local PID-cgroup watch (sandbox/pids-watch.ts) keeps the sandbox's two cgroup files open
// and reads them again at each poll: it still sees the tasks a run starts, and lets go of every
// file once the run is over (no descriptor left open per run).
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'the PID watch tests');

/** Descriptors of this process open on cgroup files. */
function cgroupFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('/sys/fs/cgroup')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('the local PID watch', { skip }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices();
  });
  after(async () => {
    await services.dispose();
    assert.deepEqual(await myContainers(), [], 'no container left behind');
  });

  test('sees the tasks a run starts, and closes its cgroup files when the run ends', async () => {
    const before = cgroupFds();
    const peaks: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runToEnd(services, { template: 'shell', code: 'for i in 1 2 3 4 5 6; do sleep 1 & done\nwait\necho done\n' });
      assert.equal(r.run.endReason, 'exited', r.run.error);
      assert.equal(r.stdout, 'done\n');
      peaks.push(r.run.peakTasks ?? 0);
    }
    // Six sleeping processes cost the sandbox host threads of their own (about 3 each under
    // gVisor) on top of its idle ones: the watch must have seen more than an idle sandbox.
    const idle = await runToEnd(services, { template: 'shell', code: 'echo idle\n' });
    for (const p of peaks) assert.ok(p > (idle.run.peakTasks ?? 0), `peak ${p} with six sleepers, ${idle.run.peakTasks} idle`);
    assert.equal(cgroupFds(), before, 'every cgroup file the watch opened is closed again');
  });
});
