// LambdaProvider against the fake Lambda API: Lambda's own reasons on a wrong key, bounded retries
// on 429 and 5xx with notices, a launch whose answer is lost never becomes a second instance,
// malformed answers and unknown statuses handled, instances that boot, terminate and vanish.
// The key never appears in any error or notice.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { startLambdaFake, type LambdaFake } from '../e2e/fakes/lambda';
import { ProviderError, type RetryNotice } from '../main/providers/provider';
import { LambdaProvider, lambdaBaseUrl, type LambdaProviderOptions } from '../main/providers/lambda/provider';

const KEY = 'secret_lambda_key_5b1e0f7c9d2a4e6b8a0c1d3e';
const SSH = { id: '', name: 'moat', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample moat' };
let fake: LambdaFake;
const seen: unknown[] = [];

before(async () => {
  fake = await startLambdaFake({
    keys: [KEY],
    bootMs: 150,
    terminateMs: 100,
    instanceIp: '127.0.0.1',
    sshKeys: [{ name: 'moat', public_key: SSH.publicKey }],
  });
});
after(() => fake.close());
afterEach(() => {
  Object.assign(fake.knobs, {
    latencyMs: 0,
    rateLimited: 0,
    serverErrors: 0,
    launchDelay: { count: 0, ms: 0 },
    malformed: null,
    statusOverride: null,
    faultPath: null,
  });
});

function provider(extra: Partial<LambdaProviderOptions> = {}, notices: RetryNotice[] = []): LambdaProvider {
  return new LambdaProvider({
    baseUrl: fake.url,
    key: async () => KEY,
    backoff: { baseMs: 1, maxMs: 5 },
    maxAttempts: 4,
    timeoutMs: 2000,
    onRetry: (n) => notices.push(n),
    ...extra,
  });
}

/** The rejection, checked to be a ProviderError that does not carry the key anywhere. */
async function failure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    seen.push(err);
    assert.ok(err instanceof ProviderError, String(err));
    assert.ok(!err.message.includes(KEY) && !JSON.stringify(err.details).includes(KEY) && !String(err.stack).includes(KEY));
    return err;
  }
  assert.fail('expected a ProviderError');
}

