// The idle rule, driven by a fake clock: each sample carries its own time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BILLING,
  IdleTracker,
  INITIAL_IDLE_STATE,
  basisText,
  idleCostCentsPerHour,
  idleStep,
  idleText,
  judge,
  type IdleEvent,
  type IdleRule,
  type IdleSample,
} from '../main/remote/idle';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const rule = (o: Partial<IdleRule> = {}): IdleRule => ({ enabled: true, gpuBelowPercent: 5, minutes: 10, action: 'warn', ...o });
const gpu = (minute: number, ...utils: (number | null)[]): IdleSample => ({
  at: T0 + minute * MIN,
  cpuPercent: 350,
  cpuCount: 8,
  gpus: utils.map((u) => ({ utilPercent: u })),
});
const cpu = (minute: number, cpuPercent: number | null, cpuCount = 4): IdleSample => ({
  at: T0 + minute * MIN,
  cpuPercent,
  cpuCount,
  gpus: [],
});
const kinds = (e: IdleEvent[]) => e.map((x) => x.kind);

/** Feeds one sample a minute from `from` to `to` (inclusive); returns the events with their minute. */
function run(t: IdleTracker, from: number, to: number, make: (m: number) => IdleSample, sandboxes = 0) {
  const out: { minute: number; kind: string }[] = [];
  for (let m = from; m <= to; m++) for (const e of t.update(make(m), sandboxes)) out.push({ minute: m, kind: e.kind });
  return out;
}

test('idle GPUs: idle-since at the first idle sample, warn once when the threshold is crossed, no terminate with action warn', () => {
  const t = new IdleTracker(rule());
  const events = run(t, 0, 30, (m) => gpu(m, 0, 2));
  assert.deepEqual(events, [
    { minute: 0, kind: 'idle-since' },
    { minute: 10, kind: 'warn' },
  ]);
  assert.equal(t.state.since, T0);
  assert.equal(t.state.basis, 'gpu');
  assert.equal(t.idleMinutes(T0 + 30 * MIN), 30);
});

test('action terminate: warn and terminate together at the threshold, each once', () => {
  const t = new IdleTracker(rule({ action: 'terminate', minutes: 5 }));
  const events = run(t, 0, 20, (m) => gpu(m, 1));
  assert.deepEqual(events, [
    { minute: 0, kind: 'idle-since' },
    { minute: 5, kind: 'warn' },
    { minute: 5, kind: 'terminate' },
  ]);
  assert.ok(t.state.terminated);
});

test('activity resets: one busy GPU, or a running sandbox, ends the stretch and the count starts again', () => {
  const t = new IdleTracker(rule({ action: 'terminate' }));
  assert.deepEqual(
    run(t, 0, 8, (m) => gpu(m, 0, 0)),
    [{ minute: 0, kind: 'idle-since' }],
  );
  // One of two GPUs busy at minute 9.
  const busy = t.update(gpu(9, 0, 80), 0);
  assert.deepEqual(busy, [{ kind: 'active', at: T0 + 9 * MIN, reason: 'gpu' }]);
  assert.equal(t.state.since, null);
  // Idle again from minute 10: nothing fires at minute 18 (only 8 idle minutes), it fires at 20.
  const again = run(t, 10, 20, (m) => gpu(m, 0, 0));
  assert.deepEqual(again, [
    { minute: 10, kind: 'idle-since' },
    { minute: 20, kind: 'warn' },
    { minute: 20, kind: 'terminate' },
  ]);
  // A running sandbox with idle GPUs (e.g. a CPU-only job) is activity.
  const withSandbox = t.update(gpu(21, 0, 0), 1);
  assert.deepEqual(kinds(withSandbox), ['active']);
  assert.equal((withSandbox[0] as { reason: string }).reason, 'sandboxes');
  // A second stretch warns again: "once" is per stretch.
  const third = run(t, 22, 32, (m) => gpu(m, 0, 0));
  assert.deepEqual(kinds(third.map((x) => ({ kind: x.kind }) as IdleEvent)), ['idle-since', 'warn', 'terminate']);
});

test('positive control: a busy instance never produces idle events', () => {
  const t = new IdleTracker(rule({ action: 'terminate', minutes: 1 }));
  assert.deepEqual(
    run(t, 0, 60, (m) => gpu(m, 90, 3)),
    [],
  );
  assert.deepEqual(
    run(t, 61, 120, (m) => gpu(m, 0), 2),
    [],
  );
});

