// The instance monitor's polling policy, with a scripted list in place of the providers (the
// providers themselves are exercised against the fakes in instances.test.ts and the e2e test):
// pushes only on visible changes, backs off while nothing changes, polls faster while an instance
// is starting, stops when no one has asked for a while, and shows a retrying state at once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import type { InstancesList, InstanceView } from '../main/instances/instances';
import { InstancesMonitor, type MonitoredList } from '../main/instances/monitor';

function inst(status: InstanceView['status'], extra: Partial<InstanceView> = {}): InstanceView {
  return {
    provider: 'lambda',
    id: 'i-1',
    name: 'a',
    region: 'us-west-1',
    type: 'gpu_1x_a10',
    gpuDescription: '1x A10',
    status,
    rawStatus: status === 'starting' ? 'booting' : 'active',
    ipv4: null,
    ipv6: null,
    priceCentsPerHour: 75,
    createdAt: null,
    account: 'acct',
    launchedByMoat: true,
    cost: { since: 0, basis: 'launched', uptimeMs: 0, costCents: 0 },
    ...extra,
  };
}

/** A list source whose answer the test sets; records when it was asked. */
function source(now: () => number) {
  const s = {
    next: [] as InstanceView[],
    calls: [] as number[],
    async list(): Promise<InstancesList> {
      s.calls.push(now());
      return {
        at: now(),
        accounts: [{ account: 'acct', provider: 'lambda', burnRateCentsPerHour: 75 }],
        // Cost changes at every poll: it must not count as a change.
        instances: s.next.map((i) => ({ ...i, cost: { ...i.cost, uptimeMs: now(), costCents: now() / 1000 } })),
      };
    },
  };
  return s;
}

// Mocked time: the intervals are exact, so the assertions do not depend on the machine's load.
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** Moves mocked time forward in 5 ms steps, letting the polls' promises settle at each. */
async function tick(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 5) {
    mock.timers.tick(5);
    await new Promise((r) => setImmediate(r));
  }
}

test('pushes on a visible change only, not on cost, and backs off while nothing changes', async () => {
  const src = source(Date.now);
  src.next = [inst('running', { ipv4: '192.0.2.1' })];
  const pushed: MonitoredList[] = [];
  const m = new InstancesMonitor({ instances: src, emit: (l) => pushed.push(l), minMs: 20, busyMaxMs: 40, maxMs: 160 });
  try {
    await m.list();
    assert.equal(pushed.length, 1, 'the first list is a change');
    await tick(700);
    assert.equal(pushed.length, 1, 'polls that only see cost move push nothing');
    const gaps = src.calls.slice(1).map((t, i) => t - src.calls[i]!);
    assert.ok(gaps.length >= 3, `it kept polling (${gaps.length} gaps)`);
    assert.ok(gaps.at(-1)! >= 120, `the interval backed off towards maxMs: ${gaps.join(', ')}`);
    assert.ok(
      gaps.every((g) => g <= 160 + 5),
      `never beyond maxMs: ${gaps.join(', ')}`,
    );
    assert.deepEqual(gaps.slice(0, 4), [20, 40, 80, 160], 'doubling from minMs to maxMs');
    src.next = [inst('running', { ipv4: '192.0.2.99' })];
    await tick(400);
    assert.equal(pushed.length, 2, 'an address change is pushed');
    assert.equal(pushed[1]!.instances[0]!.ipv4, '192.0.2.99');
  } finally {
    m.close();
  }
});

test('polls at most busyMaxMs apart while an instance is starting', async () => {
  const src = source(Date.now);
  src.next = [inst('starting')];
  const m = new InstancesMonitor({ instances: src, emit: () => {}, minMs: 20, busyMaxMs: 40, maxMs: 400 });
  try {
    await m.list();
    await tick(600);
    const gaps = src.calls.slice(1).map((t, i) => t - src.calls[i]!);
    assert.ok(gaps.length >= 8, `polled often while starting: ${gaps.length} polls`);
    assert.ok(Math.max(...gaps) <= 40 + 5, `gaps stay at most busyMaxMs: ${gaps.join(', ')}`);
  } finally {
    m.close();
  }
});

test('stops polling when no one has asked for interestMs, and answers from the snapshot while fresh', async () => {
  const src = source(Date.now);
  const m = new InstancesMonitor({ instances: src, emit: () => {}, minMs: 10, maxMs: 20, interestMs: 100 });
  try {
    await m.list();
    await m.list();
    assert.equal(src.calls.length, 1, 'a second list within maxMs is answered from the snapshot');
    await tick(300);
    const n = src.calls.length;
    await tick(200);
    assert.equal(src.calls.length, n, 'no polls after interest ran out');
    await m.list(true);
    assert.equal(src.calls.length, n + 1, 'refresh asks the providers');
  } finally {
    m.close();
  }
});

test('a retrying request is pushed at once and cleared by the next completed listing', async () => {
  const src = source(Date.now);
  const pushed: MonitoredList[] = [];
  const m = new InstancesMonitor({ instances: src, emit: (l) => pushed.push(l), minMs: 10_000 });
  try {
    await m.list();
    m.setRetrying('acct', { attempt: 2, maxAttempts: 5, delayMs: 4000, reason: 'rate limited (429)' });
    assert.equal(pushed.length, 2);
    assert.equal(pushed[1]!.accounts[0]!.retrying?.reason, 'rate limited (429)');
    assert.equal(pushed[1]!.accounts[0]!.retrying?.attempt, 2);
    const after = await m.list(true);
    assert.equal(after.accounts[0]!.retrying, undefined);
  } finally {
    m.close();
  }
});
