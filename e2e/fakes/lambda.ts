// A fake of the Lambda Cloud API for tests, built from its published spec
// (../shared/specs/lambda/openapi.json) and the behaviour the spec leaves out (specs/README.md):
// Bearer (or Basic) auth with Lambda's 401 body, `{data}` / `{error:{code,message,suggestion}}`
// bodies, instances that boot without an IP and become active, terminate and then vanish (404),
// account-wide firewall rules with the real defaults, 32-hex IDs. Knobs inject the faults a
// client must survive. test/lambda-contract.test.ts checks every answer against the spec's schemas.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRegion {
  name: string;
  description: string;
}
export interface FakeType {
  name: string;
  description: string;
  gpu_description: string;
  price_cents_per_hour: number;
  specs: { vcpus: number; memory_gib: number; storage_gib: number; gpus: number };
  /** Regions with capacity for it right now. */
  capacity: string[];
}
export interface FakeSshKey {
  id: string;
  name: string;
  public_key: string;
}
export interface FakeInstance {
  id: string;
  name: string;
  region: string;
  type: string;
  sshKey: string;
  ip: string;
  launchedAt: number;
  terminatedAt: number | null;
}
export interface FakeFirewallRule {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  port_range?: [number, number];
  source_network: string;
  description: string;
}
/** A regional ruleset; instance_ids is kept as recorded and filtered to live instances when shown. */
export interface FakeRuleset {
  id: string;
  name: string;
  region: string;
  rules: FakeFirewallRule[];
  created: string;
  instance_ids: string[];
}

/** A fault on the Nth firewall write (PUT/POST/PATCH/DELETE under /firewall-rule*), counted from when it is set. */
export interface FirewallWriteFault {
  /** 1 = the next firewall write. Counts down as writes pass. */
  nth: number;
  /** 429 or a 5xx. */
  status: number;
  /** How many writes in a row fail from the Nth on (default 1). */
  times?: number;
  /** Apply the write, then answer with the error anyway (a lost answer). Default false. */
  commit?: boolean;
}

/** Faults; counters go down as they fire. `faultPath` limits 429/5xx/malformed to matching paths. */
export interface LambdaKnobs {
  latencyMs: number;
  rateLimited: number;
  serverErrors: number;
  /** The next N launches create the instance, then answer only after this many ms. */
  launchDelay: { count: number; ms: number };
  /** The next successful answer: 'not-json' or a JSON body of the wrong shape. */
  malformed: 'not-json' | 'wrong-shape' | null;
  /** Every instance reports this status (a value the spec does not know, e.g. 'hibernating'). */
  statusOverride: string | null;
  faultPath: string | null;
  /** A 429/5xx on the Nth firewall write. */
  firewallWriteFault: FirewallWriteFault | null;
  /** The next N rule writes succeed but silently drop their last rule (read-back differs). */
  dropLastRule: number;
}

export interface LambdaFakeOptions {
  /** API keys the fake accepts. */
  keys: string[];
  /** How long a new instance is 'booting' (no IP) before 'active'. Default 200 ms. */
  bootMs?: number;
  /** How long a terminated instance shows 'terminating' before it is gone (404). Default 100 ms. */
  terminateMs?: number;
  /** Give launched instances this IP (e.g. 127.0.0.1) instead of a TEST-NET-2 address. */
  instanceIp?: string;
  sshKeys?: Omit<FakeSshKey, 'id'>[];
}

export interface LambdaFakeState {
  regions: FakeRegion[];
  types: FakeType[];
  sshKeys: FakeSshKey[];
  instances: Map<string, FakeInstance>;
  /** The global rules: what /firewall-rules and /firewall-rulesets/global both show. */
  firewallRules: FakeFirewallRule[];
  rulesets: Map<string, FakeRuleset>;
  /** Changes rules "behind Moat's back" ('global' or a ruleset ID), as another client would. */
  tamper(id: string, mutate: (rules: FakeFirewallRule[]) => FakeFirewallRule[]): void;
  /** Every answer, in order: what the contract test validates. */
  log: { method: string; path: string; status: number; body: string }[];
}