test('no GPU: the CPU is used instead, as percent of all cores, and the basis says so', () => {
  // 4 cores, cpuPercent 100 = one core busy = 25% of the machine: busy against a 5% threshold.
  assert.deepEqual(judge(rule(), cpu(0, 100), 0), { idle: false, reason: 'cpu' });
  // 16% of one core on 4 cores = 4% of the machine: idle.
  assert.deepEqual(judge(rule(), cpu(0, 16), 0), { idle: true, basis: 'cpu' });
  // GPUs that report no utilization ([N/A]) count as no GPU.
  assert.deepEqual(judge(rule(), { ...cpu(0, 4), gpus: [{ utilPercent: null }] }, 0), { idle: true, basis: 'cpu' });
  const t = new IdleTracker(rule());
  const events = t.update(cpu(0, 2), 0);
  assert.deepEqual(events, [{ kind: 'idle-since', since: T0, basis: 'cpu' }]);
  assert.match(basisText('cpu', rule()), /no GPU on this instance, so its CPU is used instead/);
  assert.match(basisText('gpu', rule()), /every GPU below 5%/);
});

test('a sample that cannot be judged (first sample, no CPU% yet, no GPU) changes nothing', () => {
  const t = new IdleTracker(rule());
  assert.deepEqual(t.update(cpu(0, null), 0), []);
  assert.equal(t.state.since, null);
  t.update(cpu(1, 1), 0);
  assert.deepEqual(t.update(cpu(2, null), 0), []);
  assert.equal(t.state.since, T0 + MIN, 'an unknown sample does not end a stretch either');
});

test('a gap in sampling (host unreachable) restarts the stretch: terminate needs continuous evidence', () => {
  const t = new IdleTracker(rule({ action: 'terminate', minutes: 30 }), { maxGapMs: 5 * MIN });
  run(t, 0, 20, (m) => gpu(m, 0));
  // No samples for an hour, then idle again: not 80 idle minutes, a new stretch.
  const after = t.update(gpu(80, 0), 0);
  assert.deepEqual(kinds(after), ['active', 'idle-since']);
  assert.equal((after[0] as { reason: string }).reason, 'gap');
  assert.deepEqual(
    run(t, 81, 109, (m) => gpu(m, 0)),
    [],
  );
  assert.deepEqual(kinds(t.update(gpu(110, 0), 0)), ['warn', 'terminate']);
});

test('disabled rule: no events; disabling mid-stretch ends it; the pure step never mutates its input', () => {
  const t = new IdleTracker(rule({ enabled: false }));
  assert.deepEqual(
    run(t, 0, 60, (m) => gpu(m, 0)),
    [],
  );
  t.rule = rule();
  run(t, 61, 62, (m) => gpu(m, 0));
  t.rule = { ...t.rule, enabled: false };
  assert.deepEqual(kinds(t.update(gpu(63, 0), 0)), ['active']);
  const frozen = Object.freeze({ ...INITIAL_IDLE_STATE });
  const r = idleStep(frozen, rule(), gpu(0, 0), 0);
  assert.equal(frozen.since, null);
  assert.equal(r.state.since, T0);
});

test('threshold is strict: utilization equal to the threshold is not idle', () => {
  assert.deepEqual(judge(rule({ gpuBelowPercent: 5 }), gpu(0, 5), 0), { idle: false, reason: 'gpu' });
  assert.deepEqual(judge(rule({ gpuBelowPercent: 5 }), gpu(0, 4.9), 0), { idle: true, basis: 'gpu' });
});

test('billing facts: Lambda cannot stop and bills until terminated; a powered-off Linode is still billed; idle cost = price', () => {
  assert.equal(BILLING.lambda.canStop, false);
  assert.equal(BILLING.lambda.billedUntil, 'terminated');
  assert.match(BILLING.lambda.text, /until it is terminated/);
  assert.equal(BILLING.linode.billedWhileStopped, true);
  assert.match(BILLING.linode.text, /powered-off Linode is still billed/);
  assert.equal(idleCostCentsPerHour({ priceCentsPerHour: 150 }), 150);
  assert.equal(idleCostCentsPerHour({ priceCentsPerHour: null }), null);
  const t = new IdleTracker(rule({ action: 'terminate', minutes: 30 }));
  run(t, 0, 12, (m) => gpu(m, 0));
  const text = idleText('linode', t.rule, t.state, { priceCentsPerHour: 150 }, T0 + 12 * MIN);
  assert.match(text!, /^Idle for 12 min \(every GPU below 5%/);
  assert.match(text!, /\$1\.50\/hour/);
  assert.match(text!, /will terminate it after 30 minutes/);
  assert.equal(idleText('lambda', t.rule, INITIAL_IDLE_STATE, { priceCentsPerHour: 150 }, T0), null);
});
