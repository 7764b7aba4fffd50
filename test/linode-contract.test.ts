// Every answer the fake Linode API gives in a scripted session (successes and errors) is checked
// against the response schemas of ../shared/specs/linode/openapi-subset.yaml, so the client's
// tests run against shapes the real API documents.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { startLinodeFake, type RecordedResponse } from '../e2e/fakes/linode';
import { LinodeProvider } from '../main/providers/linode';
import { ProviderError } from '../main/providers/provider';

const SPEC_ID = 'linode-openapi';
const spec = parse(readFileSync(new URL('../../shared/specs/linode/openapi-subset.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
};

// OpenAPI 3.0's `nullable: true`: ajv reads it next to `type`; where the spec gives it without
// one (an allOf, a bare description), it means "this, or null".
function nullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullable);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, nullable(v)]));
  // An enum does not list null even where the field is nullable; in OpenAPI 3.0 null is allowed.
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

// The spec marks the envelope half of its paged allOf `additionalProperties: false`, which taken
// literally forbids the `data` the other half adds: dropped inside allOf only.
function openAllOf(node: unknown, inAllOf = false): unknown {
  if (Array.isArray(node)) return node.map((n) => openAllOf(n, inAllOf));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (inAllOf && k === 'additionalProperties' && v === false) continue;
    out[k] = k === 'allOf' ? (v as unknown[]).map((n) => openAllOf(n, true)) : openAllOf(v, false);
  }
  return out;
}

// Recorded firewall answers (examples.json: firewall_POST, firewall_GET_with_entities,
// firewall_device_POST, firewall_templates_LIST) carry fields spec 4.189.0 leaves out of its
// closed schemas: a firewall's `entities`, an entity's `parent_entity`, a rule's `description`.
// They are added here, typed as recorded, so everything else stays closed.
const ENTITY_EXTRA = { parent_entity: { nullable: true, type: 'object' } };
function recordedFirewallFields(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(recordedFirewallFields);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, recordedFirewallFields(v)]));
  const props = out.properties as Record<string, Record<string, unknown>> | undefined;
  if (!props) return out;
  if (props.rules && props.status && props.label && props.id) {
    const entity = {
      type: 'object',
      additionalProperties: false,
      properties: {
        id: { type: 'integer' },
        type: { type: 'string' },
        label: { type: 'string' },
        url: { type: 'string' },
        ...ENTITY_EXTRA,
      },
    };
    out.properties = { ...props, entities: { type: 'array', items: entity } };
  }
  if (props.entity && props.entity.properties) {
    props.entity = { ...props.entity, properties: { ...(props.entity.properties as object), ...ENTITY_EXTRA } };
  }
  if (props.action && props.addresses && props.protocol) {
    out.properties = { ...props, description: { type: 'string', minLength: 1, maxLength: 100 } };
  }
  return out;
}

function validator() {
  // strict: false for the spec's x-linode-* and OpenAPI-only keywords (example, readOnly...).
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // Linode's timestamps carry no zone ("2018-01-02T03:04:05"), which strict date-time refuses.
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/i);
  // Linode's own format names.
  ajv.addFormat('ipv6/128', /^[0-9a-f:]+\/128$/i);
  ajv.addFormat('ip', /^([0-9.]+|[0-9a-f:]+)$/i);
  ajv.addFormat('ip/netmask', /^([0-9.]+|[0-9a-f:]+)\/\d+$/i);
  ajv.addFormat('ssh-key', /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-\S+) \S+/);
  // An entity's url is a path on the API ("/v4/linode/instances/123"), as recorded.
  ajv.addFormat('url', /^(\/|https?:\/\/)\S+$/);
  ajv.addSchema({ $id: SPEC_ID, ...(nullable(openAllOf(recordedFirewallFields(spec))) as object) });
  return ajv;
}

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

const STATS_ROUTE = '/{apiVersion}/linode/instances/{linodeId}/stats';

/**
 * The real stats answer is `{data: {cpu, io, netv4, netv6}, title}` (examples.json stats_GET_shape,
 * linodego's InstanceStats); spec 4.189.0 shows those fields at the top level. The wrapper is
 * checked here, then its contents are validated against the spec's schema.
 */
