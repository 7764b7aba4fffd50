// The Linode client against the fake Linode API (e2e/fakes/linode.ts): auth and scopes, errors,
// pagination and X-Filter, rate limits, busy and 5xx retries, the launch that must never happen
// twice, malformed answers, unknown statuses; and that neither the token nor the throwaway root
// password ever comes back out.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { startLinodeFake, type LinodeFake, type LinodeFakeOptions } from '../e2e/fakes/linode';
import { LinodeProvider, linodeBaseUrl, missingScopes, parseScopes, type LinodeOptions } from '../main/providers/linode';
import { waitMs } from '../main/providers/linode/errors';
import { ProviderError, type ProviderErrorKind, type RetryNotice, type SshKeyRef } from '../main/providers/provider';

const TOKEN = 'tok-7f3c9e1a2b4d6e8f0a1b3c5d7e9f1a2b';
const KEY: SshKeyRef = { id: '1', name: 'moat', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests moat' };
let fake: LinodeFake | null = null;
const errors: ProviderError[] = [];

afterEach(async () => {
  await fake?.close();
  fake = null;
  // No error any test produced carries the token.
  for (const e of errors) assert.ok(!e.message.includes(TOKEN) && !JSON.stringify(e.details).includes(TOKEN), e.message);
});

async function setup(o: Partial<LinodeFakeOptions> = {}, p: Partial<LinodeOptions> & { token?: string } = {}) {
  fake = await startLinodeFake({ tokens: { [TOKEN]: '*' }, ...o });
  const notices: RetryNotice[] = [];
  const waits: number[] = [];
  const provider = new LinodeProvider({
    baseUrl: fake.url,
    key: async () => p.token ?? TOKEN,
    backoff: { baseMs: 1, maxMs: 5 },
    // Records the wait asked for and waits only briefly: tests check the policy, not the clock.
    sleep: async (ms) => {
      waits.push(ms);
      await new Promise((r) => setTimeout(r, 1));
    },
    onRetry: (n) => notices.push(n),
    timeoutMs: 2000,
    ...p,
  });
  return { fake, provider, notices, waits };
}

async function rejectsWith(p: Promise<unknown>, kind: ProviderErrorKind): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProviderError, String(err));
    errors.push(err);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.provider, 'linode');
    return err;
  }
  assert.fail(`expected a ProviderError '${kind}'`);
}

test('base URL: Linode by default, MOAT_LINODE_API_URL when set', () => {
  assert.equal(linodeBaseUrl({}), 'https://api.linode.com/v4');
  assert.equal(linodeBaseUrl({ MOAT_LINODE_API_URL: 'http://127.0.0.1:9/v4' }), 'http://127.0.0.1:9/v4');
});

test('a wrong token is auth with Linode reason, and the token is not in the message', async () => {
  const { provider } = await setup({}, { token: 'tok-wrong-000000' });
  const e = await rejectsWith(provider.checkAccount(), 'auth');
  assert.match(e.message, /Invalid Token/);
  assert.equal(e.details.status, 401);
  assert.ok(!e.message.includes('tok-wrong-000000'));
});

test('a token with every scope passes; one with some lists exactly the missing ones', async () => {
  const { provider, fake: f } = await setup();
  assert.deepEqual(await provider.checkAccount(), { scopes: ['*'] });
  // A second server whose only token has some of the scopes.
  await f.close();
  fake = await startLinodeFake({ tokens: { [TOKEN]: 'linodes:read_write account:read_only events:read_write' } });
  const p2 = new LinodeProvider({ baseUrl: fake.url, key: async () => TOKEN });
  const e = await rejectsWith(p2.checkAccount(), 'scopes');
  assert.deepEqual(e.details.missingScopes, ['firewall:read_write', 'account:read_write']);
  assert.match(e.message, /firewall:read_write, account:read_write/);
});

test('a token without even the probe endpoint scope gets the full missing list', async () => {
  await setup();
  await fake!.close();
  fake = await startLinodeFake({ tokens: { [TOKEN]: 'domains:read_write' } });
  const p = new LinodeProvider({ baseUrl: fake.url, key: async () => TOKEN });
  const e = await rejectsWith(p.checkAccount(), 'scopes');
  assert.deepEqual(e.details.missingScopes, ['linodes:read_write', 'firewall:read_write', 'events:read_only', 'account:read_write']);
});