export interface LambdaFake {
  /** Base URL including /api/v1, as the client expects. */
  url: string;
  state: LambdaFakeState;
  knobs: LambdaKnobs;
  close(): Promise<void>;
}

const PREFIX = '/api/v1';

export async function startLambdaFake(o: LambdaFakeOptions): Promise<LambdaFake> {
  const state: LambdaFakeState = {
    regions: [
      { name: 'us-west-1', description: 'California, USA' },
      { name: 'us-east-1', description: 'Virginia, USA' },
      { name: 'us-south-1', description: 'Texas, USA' },
    ],
    types: defaultTypes(),
    sshKeys: (o.sshKeys ?? []).map((k) => ({ id: hexId(), ...k })),
    instances: new Map(),
    firewallRules: [
      { protocol: 'tcp', port_range: [22, 22], source_network: '0.0.0.0/0', description: 'Allow SSH from anywhere' },
      { protocol: 'icmp', source_network: '0.0.0.0/0', description: 'Allow ICMP from anywhere' },
    ],
    rulesets: new Map(),
    tamper: (id, mutate) => {
      if (id === 'global') state.firewallRules = mutate(structuredClone(state.firewallRules));
      else {
        const rs = state.rulesets.get(id);
        if (!rs) throw new Error(`no ruleset ${id}`);
        rs.rules = mutate(structuredClone(rs.rules));
      }
    },
    log: [],
  };
  const knobs: LambdaKnobs = {
    latencyMs: 0,
    rateLimited: 0,
    serverErrors: 0,
    launchDelay: { count: 0, ms: 0 },
    malformed: null,
    statusOverride: null,
    faultPath: null,
    firewallWriteFault: null,
    dropLastRule: 0,
  };
  const bootMs = o.bootMs ?? 200;
  const terminateMs = o.terminateMs ?? 100;
  let ipSeq = 2;

  const view = (i: FakeInstance): Record<string, unknown> | null => {
    const now = Date.now();
    if (i.terminatedAt !== null && now >= i.terminatedAt + terminateMs) return null;
    const status = knobs.statusOverride ?? (i.terminatedAt !== null ? 'terminating' : now >= i.launchedAt + bootMs ? 'active' : 'booting');
    const type = state.types.find((t) => t.name === i.type)!;
    const region = state.regions.find((r) => r.name === i.region)!;
    const up = status === 'active';
    const blocked = { available: false, reason_code: up ? 'vm-action-in-progress' : 'vm-has-not-launched' };
    return {
      id: i.id,
      name: i.name,
      ...(up ? { ip: i.ip, private_ip: '10.0.2.100', hostname: `${i.ip.replace(/\./g, '-')}` } : {}),
      status,
      ssh_key_names: [i.sshKey],
      file_system_names: [],
      region,
      instance_type: typeView(type),
      actions: {
        migrate: blocked,
        rebuild: blocked,
        restart: up ? { available: true } : blocked,
        cold_reboot: up ? { available: true } : blocked,
        terminate: i.terminatedAt === null ? { available: true } : { available: false, reason_code: 'vm-is-terminating' },
      },
      tags: [],
      firewall_rulesets: [...state.rulesets.values()].filter((rs) => rs.instance_ids.includes(i.id)).map((rs) => ({ id: rs.id })),
      // Real responses gain fields over time; a lenient client must ignore them.
      workspace_id: 'ws-0000',
    };
  };

  const route = async (method: string, path: string, body: unknown): Promise<[number, unknown]> => {
    if (method === 'GET' && path === '/regions') return ok(state.regions);
    if (method === 'GET' && path === '/instance-types') {
      const data: Record<string, unknown> = {};
      for (const t of state.types)
        data[t.name] = {
          instance_type: typeView(t),
          regions_with_capacity_available: state.regions.filter((r) => t.capacity.includes(r.name)),
        };
      return ok(data);
    }
    if (method === 'GET' && path === '/ssh-keys') return ok(state.sshKeys);
    if (method === 'POST' && path === '/ssh-keys') return addKey(body);
    if (method === 'GET' && path === '/instances') return ok([...state.instances.values()].map(view).filter((v) => v !== null));
    const one = /^\/instances\/([^/]+)$/.exec(path);
    if (method === 'GET' && one) {
      const inst = state.instances.get(decodeURIComponent(one[1]!));
      const v = inst ? view(inst) : null;
      return v ? ok(v) : err(404, 'global/object-does-not-exist', 'Specified instance does not exist.');
    }
    if (method === 'POST' && path === '/instance-operations/launch') return launch(body);
    if (method === 'POST' && path === '/instance-operations/terminate') return terminate(body);
    if (method === 'GET' && path === '/firewall-rules') return ok(state.firewallRules);
    if (method === 'PUT' && path === '/firewall-rules') return putRules(body);
    if (path === '/firewall-rulesets' || path.startsWith('/firewall-rulesets/')) {
      const r = rulesetRoute(method, path, body);
      if (r) return r;
    }
    return err(404, 'global/not-found', 'The requested resource was not found.');
  };

  const addKey = (body: unknown): [number, unknown] => {
    const b = (body ?? {}) as { name?: unknown; public_key?: unknown };
    if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 64)
      return err(400, 'global/invalid-parameters', 'Invalid request data.', 'Provide a name of 1 to 64 characters.');
    if (state.sshKeys.some((k) => k.name === b.name))
      return err(400, 'global/invalid-parameters', 'An SSH key with this name already exists.', 'Choose another name.');
    if (b.public_key !== undefined && (typeof b.public_key !== 'string' || !/^(ssh-|ecdsa-)/.test(b.public_key)))
      return err(400, 'global/invalid-parameters', 'Invalid public key.', 'Provide an OpenSSH public key.');
    const generated = b.public_key === undefined;
    const key: FakeSshKey = {
      id: hexId(),
      name: b.name,
      public_key: generated ? `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${hexId()} ${b.name}` : (b.public_key as string),
    };
    state.sshKeys.push(key);
    return ok(generated ? { ...key, private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n' } : key);
  };

  const launch = (body: unknown): [number, unknown] => {
    const b = (body ?? {}) as {
      region_name?: unknown;
      instance_type_name?: unknown;
      ssh_key_names?: unknown;
      name?: unknown;
      firewall_rulesets?: unknown;
    };
    if (typeof b.region_name !== 'string' || typeof b.instance_type_name !== 'string' || !Array.isArray(b.ssh_key_names))
      return err(
        400,
        'global/invalid-parameters',
        'Invalid request data.',
        'region_name, instance_type_name and ssh_key_names are required.',
      );
    if (b.ssh_key_names.length !== 1)
      return err(400, 'global/invalid-parameters', 'Exactly one SSH key must be specified.', 'Pass one name in ssh_key_names.');
    if (b.name !== undefined && (typeof b.name !== 'string' || b.name.length > 64))
      return err(400, 'global/invalid-parameters', 'Instance name must be 64 characters or fewer.', 'Use a shorter name.');
    const key = String(b.ssh_key_names[0]);
    const type = state.types.find((t) => t.name === b.instance_type_name);
    const region = state.regions.find((r) => r.name === b.region_name);
    if (!type || !region || !state.sshKeys.some((k) => k.name === key)) {
      const what = !type ? 'Instance type' : !region ? 'Region' : 'SSH key';
      return err(404, 'global/object-does-not-exist', `${what} does not exist.`, 'Check the name, then try again.');
    }
    const fw = b.firewall_rulesets;
    if (fw !== undefined && (!Array.isArray(fw) || fw.some((e) => typeof (e as { id?: unknown })?.id !== 'string')))
      return err(400, 'global/invalid-parameters', 'Invalid request data.', 'firewall_rulesets is a list of {id}.');
    const rulesets = ((fw ?? []) as { id: string }[]).map((e) => state.rulesets.get(e.id));
    if (rulesets.some((r) => r === undefined))
      return err(404, 'global/object-does-not-exist', 'Firewall ruleset does not exist.', 'Check the firewall ruleset ID, then try again.');
    if (rulesets.some((r) => r!.region !== region.name))
      return err(
        400,
        'global/invalid-parameters',
        'The firewall rulesets must exist in the same region as the instance.',
        'Choose rulesets from the region you launch in.',
      );
    if (!type.capacity.includes(region.name))
      return err(
        400,
        'instance-operations/launch/insufficient-capacity',
        'Not enough capacity to fulfill launch request.',
        'Try another region or instance type.',
      );
    const inst: FakeInstance = {
      id: hexId(),
      name: typeof b.name === 'string' ? b.name : '',
      region: region.name,
      type: type.name,
      sshKey: key,
      ip: o.instanceIp ?? `198.51.100.${ipSeq++ % 250}`,
      launchedAt: Date.now(),
      terminatedAt: null,
    };
    state.instances.set(inst.id, inst);
    for (const rs of rulesets) rs!.instance_ids.push(inst.id);
    return ok({ instance_ids: [inst.id] });
  };

  const terminate = (body: unknown): [number, unknown] => {
    const ids = (body as { instance_ids?: unknown } | undefined)?.instance_ids;
    if (!Array.isArray(ids) || ids.length === 0)
      return err(400, 'global/invalid-parameters', 'Invalid request data.', 'Pass instance_ids.');
    const found = ids.map((id) => state.instances.get(String(id)));
    if (found.some((i) => !i || view(i) === null)) return err(404, 'global/object-does-not-exist', 'Specified instance does not exist.');
    const done = found.map((i) => {
      if (i!.terminatedAt === null) i!.terminatedAt = Date.now();
      return view(i!);
    });
    return ok({ terminated_instances: done });
  };

  const putRules = (body: unknown): [number, unknown] => {
    const c = checkRules((body as { data?: unknown } | undefined)?.data);
    if ('error' in c) return c.error;
    state.firewallRules = written(c.rules);
    return ok(state.firewallRules);
  };

  // What a rule write stores: as sent, unless the dropLastRule knob is armed.
  const written = (rules: FakeFirewallRule[]): FakeFirewallRule[] => {
    if (knobs.dropLastRule > 0 && rules.length > 0) {
      knobs.dropLastRule--;
      return rules.slice(0, -1);
    }
    return rules;
  };

  const rulesetView = (rs: FakeRuleset) => ({
    id: rs.id,
    name: rs.name,
    region: state.regions.find((r) => r.name === rs.region)!,
    rules: rs.rules,
    created: rs.created,
    // Terminated instances no longer hold the ruleset.
    instance_ids: rs.instance_ids.filter((id) => {
      const i = state.instances.get(id);
      return i !== undefined && view(i) !== null;
    }),
  });
  const globalView = () => ({ id: 'global', name: 'Default Workspace Global Rules', rules: state.firewallRules });
  const rulesetMissing = (): [number, unknown] =>
    err(
      404,
      'global/object-does-not-exist',
      'Firewall ruleset does not exist or you do not have permission to access it.',
      'Check your firewall ruleset ID and try again.',
    );

  const rulesetRoute = (method: string, path: string, body: unknown): [number, unknown] | null => {
    const b = (body ?? {}) as { name?: unknown; region?: unknown; rules?: unknown };
    const bad = (m: string, suggestion = 'Check the request, then try again.') => err(400, 'global/invalid-parameters', m, suggestion);
    if (path === '/firewall-rulesets') {
      if (method === 'GET') return ok([...state.rulesets.values()].map(rulesetView));
      if (method !== 'POST') return null;
      if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 64) return bad('Name must be 1 to 64 characters.');
      if (typeof b.region !== 'string' || !state.regions.some((r) => r.name === b.region)) return bad('Invalid region.');
      const c = checkRules(b.rules);
      if ('error' in c) return c.error;
      const rs: FakeRuleset = {
        id: hexId(),
        name: b.name,
        region: b.region,
        rules: written(c.rules),
        created: new Date().toISOString(),
        instance_ids: [],
      };
      state.rulesets.set(rs.id, rs);
      return ok(rulesetView(rs));
    }
    if (path === '/firewall-rulesets/global') {
      if (method === 'GET') return ok(globalView());
      if (method !== 'PATCH') return null;
      if (b.rules !== undefined) {
        const c = checkRules(b.rules);
        if ('error' in c) return c.error;
        state.firewallRules = written(c.rules);
      }
      return ok(globalView());
    }
    const m = /^\/firewall-rulesets\/([^/]+)$/.exec(path);
    if (!m) return null;
    const rs = state.rulesets.get(decodeURIComponent(m[1]!));
    if (!['GET', 'PATCH', 'DELETE'].includes(method)) return null;
    if (!rs) return rulesetMissing();
    if (method === 'GET') return ok(rulesetView(rs));
    if (method === 'DELETE') {
      if (rulesetView(rs).instance_ids.length > 0)
        return err(
          400,
          'firewall-rulesets/firewall-ruleset-in-use',
          'Firewall ruleset is in use by one or more instances.',
          'Terminate all instances that are using the ruleset before deleting it.',
        );
      state.rulesets.delete(rs.id);
      return ok({});
    }
    if (b.name !== undefined && (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 64))
      return bad('Name must be 1 to 64 characters.');
    let rules: FakeFirewallRule[] | undefined;
    if (b.rules !== undefined) {
      const c = checkRules(b.rules);
      if ('error' in c) return c.error;
      rules = c.rules;
    }
    if (typeof b.name === 'string') rs.name = b.name;
    if (rules) rs.rules = written(rules);
    return ok(rulesetView(rs));
  };

  // Counts firewall writes down to the armed fault; the fault then fires `times` writes in a row.
  const nextWriteFault = (): { status: number; commit: boolean } | null => {
    const f = knobs.firewallWriteFault;
    if (!f) return null;
    if (f.nth > 1) {
      f.nth--;
      return null;
    }
    const times = (f.times ?? 1) - 1;
    if (times <= 0) knobs.firewallWriteFault = null;
    else f.times = times;
    return { status: f.status, commit: f.commit ?? false };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });

  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, text: string, type = 'application/json') => {
    state.log.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, status, body: text });
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': type });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
    const url = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (!authorized(req.headers.authorization, o.keys)) {
      const [s, b] = err(
        401,
        'global/invalid-api-key',
        'API key was invalid, expired, or deleted.',
        'Check your API key or create a new one, then try again.',
      );
      return send(req, res, s, JSON.stringify(b));
    }
    const path = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : '\0';
    const faulty = knobs.faultPath === null || path.includes(knobs.faultPath);
    if (faulty && knobs.rateLimited > 0) {
      knobs.rateLimited--;
      // Lambda sends no Retry-After on 429 (specs/README.md); the code below is our best guess.
      const [s, b] = err(429, 'global/too-many-requests', 'Too many requests.', 'Wait a moment, then try again.');
      return send(req, res, s, JSON.stringify(b));
    }
    if (faulty && knobs.serverErrors > 0) {
      knobs.serverErrors--;
      const [s, b] = err(
        500,
        'global/internal-error',
        'An internal server error occurred.',
        'Try again later. Contact Support if the problem persists.',
      );
      return send(req, res, s, JSON.stringify(b));
    }
    const fault = firewallWrite(method, path) ? nextWriteFault() : null;
    if (fault && !fault.commit) return send(req, res, fault.status, JSON.stringify(writeFaultBody(fault.status)));
    let body: unknown;
    try {
      body = raw.trim() === '' ? undefined : JSON.parse(raw);
    } catch {
      const [s, b] = err(400, 'global/invalid-parameters', 'Invalid request data.', 'Send a JSON body.');
      return send(req, res, s, JSON.stringify(b));
    }
    const [status, answer] = await route(method, path, body);
    if (fault) return send(req, res, fault.status, JSON.stringify(writeFaultBody(fault.status)));
    if (status === 200 && faulty && knobs.malformed) {
      const kind = knobs.malformed;
      knobs.malformed = null;
      return kind === 'not-json'
        ? send(req, res, 200, '<html>502 Bad Gateway</html>', 'text/html')
        : send(req, res, 200, JSON.stringify({ data: 'unexpected' }));
    }
    if (path === '/instance-operations/launch' && status === 200 && knobs.launchDelay.count > 0) {
      knobs.launchDelay.count--;
      await sleep(knobs.launchDelay.ms);
    }
    send(req, res, status, JSON.stringify(answer));
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    state,
    knobs,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A write (anything but GET) to one of the firewall endpoints. */
