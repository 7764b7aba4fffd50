// How a run's end is decided: the first of exit, sandbox gone and Moat's stop wins, recorded where
// it is seen; a sandbox gone without the exit marker is never `exited`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndRace, decideOutcome, type EndFacts, type FirstEvent } from '../main/sandbox/outcome';
import { RunQueue } from '../main/sandbox/run-queue';

function facts(first: FirstEvent, more: Partial<EndFacts> = {}): EndFacts {
  return {
    first,
    engineStatus: null,
    oomKilled: false,
    gvisor: true,
    pids: { limitHit: false, peak: 40, backstop: 6144 },
    engineLost: false,
    processes: 128,
    ...more,
  };
}

test('an exit recorded before the timeout fires is exited with the program status, whatever comes after', () => {
  const race = new EndRace();
  assert.equal(race.record({ kind: 'marker', status: 7 }), true);
  // The timer fires a moment later: it does not win, so the caller does not kill.
  assert.equal(race.record({ kind: 'stop', reason: 'timeout' }), false);
  assert.equal(race.stopReason, null);
  assert.deepEqual(decideOutcome(facts(race.winner!)), { endReason: 'exited', exitCode: 7 });
});

test('a timeout recorded before the exit is a timeout, with no exit status', () => {
  const race = new EndRace();
  assert.equal(race.record({ kind: 'stop', reason: 'timeout' }), true);
  assert.equal(race.record({ kind: 'marker', status: 0 }), false);
  assert.deepEqual(decideOutcome(facts(race.winner!, { engineStatus: 137 })), { endReason: 'timeout', exitCode: null });
});

test('an engine exit first is recorded first too: a cancel after it does not rewrite it', () => {
  const race = new EndRace();
  race.record({ kind: 'engine', status: 137 });
  assert.equal(race.record({ kind: 'stop', reason: 'cancelled' }), false);
  const o = decideOutcome(facts(race.winner!, { oomKilled: true }));
  assert.equal(o.endReason, 'oom');
});

test('a sandbox gone without the marker is never exited', () => {
  for (const status of [0, 1, 2, 3, 124, 137, 143, 255]) {
    const o = decideOutcome(facts({ kind: 'engine', status }));
    assert.notEqual(o.endReason, 'exited', `status ${status}`);
    assert.equal(o.exitCode, null);
    assert.ok(o.error && o.error.length > 20, 'a sentence says what happened');
  }
});

test('the engine stopping mid-run is failed, and says the engine stopped', () => {
  const o = decideOutcome(facts({ kind: 'engine', status: 137 }, { engineLost: true }));
  assert.equal(o.endReason, 'failed');
  assert.match(o.error!, /Docker engine stopped/);
});

test('gVisor dying (status 2) with PID evidence is process-limit; without it, failed with both causes named', () => {
  const hit = decideOutcome(facts({ kind: 'engine', status: 2 }, { pids: { limitHit: true, peak: 10, backstop: 300 } }));
  assert.equal(hit.endReason, 'process-limit');
  assert.match(hit.error!, /limit of 300/);
  const nearPeak = decideOutcome(facts({ kind: 'engine', status: 2 }, { pids: { limitHit: false, peak: 290, backstop: 300 } }));
  assert.equal(nearPeak.endReason, 'process-limit');
  const none = decideOutcome(facts({ kind: 'engine', status: 2 }));
  assert.equal(none.endReason, 'failed');
  assert.match(none.error!, /PID limit/);
  // Under runc status 2 is just a status: the bootstrap did not report the program's exit.
  const runc = decideOutcome(facts({ kind: 'engine', status: 2 }, { gvisor: false, pids: { limitHit: true, peak: 300, backstop: 300 } }));
  assert.equal(runc.endReason, 'failed');
});

test('under runc, a program SIGKILLed by the OOM killer is oom, not exited 137', () => {
  assert.deepEqual(decideOutcome(facts({ kind: 'marker', status: 137 }, { oomKilled: true, gvisor: false })), {
    endReason: 'oom',
    exitCode: null,
  });
  assert.deepEqual(decideOutcome(facts({ kind: 'marker', status: 137 }, { gvisor: false })), { endReason: 'exited', exitCode: 137 });
});

test('an unreadable marker status falls back to the engine status', () => {
  assert.deepEqual(decideOutcome(facts({ kind: 'marker', status: null }, { engineStatus: 5 })), { endReason: 'exited', exitCode: 5 });
  assert.equal(decideOutcome(facts({ kind: 'marker', status: null })).endReason, 'failed');
});

test('closing the run queue turns away every waiting run and every later one', async () => {
  const q = new RunQueue(() => 1);
  assert.equal(await q.acquire(() => {}), true);
  const waiting = [q.acquire(() => {}), q.acquire(() => {})];
  q.close();
  assert.deepEqual(await Promise.all(waiting), [false, false]);
  assert.equal(await q.acquire(() => {}), false);
  q.release();
  assert.deepEqual(q.size, { running: 0, waiting: 0 });
});

test('a queued run can leave the queue, and slots go in arrival order', async () => {
  const q = new RunQueue(() => 1);
  await q.acquire(() => {});
  let leave: (() => void) | null = null;
  const first = q.acquire((l) => (leave = l));
  const second = q.acquire(() => {});
  leave!();
  assert.equal(await first, false);
  q.release();
  assert.equal(await second, true);
});
