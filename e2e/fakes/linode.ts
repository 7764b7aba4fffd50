// A fake Linode API v4 for tests (never shipped): node:http on 127.0.0.1, shapes taken from
// ../shared/specs/linode/examples.json and openapi-subset.yaml. Real auth and scope checks with
// X-OAuth-Scopes / X-Accepted-OAuth-Scopes on every response, real pagination (page_size 25-500,
// optionally capped lower so tests can walk many pages), X-Filter, instance status over time, and
// fault knobs a test flips while the server runs.
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LinodeFakeOptions {
  /** token → its scopes header value: `*` or e.g. `linodes:read_write account:read_only`. */
  tokens: Record<string, string>;
  /** IPv4 given to launched instances (e.g. 127.0.0.1 so SSH tests reach a local sshd). */
  ipv4?: string;
  /** How long a new instance stays provisioning, then booting, before running (ms). */
  provisioningMs?: number;
  bootingMs?: number;
  /** How long a deleted instance shows `deleting` before it is gone (404). */
  deletingMs?: number;
  /** Serve at most this many items per page whatever page_size asks (to test page walking). */
  pageSizeCap?: number;
  /** Serve /regions/availability (true) or 404 it like an API version without it. */
  availability?: boolean;
}

export interface LinodeFakeKnobs {
  /** Added before every answer. */
  latencyMs: number;
  /** The next N requests get 429 with Retry-After = retryAfterS and X-RateLimit-* headers. */
  rateLimited: { count: number; retryAfterS: number };
  /** The next N POST/DELETE on instances get 400 `Linode busy.`. */
  busy: number;
  /** The next N requests get this 5xx. */
  serverErrors: { count: number; status: number };
  /** POST /linode/instances creates the instance, then answers only after this long. */
  launchResponseDelayMs: number;
  /** The next N 200 answers are broken: 'json' (not JSON) or 'shape' (JSON of the wrong shape). */
  malformed: { count: number; kind: 'json' | 'shape' };
  /** Instances report this status word instead of their real one (a value the spec does not list). */
  statusOverride: string | null;
}

interface FakeInstance {
  id: number;
  label: string;
  region: string;
  type: string;
  image: string | null;
  createdAt: number;
  deletedAt: number | null;
  ipv4: string;
}

export interface RecordedResponse {
  method: string;
  /** The spec's path template, e.g. `/{apiVersion}/linode/instances/{linodeId}`. */
  route: string;
  status: number;
  body: unknown;
}

export interface LinodeFakeState {
  instances: FakeInstance[];
  sshKeys: { id: number; label: string; ssh_key: string; created: string }[];
  requests: { method: string; path: string; filter: string | null }[];
  responses: RecordedResponse[];
  /** Launch request bodies as received: tests check the root password never comes back. */
  launches: Record<string, unknown>[];
}

const STAMP = '2018-01-02T03:04:05';
const ERR = (reason: string, field?: string) => ({ errors: [field ? { reason, field } : { reason }] });

const TYPES = [
  gpuType('g1-gpu-rtx6000-1', 'Dedicated 32GB + RTX6000 GPU x1', 1.5, 1),
  gpuType('g1-gpu-rtx6000-2', 'Dedicated 64GB + RTX6000 GPU x2', 3.0, 2),
  gpuType('g2-gpu-rtx4000a1-s', 'RTX4000 Ada x1 Small', 0.52, 1),
  {
    id: 'g6-standard-1',
    label: 'Linode 2GB',
    price: { hourly: 0.018, monthly: 12.0 },
    region_prices: [],
    addons: { backups: { price: { hourly: 0.004, monthly: 2.5 }, region_prices: [] } },
    memory: 2048,
    disk: 51200,
    transfer: 2000,
    vcpus: 1,
    gpus: 0,
    network_out: 2000,
    class: 'standard',
    successor: null,
  },
];

function gpuType(id: string, label: string, hourly: number, gpus: number) {
  return {
    id,
    label,
    price: { hourly, monthly: hourly * 730 },
    region_prices: [],
    addons: { backups: { price: { hourly: 0.06 * gpus, monthly: 40.0 * gpus }, region_prices: [] } },
    memory: 32768 * gpus,
    disk: 655360 * gpus,
    transfer: 16000,
    vcpus: 8 * gpus,
    gpus,
    network_out: 10000,
    class: 'gpu',
    successor: null,
  };
}