function firewallWrite(method: string, path: string): boolean {
  return method !== 'GET' && (path === '/firewall-rules' || path === '/firewall-rulesets' || path.startsWith('/firewall-rulesets/'));
}

function writeFaultBody(status: number): unknown {
  return status === 429
    ? err(429, 'global/too-many-requests', 'Too many requests.', 'Wait a moment, then try again.')[1]
    : err(
        status,
        'global/internal-error',
        'An internal server error occurred.',
        'Try again later. Contact Support if the problem persists.',
      )[1];
}

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'all'];

/** Lambda's checks on a list of rules: the list, or Lambda's 400. */
function checkRules(rules: unknown): { rules: FakeFirewallRule[] } | { error: [number, unknown] } {
  const bad = (m: string) => ({ error: err(400, 'global/invalid-parameters', m, 'Check the rules, then try again.') });
  if (!Array.isArray(rules)) return bad('Invalid request data.');
  if (rules.length > 20) return bad('At most 20 firewall rules are allowed.');
  for (const r of rules as Partial<FakeFirewallRule>[]) {
    if (!r || !PROTOCOLS.includes(r.protocol as string)) return bad('Invalid protocol.');
    if (typeof r.source_network !== 'string' || !ipv4Network(r.source_network)) return bad('Invalid source network.');
    if (typeof r.description !== 'string' || r.description.length > 128) return bad('Description must be 128 characters or fewer.');
    const pr = r.port_range;
    if (r.protocol === 'icmp' && pr !== undefined) return bad('port_range is not allowed for icmp.');
    const ports = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 65535;
    if (r.protocol !== 'icmp' && (!Array.isArray(pr) || pr.length !== 2 || !ports(pr[0]) || !ports(pr[1]) || pr[0]! > pr[1]!))
      return bad('Invalid port range.');
  }
  return {
    rules: (rules as FakeFirewallRule[]).map((r) => ({
      protocol: r.protocol,
      ...(r.port_range ? { port_range: [r.port_range[0], r.port_range[1]] as [number, number] } : {}),
      source_network: r.source_network,
      description: r.description,
    })),
  };
}