test('every page is walked, and a label lookup is one X-Filter request', async () => {
  const { provider, fake: f } = await setup({ pageSizeCap: 2 });
  for (const n of ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'])
    await provider.launch({ name: n, region: 'us-east', type: 'g6-standard-1', sshKey: KEY });
  f.state.requests.length = 0;
  const all = await provider.listInstances();
  assert.deepEqual(all.map((i) => i.name).sort(), ['p-1', 'p-2', 'p-3', 'p-4', 'p-5']);
  const pages = f.state.requests
    .filter((r) => r.path.startsWith('/v4/linode/instances?'))
    .map((r) => new URL(r.path, 'http://x').searchParams.get('page'));
  assert.deepEqual(pages, ['1', '2', '3']);
  f.state.requests.length = 0;
  const one = await provider.findByLabel('p-4');
  assert.equal(one?.name, 'p-4');
  const lookups = f.state.requests.filter((r) => r.path.startsWith('/v4/linode/instances?'));
  assert.equal(lookups.length, 1);
  assert.deepEqual(JSON.parse(lookups[0]!.filter!), { label: 'p-4' });
});

test('a 429 storm is waited out as Retry-After says; past the attempts it is rate-limited', async () => {
  const { provider, fake: f, waits, notices } = await setup();
  f.knobs.rateLimited = { count: 3, retryAfterS: 2 };
  assert.ok((await provider.listRegions()).length > 0);
  assert.deepEqual(waits, [2000, 2000, 2000]);
  assert.match(notices[0]!.reason, /rate-limiting/);
  f.knobs.rateLimited = { count: 50, retryAfterS: 1 };
  const e = await rejectsWith(provider.listRegions(), 'rate-limited');
  assert.equal(e.details.status, 429);
});

test('400 Linode busy. is retried with back-off', async () => {
  const { provider, fake: f, notices } = await setup();
  const i = await provider.launch({ name: 'busy-1', region: 'us-east', type: 'g6-standard-1', sshKey: KEY });
  f.knobs.busy = 2;
  await provider.terminate(i.id);
  assert.equal(notices.length, 2);
  assert.match(notices[0]!.reason, /busy/);
  assert.equal(await provider.getInstance(i.id), null);
});

test('5xx is retried; one that outlasts the attempts is unavailable', async () => {
  const { provider, fake: f } = await setup();
  f.knobs.serverErrors = { count: 2, status: 502 };
  assert.ok((await provider.listSshKeys()).length === 0);
  f.knobs.serverErrors = { count: 99, status: 503 };
  const e = await rejectsWith(provider.listSshKeys(), 'unavailable');
  assert.equal(e.details.status, 503);
});

test('a launch whose answer outlasts the deadline is found by label, never launched twice', async () => {
  const { provider, fake: f } = await setup({}, { timeoutMs: 300 });
  f.knobs.launchResponseDelayMs = 1500;
  const i = await provider.launch({ name: 'slow-1', region: 'us-east', type: 'g1-gpu-rtx6000-1', sshKey: KEY });
  assert.equal(i.name, 'slow-1');
  assert.equal(f.state.launches.length, 1);
  assert.equal(f.state.instances.length, 1);
  assert.equal(i.id, String(f.state.instances[0]!.id));
});

test('a launch refused with a 5xx (nothing created) is tried again once, after looking', async () => {
  const { provider, fake: f } = await setup();
  f.knobs.serverErrors = { count: 1, status: 500 };
  const i = await provider.launch({ name: 'five-1', region: 'us-east', type: 'g1-gpu-rtx6000-1', sshKey: KEY });
  assert.equal(i.name, 'five-1');
  assert.equal(f.state.instances.length, 1);
  assert.ok(f.state.requests.some((r) => r.filter === JSON.stringify({ label: 'five-1' })));
});

test('several errors at once are joined in one message', async () => {
  const { provider } = await setup();
  const e = await rejectsWith(provider.launch({ name: 'x-1', region: 'nowhere', type: 'nope', sshKey: KEY }), 'invalid');
  assert.match(e.message, /region: region is not valid; type: A valid plan type/);
});

test('a body that is not JSON, or JSON of the wrong shape, is malformed', async () => {
  const { provider, fake: f } = await setup();
  f.knobs.malformed = { count: 1, kind: 'json' };
  await rejectsWith(provider.listRegions(), 'malformed');
  f.knobs.malformed = { count: 1, kind: 'shape' };
  const e = await rejectsWith(provider.listRegions(), 'malformed');
  assert.match(e.message, /GET \/regions/);
});

test('an unknown status is shown as itself; known ones move over time; deleting, then gone', async () => {
  const { provider, fake: f } = await setup({ provisioningMs: 150, bootingMs: 150, deletingMs: 150, ipv4: '127.0.0.1' });
  const i = await provider.launch({ name: 's-1', region: 'us-east', type: 'g1-gpu-rtx6000-1', sshKey: KEY, userData: '#cloud-config\n' });
  assert.deepEqual([i.status, i.rawStatus], ['starting', 'provisioning']);
  assert.equal(i.ipv4, '127.0.0.1');
  assert.equal(i.gpuDescription, '1x RTX6000');
  assert.equal(i.priceCentsPerHour, 150);
  await new Promise((r) => setTimeout(r, 170));
  assert.equal((await provider.getInstance(i.id))?.rawStatus, 'booting');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await provider.getInstance(i.id))?.status, 'running');
  f.knobs.statusOverride = 'hibernating';
  const odd = await provider.getInstance(i.id);
  assert.deepEqual([odd?.status, odd?.rawStatus], ['unknown', 'hibernating']);
  f.knobs.statusOverride = null;
  await provider.terminate(i.id);
  assert.deepEqual([(await provider.getInstance(i.id))?.rawStatus], ['deleting']);
  await new Promise((r) => setTimeout(r, 170));
  assert.equal(await provider.getInstance(i.id), null);
  assert.equal(await provider.getInstance('999'), null);
});