const REGIONS = [
  region('us-ord', 'Chicago, IL', 'us', true),
  region('us-east', 'Newark, NJ', 'us', true),
  region('de-fra-2', 'Frankfurt 2, DE', 'de', false),
];

function region(id: string, label: string, country: string, gpu: boolean) {
  const caps = ['Linodes', 'Block Storage', 'Cloud Firewall', 'Metadata', ...(gpu ? ['GPU Linodes'] : [])];
  return { id, label, country, capabilities: caps, status: 'ok', resolvers: { ipv4: '192.0.2.1', ipv6: '1234::5678' } };
}

// Availability names plans its own way ("gpu-rtx6000-1.1"), as Linode's does.
const AVAILABILITY = [
  { region: 'us-east', plan: 'gpu-rtx6000-1.1', available: true },
  { region: 'us-ord', plan: 'gpu-rtx6000-1.1', available: false },
];

/** Which scope an endpoint accepts (its X-Accepted-OAuth-Scopes). */
function acceptedScope(method: string, route: string): string {
  const area = route.includes('/profile/') ? 'account' : 'linodes';
  return `${area}:${method === 'GET' ? 'read_only' : 'read_write'}`;
}

// `*` covers everything; `area:read_write` covers `area:read_only`.
function hasScope(have: string, need: string): boolean {
  const list = have.split(/[\s,]+/);
  const area = need.split(':')[0];
  return list.includes('*') || list.includes(need) || list.includes(`${area}:read_write`);
}

