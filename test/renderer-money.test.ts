// The figures the Instances view shows: dollars, uptime, the cost that grows between pushes, and
// the total burn rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Instance } from '../shared/providers';
import { costBasisNote, formatDollars, formatRate, formatUptime, liveCost, totalBurnRate } from '../renderer/src/lib/money';

const HOUR = 3_600_000;

function inst(over: Partial<Instance> = {}, cost: Partial<Instance['cost']> = {}): Instance {
  return {
    provider: 'lambda',
    account: 'work',
    id: 'i-1',
    name: 'gpu-1',
    region: 'us-east-1',
    type: 'gpu_1x_a10',
    gpuDescription: '1x A10 (24 GB)',
    status: 'running',
    rawStatus: 'active',
    ipv4: null,
    ipv6: null,
    priceCentsPerHour: 75,
    createdAt: null,
    launchedByMoat: true,
    ...over,
    cost: { since: 1_000_000, basis: 'launched', uptimeMs: 0, costCents: 0, ...cost },
  };
}

test('dollars: two decimals from a dollar up, up to four below, never fewer than two', () => {
  assert.equal(formatDollars(129), '$1.29');
  assert.equal(formatDollars(12345.6), '$123.46');
  assert.equal(formatDollars(50), '$0.50');
  assert.equal(formatDollars(0.75), '$0.0075');
  assert.equal(formatDollars(0.1), '$0.001');
  assert.equal(formatDollars(0), '$0.00');
  assert.equal(formatDollars(null), '-');
  assert.equal(formatRate(129), '$1.29/h');
  assert.equal(formatRate(null), '-');
});

test('uptime: the two most significant units', () => {
  assert.equal(formatUptime(0), '0m00s');
  assert.equal(formatUptime(65_000), '1m05s');
  assert.equal(formatUptime(2 * HOUR + 7 * 60_000 + 59_000), '2h07m');
  assert.equal(formatUptime(3 * 24 * HOUR + 4 * HOUR + 1), '3d04h');
  assert.equal(formatUptime(-5), '0m00s');
});

test('live cost: price times the time since `since`, growing with the clock', () => {
  const i = inst({ priceCentsPerHour: 120 }, { since: 1_000_000 });
  const a = liveCost(i, 1_000_000 + HOUR / 2);
  assert.equal(a.uptimeMs, HOUR / 2);
  assert.equal(a.costCents, 60);
  const b = liveCost(i, 1_000_000 + HOUR / 2 + 1000);
  assert.ok(b.costCents! > a.costCents!, 'one second later it costs more');
  assert.equal(b.costCents, (120 * (HOUR / 2 + 1000)) / HOUR);
});

test('live cost: a client clock behind the host never shows less than main computed', () => {
  const i = inst({ priceCentsPerHour: 100 }, { since: 1_000_000, uptimeMs: HOUR, costCents: 100 });
  const c = liveCost(i, 1_000_000 + 1000);
  assert.equal(c.uptimeMs, HOUR);
  assert.equal(c.costCents, 100);
});

test('live cost: unknown price gives null cost but a running uptime', () => {
  const c = liveCost(inst({ priceCentsPerHour: null }, { since: 0, costCents: null }), 90_000);
  assert.equal(c.costCents, null);
  assert.equal(c.uptimeMs, 90_000);
});

test('live cost: a terminated instance stops at what main sent', () => {
  const i = inst({ status: 'terminated' }, { since: 0, uptimeMs: HOUR, costCents: 75 });
  assert.deepEqual(liveCost(i, 10 * HOUR), { uptimeMs: HOUR, costCents: 75 });
  // Control: the same instance still running keeps counting.
  assert.equal(liveCost({ ...i, status: 'running' }, 10 * HOUR).costCents, 750);
});

test('cost basis: only first-seen is a lower bound', () => {
  assert.equal(costBasisNote('first-seen').prefix, 'at least ');
  assert.match(costBasisNote('first-seen').note, /first saw/);
  assert.equal(costBasisNote('created').prefix, '');
  assert.match(costBasisNote('created').note, /created/);
  assert.equal(costBasisNote('launched').prefix, '');
});

test('total burn rate: sums known rates and says when one is unknown', () => {
  assert.deepEqual(totalBurnRate([]), { cents: 0, partial: false });
  assert.deepEqual(totalBurnRate([{ burnRateCentsPerHour: 129 }, { burnRateCentsPerHour: 60 }]), { cents: 189, partial: false });
  assert.deepEqual(totalBurnRate([{ burnRateCentsPerHour: 129 }, { burnRateCentsPerHour: null }]), { cents: 129, partial: true });
});