function launchCount(name: string): number {
  return [...fake.state.instances.values()].filter((i) => i.name === name).length;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('lambdaBaseUrl: Lambda’s own URL unless MOAT_LAMBDA_API_URL is set', () => {
  assert.equal(lambdaBaseUrl({}), 'https://cloud.lambda.ai/api/v1');
  assert.equal(lambdaBaseUrl({ MOAT_LAMBDA_API_URL: 'http://127.0.0.1:9/api/v1' }), 'http://127.0.0.1:9/api/v1');
});

test('wrong key: kind auth with Lambda’s own message and suggestion, and no retry', async () => {
  const notices: RetryNotice[] = [];
  const p = new LambdaProvider({ baseUrl: fake.url, key: async () => 'wrong-key', onRetry: (n) => notices.push(n) });
  const e = await failure(p.checkAccount());
  assert.equal(e.kind, 'auth');
  assert.equal(e.details.status, 401);
  assert.equal(e.details.providerCode, 'global/invalid-api-key');
  assert.match(e.message, /API key was invalid, expired, or deleted/);
  assert.match(e.message, /Check your API key or create a new one/);
  assert.equal(notices.length, 0);
  assert.deepEqual(await provider().checkAccount(), {});
});

test('a 429 storm is retried with notices, then succeeds', async () => {
  const notices: RetryNotice[] = [];
  fake.knobs.rateLimited = 3;
  const types = await provider({}, notices).listInstanceTypes();
  assert.equal(notices.length, 3);
  assert.deepEqual(
    notices.map((n) => n.attempt),
    [1, 2, 3],
  );
  for (const n of notices)
    assert.ok(n.maxAttempts === 4 && n.delayMs >= 0 && /Too many requests/.test(n.reason) && !n.reason.includes(KEY));
  const a10 = types.find((t) => t.id === 'gpu_1x_a10');
  assert.deepEqual(a10, {
    id: 'gpu_1x_a10',
    label: '1x A10 (24 GB PCIe)',
    gpuDescription: '1x A10 (24 GB PCIe)',
    priceCentsPerHour: 75,
    regionsWithCapacity: ['us-west-1', 'us-east-1'],
  });
  assert.equal(types.find((t) => t.id === 'cpu_4x_general')?.gpuDescription, '');
  assert.deepEqual(types.find((t) => t.id === 'gpu_8x_h100_sxm5')?.regionsWithCapacity, []);
});

test('a 429 storm that outlasts the retries ends as rate-limited', async () => {
  const notices: RetryNotice[] = [];
  fake.knobs.rateLimited = 100;
  const e = await failure(provider({}, notices).listRegions());
  assert.equal(e.kind, 'rate-limited');
  assert.equal(e.details.status, 429);
  assert.equal(notices.length, 3); // 4 attempts, 3 waits
});

test('5xx is retried, and ends as unavailable when it persists', async () => {
  fake.knobs.serverErrors = 2;
  const regions = await provider().listRegions();
  assert.ok(regions.some((r) => r.id === 'us-west-1' && r.label === 'California, USA'));
  fake.knobs.serverErrors = 100;
  const e = await failure(provider().listSshKeys());
  assert.equal(e.kind, 'unavailable');
  assert.match(e.message, /internal server error/);
});

test('launch: the answer is lost past the deadline, yet exactly one instance exists and is returned', async () => {
  const notices: RetryNotice[] = [];
  fake.knobs.launchDelay = { count: 1, ms: 1500 };
  const p = provider({ timeoutMs: 400 }, notices);
  const inst = await p.launch({ name: 'moat-timeout-1', region: 'us-west-1', type: 'gpu_1x_a10', sshKey: SSH });
  assert.equal(launchCount('moat-timeout-1'), 1);
  assert.equal(inst.id, [...fake.state.instances.values()].find((i) => i.name === 'moat-timeout-1')?.id);
  assert.match(inst.id, /^[0-9a-f]{32}$/);
  await sleep(1200); // the fake's late answer goes nowhere (the fake logs an answer when it sends it)
  assert.equal(launchCount('moat-timeout-1'), 1);
  assert.equal(fake.state.log.filter((l) => l.path.endsWith('/instance-operations/launch')).length, 1);
});

test('launch: a 5xx before anything was created is retried once, and one instance exists', async () => {
  const notices: RetryNotice[] = [];
  fake.knobs.faultPath = '/instance-operations/launch';
  fake.knobs.serverErrors = 1;
  const inst = await provider({}, notices).launch({ name: 'moat-5xx-1', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: SSH });
  assert.equal(launchCount('moat-5xx-1'), 1);
  assert.equal(notices.length, 1);
  assert.equal(inst.name, 'moat-5xx-1');
});

test('launch: an unreadable answer to a launch that happened returns that instance, no relaunch', async () => {
  fake.knobs.faultPath = '/instance-operations/launch';
  fake.knobs.malformed = 'not-json';
  const inst = await provider().launch({ name: 'moat-garbled-1', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: SSH });
  assert.equal(launchCount('moat-garbled-1'), 1);
  assert.equal(inst.name, 'moat-garbled-1');
});

test('launch: a 5xx that persists gives up as unavailable with no instance started', async () => {
  fake.knobs.faultPath = '/instance-operations/launch';
  fake.knobs.serverErrors = 100;
  const e = await failure(
    provider({ launchChecks: 1 }).launch({ name: 'moat-5xx-2', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: SSH }),
  );
  assert.equal(e.kind, 'unavailable');
  assert.equal(launchCount('moat-5xx-2'), 0);
});

test('launch: a refusal (no capacity) is not retried and carries Lambda’s reason', async () => {
  const e = await failure(provider().launch({ name: 'moat-nocap', region: 'us-west-1', type: 'gpu_8x_h100_sxm5', sshKey: SSH }));
  assert.equal(e.kind, 'invalid');
  assert.equal(e.details.providerCode, 'instance-operations/launch/insufficient-capacity');
  assert.match(e.message, /Not enough capacity/);
  assert.equal(launchCount('moat-nocap'), 0);
});

test('launch sends exactly one SSH key; booting has no IP, then active with the given IP', async () => {
  const p = provider();
  const key = await p.addSshKey('second', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIsecond second');
  assert.match(key.id, /^[0-9a-f]{32}$/);
  const inst = await p.launch({ name: 'moat-boot-1', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: key });
  assert.deepEqual([inst.status, inst.rawStatus, inst.ipv4], ['starting', 'booting', null]);
  assert.equal([...fake.state.instances.values()].find((i) => i.id === inst.id)?.sshKey, 'second');
  await sleep(200);
  const now = await p.getInstance(inst.id);
  assert.deepEqual(
    [now?.status, now?.ipv4, now?.gpuDescription, now?.priceCentsPerHour],
    ['running', '127.0.0.1', '1x A10 (24 GB PCIe)', 75],
  );
});

test('a malformed answer (not JSON, or the wrong shape) is malformed, never a crash', async () => {
  fake.knobs.malformed = 'not-json';
  assert.equal((await failure(provider().listRegions())).kind, 'malformed');
  fake.knobs.malformed = 'wrong-shape';
  assert.equal((await failure(provider().listInstances())).kind, 'malformed');
});

test('an unknown status is shown as itself', async () => {
  const p = provider();
  const inst = await p.launch({ name: 'moat-unknown-1', region: 'us-east-1', type: 'cpu_4x_general', sshKey: SSH });
  fake.knobs.statusOverride = 'hibernating';
  const got = await p.getInstance(inst.id);
  assert.deepEqual([got?.status, got?.rawStatus], ['unknown', 'hibernating']);
  assert.ok((await p.listInstances()).some((i) => i.id === inst.id && i.rawStatus === 'hibernating'));
});

test('terminate: terminating, then the instance vanishes (null, not listed); terminating again is fine', async () => {
  const p = provider();
  const inst = await p.launch({ name: 'moat-term-1', region: 'us-east-1', type: 'gpu_1x_a10', sshKey: SSH });
  await p.terminate(inst.id);
  assert.equal((await p.getInstance(inst.id))?.status, 'stopping');
  await sleep(150);
  assert.equal(await p.getInstance(inst.id), null);
  assert.ok(!(await p.listInstances()).some((i) => i.id === inst.id));
  await p.terminate(inst.id);
});

test('no error or notice in these tests carried the key', () => {
  assert.ok(seen.length >= 6);
  for (const e of seen) assert.ok(!JSON.stringify({ m: (e as Error).message, d: (e as ProviderError).details }).includes(KEY));
});
