// A fake Linode API v4 for tests (never shipped): node:http on 127.0.0.1, shapes taken from
// ../shared/specs/linode/examples.json and openapi-subset.yaml. Real auth and scope checks with
// X-OAuth-Scopes / X-Accepted-OAuth-Scopes on every response, real pagination (page_size 25-500,
// optionally capped lower so tests can walk many pages), X-Filter, instance status over time, and
// fault knobs a test flips while the server runs.
import { createHash, randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
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
  /** How old an instance must be before /stats answers (the real API: about 10 minutes). */
  statsAfterMs?: number;
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
  /** A 429/5xx on the Nth firewall write (POST/PUT/DELETE under /networking/firewalls), counted from when set. */
  firewallWriteFault: FirewallWriteFault | null;
  /** The next N rule writes succeed but silently drop their last rule (read-back differs). */
  dropLastRule: number;
}

export interface FirewallWriteFault {
  /** 1 = the next firewall write. Counts down as writes pass. */
  nth: number;
  /** 429 (with Retry-After: retryAfterS) or a 5xx. */
  status: number;
  /** How many writes in a row fail from the Nth on (default 1). */
  times?: number;
  /** Apply the write, then answer with the error anyway (a lost answer). Default false. */
  commit?: boolean;
  retryAfterS?: number;
}

export interface FakeFirewallRule {
  action: 'ACCEPT' | 'DROP';
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'IPENCAP';
  addresses: { ipv4?: string[]; ipv6?: string[] };
  ports?: string;
  label?: string;
  description?: string;
}

export interface FakeFirewallRules {
  inbound: FakeFirewallRule[];
  inbound_policy: 'ACCEPT' | 'DROP';
  outbound: FakeFirewallRule[];
  outbound_policy: 'ACCEPT' | 'DROP';
}