export async function startLinodeFake(opts: LinodeFakeOptions) {
  const knobs: LinodeFakeKnobs = {
    latencyMs: 0,
    rateLimited: { count: 0, retryAfterS: 1 },
    busy: 0,
    serverErrors: { count: 0, status: 503 },
    launchResponseDelayMs: 0,
    malformed: { count: 0, kind: 'json' },
    statusOverride: null,
  };
  const state: LinodeFakeState = { instances: [], sshKeys: [], requests: [], responses: [], launches: [] };
  let nextId = 52557263;

  const statusOf = (i: FakeInstance): string | null => {
    const now = Date.now();
    if (i.deletedAt !== null) return now - i.deletedAt < (opts.deletingMs ?? 0) ? 'deleting' : null;
    if (knobs.statusOverride) return knobs.statusOverride;
    const age = now - i.createdAt;
    if (age < (opts.provisioningMs ?? 0)) return 'provisioning';
    if (age < (opts.provisioningMs ?? 0) + (opts.bootingMs ?? 0)) return 'booting';
    return 'running';
  };
  const live = () => state.instances.filter((i) => statusOf(i) !== null);
  const instanceBody = (i: FakeInstance) => {
    const t = TYPES.find((x) => x.id === i.type);
    return {
      id: i.id,
      label: i.label,
      group: '',
      status: statusOf(i),
      created: STAMP,
      updated: STAMP,
      type: i.type,
      ipv4: [i.ipv4],
      ipv6: '1234::5678/128',
      image: i.image,
      region: i.region,
      specs: { disk: t?.disk ?? 25600, memory: t?.memory ?? 1024, vcpus: t?.vcpus ?? 1, gpus: t?.gpus ?? 0, transfer: t?.transfer ?? 1000 },
      alerts: { cpu: 90, network_in: 10, network_out: 10, transfer_quota: 80, io: 10000 },
      // Recorded answers carry null day/window/last_successful; the spec allows null only for day and window.
      backups: { enabled: false, available: false, schedule: { day: null, window: null } },
      hypervisor: 'kvm',
      watchdog_enabled: true,
      tags: [],
      host_uuid: '4351606c-086d-4756-8003-f3b436685b02',
      has_user_data: false,
    };
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const m = url.pathname.match(/^\/(v4|v4beta)(\/.*)$/);
    const path = m?.[2] ?? url.pathname;
    const route = routeOf(method, path);
    const filter = typeof req.headers['x-filter'] === 'string' ? req.headers['x-filter'] : null;
    state.requests.push({ method, path: url.pathname + url.search, filter });

    const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const scopes = Object.hasOwn(opts.tokens, token) ? opts.tokens[token]! : null;
    const accepted = route ? acceptedScope(method, route.template) : '';
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-OAuth-Scopes': scopes ?? 'unknown',
      'X-Accepted-OAuth-Scopes': accepted,
      'X-RateLimit-Limit': '800',
    };
    const send = (status: number, body: unknown, extra: Record<string, string> = {}, delayMs = 0) => {
      if (route) state.responses.push({ method, route: route.template, status, body });
      const text = JSON.stringify(body);
      const out = () => res.writeHead(status, { ...headers, ...extra }).end(text);
      if (delayMs > 0) setTimeout(out, delayMs);
      else out();
    };

    if (scopes === null) return send(401, ERR('Invalid Token'));
    if (!route) return send(404, ERR('Not found'));
    if (!hasScope(scopes, accepted)) return send(401, ERR('Your OAuth token is not authorized to use this endpoint.'));
    if (knobs.rateLimited.count > 0) {
      knobs.rateLimited.count--;
      const wait = knobs.rateLimited.retryAfterS;
      return send(429, ERR('Too many requests'), {
        'Retry-After': String(wait),
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + wait),
      });
    }
    if (knobs.serverErrors.count > 0) {
      knobs.serverErrors.count--;
      return send(knobs.serverErrors.status, ERR('Please try again'));
    }
    const mutatesInstance = method !== 'GET' && route.template.includes('/linode/instances');
    if (mutatesInstance && knobs.busy > 0) {
      knobs.busy--;
      return send(400, ERR('Linode busy.'));
    }

    const answer = (status: number, body: unknown, delayMs = 0) => {
      if (status === 200 && knobs.malformed.count > 0) {
        knobs.malformed.count--;
        const broken = knobs.malformed.kind === 'json' ? '{"data": [' : JSON.stringify({ data: 'nope', page: 'one' });
        if (route) state.responses.push({ method, route: route.template, status, body: broken });
        res.writeHead(200, headers).end(broken);
        return;
      }
      send(status, body, {}, delayMs);
    };

    const { template, params } = route;
    if (template === '/{apiVersion}/linode/instances' && method === 'GET') {
      const list = applyFilter(live(), filter);
      if ('error' in list) return answer(400, ERR(list.error, 'X-Filter'));
      const p = paginate(list.items.map(instanceBody), url, opts.pageSizeCap);
      return 'error' in p ? answer(400, ERR(p.error, 'page_size')) : answer(200, p);
    }
    if (template === '/{apiVersion}/linode/instances' && method === 'POST') {
      const b = parseJson(raw) as Record<string, unknown> | null;
      if (!b) return answer(400, ERR('Request body must be JSON'));
      state.launches.push(b);
      const problems: { reason: string; field?: string }[] = [];
      if (typeof b.label !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$/.test(b.label))
        problems.push({ reason: 'Label must be 3-64 letters, digits, dots, dashes or underscores', field: 'label' });
      else if (live().some((i) => i.label === b.label))
        problems.push({ reason: 'Label must be unique among your Linodes', field: 'label' });
      if (!REGIONS.some((r) => r.id === b.region)) problems.push({ reason: 'region is not valid', field: 'region' });
      if (!TYPES.some((t) => t.id === b.type)) problems.push({ reason: 'A valid plan type by that ID was not found', field: 'type' });
      if (typeof b.root_pass !== 'string' && !Array.isArray(b.authorized_keys))
        problems.push({ reason: 'Must provide valid root_pass, authorized_keys, or authorized_users' });
      if (problems.length > 0) return answer(400, { errors: problems });
      const i: FakeInstance = {
        id: nextId++,
        label: b.label as string,
        region: b.region as string,
        type: b.type as string,
        image: typeof b.image === 'string' ? b.image : null,
        createdAt: Date.now(),
        deletedAt: null,
        ipv4: opts.ipv4 ?? `192.0.2.${randomInt(2, 250)}`,
      };
      state.instances.push(i);
      return answer(200, instanceBody(i), knobs.launchResponseDelayMs);
    }
    if (template === '/{apiVersion}/linode/instances/{linodeId}') {
      const i = live().find((x) => String(x.id) === params.linodeId);
      if (!i) return answer(404, ERR('Not found'));
      if (method === 'GET') return answer(200, instanceBody(i));
      i.deletedAt = Date.now();
      return answer(200, {});
    }
    if (template === '/{apiVersion}/linode/types') return answer(200, paginateOr400(TYPES, url, opts.pageSizeCap));
    if (template === '/{apiVersion}/linode/types/{typeId}') {
      const t = TYPES.find((x) => x.id === params.typeId);
      return t ? answer(200, t) : answer(404, ERR('Not found'));
    }
    if (template === '/{apiVersion}/regions') return answer(200, paginateOr400(REGIONS, url, opts.pageSizeCap));
    if (template === '/{apiVersion}/regions/availability') {
      if (opts.availability === false) return answer(404, ERR('Not found'));
      return answer(200, paginateOr400(AVAILABILITY, url, opts.pageSizeCap));
    }
    if (template === '/{apiVersion}/profile/sshkeys' && method === 'GET')
      return answer(200, paginateOr400(state.sshKeys, url, opts.pageSizeCap));
    if (template === '/{apiVersion}/profile/sshkeys' && method === 'POST') {
      const b = parseJson(raw) as Record<string, unknown> | null;
      if (!b || typeof b.ssh_key !== 'string' || !/^(ssh-|ecdsa-)/.test(b.ssh_key))
        return answer(400, ERR('SSH Key key-type must be ssh-dss, ssh-rsa, ecdsa-sha2-nistp, or ssh-ed25519.', 'ssh_key'));
      const k = {
        id: 451623 + state.sshKeys.length,
        label: typeof b.label === 'string' ? b.label : '',
        ssh_key: b.ssh_key,
        created: STAMP,
      };
      state.sshKeys.push(k);
      return answer(200, k);
    }
    return answer(405, ERR('Method not allowed'));
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v4`,
    state,
    knobs,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type LinodeFake = Awaited<ReturnType<typeof startLinodeFake>>;

const ROUTES: { template: string; re: RegExp; names: string[]; methods: string[] }[] = [
  ['/linode/instances', ['GET', 'POST']],
  ['/linode/instances/{linodeId}', ['GET', 'DELETE']],
  ['/linode/types', ['GET']],
  ['/linode/types/{typeId}', ['GET']],
  ['/regions', ['GET']],
  ['/regions/availability', ['GET']],
  ['/profile/sshkeys', ['GET', 'POST']],
].map(([p, methods]) => {
  const path = p as string;
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]!);
  return {
    template: `/{apiVersion}${path}`,
    re: new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`),
    names,
    methods: methods as string[],
  };
});

