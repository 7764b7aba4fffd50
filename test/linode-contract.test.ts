// Every answer the fake Linode API gives in a scripted session (successes and errors) is checked
// against the response schemas of ../shared/specs/linode/openapi-subset.yaml, so the client's
// tests run against shapes the real API documents.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { startLinodeFake } from '../e2e/fakes/linode';
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
  ajv.addSchema({ $id: SPEC_ID, ...(nullable(openAllOf(spec)) as object) });
  return ajv;
}

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

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

    const ajv = validator();
    const seen = new Set<string>();
    assert.ok(fake.state.responses.length > 20);
    for (const r of fake.state.responses) {
      const op = spec.paths[r.route]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.route} is in the spec`);
      const status = op.responses[String(r.status)] ? String(r.status) : 'default';
      assert.ok(op.responses[status]?.content?.['application/json']?.schema, `${r.method} ${r.route} ${r.status} has a schema`);
      const ref = `${SPEC_ID}#/${pointer('paths', r.route, r.method.toLowerCase(), 'responses', status, 'content', 'application/json', 'schema')}`;
      const validate = ajv.getSchema(ref);
      assert.ok(validate, ref);
      assert.ok(
        validate(r.body),
        `${r.method} ${r.route} ${r.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(r.body).slice(0, 400)}`,
      );
      seen.add(`${r.method} ${r.route} ${r.status}`);
    }
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
