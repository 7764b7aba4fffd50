// The warm pool follows demand: runs coming in side by side grow a template's pool to the peak of
// concurrent runs (at most maxWarmPool), and after an idle window it falls back to warmPoolSize,
// the extra warm sandboxes removed (real Docker + gVisor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineUnavailableReason, myContainers, skipUnlessReady, startServices } from './helpers/engine';
import { refillNeed } from '../main/sandbox/manager';

const skip = skipUnlessReady(await engineUnavailableReason(), 'warm pool demand test');

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the pool grows to the peak of concurrent runs (capped by maxWarmPool) and shrinks back when idle', { skip }, async () => {
  const s = await startServices({ pool: true, demandWindowMs: 4000, healthIntervalMs: 500 });
  try {
    await s.handlers['settings.update']({ warmPoolSize: 1, maxWarmPool: 3 });
    await until('the idle pool (one per template)', () => s.sandboxes.poolCounts().target === 2 && s.sandboxes.poolCounts().warm === 2);
    const idle = s.sandboxes.poolCounts();
    // Four python runs at once: the python pool grows to 3 (the cap), the shell pool stays at 1.
    const ids = await Promise.all(
      [1, 2, 3, 4].map(async () => (await s.handlers['sandbox.run']({ template: 'python', code: 'import time; time.sleep(1)' })).runId),
    );
    await until('the grown target', () => s.sandboxes.poolCounts().target === 4);
    await Promise.all(ids.map((id) => s.sandboxes.whenDone(id)));
    await until('the grown pool filled', () => s.sandboxes.poolCounts().warm === 4, 90_000);
    const pooled = (await myContainers({ includePool: true })).length;
    assert.ok(pooled >= 4, `warm sandboxes on the engine: ${pooled}`);
    // Idle for longer than the window: back to one per template, the extra ones removed.
    await until(
      'the pool back to its idle size',
      () => s.sandboxes.poolCounts().target === idle.target && s.sandboxes.poolCounts().warm === idle.warm,
      30_000,
    );
    await until(
      'the extra warm sandboxes removed from the engine',
      async () => (await myContainers({ includePool: true })).length === idle.warm,
      30_000,
    );
  } finally {
    await s.dispose();
  }
});

test('the rate of starts: runs back to back need as many warm sandboxes as arrive during one refill', () => {
  const now = 100_000;
  // One run every 250 ms, a refill of 400 ms: 1.6 arrive while one is replaced, so 2.
  const backToBack = [0, 1, 2, 3, 4].map((i) => now - 1000 + i * 250);
  assert.equal(refillNeed(backToBack, 400, now), 2);
  // A refill quicker than the gap between runs: none beyond the peak.
  assert.equal(refillNeed(backToBack, 200, now), 1);
  // Four at once, again and again: many arrive per refill (the cap, maxWarmPool, applies later).
  const bursts = [0, 0, 0, 0, 300, 300, 300, 300].map((t) => now - 600 + t);
  assert.ok(refillNeed(bursts, 500, now) >= 4);
  // Too few starts, or old ones: no rate.
  assert.equal(refillNeed([now - 10], 400, now), 0);
  assert.equal(refillNeed([now - 60_000, now - 59_000], 400, now), 0);
});
