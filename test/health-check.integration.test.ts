// The sandbox manager's periodic engine check against the real engine: its ticks ping, and read
// `docker info` (which makes dockerd start `runc --version` and `docker-init --version`) only every
// fifteenth tick or when a ping fails.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DockerEngine } from '../main/sandbox/docker-engine';
import type { EngineState } from '../main/sandbox/engine';
import { engineUnavailableReason, skipUnlessReady, startServices } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'the health-check tests');

class CountingEngine extends DockerEngine {
  refreshes = 0;
  pings = 0;
  failPings = false;
  pingDeadlines = new Set<number | undefined>();
  override async refresh(): Promise<EngineState> {
    this.refreshes++;
    return super.refresh();
  }
  override async ping(deadlineMs?: number): Promise<boolean> {
    this.pings++;
    this.pingDeadlines.add(deadlineMs);
    return this.failPings ? false : super.ping(deadlineMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the periodic engine check', { skip }, () => {
  const engine = new CountingEngine();
  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  after(async () => {
    await services?.dispose();
  });

  test('pings on its ticks and reads `docker info` every fifteenth; a failed ping reads it at once', async () => {
    services = await startServices({ engine, healthIntervalMs: 40 });
    const startRefreshes = engine.refreshes;
    assert.ok(startRefreshes >= 1, 'the start reads `docker info`');
    await sleep(1500);
    const pings = engine.pings;
    const refreshes = engine.refreshes - startRefreshes;
    const ticks = pings + refreshes;
    assert.ok(ticks >= 15, `the check ticked (${ticks} ticks)`);
    assert.ok(pings >= 10, `its ticks pinged (${pings} pings)`);
    assert.ok(refreshes >= 1, 'a fifteenth tick read `docker info`');
    assert.ok(refreshes <= Math.ceil(ticks / 15) + 1, `\`docker info\` at most every fifteenth tick (${refreshes} in ${ticks} ticks)`);
    // The ping has half of `docker info`'s deadline (2.5 s), not the short calls' (15 s): an
    // engine that hangs is noticed at most 2.5 s later than when every tick read `docker info`.
    assert.deepEqual([...engine.pingDeadlines], [engine.deadlines.infoMs / 2]);

    // A ping that fails is not trusted: that tick reads `docker info` (and would mark the engine
    // unavailable if that failed too).
    engine.failPings = true;
    const before = engine.refreshes;
    const pingsBefore = engine.pings;
    await sleep(600);
    const failedPings = engine.pings - pingsBefore;
    assert.ok(failedPings >= 3, `pings kept coming (${failedPings})`);
    assert.ok(
      engine.refreshes - before >= failedPings - 1,
      `each failed ping led to \`docker info\` (${engine.refreshes - before} for ${failedPings})`,
    );
    assert.equal(
      (await services.handlers['system.status'](undefined)).engine.connected,
      true,
      'the engine answers `docker info`: still connected',
    );
  });
});
