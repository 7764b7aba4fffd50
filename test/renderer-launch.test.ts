// The launch form's regions and names, and how launch progress events map onto the step list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LaunchOptions, LaunchProgress } from '../shared/providers';
import { defaultTypeId, LAUNCH_STEPS, latestStep, regionsForType, stepRows, suggestName } from '../renderer/src/lib/launch';
import { belongsTo } from '../renderer/src/stores/launch';

const options: LaunchOptions = {
  account: 'work',
  provider: 'lambda',
  regions: [
    { id: 'us-east-1', label: 'Virginia, USA' },
    { id: 'us-west-1', label: 'California, USA' },
    { id: 'eu-central-1', label: 'Frankfurt, Germany' },
  ],
  types: [
    { id: 'gpu_8x_h100', label: '8x H100', gpuDescription: '8x H100 (80 GB)', priceCentsPerHour: 2392, regionsWithCapacity: [] },
    {
      id: 'gpu_1x_a10',
      label: '1x A10',
      gpuDescription: '1x A10 (24 GB)',
      priceCentsPerHour: 75,
      regionsWithCapacity: ['us-west-1', 'asia-1'],
    },
  ],
};

test('regions: only those with capacity for the type, labelled, unknown ones by id', () => {
  assert.deepEqual(regionsForType(options, 'gpu_1x_a10'), [
    { id: 'us-west-1', label: 'California, USA' },
    { id: 'asia-1', label: 'asia-1' },
  ]);
  assert.deepEqual(regionsForType(options, 'gpu_8x_h100'), []);
  assert.deepEqual(regionsForType(options, 'nope'), []);
});

test('default type: the first with capacity, else the first, else none', () => {
  assert.equal(defaultTypeId(options), 'gpu_1x_a10');
  assert.equal(defaultTypeId({ ...options, types: [options.types[0]!] }), 'gpu_8x_h100');
  assert.equal(defaultTypeId({ ...options, types: [] }), '');
});

test('suggested names: moat- and six lowercase letters, different each time', () => {
  const a = suggestName();
  assert.match(a, /^moat-[a-z]{6}$/);
  const names = new Set(Array.from({ length: 20 }, () => suggestName()));
  assert.ok(names.size > 15);
  assert.equal(
    suggestName(() => 0),
    'moat-aaaaaa',
  );
  assert.equal(
    suggestName(() => 0.999999),
    'moat-zzzzzz',
  );
});

const ev = (step: LaunchProgress['step'], at: number, extra: Partial<LaunchProgress> = {}): LaunchProgress => ({
  launchId: 'L1',
  account: 'work',
  name: 'moat-abcdef',
  step,
  at,
  ...extra,
});

const states = (rows: ReturnType<typeof stepRows>) => rows.map((r) => `${r.step}:${r.state}`);

test('steps: in order; before any report the launch call is on its way, so checking is current', () => {
  assert.deepEqual(
    stepRows([]).map((r) => r.step),
    [...LAUNCH_STEPS],
  );
  assert.deepEqual(states(stepRows([])), ['checking:current', 'ssh-key:pending', 'requested:pending', 'booting:pending', 'ready:pending']);
  assert.equal(latestStep([]), null);
});

test('steps: the last begun is current; after requested, booting is', () => {
  assert.deepEqual(states(stepRows([ev('checking', 1), ev('ssh-key', 2)])), [
    'checking:done',
    'ssh-key:current',
    'requested:pending',
    'booting:pending',
    'ready:pending',
  ]);
  assert.deepEqual(states(stepRows([ev('checking', 1), ev('ssh-key', 2), ev('requested', 3)])), [
    'checking:done',
    'ssh-key:done',
    'requested:done',
    'booting:current',
    'ready:pending',
  ]);
});

test('steps: ready is all done; out-of-order arrival does not matter; times are first reports', () => {
  const events = [
    ev('ready', 9, { rawStatus: 'active' }),
    ev('checking', 1),
    ev('booting', 5, { rawStatus: 'booting' }),
    ev('booting', 7, { rawStatus: 'unhealthy' }),
    ev('requested', 4),
    ev('ssh-key', 2),
  ];
  const rows = stepRows(events);
  assert.ok(rows.every((r) => r.state === 'done'));
  assert.equal(rows.find((r) => r.step === 'booting')!.at, 5);
  assert.equal(rows.find((r) => r.step === 'booting')!.rawStatus, 'unhealthy');
  assert.equal(latestStep(events), 'ready');
});

test('steps: a failure marks the step under way failed, later ones stay pending', () => {
  const failedAtSsh = [ev('checking', 1), ev('ssh-key', 2), ev('failed', 3, { error: { code: 'PROVIDER_AUTH', message: 'no' } })];
  assert.deepEqual(states(stepRows(failedAtSsh)), [
    'checking:done',
    'ssh-key:failed',
    'requested:pending',
    'booting:pending',
    'ready:pending',
  ]);
  assert.equal(latestStep(failedAtSsh), 'failed');
  // After the provider accepted it, a failure is a boot failure.
  assert.deepEqual(states(stepRows([ev('checking', 1), ev('ssh-key', 2), ev('requested', 3), ev('failed', 4)])), [
    'checking:done',
    'ssh-key:done',
    'requested:done',
    'booting:failed',
    'ready:pending',
  ]);
  assert.equal(stepRows([ev('checking', 1), ev('failed', 4)])[0]!.at, 1);
});

test('steps: a launch call that rejected before any event fails at checking', () => {
  assert.deepEqual(states(stepRows([], true)), [
    'checking:failed',
    'ssh-key:pending',
    'requested:pending',
    'booting:pending',
    'ready:pending',
  ]);
  assert.equal(latestStep([], true), 'failed');
});

test('progress events: matched by account and name until the launch id is known, then by id', () => {
  const pending = { account: 'work', name: 'moat-abcdef', launchId: null };
  assert.ok(belongsTo(pending, ev('checking', 1, { launchId: 'anything' })));
  assert.ok(!belongsTo(pending, ev('checking', 1, { name: 'other' })));
  assert.ok(!belongsTo(pending, ev('checking', 1, { account: 'home' })));
  const known = { ...pending, launchId: 'L1' };
  assert.ok(belongsTo(known, ev('booting', 5)));
  assert.ok(!belongsTo(known, ev('booting', 5, { launchId: 'L0' })), 'an earlier launch of the same name is not this one');
});