function asSpecified(r: RecordedResponse): unknown {
  if (r.route !== STATS_ROUTE || r.status !== 200) return r.body;
  const b = r.body as { data?: Record<string, unknown>; title?: unknown };
  assert.deepEqual(Object.keys(b).sort(), ['data', 'title'], 'stats are wrapped in {data, title}');
  return { ...b.data, title: b.title };
}

/** Every recorded response validated against the spec's schema for its route, method and status; what was seen. */
function checkResponses(responses: RecordedResponse[], minResponses = 20): Set<string> {
  const ajv = validator();
  const seen = new Set<string>();
  assert.ok(responses.length > minResponses);
  for (const r of responses) {
    const op = spec.paths[r.route]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.route} is in the spec`);
    const status = op.responses[String(r.status)] ? String(r.status) : 'default';
    assert.ok(op.responses[status]?.content?.['application/json']?.schema, `${r.method} ${r.route} ${r.status} has a schema`);
    const ref = `${SPEC_ID}#/${pointer('paths', r.route, r.method.toLowerCase(), 'responses', status, 'content', 'application/json', 'schema')}`;
    const validate = ajv.getSchema(ref);
    assert.ok(validate, ref);
    assert.ok(
      validate(asSpecified(r)),
      `${r.method} ${r.route} ${r.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(r.body).slice(0, 400)}`,
    );
    seen.add(`${r.method} ${r.route} ${r.status}`);
  }
  return seen;
}