export interface FakeFirewall {
  id: number;
  label: string;
  status: 'enabled' | 'disabled';
  tags: string[];
  rules: FakeFirewallRules;
  version: number;
  fingerprint: string;
  /** Device ID → Linode ID. */
  devices: { id: number; linodeId: number }[];
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
  firewalls: FakeFirewall[];
  /** Changes a firewall's rules "behind Moat's back", bumping version and fingerprint as Linode does. */
  tamper(firewallId: number, mutate: (rules: FakeFirewallRules) => FakeFirewallRules): void;
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
  const area = route.includes('/profile/') ? 'account' : route.includes('/networking/firewalls') ? 'firewall' : 'linodes';
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
    firewallWriteFault: null,
    dropLastRule: 0,
  };
  const state: LinodeFakeState = {
    instances: [],
    sshKeys: [],
    requests: [],
    responses: [],
    launches: [],
    firewalls: [],
    tamper: (firewallId, mutate) => {
      const f = state.firewalls.find((x) => x.id === firewallId);
      if (!f) throw new Error(`no firewall ${firewallId}`);
      setRules(f, mutate(structuredClone(f.rules)));
    },
  };
  let nextId = 52557263;
  let nextFirewallId = 9618482;
  let nextDeviceId = 11909959;

  // Every change of the rules bumps the version and changes the fingerprint (a hash of the rules).
  const setRules = (f: FakeFirewall, rules: FakeFirewallRules) => {
    f.rules = rules;
    f.version++;
    f.fingerprint = createHash('sha256')
      .update(JSON.stringify([rules, f.version]))
      .digest('hex')
      .slice(0, 8);
  };

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

  const liveDevices = (f: FakeFirewall) => f.devices.filter((d) => live().some((i) => i.id === d.linodeId));
  const entity = (linodeId: number) => ({
    id: linodeId,
    type: 'linode',
    label: state.instances.find((i) => i.id === linodeId)?.label ?? '',
    url: `/v4/linode/instances/${linodeId}`,
    parent_entity: null,
  });
  const rulesBody = (f: FakeFirewall) => ({ ...structuredClone(f.rules), version: f.version, fingerprint: f.fingerprint });
  const firewallBody = (f: FakeFirewall) => ({
    id: f.id,
    label: f.label,
    created: STAMP,
    updated: STAMP,
    status: f.status,
    rules: rulesBody(f),
    tags: f.tags,
    entities: liveDevices(f).map((d) => entity(d.linodeId)),
  });
  const deviceBody = (d: { id: number; linodeId: number }) => ({ id: d.id, created: STAMP, updated: STAMP, entity: entity(d.linodeId) });
  /** The enabled firewall other than `except` a Linode already has, if any. */
  const enabledOn = (linodeId: number, except: number) =>
    state.firewalls.find((f) => f.id !== except && f.status === 'enabled' && liveDevices(f).some((d) => d.linodeId === linodeId));
  const oneEnabled = (linodeId: number, fwId: number, field?: string) => {
    const other = enabledOn(linodeId, fwId);
    return other
      ? {
          reason: `Linode ${linodeId} already has an enabled Firewall (${other.id}); a Linode may have only one enabled Firewall.`,
          ...(field ? { field } : {}),
        }
      : null;
  };
  // What a rule write stores: as sent, unless the dropLastRule knob is armed.
  const written = (r: FakeFirewallRules): FakeFirewallRules => {
    if (knobs.dropLastRule <= 0 || r.inbound.length + r.outbound.length === 0) return r;
    knobs.dropLastRule--;
    return r.outbound.length > 0 ? { ...r, outbound: r.outbound.slice(0, -1) } : { ...r, inbound: r.inbound.slice(0, -1) };
  };
  // Counts firewall writes down to the armed fault; the fault then fires `times` writes in a row.
  const nextWriteFault = (): FirewallWriteFault | null => {
    const f = knobs.firewallWriteFault;
    if (!f) return null;
    if (f.nth > 1) {
      f.nth--;
      return null;
    }
    const fired = { ...f };
    const times = (f.times ?? 1) - 1;
    if (times <= 0) knobs.firewallWriteFault = null;
    else f.times = times;
    return fired;
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

    const fault = method !== 'GET' && route.template.includes('/networking/firewalls') ? nextWriteFault() : null;
    const sendFault = (f: FirewallWriteFault) =>
      f.status === 429
        ? send(429, ERR('Too many requests'), {
            'Retry-After': String(f.retryAfterS ?? 1),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + (f.retryAfterS ?? 1)),
          })
        : send(f.status, ERR('Please try again'));
    if (fault && !fault.commit) return sendFault(fault);

    const answer = (status: number, body: unknown, delayMs = 0) => {
      if (fault) return sendFault(fault);
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
      const fw = b.firewall_id === undefined ? undefined : state.firewalls.find((f) => f.id === b.firewall_id);
      if (b.firewall_id !== undefined && !fw) problems.push({ reason: 'Firewall not found', field: 'firewall_id' });
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
      if (fw) fw.devices.push({ id: nextDeviceId++, linodeId: i.id });
      return answer(200, instanceBody(i), knobs.launchResponseDelayMs);
    }
    if (template === '/{apiVersion}/linode/instances/{linodeId}') {
      const i = live().find((x) => String(x.id) === params.linodeId);
      if (!i) return answer(404, ERR('Not found'));
      if (method === 'GET') return answer(200, instanceBody(i));
      i.deletedAt = Date.now();
      return answer(200, {});
    }
    if (template === '/{apiVersion}/linode/instances/{linodeId}/stats') {
      const i = live().find((x) => String(x.id) === params.linodeId);
      if (!i) return answer(404, ERR('Not found'));
      if (Date.now() - i.createdAt < (opts.statsAfterMs ?? STATS_AFTER_MS)) return answer(400, ERR('Stats are unavailable at this time.'));
      return answer(200, statsBody(i, Date.now()));
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
    if (template === '/{apiVersion}/linode/instances/{linodeId}/firewalls') {
      const i = live().find((x) => String(x.id) === params.linodeId);
      if (!i) return answer(404, ERR('Not found'));
      const list = state.firewalls.filter((f) => liveDevices(f).some((d) => d.linodeId === i.id)).map(firewallBody);
      return answer(200, paginateOr400(list, url, opts.pageSizeCap));
    }
    if (template === '/{apiVersion}/networking/firewalls' && method === 'GET') {
      const list = applyFilter(state.firewalls, filter, ['label', 'id', 'status']);
      if ('error' in list) return answer(400, ERR(list.error, 'X-Filter'));
      return answer(200, paginateOr400(list.items.map(firewallBody), url, opts.pageSizeCap));
    }
    if (template === '/{apiVersion}/networking/firewalls' && method === 'POST') {
      const b = parseJson(raw) as Record<string, unknown> | null;
      if (!b || typeof b !== 'object') return answer(400, ERR('Request body must be JSON'));
      const problems = checkLabel(b.label, state.firewalls, null);
      const r = checkRules(b.rules, 'rules', true);
      problems.push(...r.problems);
      const devices = (b.devices ?? {}) as { linodes?: unknown; nodebalancers?: unknown };
      const linodes = Array.isArray(devices.linodes) ? devices.linodes : [];
      if (devices.linodes !== undefined && !Array.isArray(devices.linodes))
        problems.push({ reason: 'Must be a list of Linode IDs', field: 'devices.linodes' });
      linodes.forEach((id, n) => {
        if (!live().some((x) => x.id === id)) problems.push({ reason: 'Linode not found', field: `devices.linodes[${n}]` });
        else {
          const clash = oneEnabled(id as number, -1, `devices.linodes[${n}]`);
          if (clash) problems.push(clash);
        }
      });
      if (problems.length > 0) return answer(400, { errors: problems });
      const f: FakeFirewall = {
        id: nextFirewallId++,
        label: b.label as string,
        status: 'enabled',
        tags: Array.isArray(b.tags) ? (b.tags as string[]) : [],
        rules: r.rules,
        version: 0,
        fingerprint: '',
        devices: [...new Set(linodes as number[])].map((id) => ({ id: nextDeviceId++, linodeId: id })),
      };
      setRules(f, written(r.rules));
      state.firewalls.push(f);
      return answer(200, firewallBody(f));
    }
    if (template.startsWith('/{apiVersion}/networking/firewalls/{firewallId}')) {
      const f = state.firewalls.find((x) => String(x.id) === params.firewallId);
      if (!f) return answer(404, ERR('Not found'));
      if (template === '/{apiVersion}/networking/firewalls/{firewallId}') {
        if (method === 'GET') return answer(200, firewallBody(f));
        if (method === 'DELETE') {
          state.firewalls = state.firewalls.filter((x) => x !== f);
          return answer(200, {});
        }
        const b = parseJson(raw) as Record<string, unknown> | null;
        if (!b || typeof b !== 'object') return answer(400, ERR('Request body must be JSON'));
        const problems = b.label === undefined ? [] : checkLabel(b.label, state.firewalls, f.id);
        if (b.status !== undefined && b.status !== 'enabled' && b.status !== 'disabled')
          problems.push({ reason: 'Must be enabled or disabled', field: 'status' });
        if (b.status === 'enabled' && f.status !== 'enabled')
          for (const d of liveDevices(f)) {
            const clash = oneEnabled(d.linodeId, f.id, 'status');
            if (clash) problems.push(clash);
          }
        if (problems.length > 0) return answer(400, { errors: problems });
        if (typeof b.label === 'string') f.label = b.label;
        if (b.status === 'enabled' || b.status === 'disabled') f.status = b.status;
        if (Array.isArray(b.tags)) f.tags = b.tags as string[];
        return answer(200, firewallBody(f));
      }
      if (template === '/{apiVersion}/networking/firewalls/{firewallId}/rules') {
        if (method === 'GET') return answer(200, rulesBody(f));
        const b = parseJson(raw);
        const r = checkRules(b, '', false, f.rules);
        if (r.problems.length > 0) return answer(400, { errors: r.problems });
        setRules(f, written(r.rules));
        return answer(200, rulesBody(f));
      }
      if (template === '/{apiVersion}/networking/firewalls/{firewallId}/devices') {
        if (method === 'GET') return answer(200, paginateOr400(liveDevices(f).map(deviceBody), url, opts.pageSizeCap));
        const b = parseJson(raw) as { id?: unknown; type?: unknown } | null;
        if (!b || b.type !== 'linode') return answer(400, ERR('Must be linode or nodebalancer', 'type'));
        const i = live().find((x) => x.id === b.id);
        if (!i) return answer(400, ERR('Linode not found', 'id'));
        if (liveDevices(f).some((d) => d.linodeId === i.id))
          return answer(400, ERR('This Linode is already assigned to this Firewall', 'id'));
        const clash = f.status === 'enabled' ? oneEnabled(i.id, f.id, 'id') : null;
        if (clash) return answer(400, { errors: [clash] });
        const d = { id: nextDeviceId++, linodeId: i.id };
        f.devices.push(d);
        return answer(200, deviceBody(d));
      }
      const d = liveDevices(f).find((x) => String(x.id) === params.deviceId);
      if (!d) return answer(404, ERR('Not found'));
      if (method === 'GET') return answer(200, deviceBody(d));
      f.devices = f.devices.filter((x) => x !== d);
      return answer(200, {});
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
  ['/linode/instances/{linodeId}/firewalls', ['GET']],
  ['/linode/instances/{linodeId}/stats', ['GET']],
  ['/networking/firewalls', ['GET', 'POST']],
  ['/networking/firewalls/{firewallId}', ['GET', 'PUT', 'DELETE']],
  ['/networking/firewalls/{firewallId}/rules', ['GET', 'PUT']],
  ['/networking/firewalls/{firewallId}/devices', ['GET', 'POST']],
  ['/networking/firewalls/{firewallId}/devices/{deviceId}', ['GET', 'DELETE']],
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

// X-Filter: equality on the given keys (instances: label, region, type, id), plus {"label": {"+contains": "..."}}.
function applyFilter<T extends object>(
  items: T[],
  header: string | null,
  keys = ['label', 'region', 'type', 'id'],
): { items: T[] } | { error: string } {
  if (!header) return { items };
  const f = parseJson(header);
  if (!f || typeof f !== 'object') return { error: 'Invalid JSON in X-Filter' };
  let out = items;
  for (const [k, v] of Object.entries(f)) {
    if (!keys.includes(k)) return { error: `Cannot filter on ${k}` };
    const get = (i: T) => String((i as Record<string, unknown>)[k]);
    if (v && typeof v === 'object' && '+contains' in v)
      out = out.filter((i) => get(i).includes(String((v as Record<string, unknown>)['+contains'])));
    else out = out.filter((i) => get(i) === String(v));
  }
  return { items: out };
}

// Stats as the real API serves them: `{data: {cpu, io, netv4, netv6}, title}` (the spec omits the
// wrapper), 5-minute averages as `[epoch_ms, value]` from the instance's creation (at most the
// last 24 h); CPU 100 = one core. Values are a deterministic wave per instance, so tests can
// compare two answers.
const STATS_AFTER_MS = 10 * 60_000;
const FIVE_MIN = 5 * 60_000;

function statsBody(i: { id: number; label: string; createdAt: number }, now: number) {
  const first = Math.ceil(Math.max(i.createdAt, now - 24 * 3_600_000) / FIVE_MIN) * FIVE_MIN;
  const times: number[] = [];
  for (let t = first; t <= now; t += FIVE_MIN) times.push(t);
  const wave = (t: number, scale: number, phase: number) => Math.round(scale * (1 + Math.sin(t / 3_600_000 + i.id + phase)) * 100) / 100;
  const pts = (scale: number, phase: number) => times.map((t) => [t, wave(t, scale, phase)]);
  const zero = () => times.map((t) => [t, 0]);
  return {
    data: {
      cpu: pts(40, 0),
      io: { io: pts(5, 1), swap: zero() },
      netv4: { in: pts(2000, 2), out: pts(4000, 3), private_in: zero(), private_out: pts(5, 4) },
      netv6: { in: zero(), out: zero(), private_in: pts(200, 5), private_out: pts(5, 6) },
    },
    title: `linode.com - ${i.label} (linode${i.id}) - day (5 min avg)`,
  };
}

type Problem = { reason: string; field?: string };

// Firewall labels: 3-32 characters, start with a letter, letters/digits/-/_/., no doubled
// separators, unique on the account.
function checkLabel(label: unknown, all: FakeFirewall[], self: number | null): Problem[] {
  if (typeof label !== 'string' || label.length < 3 || label.length > 32 || !/^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$/.test(label))
    return [
      { reason: 'Label must be 3-32 characters: letters, digits, -, _ and . (no two in a row), starting with a letter', field: 'label' },
    ];
  if (all.some((f) => f.label === label && f.id !== self)) return [{ reason: 'Label must be unique among your Firewalls', field: 'label' }];
  return [];
}

const ACTIONS = ['ACCEPT', 'DROP'];
const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'IPENCAP'];

/**
 * Linode's checks on a rules object ({inbound, inbound_policy, outbound, outbound_policy}): at most
 * 25 rules, a known action and protocol, non-empty addresses in IP/mask form (at most 255 per
 * rule), Linode's port syntax (not for ICMP/IPENCAP). `prefix` names fields as Linode does
 * ("rules.inbound[0].addresses.ipv4[0]"). Missing policies keep `current`'s (PUT) or are errors (POST).
 */
function checkRules(
  body: unknown,
  prefix: string,
  create: boolean,
  current?: FakeFirewallRules,
): { rules: FakeFirewallRules; problems: Problem[] } {
  const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
  const problems: Problem[] = [];
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (!body || typeof body !== 'object') problems.push({ reason: 'Rules must be an object', field: prefix || 'rules' });
  const policy = (k: 'inbound_policy' | 'outbound_policy') => {
    const v = b[k];
    if (v === undefined && !create && current) return current[k];
    if (!ACTIONS.includes(v as string)) problems.push({ reason: 'Must be ACCEPT or DROP', field: at(k) });
    return v as 'ACCEPT' | 'DROP';
  };
  const list = (k: 'inbound' | 'outbound'): FakeFirewallRule[] => {
    const v = b[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      problems.push({ reason: 'Must be a list of rules', field: at(k) });
      return [];
    }
    return v.map((r, n) => checkRule(r, at(`${k}[${n}]`), problems));
  };
  const rules: FakeFirewallRules = {
    inbound: list('inbound'),
    inbound_policy: policy('inbound_policy'),
    outbound: list('outbound'),
    outbound_policy: policy('outbound_policy'),
  };
  if (rules.inbound.length + rules.outbound.length > 25)
    problems.push({ reason: 'A Firewall may have up to 25 rules across its inbound and outbound rulesets', field: prefix || 'rules' });
  return { rules, problems };
}

function checkRule(raw: unknown, at: string, problems: Problem[]): FakeFirewallRule {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (!ACTIONS.includes(r.action as string)) problems.push({ reason: 'Must be ACCEPT or DROP', field: `${at}.action` });
  if (!PROTOCOLS.includes(r.protocol as string)) problems.push({ reason: 'Must be TCP, UDP, ICMP or IPENCAP', field: `${at}.protocol` });
  const a = (r.addresses && typeof r.addresses === 'object' ? r.addresses : {}) as Record<string, unknown>;
  const addresses: { ipv4?: string[]; ipv6?: string[] } = {};
  let total = 0;
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const v = a[fam];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.length === 0) {
      problems.push({ reason: 'Must not be an empty list', field: `${at}.addresses.${fam}` });
      continue;
    }
    v.forEach((x, n) => {
      if (typeof x !== 'string' || !ipMask(x, fam))
        problems.push({
          reason: `Must contain only valid ${fam === 'ipv4' ? 'IPv4' : 'IPv6'} addresses or networks`,
          field: `${at}.addresses.${fam}[${n}]`,
        });
    });
    addresses[fam] = v as string[];
    total += v.length;
  }
  if (total === 0) problems.push({ reason: 'Must contain ipv4, ipv6, or both', field: `${at}.addresses` });
  if (total > 255) problems.push({ reason: 'A rule may have up to 255 addresses or networks', field: `${at}.addresses` });
  const ports = r.ports;
  const hasPorts = ports !== undefined && ports !== null && ports !== '';
  if (hasPorts && (r.protocol === 'ICMP' || r.protocol === 'IPENCAP'))
    problems.push({ reason: 'Ports are not allowed for ICMP and IPENCAP protocols', field: `${at}.ports` });
  else if (hasPorts && (typeof ports !== 'string' || !portsValid(ports)))
    problems.push({
      reason: 'Must be a port, a range or a comma-separated list of them (1-65535, at most 15 pieces)',
      field: `${at}.ports`,
    });
  if (r.label !== undefined && (typeof r.label !== 'string' || r.label.length < 3 || r.label.length > 32))
    problems.push({ reason: 'Label must be 3-32 characters', field: `${at}.label` });
  if (r.description !== undefined && (typeof r.description !== 'string' || r.description.length < 1 || r.description.length > 100))
    problems.push({ reason: 'Description must be 1-100 characters', field: `${at}.description` });
  return {
    action: r.action as FakeFirewallRule['action'],
    protocol: r.protocol as FakeFirewallRule['protocol'],
    addresses,
    ...(hasPorts ? { ports: ports as string } : {}),
    ...(typeof r.label === 'string' ? { label: r.label } : {}),
    ...(typeof r.description === 'string' ? { description: r.description } : {}),
  };
}

/** "192.0.2.0/24", "2001:db8::/32": an address of the family and a mask in range. */
function ipMask(s: string, fam: 'ipv4' | 'ipv6'): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const mask = Number(m[2]);
  return fam === 'ipv4' ? isIPv4(m[1]!) && mask <= 32 : isIPv6(m[1]!) && mask <= 128;
}

/** "22", "80,443", "22-24, 80": no leading zeros, 1-65535, ranges ascending, at most 15 pieces (a range is 2). */
function portsValid(s: string): boolean {
  let pieces = 0;
  for (const part of s.split(/, ?/)) {
    const m = /^([1-9]\d{0,4})(?:-([1-9]\d{0,4}))?$/.exec(part);
    if (!m) return false;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 65535 || b > 65535 || (m[2] !== undefined && b <= a)) return false;
    pieces += m[2] === undefined ? 1 : 2;
  }
  return pieces <= 15;
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
