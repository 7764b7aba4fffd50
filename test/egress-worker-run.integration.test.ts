// A run whose scan worker dies fails closed, against the real engine: the run ends `failed` saying
// the egress filter failed, nothing the program printed after the failure is in its output, and
// the next run gets a new worker and is filtered as before.
//   node --import tsx --test test/egress-worker-run.integration.test.ts
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanChannel } from '../main/egress/filter-worker';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'scan worker failure tests');

// Not AWS's documented example key, which the rules may treat as a placeholder.
const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';
const REDACTED = '[REDACTED:aws-access-key-id]';

describe('scan worker failure', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  before(async () => {
    services = await startServices();
  });
  after(async () => services.dispose());

  test('the worker dies mid-run: the run ends failed with the reason, nothing unscanned is output; the next run is filtered', async () => {
    // A line every 20 ms for 20 s, with a key from 0.5 s on: the test ends the worker as soon as
    // it sees the first line, so what follows is printed while the worker is gone.
    const code = [
      'import time',
      't0 = time.time()',
      'while time.time() - t0 < 20:',
      `    print("late ${KEY}" if time.time() - t0 > 0.5 else "early line", flush=True)`,
      '    time.sleep(0.02)',
    ].join('\n');
    let live = '';
    const firstOutput = new Promise<void>((resolve) => {
      const off = services.onEvent((event, payload) => {
        if (event !== 'run.output') return;
        live += (payload as { data: string }).data;
        off();
        resolve();
      });
    });
    const rec = await services.sandboxes.run({ template: 'python', code, limits: { timeoutMs: 60_000 } });
    await firstOutput;
    const worker = scanChannel().current;
    assert.ok(worker, 'the run is scanned in the shared worker');
    const t0 = Date.now();
    await worker.terminate();
    const run = (await services.sandboxes.whenDone(rec.id))!;
    const text = (await services.handlers['runs.get']({ id: rec.id })).output.map((c) => c.data).join('');
    assert.equal(run.endReason, 'failed');
    assert.match(run.error ?? '', /^the egress filter failed: the scan worker exited/);
    assert.ok(Date.now() - t0 < 15_000, 'the run was stopped, not left to its 20 s');
    assert.ok(live.includes('early line') && text.includes('early line'), 'output before the failure was kept');
    assert.ok(!text.includes(KEY), 'nothing unscanned came through');

    const next = await runToEnd(services, { template: 'python', code: `print("key ${KEY} end")` });
    assert.equal(next.run.endReason, 'exited');
    assert.equal(next.stdout, `key ${REDACTED} end\n`);
    assert.notEqual(scanChannel().current, worker, 'a new worker');
    assert.deepEqual(await myContainers(), []);
  });
});