/** "1.2.3.4" or "1.2.3.4/24": four octets 0-255, a mask 0-32. */
function ipv4Network(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  if (!m) return false;
  return m.slice(1, 5).every((o) => Number(o) <= 255) && (m[5] === undefined || Number(m[5]) <= 32);
}

function authorized(header: string | undefined, keys: string[]): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme === 'Bearer') return keys.includes(value);
  if (scheme === 'Basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.endsWith(':') && keys.includes(decoded.slice(0, -1));
  }
  return false;
}

function ok(data: unknown): [number, unknown] {
  return [200, { data }];
}

function err(status: number, code: string, message: string, suggestion?: string): [number, unknown] {
  return [status, { error: { code, message, ...(suggestion ? { suggestion } : {}) } }];
}

function typeView(t: FakeType): Record<string, unknown> {
  const { capacity: _capacity, ...rest } = t;
  return rest;
}

function hexId(): string {
  return randomBytes(16).toString('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function defaultTypes(): FakeType[] {
  return [
    {
      name: 'gpu_1x_a10',
      description: '1x A10 (24 GB PCIe)',
      gpu_description: 'A10 (24 GB PCIe)',
      price_cents_per_hour: 75,
      specs: { vcpus: 30, memory_gib: 200, storage_gib: 1400, gpus: 1 },
      capacity: ['us-west-1', 'us-east-1'],
    },
    {
      name: 'gpu_8x_h100_sxm5',
      description: '8x H100 (80 GB SXM5)',
      gpu_description: 'H100 (80 GB SXM5)',
      price_cents_per_hour: 2392,
      specs: { vcpus: 208, memory_gib: 1800, storage_gib: 24780, gpus: 8 },
      capacity: [],
    },
    {
      name: 'cpu_4x_general',
      description: '4x vCPU (general)',
      gpu_description: '',
      price_cents_per_hour: 15,
      specs: { vcpus: 4, memory_gib: 16, storage_gib: 100, gpus: 0 },
      capacity: ['us-east-1'],
    },
  ];
}
