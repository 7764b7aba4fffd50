// The Lambda fake must answer as the real API documents: a scripted session drives every endpoint
// the client calls (successes, each error the fake can give, instances booting, active,
// terminating), and every answer the fake logged is validated against the response schema
// openapi.json gives for that path, method and status. So the fake cannot drift from the spec.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startLambdaFake, type LambdaFake } from '../e2e/fakes/lambda';
import { LambdaProvider } from '../main/providers/lambda/provider';

const KEY = 'lambda-contract-key-3f9a0c1d2e4b';
const SPEC_ID = 'https://moat.invalid/lambda-openapi.json';
const spec = JSON.parse(readFileSync(new URL('../../shared/specs/lambda/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// Formats the spec names that ajv-formats does not define.
ajv.addFormat('ipv4network', /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/);
ajv.addFormat('password', true);
ajv.addSchema(spec, SPEC_ID);
// 429 and 5xx are not in the spec's per-path responses; they use Lambda's error envelope.
const envelope = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, suggestion: { type: 'string' } },
    },
  },
});
const internal = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: { error: { $ref: `${SPEC_ID}#/components/schemas/ApiErrorInternal` } },
});

let fake: LambdaFake;
before(async () => {
  fake = await startLambdaFake({
    keys: [KEY],
    bootMs: 100,
    terminateMs: 100,
    sshKeys: [{ name: 'moat', public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample moat' }],
  });
});
after(() => fake.close());

function pointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The spec path template a concrete path matches, e.g. /api/v1/instances/{id}; a literal path (…/global) wins. */
function templateOf(path: string, method: string): string | undefined {
  if (spec.paths[path]?.[method] !== undefined) return path;
  return Object.keys(spec.paths).find((t) => {
    const re = new RegExp('^' + t.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    return re.test(path) && spec.paths[t]?.[method] !== undefined;
  });
}

async function raw(method: string, path: string, body?: unknown, key = KEY, on: LambdaFake = fake): Promise<number> {
  const r = await fetch(on.url + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  await r.text();
  return r.status;
}

/** Every answer the fake logged, validated against the spec's schema for its path, method and status. */
function checkLog(f: LambdaFake): { covered: Set<string>; failures: string[] } {
  const covered = new Set<string>();
  const failures: string[] = [];
  for (const entry of f.state.log) {
    const method = entry.method.toLowerCase();
    const body: unknown = JSON.parse(entry.body);
    if (entry.status === 429 || entry.status >= 500) {
      const v = entry.status === 429 ? envelope : internal;
      if (!v(body)) failures.push(`${entry.method} ${entry.path} ${entry.status}: ${ajv.errorsText(v.errors)}`);
      continue;
    }
    const t = templateOf(entry.path, method);
    if (!t) {
      // Only the deliberately unknown endpoint: Lambda's generic 404.
      assert.equal(entry.status, 404, `${entry.method} ${entry.path} is not in the spec`);
      const v = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/ApiErrorNotFound` });
      assert.ok(v((body as { error: unknown }).error), ajv.errorsText(v.errors));
      continue;
    }
    covered.add(`${method} ${t} ${entry.status}`);
    assert.ok(spec.paths[t]?.[method]?.responses?.[String(entry.status)], `${method} ${t} has no documented ${entry.status}`);
    const ref = `${SPEC_ID}#/paths/${pointer(t)}/${method}/responses/${entry.status}/content/${pointer('application/json')}/schema`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    if (!validate(body)) failures.push(`${entry.method} ${entry.path} ${entry.status}: ${ajv.errorsText(validate.errors)}`);
  }
  return { covered, failures };
}

test('every answer of a scripted session matches the OpenAPI response schemas', async () => {
  const p = new LambdaProvider({ baseUrl: fake.url, key: async () => KEY, backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 });
  await p.checkAccount();
  await p.listRegions();
  await p.listInstanceTypes();
  const added = await p.addSshKey('second', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIsecond second');
  assert.equal(await raw('POST', '/ssh-keys', { name: 'generated' }), 200);
  assert.equal(await raw('POST', '/ssh-keys', { name: 'second', public_key: 'ssh-ed25519 AAAA x' }), 400);
  const inst = await p.launch({ name: 'contract-1', region: 'us-west-1', type: 'gpu_1x_a10', sshKey: added });
  await p.getInstance(inst.id); // booting, no IP
  await new Promise((r) => setTimeout(r, 150));
  await p.listInstances(); // active, with IP
  assert.equal(
    await raw('POST', '/instance-operations/launch', {
      region_name: 'us-west-1',
      instance_type_name: 'gpu_8x_h100_sxm5',
      ssh_key_names: ['moat'],
    }),
    400,
  );
  assert.equal(
    await raw('POST', '/instance-operations/launch', { region_name: 'us-west-1', instance_type_name: 'nope', ssh_key_names: ['moat'] }),
    404,
  );
  assert.equal(
    await raw('POST', '/instance-operations/launch', {
      region_name: 'us-west-1',
      instance_type_name: 'gpu_1x_a10',
      ssh_key_names: ['moat', 'second'],
    }),
    400,
  );
  assert.equal(await raw('GET', '/firewall-rules'), 200);
  assert.equal(
    await raw('PUT', '/firewall-rules', {
      data: [{ protocol: 'tcp', port_range: [22, 22], source_network: '203.0.113.7/32', description: 'SSH from me' }],
    }),
    200,
  );
  assert.equal(
    await raw('PUT', '/firewall-rules', {
      data: [{ protocol: 'icmp', port_range: [1, 2], source_network: '0.0.0.0/0', description: 'x' }],
    }),
    400,
  );
  await p.terminate(inst.id);
  await p.getInstance(inst.id); // terminating
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await p.getInstance(inst.id), null); // gone: 404
  assert.equal(await raw('POST', '/instance-operations/terminate', { instance_ids: [inst.id] }), 404);
  assert.equal(await raw('GET', '/instances', undefined, 'wrong-key'), 401);
  assert.equal(await raw('GET', '/no-such-endpoint'), 404);
  fake.knobs.rateLimited = 1;
  assert.equal(await raw('GET', '/regions'), 429);
  fake.knobs.serverErrors = 1;
  assert.equal(await raw('GET', '/instances'), 500);

  const { covered, failures } = checkLog(fake);
  assert.deepEqual(failures, []);
  for (const must of [
    'get /api/v1/regions 200',
    'get /api/v1/instance-types 200',
    'get /api/v1/ssh-keys 200',
    'post /api/v1/ssh-keys 200',
    'post /api/v1/ssh-keys 400',
    'get /api/v1/instances 200',
    'get /api/v1/instances 401',
    'get /api/v1/instances/{id} 200',
    'get /api/v1/instances/{id} 404',
    'post /api/v1/instance-operations/launch 200',
    'post /api/v1/instance-operations/launch 400',
    'post /api/v1/instance-operations/launch 404',
    'post /api/v1/instance-operations/terminate 200',
    'post /api/v1/instance-operations/terminate 404',
    'get /api/v1/firewall-rules 200',
    'put /api/v1/firewall-rules 200',
    'put /api/v1/firewall-rules 400',
  ])
    assert.ok(covered.has(must), `the session did not cover ${must}`);
});

test('the fake starts with Lambda’s default firewall: TCP 22 and ICMP from anywhere', async () => {
  // A fresh account: the session above replaced the shared fake's rules.
  const fresh = await startLambdaFake({ keys: [KEY] });
  try {
    const r = await fetch(fresh.url + '/firewall-rules', { headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(r.status, 200);
    const f = (await r.json()) as { data: { protocol: string; port_range?: number[]; source_network: string }[] };
    assert.deepEqual(
      f.data.map((x) => [x.protocol, x.port_range ?? null, x.source_network]),
      [
        ['tcp', [22, 22], '0.0.0.0/0'],
        ['icmp', null, '0.0.0.0/0'],
      ],
    );
  } finally {
    await fresh.close();
  }
});

test('every firewall answer (rules, rulesets, global, launch with a ruleset, faults) matches the OpenAPI schemas', async () => {
  const f = await startLambdaFake({ keys: [KEY], sshKeys: [{ name: 'moat', public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIx moat' }] });
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: { data?: unknown } }> => {
    const r = await fetch(f.url + path, {
      method,
      headers: { Authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as { data?: unknown } };
  };
  const ssh = { protocol: 'tcp', port_range: [22, 22], source_network: '203.0.113.0/24', description: 'SSH' };
  try {
    assert.equal((await call('GET', '/firewall-rules')).status, 200);
    assert.equal((await call('GET', '/firewall-rulesets/global')).status, 200);
    assert.equal((await call('PATCH', '/firewall-rulesets/global', { rules: [ssh] })).status, 200);
    // One state: the legacy list shows what the global ruleset was given.
    assert.deepEqual((await call('GET', '/firewall-rules')).json.data, [ssh]);
    assert.equal((await call('PATCH', '/firewall-rulesets/global', { rules: [{ ...ssh, protocol: 'sctp' }] })).status, 400);
    const bad = [
      Array.from({ length: 21 }, () => ssh),
      [{ ...ssh, port_range: undefined }],
      [{ protocol: 'icmp', port_range: [1, 1], source_network: '0.0.0.0/0', description: '' }],
      [{ ...ssh, source_network: '2001:db8::/32' }],
      [{ ...ssh, source_network: '300.1.2.3/32' }],
      [{ ...ssh, description: 'x'.repeat(129) }],
    ];
    for (const rules of bad) assert.equal((await call('PUT', '/firewall-rules', { data: rules })).status, 400, JSON.stringify(rules));
    const created = await call('POST', '/firewall-rulesets', { name: 'moat-locked', region: 'us-west-1', rules: [ssh] });
    assert.equal(created.status, 200);
    const id = (created.json.data as { id: string }).id;
    assert.equal((await call('POST', '/firewall-rulesets', { name: 'x', region: 'nowhere', rules: [] })).status, 400);
    assert.equal(
      (await call('POST', '/firewall-rulesets', { name: 'x', region: 'us-west-1', rules: [{ ...ssh, protocol: 'gre' }] })).status,
      400,
    );
    assert.equal((await call('GET', '/firewall-rulesets')).status, 200);
    assert.equal((await call('GET', `/firewall-rulesets/${id}`)).status, 200);
    assert.equal((await call('GET', '/firewall-rulesets/0123456789abcdef0123456789abcdef')).status, 404);
    assert.equal(
      (await call('PATCH', `/firewall-rulesets/${id}`, { name: 'moat-locked-2', rules: [ssh, { ...ssh, port_range: [80, 80] }] })).status,
      200,
    );
    assert.equal((await call('PATCH', `/firewall-rulesets/${id}`, { rules: [{ ...ssh, port_range: [0, 22] }] })).status, 400);
    assert.equal((await call('PATCH', '/firewall-rulesets/0123456789abcdef0123456789abcdef', { name: 'x' })).status, 404);
    // Launch with the ruleset: the instance is recorded in its instance_ids; deleting it is refused.
    const launch = { region_name: 'us-west-1', instance_type_name: 'gpu_1x_a10', ssh_key_names: ['moat'], name: 'fw-1' };
    const launched = await call('POST', '/instance-operations/launch', { ...launch, firewall_rulesets: [{ id }] });
    assert.equal(launched.status, 200);
    const instanceId = (launched.json.data as { instance_ids: string[] }).instance_ids[0]!;
    assert.deepEqual(((await call('GET', `/firewall-rulesets/${id}`)).json.data as { instance_ids: string[] }).instance_ids, [instanceId]);
    assert.equal((await call('GET', `/instances/${instanceId}`)).status, 200);
    assert.equal(
      (await call('POST', '/instance-operations/launch', { ...launch, firewall_rulesets: [{ id: 'f'.repeat(32) }] })).status,
      404,
    );
    assert.equal(
      (await call('POST', '/instance-operations/launch', { ...launch, region_name: 'us-east-1', firewall_rulesets: [{ id }] })).status,
      400,
    );
    const inUse = await call('DELETE', `/firewall-rulesets/${id}`);
    assert.equal(inUse.status, 400);
    assert.equal((inUse.json as unknown as { error: { code: string } }).error.code, 'firewall-rulesets/firewall-ruleset-in-use');
    // Faults: a 500 and a 429 on a write, and a write applied though its answer was an error.
    f.knobs.firewallWriteFault = { nth: 1, status: 500 };
    assert.equal((await call('PUT', '/firewall-rules', { data: [ssh] })).status, 500);
    f.knobs.firewallWriteFault = { nth: 2, status: 429 };
    assert.equal((await call('PUT', '/firewall-rules', { data: [ssh] })).status, 200);
    assert.equal((await call('PUT', '/firewall-rules', { data: [ssh] })).status, 429);
    f.knobs.firewallWriteFault = { nth: 1, status: 503, commit: true };
    assert.equal((await call('POST', '/firewall-rulesets', { name: 'lost', region: 'us-east-1', rules: [] })).status, 503);
    assert.ok(
      [...f.state.rulesets.values()].some((r) => r.name === 'lost'),
      'the write behind the lost answer was applied',
    );
    // Terminated instances release the ruleset; then it can be deleted, and is gone.
    assert.equal((await call('POST', '/instance-operations/terminate', { instance_ids: [instanceId] })).status, 200);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await call('DELETE', `/firewall-rulesets/${id}`)).status, 200);
    assert.equal((await call('DELETE', `/firewall-rulesets/${id}`)).status, 404);
    const { covered, failures } = checkLog(f);
    assert.deepEqual(failures, []);
    for (const must of [
      'get /api/v1/firewall-rules 200',
      'put /api/v1/firewall-rules 400',
      'get /api/v1/firewall-rulesets 200',
      'post /api/v1/firewall-rulesets 200',
      'post /api/v1/firewall-rulesets 400',
      'get /api/v1/firewall-rulesets/global 200',
      'patch /api/v1/firewall-rulesets/global 200',
      'patch /api/v1/firewall-rulesets/global 400',
      'get /api/v1/firewall-rulesets/{id} 200',
      'get /api/v1/firewall-rulesets/{id} 404',
      'patch /api/v1/firewall-rulesets/{id} 200',
      'patch /api/v1/firewall-rulesets/{id} 400',
      'patch /api/v1/firewall-rulesets/{id} 404',
      'delete /api/v1/firewall-rulesets/{id} 200',
      'delete /api/v1/firewall-rulesets/{id} 400',
      'delete /api/v1/firewall-rulesets/{id} 404',
      'post /api/v1/instance-operations/launch 200',
      'post /api/v1/instance-operations/launch 400',
      'post /api/v1/instance-operations/launch 404',
    ])
      assert.ok(covered.has(must), `the firewall session did not cover ${must}`);
    assert.ok(f.state.log.some((e) => e.status === 429) && f.state.log.some((e) => e.status === 500 && e.path.includes('firewall')));
  } finally {
    await f.close();
  }
});
