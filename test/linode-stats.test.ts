// Linode stats: the client against the fake (400 "Stats are unavailable" for a new Linode is
// null, not an error), the recorded example body from the specs, and the normalized series.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startLinodeFake } from '../e2e/fakes/linode';
import { LinodeClient, linodeStatsSeries } from '../main/providers/linode/client';
import { linodeStats } from '../main/providers/linode/schemas';
import { ProviderError } from '../main/providers/provider';

const examples = JSON.parse(readFileSync(new URL('../../shared/specs/linode/examples.json', import.meta.url), 'utf8')) as {
  stats_GET_shape: { body: unknown };
};

const client = (url: string, token = 'good') =>
  new LinodeClient({ baseUrl: url, key: async () => token, backoff: { baseMs: 1, maxMs: 5 } });
const launch = (c: LinodeClient, label: string) =>
  c.create({
    label,
    region: 'us-east',
    type: 'g6-standard-1',
    image: 'linode/ubuntu24.04',
    authorized_keys: [],
    root_pass: 'x-Y-1!aaaaaaaa',
    booted: true,
  });

test('the recorded stats example (wrapped in {data, title}) reads, and so does the unwrapped shape the spec shows', () => {
  const wrapped = linodeStats.parse(examples.stats_GET_shape.body);
  assert.deepEqual(wrapped.data.cpu, [[1521483600000, 0.42]]);
  assert.equal(wrapped.title, 'linode.com - my-linode (linode123456) - day (5 min avg)');
  const body = examples.stats_GET_shape.body as { data: object; title: string };
  const unwrapped = linodeStats.parse({ ...body.data, title: body.title });
  assert.deepEqual(unwrapped, wrapped);
  const s = linodeStatsSeries(wrapped);
  assert.deepEqual(s.cpuPercent, [[1521483600000, 0.42]]);
  // Public and private, v4 and v6, added per timestamp.
  assert.deepEqual(s.netInBitsPerSec, [[1521484800000, 2004.36 + 195.18]]);
  assert.deepEqual(s.netOutBitsPerSec, [[1521484800000, 3928.91 + 5.6 + 5.6]]);
  assert.deepEqual(s.ioBlocks, [[1521484800000, 0.19]]);
});

test('lenient: missing families are empty, broken points are dropped, the series come out sorted', () => {
  const s = linodeStatsSeries(
    linodeStats.parse({
      data: {
        cpu: [
          [3, 1],
          [1, null],
          [2, 5],
          ['x', 1],
        ],
        netv4: { in: [[2, 10]] },
        new_family: {},
      },
    }),
  );
  assert.deepEqual(s.cpuPercent, [
    [2, 5],
    [3, 1],
  ]);
  assert.deepEqual(s.netInBitsPerSec, [[2, 10]]);
  assert.deepEqual(s.netOutBitsPerSec, []);
  assert.deepEqual(s.ioBlocks, []);
});

test('client.stats: a new Linode has none yet (null, no throw); after ~10 minutes, 5-minute points from its creation', async () => {
  const fake = await startLinodeFake({ tokens: { good: '*' } });
  try {
    const c = client(fake.url);
    const i = await launch(c, 'stats-new');
    assert.equal(await c.stats(i.id), null);
    // Positive control: the 400 is the fake's real answer, and other 400s still throw.
    const last = fake.state.responses.at(-1)!;
    assert.equal(last.status, 400);
    assert.deepEqual(last.body, { errors: [{ reason: 'Stats are unavailable at this time.' }] });
    await assert.rejects(c.stats(1), (e: unknown) => e instanceof ProviderError && e.kind === 'not-found');

    // Three hours old: 36 or 37 points, 5 minutes apart, none before creation.
    const created = Date.now() - 3 * 3_600_000;
    fake.state.instances.find((x) => x.id === i.id)!.createdAt = created;
    const raw = await c.stats(i.id);
    assert.ok(raw);
    const s = linodeStatsSeries(raw);
    assert.ok(s.cpuPercent.length >= 36 && s.cpuPercent.length <= 37, String(s.cpuPercent.length));
    assert.ok(s.cpuPercent[0]![0] >= created);
    for (let n = 1; n < s.cpuPercent.length; n++) assert.equal(s.cpuPercent[n]![0] - s.cpuPercent[n - 1]![0], 5 * 60_000);
    assert.ok(s.cpuPercent.every(([, v]) => v >= 0 && v <= 100));
    assert.ok(s.netInBitsPerSec.length === s.cpuPercent.length && s.ioBlocks.length === s.cpuPercent.length);
    assert.match(raw.title ?? '', /stats-new/);

    // Two days old: only the last 24 h (288 or 289 points).
    fake.state.instances.find((x) => x.id === i.id)!.createdAt = Date.now() - 48 * 3_600_000;
    const day = linodeStatsSeries((await c.stats(i.id))!);
    assert.ok(day.cpuPercent.length >= 288 && day.cpuPercent.length <= 289, String(day.cpuPercent.length));
  } finally {
    await fake.close();
  }
});

test('client.stats needs linodes:read_only; a token without it is refused with the missing scope', async () => {
  const fake = await startLinodeFake({ tokens: { good: '*', fw: 'firewall:read_write' }, statsAfterMs: 0 });
  try {
    const i = await launch(client(fake.url), 'stats-scope');
    assert.ok(await client(fake.url).stats(i.id));
    await assert.rejects(client(fake.url, 'fw').stats(i.id), (e: unknown) => e instanceof ProviderError && e.kind === 'scopes');
  } finally {
    await fake.close();
  }
});