test('launch sends label, Ubuntu LTS image, the key, user data; the root password never comes back', async () => {
  const { provider, fake: f, notices } = await setup();
  const logged: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info };
  for (const m of ['log', 'error', 'warn', 'info'] as const) console[m] = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  let a, b;
  try {
    f.knobs.busy = 1; // a retry must not print or re-show it either
    a = await provider.launch({ name: 'pw-1', region: 'us-east', type: 'g6-standard-1', sshKey: KEY, userData: 'hello' });
    b = await provider.launch({ name: 'pw-2', region: 'us-east', type: 'g6-standard-1', sshKey: KEY });
  } finally {
    Object.assign(console, saved);
  }
  const [body1, body2] = f.state.launches.filter((l) => l.label !== undefined).slice(-2);
  assert.equal(body1!.image, 'linode/ubuntu24.04');
  assert.deepEqual(body1!.authorized_keys, [KEY.publicKey]);
  assert.deepEqual(body1!.metadata, { user_data: Buffer.from('hello').toString('base64') });
  const pw = body1!.root_pass as string;
  assert.ok(pw.length >= 32 && /[A-Z]/.test(pw) && /[a-z]/.test(pw) && /\d/.test(pw), 'strong');
  assert.notEqual(pw, body2!.root_pass);
  for (const out of [JSON.stringify(a), JSON.stringify(b), JSON.stringify(notices), logged.join('\n')]) {
    assert.ok(!out.includes(pw) && !out.includes(body2!.root_pass as string));
  }
  assert.ok(!JSON.stringify(await provider.listInstances()).includes(pw));
});

test('instance types: GPU count and name, hourly price in cents, regions with capacity', async () => {
  const { provider } = await setup();
  const types = await provider.listInstanceTypes();
  const g1 = types.find((t) => t.id === 'g1-gpu-rtx6000-1')!;
  assert.deepEqual([g1.gpuDescription, g1.priceCentsPerHour, g1.regionsWithCapacity], ['1x RTX6000', 150, ['us-east']]);
  const g2 = types.find((t) => t.id === 'g2-gpu-rtx4000a1-s')!;
  assert.deepEqual([g2.gpuDescription, g2.regionsWithCapacity], ['1x RTX4000 Ada', ['us-ord', 'us-east']]);
  const std = types.find((t) => t.id === 'g6-standard-1')!;
  assert.deepEqual([std.gpuDescription, std.priceCentsPerHour, std.regionsWithCapacity.length], ['', 1.8, 3]);
  await fake!.close();
  fake = await startLinodeFake({ tokens: { [TOKEN]: '*' }, availability: false });
  const p2 = new LinodeProvider({ baseUrl: fake.url, key: async () => TOKEN });
  const g1b = (await p2.listInstanceTypes()).find((t) => t.id === 'g1-gpu-rtx6000-1')!;
  assert.deepEqual(g1b.regionsWithCapacity, ['us-ord', 'us-east']);
});

test('SSH keys: added and listed from the profile', async () => {
  const { provider } = await setup();
  const k = await provider.addSshKey('moat-laptop', `${KEY.publicKey}\n`);
  assert.deepEqual(await provider.listSshKeys(), [k]);
  assert.equal(k.publicKey, KEY.publicKey);
  await rejectsWith(provider.addSshKey('bad', 'not a key'), 'invalid');
});

test('an endpoint the token has no scope for says which scope it lacks', async () => {
  await setup();
  await fake!.close();
  fake = await startLinodeFake({ tokens: { [TOKEN]: 'linodes:read_write' } });
  const p = new LinodeProvider({ baseUrl: fake.url, key: async () => TOKEN });
  const e = await rejectsWith(p.listSshKeys(), 'scopes');
  assert.deepEqual(e.details.missingScopes, ['account:read_only']);
});

test('the wait comes from Retry-After, else from X-RateLimit-Reset (epoch seconds)', () => {
  const now = 1_700_000_000_000;
  assert.equal(waitMs(new Headers({ 'Retry-After': '7' }), now), 7000);
  assert.equal(waitMs(new Headers({ 'X-RateLimit-Reset': String(now / 1000 + 3) }), now), 3000);
  assert.equal(waitMs(new Headers({}), now), undefined);
  assert.deepEqual(missingScopes(['linodes:read_only', 'firewall:read_write', 'events:read_only', 'account:read_write']), [
    'linodes:read_write',
  ]);
  assert.deepEqual(parseScopes('linodes:read_write,events:read_only  *'), ['linodes:read_write', 'events:read_only', '*']);
});