test('every response of a scripted session matches the OpenAPI response schemas', async () => {
  const fake = await startLinodeFake({ tokens: { good: '*' }, pageSizeCap: 2 });
  const bad = new LinodeProvider({ baseUrl: fake.url, key: async () => 'wrong', backoff: { baseMs: 1, maxMs: 5 } });
  const p = new LinodeProvider({ baseUrl: fake.url, key: async () => 'good', backoff: { baseMs: 1, maxMs: 5 } });
  try {
    await assert.rejects(bad.checkAccount(), ProviderError);
    await p.checkAccount();
    await p.listRegions();
    await p.listInstanceTypes();
    const key = await p.addSshKey('moat', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests moat');
    await p.addSshKey('moat-2', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyForTests moat');
    await p.addSshKey('moat-3', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIThirdKeyForTests moat');
    await p.listSshKeys();
    await assert.rejects(p.addSshKey('bad', 'not a key'), ProviderError);
    const launched = [];
    for (const name of ['moat-a', 'moat-b', 'moat-c'])
      launched.push(await p.launch({ name, region: 'us-east', type: 'g1-gpu-rtx6000-1', sshKey: key }));
    await assert.rejects(p.launch({ name: 'moat-x', region: 'nowhere', type: 'nope', sshKey: key }), ProviderError);
    await p.listInstances();
    await p.findByLabel('moat-b');
    fake.knobs.rateLimited = { count: 1, retryAfterS: 0 };
    fake.knobs.busy = 1;
    await p.terminate(launched[0]!.id);
    assert.equal(await p.getInstance(launched[0]!.id), null);
    fake.knobs.serverErrors = { count: 1, status: 500 };
    await p.getInstance(launched[1]!.id);

    const seen = checkResponses(fake.state.responses);
    // The session covered success and error answers of every endpoint the client calls.
    for (const must of [
      'GET /{apiVersion}/linode/instances 200',
      'POST /{apiVersion}/linode/instances 200',
      'POST /{apiVersion}/linode/instances 400',
      'GET /{apiVersion}/linode/instances/{linodeId} 404',
      'DELETE /{apiVersion}/linode/instances/{linodeId} 200',
      'GET /{apiVersion}/regions/availability 200',
      'GET /{apiVersion}/linode/types 200',
      'POST /{apiVersion}/profile/sshkeys 200',
      'GET /{apiVersion}/linode/instances 401',
      'DELETE /{apiVersion}/linode/instances/{linodeId} 429',
    ]) {
      assert.ok(seen.has(must), `session produced ${must}; saw ${[...seen].join(', ')}`);
    }
  } finally {
    await fake.close();
  }
});

test('every firewall response (firewalls, rules, devices, a Linode’s firewalls, errors, faults) matches the OpenAPI schemas', async () => {
  const fake = await startLinodeFake({ tokens: { good: '*', readonly: 'firewall:read_only linodes:read_write' }, pageSizeCap: 2 });
  const call = async (method: string, path: string, body?: unknown, token = 'good') => {
    const r = await fetch(fake.url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> };
  };
  const any = { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] };
  const ssh = { action: 'ACCEPT', protocol: 'TCP', ports: '22', addresses: any, label: 'ssh-in' };
  const rules = (inbound: unknown[]) => ({ inbound, inbound_policy: 'DROP', outbound: [], outbound_policy: 'ACCEPT' });
  const launch = (label: string, extra: object = {}) =>
    call('POST', '/linode/instances', {
      label,
      region: 'us-east',
      type: 'g6-standard-1',
      image: 'linode/ubuntu24.04',
      root_pass: 'x-Y-1!aaaaaaaa',
      ...extra,
    });
  try {
    const a = (await launch('fw-a')).json.id as number;
    const b = (await launch('fw-b')).json.id as number;
    const created = await call('POST', '/networking/firewalls', { label: 'moat-one', rules: rules([ssh]), devices: { linodes: [a] } });
    assert.equal(created.status, 200);
    const fw = created.json.id as number;
    assert.deepEqual(
      (created.json.entities as { id: number }[]).map((e) => e.id),
      [a],
    );
    const second = await call('POST', '/networking/firewalls', { label: 'moat-two', rules: rules([{ ...ssh, action: 'DROP' }]) });
    const fw2 = second.json.id as number;
    await call('POST', '/networking/firewalls', { label: 'moat-three', rules: rules([]) });
    // Errors on create: each limit Linode enforces.
    const badRules = [
      Array.from({ length: 26 }, () => ssh),
      [{ ...ssh, addresses: {} }],
      [{ ...ssh, addresses: { ipv4: [] } }],
      [{ ...ssh, addresses: { ipv4: Array.from({ length: 256 }, (_, n) => `10.0.${n >> 8}.${n & 255}/32`) } }],
      [{ ...ssh, ports: '080' }],
      [{ ...ssh, ports: '443-80' }],
      [{ ...ssh, protocol: 'ICMP', ports: '22' }],
      [{ ...ssh, addresses: { ipv4: ['1.2.3.4'] } }],
    ];
    for (const [n, inbound] of badRules.entries()) {
      const r = await call('POST', '/networking/firewalls', { label: `bad-${n}-fw`, rules: rules(inbound) });
      assert.equal(r.status, 400, JSON.stringify(inbound).slice(0, 200));
    }
    assert.equal((await call('POST', '/networking/firewalls', { label: 'moat-one', rules: rules([]) })).status, 400, 'labels are unique');
    // Two enabled firewalls on one Linode: refused at create, at attach and at enable.
    assert.equal(
      (await call('POST', '/networking/firewalls', { label: 'moat-clash', rules: rules([]), devices: { linodes: [a] } })).status,
      400,
    );
    const clash = await call('POST', `/networking/firewalls/${fw2}/devices`, { id: a, type: 'linode' });
    assert.equal(clash.status, 400);
    assert.match(String((clash.json.errors as { reason: string }[])[0]!.reason), /enabled Firewall/);
    assert.equal((await call('PUT', `/networking/firewalls/${fw2}`, { status: 'disabled' })).status, 200);
    assert.equal((await call('POST', `/networking/firewalls/${fw2}/devices`, { id: a, type: 'linode' })).status, 200);
    assert.equal((await call('PUT', `/networking/firewalls/${fw2}`, { status: 'enabled' })).status, 400);
    assert.equal((await call('POST', `/networking/firewalls/${fw2}/devices`, { id: 999, type: 'linode' })).status, 400);
    // Reads: list (several pages), one, rules, devices, a Linode's firewalls.
    assert.equal((await call('GET', '/networking/firewalls?page=1&page_size=25')).json.pages, 2);
    assert.equal((await call('GET', '/networking/firewalls?page=2&page_size=25')).status, 200);
    assert.equal((await call('GET', `/networking/firewalls/${fw}`)).status, 200);
    assert.equal((await call('GET', '/networking/firewalls/1')).status, 404);
    const before = (await call('GET', `/networking/firewalls/${fw}/rules`)).json;
    const put = await call('PUT', `/networking/firewalls/${fw}/rules`, rules([ssh, { ...ssh, ports: '80,443, 8000-8100', label: 'web' }]));
    assert.equal(put.status, 200);
    assert.equal(put.json.version, (before.version as number) + 1);
    assert.notEqual(put.json.fingerprint, before.fingerprint);
    assert.equal((await call('PUT', `/networking/firewalls/${fw}/rules`, rules([{ ...ssh, action: 'MAYBE' }]))).status, 400);
    const devices = await call('GET', `/networking/firewalls/${fw}/devices`);
    const deviceId = (devices.json.data as { id: number }[])[0]!.id;
    assert.equal((await call('GET', `/networking/firewalls/${fw}/devices/${deviceId}`)).status, 200);
    assert.equal((await call('GET', `/linode/instances/${a}/firewalls`)).status, 200);
    assert.equal((await call('GET', '/linode/instances/1/firewalls')).status, 404);
    // Launch attached to a firewall; a missing firewall is a 400.
    const c = await launch('fw-c', { firewall_id: fw });
    assert.equal(c.status, 200);
    assert.ok(((await call('GET', `/networking/firewalls/${fw}`)).json.entities as { id: number }[]).some((e) => e.id === c.json.id));
    assert.equal((await launch('fw-d', { firewall_id: 1 })).status, 400);
    // Label and status, detach, delete.
    assert.equal((await call('PUT', `/networking/firewalls/${fw}`, { label: 'moat-one-renamed' })).status, 200);
    assert.equal((await call('DELETE', `/networking/firewalls/${fw}/devices/${deviceId}`)).status, 200);
    assert.equal((await call('DELETE', `/networking/firewalls/${fw}/devices/${deviceId}`)).status, 404);
    assert.equal((await call('POST', `/networking/firewalls/${fw}/devices`, { id: b, type: 'linode' })).status, 200);
    // Scopes: a read-only firewall token reads but cannot write; the headers say what the endpoint accepts.
    assert.equal((await call('GET', '/networking/firewalls', undefined, 'readonly')).status, 200);
    const denied = await call('PUT', `/networking/firewalls/${fw}/rules`, rules([]), 'readonly');
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('x-accepted-oauth-scopes'), 'firewall:read_write');
    // Faults on writes: 5xx, 429 on the 2nd write, a lost answer whose write happened, a dropped last rule.
    fake.knobs.firewallWriteFault = { nth: 1, status: 500 };
    assert.equal((await call('PUT', `/networking/firewalls/${fw}/rules`, rules([ssh]))).status, 500);
    fake.knobs.firewallWriteFault = { nth: 2, status: 429, retryAfterS: 0 };
    assert.equal((await call('PUT', `/networking/firewalls/${fw}/rules`, rules([ssh]))).status, 200);
    assert.equal((await call('PUT', `/networking/firewalls/${fw}/rules`, rules([ssh]))).status, 429);
    fake.knobs.firewallWriteFault = { nth: 1, status: 503, commit: true };
    assert.equal((await call('POST', '/networking/firewalls', { label: 'moat-lost', rules: rules([]) })).status, 503);
    assert.ok(fake.state.firewalls.some((f) => f.label === 'moat-lost'));
    fake.knobs.dropLastRule = 1;
    assert.equal((await call('PUT', `/networking/firewalls/${fw}/rules`, rules([ssh, { ...ssh, ports: '80' }]))).status, 200);
    assert.equal(((await call('GET', `/networking/firewalls/${fw}/rules`)).json.inbound as unknown[]).length, 1);
    const v = fake.state.firewalls.find((f) => f.id === fw)!.version;
    fake.state.tamper(fw, (r) => ({ ...r, inbound_policy: 'ACCEPT' }));
    assert.equal((await call('GET', `/networking/firewalls/${fw}/rules`)).json.version, v + 1);
    assert.equal((await call('DELETE', `/networking/firewalls/${fw2}`)).status, 200);
    assert.equal((await call('DELETE', `/networking/firewalls/${fw2}`)).status, 404);

    const seen = checkResponses(fake.state.responses);
    for (const must of [
      'GET /{apiVersion}/networking/firewalls 200',
      'POST /{apiVersion}/networking/firewalls 200',
      'POST /{apiVersion}/networking/firewalls 400',
      'POST /{apiVersion}/networking/firewalls 503',
      'GET /{apiVersion}/networking/firewalls/{firewallId} 200',
      'GET /{apiVersion}/networking/firewalls/{firewallId} 404',
      'PUT /{apiVersion}/networking/firewalls/{firewallId} 200',
      'PUT /{apiVersion}/networking/firewalls/{firewallId} 400',
      'DELETE /{apiVersion}/networking/firewalls/{firewallId} 200',
      'DELETE /{apiVersion}/networking/firewalls/{firewallId} 404',
      'GET /{apiVersion}/networking/firewalls/{firewallId}/rules 200',
      'PUT /{apiVersion}/networking/firewalls/{firewallId}/rules 200',
      'PUT /{apiVersion}/networking/firewalls/{firewallId}/rules 400',
      'PUT /{apiVersion}/networking/firewalls/{firewallId}/rules 401',
      'PUT /{apiVersion}/networking/firewalls/{firewallId}/rules 429',
      'PUT /{apiVersion}/networking/firewalls/{firewallId}/rules 500',
      'GET /{apiVersion}/networking/firewalls/{firewallId}/devices 200',
      'POST /{apiVersion}/networking/firewalls/{firewallId}/devices 200',
      'POST /{apiVersion}/networking/firewalls/{firewallId}/devices 400',
      'GET /{apiVersion}/networking/firewalls/{firewallId}/devices/{deviceId} 200',
      'DELETE /{apiVersion}/networking/firewalls/{firewallId}/devices/{deviceId} 200',
      'DELETE /{apiVersion}/networking/firewalls/{firewallId}/devices/{deviceId} 404',
      'GET /{apiVersion}/linode/instances/{linodeId}/firewalls 200',
      'GET /{apiVersion}/linode/instances/{linodeId}/firewalls 404',
      'POST /{apiVersion}/linode/instances 200',
      'POST /{apiVersion}/linode/instances 400',
    ])
      assert.ok(seen.has(must), `session produced ${must}; saw ${[...seen].join(', ')}`);
  } finally {
    await fake.close();
  }
});

test('stats answers (none yet, a day of points, not found, no scope) match the OpenAPI schemas once unwrapped', async () => {
  const fake = await startLinodeFake({ tokens: { good: '*', fw: 'firewall:read_write' } });
  const call = async (path: string, token = 'good') => {
    const r = await fetch(fake.url + path, { headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  try {
    const made = await fetch(fake.url + '/linode/instances', {
      method: 'POST',
      headers: { Authorization: 'Bearer good', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        label: 'stats-a',
        region: 'us-east',
        type: 'g6-standard-1',
        image: 'linode/ubuntu24.04',
        root_pass: 'x-Y-1!aaaaaaaa',
      }),
    });
    const id = ((await made.json()) as { id: number }).id;
    const fresh = await call(`/linode/instances/${id}/stats`);
    assert.equal(fresh.status, 400);
    assert.deepEqual(fresh.json, { errors: [{ reason: 'Stats are unavailable at this time.' }] });
    fake.state.instances.find((i) => i.id === id)!.createdAt = Date.now() - 30 * 3_600_000;
    const day = await call(`/linode/instances/${id}/stats`);
    assert.equal(day.status, 200);
    assert.ok(((day.json.data as { cpu: unknown[] }).cpu.length ?? 0) >= 288);
    assert.equal((await call('/linode/instances/1/stats')).status, 404);
    assert.equal((await call(`/linode/instances/${id}/stats`, 'fw')).status, 401);
    // Positive control: the unwrapping is not what makes a body pass; a wrong point shape fails.
    const broken = { data: { ...(day.json.data as object), cpu: [['x', 1]] }, title: 't' };
    assert.throws(() => checkResponses([{ method: 'GET', route: STATS_ROUTE, status: 200, body: broken }], 0), /stats 200: .*cpu/);

    const seen = checkResponses(fake.state.responses, 3);
    for (const must of [`GET ${STATS_ROUTE} 200`, `GET ${STATS_ROUTE} 400`, `GET ${STATS_ROUTE} 404`, `GET ${STATS_ROUTE} 401`])
      assert.ok(seen.has(must), `session produced ${must}; saw ${[...seen].join(', ')}`);
  } finally {
    await fake.close();
  }
});