function routeOf(method: string, path: string): { template: string; params: Record<string, string> } | null {
  for (const r of ROUTES) {
    const m = path.match(r.re);
    if (!m || !r.methods.includes(method)) continue;
    return { template: r.template, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

// Linode's page_size is 25-500; `cap` lowers what is served so a test can walk several pages.
function paginate<T>(items: T[], url: URL, cap?: number): { data: T[]; page: number; pages: number; results: number } | { error: string } {
  const size = Number(url.searchParams.get('page_size') ?? 100);
  if (!Number.isInteger(size) || size < 25 || size > 500) return { error: 'Must be 25-500' };
  const per = Math.min(size, cap ?? size);
  const pages = Math.max(1, Math.ceil(items.length / per));
  const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
  return { data: items.slice((page - 1) * per, page * per), page, pages, results: items.length };
}

function paginateOr400<T>(items: T[], url: URL, cap?: number) {
  const p = paginate(items, url, cap);
  return 'error' in p ? ERR(p.error, 'page_size') : p;
}

// X-Filter: equality on label, region, type, id, plus {"label": {"+contains": "..."}}.
function applyFilter(items: FakeInstance[], header: string | null): { items: FakeInstance[] } | { error: string } {
  if (!header) return { items };
  const f = parseJson(header);
  if (!f || typeof f !== 'object') return { error: 'Invalid JSON in X-Filter' };
  let out = items;
  for (const [k, v] of Object.entries(f)) {
    if (!['label', 'region', 'type', 'id'].includes(k)) return { error: `Cannot filter on ${k}` };
    const key = k as 'label' | 'region' | 'type' | 'id';
    if (v && typeof v === 'object' && '+contains' in v)
      out = out.filter((i) => String(i[key]).includes(String((v as Record<string, unknown>)['+contains'])));
    else out = out.filter((i) => String(i[key]) === String(v));
  }
  return { items: out };
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
