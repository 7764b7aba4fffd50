// The headless host's security edges, tested from outside over real sockets: who can connect,
// which requests are refused before anything is upgraded or served, and that the wire protocol
// survives garbage. Refusals are always paired with a positive control made by the same helper,
// so a broken helper cannot make a refusal test pass.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { ApiHandlers, EventName } from '../shared/api';
import { SystemStatus } from '../shared/types';
import { startServices } from './helpers/engine';
import { MAX_PAYLOAD_BYTES, startHost, type Host, type HostServices } from '../app/host/server';

const HANDLER_SECRET = 'handler-internal-detail-4f1d';

// The real services (engine, stores) behind the host. One handler is replaced by one that throws a
// plain Error carrying a secret, to prove internal details never reach a client; `emit` pushes
// events on demand for the event and back-pressure tests.
let real: Awaited<ReturnType<typeof startServices>>;

function makeServices(): HostServices & { emit(event: string, payload: unknown): void } {
  const handlers: ApiHandlers = {
    ...real.handlers,
    'templates.list': async () => {
      throw new Error(`templates.list failed inside (${HANDLER_SECRET})`);
    },
  };
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const offReal = real.onEvent((e, p) => {
    for (const l of listeners) l(e, p);
  });
  void offReal;
  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event, payload) {
      for (const l of listeners) l(event as EventName, payload);
    },
  };
}

const SECRET_OUTSIDE = 'TOP-SECRET-OUTSIDE-STATIC-DIR';
const HIDDEN_INSIDE = 'HIDDEN-DOTFILE-CONTENT';
const APP_JS = 'console.log("moat test bundle");\n';
const INDEX_HTML = '<!doctype html><title>Moat test</title><script type="module" src="/assets/app.js"></script>\n';

let tmp: string;
let staticDir: string;
let services: ReturnType<typeof makeServices>;
let host: Host;
let origin: string;
let goodHost: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-host-test-'));
  staticDir = path.join(tmp, 'dist');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'secret.txt'), SECRET_OUTSIDE);
  fs.writeFileSync(path.join(staticDir, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), APP_JS);
  fs.writeFileSync(path.join(staticDir, 'assets', 'style.css'), 'body{}');
  fs.writeFileSync(path.join(staticDir, '.env'), HIDDEN_INSIDE);
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(staticDir, 'link.txt'));
  real = await startServices();
  services = makeServices();
  host = await startHost({ services, staticDir, port: 0, log: () => {} });
  origin = `http://127.0.0.1:${host.port}`;
  goodHost = `127.0.0.1:${host.port}`;
});

after(async () => {
  await host?.close();
  await real?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------- helpers ----------

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends exactly `request` (no client-side URL normalization) and reads until the server closes. */
function rawHttp(port: number, request: string, address = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('raw HTTP request timed out'));
    }, 5000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
    });
  });
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { status, headers, body };
}

function get(pathname: string, hostHeader: string | null = goodHost, method = 'GET', extra = ''): Promise<RawResponse> {
  const hostLine = hostHeader === null ? '' : `Host: ${hostHeader}\r\n`;
  const version = hostHeader === null ? 'HTTP/1.0' : 'HTTP/1.1';
  return rawHttp(host.port, `${method} ${pathname} ${version}\r\n${hostLine}${extra}Connection: close\r\n\r\n`);
}

/** A hand-written WebSocket upgrade: returns the status and whether the server then closed the socket. */
function rawUpgrade(opts: {
  path?: string;
  hostHeader?: string;
  origin?: string | null;
}): Promise<{ status: number; closedByServer: boolean }> {
  const p = opts.path ?? `/api?token=${host.token}`;
  const lines = [
    `GET ${p} HTTP/1.1`,
    `Host: ${opts.hostHeader ?? goodHost}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
  ];
  const o = opts.origin === undefined ? origin : opts.origin;
  if (o !== null) lines.push(`Origin: ${o}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: host.port });
    let buf = '';
    let status = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      if (status) resolve({ status, closedByServer: false });
      else reject(new Error('upgrade timed out'));
    }, 2000);
    socket.on('connect', () => socket.write(lines.join('\r\n') + '\r\n\r\n'));
    socket.on('data', (c) => {
      buf += c.toString('latin1');
      if (!status && buf.includes('\r\n\r\n')) {
        status = parseResponse(buf).status;
        if (status === 101) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ status, closedByServer: false });
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      if (status !== 101) resolve({ status, closedByServer: true });
    });
  });
}

type ServerMsg =
  | { type: 'result'; id: number | null; envelope: { ok: boolean; result?: unknown; error?: { code: string; message: string } } }
  | { type: 'event'; event: string; payload: unknown };

class Client {
  readonly ws: WebSocket;
  private queue: ServerMsg[] = [];
  private waiters: Array<() => void> = [];
  private nextId = 1;
  closeCode: number | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.queue.push(JSON.parse(data.toString()) as ServerMsg);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static connect(): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, { origin });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async next(pred: (m: ServerMsg) => boolean, timeoutMs = 5000): Promise<ServerMsg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i !== -1) return this.queue.splice(i, 1)[0]!;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async call(method: string, params?: unknown) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ type: 'call', id, method, params }));
    const msg = await this.next((m) => m.type === 'result' && m.id === id);
    assert.equal(msg.type, 'result');
    return msg.envelope;
  }

  async sendRaw(data: string | Buffer, binary = false) {
    this.ws.send(data, { binary });
    const msg = await this.next((m) => m.type === 'result');
    assert.equal(msg.type, 'result');
    return msg;
  }

  events(): ServerMsg[] {
    return this.queue.filter((m) => m.type === 'event');
  }

  close(): void {
    this.ws.close();
  }
}

// ---------- where it listens ----------

test('listens on 127.0.0.1 only', async (t) => {
  assert.match(host.url, new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/#token=[A-Za-z0-9_-]{43}$`));

  if (fs.existsSync('/proc/net/tcp')) {
    // Kernel's view of listening sockets (state 0A): exactly one, bound to 0100007F = 127.0.0.1.
    const hexPort = host.port.toString(16).toUpperCase().padStart(4, '0');
    const listening = (file: string) =>
      fs.existsSync(file)
        ? fs
            .readFileSync(file, 'utf8')
            .split('\n')
            .slice(1)
            .map((l) => l.trim().split(/\s+/))
            .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
            .map((f) => f[1])
        : [];
    assert.deepEqual(listening('/proc/net/tcp'), [`0100007F:${hexPort}`]);
    assert.deepEqual(listening('/proc/net/tcp6'), []);
  }

  const ok = await canConnect('127.0.0.1', host.port);
  assert.equal(ok, true, 'positive control: 127.0.0.1 must accept');

  const others = ['127.0.0.2', '::1'];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && !a.address.startsWith('fe80')) others.push(a.address);
  }
  t.diagnostic(`other local addresses tried: ${others.join(', ')}`);
  for (const address of others) {
    assert.equal(await canConnect(address, host.port), false, `${address}:${host.port} must not accept connections`);
  }
});

function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (v: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 2000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

test('the token is 32 random bytes, fresh per launch, and weak explicit tokens are refused', async () => {
  assert.equal(Buffer.from(host.token, 'base64url').length, 32);
  const other = await startHost({ services: makeServices(), staticDir, log: () => {} });
  try {
    assert.notEqual(other.token, host.token);
    assert.notEqual(other.port, host.port);
  } finally {
    await other.close();
  }
  await assert.rejects(startHost({ services: makeServices(), staticDir, token: 'short' }), /token/);
});

// ---------- Host header (DNS rebinding) ----------

test('HTTP requests with a foreign or missing Host header are refused', async () => {
  const good = await get('/');
  assert.equal(good.status, 200, 'positive control');
  assert.equal(good.body, INDEX_HTML);

  const localhost = await get('/', `localhost:${host.port}`);
  assert.equal(localhost.status, 200, 'localhost:PORT is allowed too');

  for (const bad of [
    `evil.example:${host.port}`,
    'evil.example',
    `127.0.0.1:${host.port}.evil.example`,
    `localhost.evil.example:${host.port}`,
    '127.0.0.1',
    `127.0.0.1:${host.port + 1}`,
    `[::1]:${host.port}`,
  ]) {
    const res = await get('/', bad);
    assert.ok(res.status === 421 || res.status === 403, `Host ${bad}: got ${res.status}`);
    assert.ok(!res.body.includes('Moat test'), `Host ${bad} must not get the page`);
  }
  const none = await get('/', null);
  assert.ok(none.status === 421 || none.status === 403, `no Host: got ${none.status}`);
});

// ---------- WebSocket upgrade ----------

test('WebSocket upgrade with token, good Origin and good Host succeeds (control for the refusals)', async () => {
  assert.equal((await rawUpgrade({})).status, 101);
  assert.equal((await rawUpgrade({ hostHeader: `localhost:${host.port}`, origin: `http://localhost:${host.port}` })).status, 101);
});

test('WebSocket upgrade without the token is refused with 401', async () => {
  const res = await rawUpgrade({ path: '/api' });
  assert.equal(res.status, 401);
  assert.equal(res.closedByServer, true);
  assert.equal((await rawUpgrade({ path: '/api?token=' })).status, 401);
});

test('WebSocket upgrade with a wrong token is refused with 401', async () => {
  const wrong = crypto.randomBytes(32).toString('base64url');
  assert.equal((await rawUpgrade({ path: `/api?token=${wrong}` })).status, 401);
  // A prefix, the token with a suffix, and the token given twice are all wrong.
  assert.equal((await rawUpgrade({ path: `/api?token=${host.token.slice(0, -1)}` })).status, 401);
  assert.equal((await rawUpgrade({ path: `/api?token=${host.token}x` })).status, 401);
  assert.equal((await rawUpgrade({ path: `/api?token=${host.token}&token=${host.token}` })).status, 401);
});

test('WebSocket upgrade from a foreign Origin is refused with 403', async () => {
  for (const o of [
    'http://evil.example',
    `http://evil.example:${host.port}`,
    `https://127.0.0.1:${host.port}`,
    `http://127.0.0.1:${host.port + 1}`,
    'null',
    `http://127.0.0.1:${host.port}.evil.example`,
  ]) {
    const res = await rawUpgrade({ origin: o });
    assert.equal(res.status, 403, `Origin ${o}`);
    assert.equal(res.closedByServer, true);
  }
});

test('WebSocket upgrade without an Origin header is refused with 403', async () => {
  const res = await rawUpgrade({ origin: null });
  assert.equal(res.status, 403);
  assert.equal(res.closedByServer, true);
});

test('WebSocket upgrade with a foreign Host header is refused', async () => {
  for (const h of [`evil.example:${host.port}`, 'evil.example', `127.0.0.1:${host.port}.evil.example`]) {
    const res = await rawUpgrade({ hostHeader: h });
    assert.ok(res.status === 421 || res.status === 403, `Host ${h}: got ${res.status}`);
    assert.equal(res.closedByServer, true);
  }
});

test('WebSocket upgrade on another path is refused', async () => {
  const res = await rawUpgrade({ path: `/?token=${host.token}` });
  assert.notEqual(res.status, 101);
  assert.equal(res.closedByServer, true);
});

// ---------- the wire protocol ----------

test('system.status succeeds over an authorized connection', async () => {
  const c = await Client.connect();
  try {
    const expected = await real.handlers['system.status'](undefined);
    const a = await c.call('system.status');
    assert.equal(a.ok, true);
    assert.deepEqual(SystemStatus.parse(a.result), expected);
    assert.deepEqual(await c.call('system.status', {}), { ok: true, result: expected });
  } finally {
    c.close();
  }
});

test('an unknown method gives UNKNOWN_METHOD, bad params INVALID_REQUEST, a failing handler INTERNAL without details', async () => {
  const c = await Client.connect();
  try {
    const unknown = await c.call('system.rm_rf', {});
    assert.equal(unknown.ok, false);
    assert.equal(unknown.error?.code, 'UNKNOWN_METHOD');
    // Names inherited from Object.prototype are not methods.
    assert.equal((await c.call('constructor')).error?.code, 'UNKNOWN_METHOD');
    assert.equal((await c.call('__proto__')).error?.code, 'UNKNOWN_METHOD');

    const badParams = await c.call('system.status', { extra: 1 });
    assert.equal(badParams.error?.code, 'INVALID_REQUEST');

    const failing = await c.call('templates.list');
    assert.equal(failing.error?.code, 'INTERNAL');
    assert.ok(!JSON.stringify(failing).includes(HANDLER_SECRET), 'internal error details must not reach the client');
  } finally {
    c.close();
  }
});

test('malformed frames get INVALID_REQUEST and the connection stays usable', async () => {
  const c = await Client.connect();
  try {
    const cases: Array<{ data: string | Buffer; binary?: boolean; id: number | null }> = [
      { data: 'not json', id: null },
      { data: '', id: null },
      { data: '[]', id: null },
      { data: 'null', id: null },
      { data: '42', id: null },
      { data: '{"type":"call"}', id: null },
      { data: '{"type":"call","id":"7","method":"system.status"}', id: null },
      { data: '{"type":"call","id":7}', id: 7 },
      { data: '{"type":"call","id":8,"method":42}', id: 8 },
      { data: '{"type":"result","id":9,"method":"system.status"}', id: 9 },
      { data: '{"__proto__":{"type":"call"},"id":10,"method":"system.status"}', id: 10 },
      { data: Buffer.from('{"type":"call","id":11,"method":"system.status"}'), binary: true, id: null },
    ];
    for (const k of cases) {
      const msg = await c.sendRaw(k.data, k.binary);
      assert.equal(msg.type, 'result');
      if (msg.type !== 'result') continue;
      assert.equal(msg.id, k.id, `id for ${String(k.data)}`);
      assert.equal(msg.envelope.ok, false);
      assert.equal(msg.envelope.error?.code, 'INVALID_REQUEST', `code for ${String(k.data)}`);
    }
    assert.equal(c.closeCode, undefined);
    assert.deepEqual(await c.call('system.status'), { ok: true, result: await real.handlers['system.status'](undefined) });
  } finally {
    c.close();
  }
});

test('a frame over the size limit closes that connection (1009) and the host keeps serving', async () => {
  const c = await Client.connect();
  c.ws.send(
    JSON.stringify({ type: 'call', id: 1, method: 'sandbox.run', params: { template: 'python', code: 'x'.repeat(MAX_PAYLOAD_BYTES) } }),
  );
  await assert.rejects(
    c.next(() => false, 5000),
    /socket closed \(1009\)/,
  );
  const d = await Client.connect();
  try {
    assert.equal((await d.call('system.status')).ok, true);
  } finally {
    d.close();
  }
});

// ---------- events ----------

test('declared events go to every client; undeclared names are not forwarded', async () => {
  const a = await Client.connect();
  const b = await Client.connect();
  try {
    services.emit('secret.internal', { key: 'must-not-leave' });
    const sample = { runId: 'r1', t: 1, cpuPercent: 5, memoryBytes: 1, memoryLimitBytes: 2, pids: 3 };
    services.emit('run.stats', sample);
    for (const c of [a, b]) {
      const first = await c.next((m) => m.type === 'event');
      assert.deepEqual(first, { type: 'event', event: 'run.stats', payload: sample });
    }
  } finally {
    a.close();
    b.close();
  }
});

test('a client that stops reading loses run.output, but still gets run.updated, and main is not blocked', async () => {
  const slow = await Client.connect();
  const fast = await Client.connect();
  try {
    slow.ws.pause();
    const chunk = { runId: 'r1', stream: 'stdout', data: 'x'.repeat(256 * 1024) };
    const total = 200; // 50 MiB: far more than socket buffers and the drop threshold together
    const t0 = Date.now();
    for (let i = 0; i < total; i++) services.emit('run.output', chunk);
    services.emit('run.updated', { id: 'r1', marker: true });
    assert.ok(Date.now() - t0 < 5000, 'emitting must not block');

    const fastUpdate = await fast.next((m) => m.type === 'event' && m.event === 'run.updated', 20000);
    assert.ok(fastUpdate);

    slow.ws.resume();
    const update = await slow.next((m) => m.type === 'event' && m.event === 'run.updated', 20000);
    assert.deepEqual(update, { type: 'event', event: 'run.updated', payload: { id: 'r1', marker: true } });
    const got = slow.events().filter((m) => m.type === 'event' && m.event === 'run.output').length;
    assert.ok(got > 0 && got < total, `slow client got ${got} of ${total} run.output events`);
  } finally {
    slow.close();
    fast.close();
  }
});

// ---------- static files ----------

test('static files: content types, security headers, no CORS, no-store for index.html', async () => {
  const index = await get('/', goodHost, 'GET', 'Origin: http://evil.example\r\n');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-store');
  const csp = index.headers.get('content-security-policy') ?? '';
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ws://127.0.0.1:${host.port} ws://localhost:${host.port}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ]) {
    assert.ok(csp.split('; ').includes(directive), `CSP lacks "${directive}": ${csp}`);
  }
  assert.ok(!/unsafe-eval/.test(csp));
  assert.ok(!/script-src[^;]*unsafe-inline/.test(csp));
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
  for (const name of index.headers.keys()) assert.ok(!name.startsWith('access-control-'), `CORS header ${name}`);

  const js = await get('/assets/app.js');
  assert.equal(js.status, 200);
  assert.equal(js.body, APP_JS);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.ok(js.headers.get('content-security-policy'));
  assert.equal((await get('/assets/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');

  const head = await get('/assets/app.js', goodHost, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(APP_JS)));
  assert.equal(head.body, '');

  const missing = await get('/nope.js');
  assert.equal(missing.status, 404);
  assert.ok(missing.headers.get('content-security-policy'), 'errors carry the headers too');

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const res = await get('/', goodHost, method, 'Content-Length: 0\r\n');
    assert.equal(res.status, 405, method);
    assert.ok(![...res.headers.keys()].some((k) => k.startsWith('access-control-')));
  }
  const apiOverHttp = await get(`/api?token=${host.token}`);
  assert.notEqual(apiOverHttp.status, 200);
});

test('path traversal does not leak files', async () => {
  const control = await get('/assets/app.js');
  assert.equal(control.status, 200, 'positive control');
  const attempts = [
    '/../secret.txt',
    '/../../etc/passwd',
    '/../../../../../../etc/passwd',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2E%2E/%2E%2E/etc/passwd',
    '/..%2fsecret.txt',
    '/..%2Fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/assets/../../secret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%252e%252e/secret.txt',
    '/.%2e/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/.env',
    '/assets/../.env',
    '/link.txt',
    '/index.html%00.js',
    '/%00',
    'http://127.0.0.1/../secret.txt',
    '*',
  ];
  for (const p of attempts) {
    const res = await get(p);
    assert.ok([400, 403, 404].includes(res.status), `${p}: status ${res.status}`);
    assert.ok(!res.body.includes(SECRET_OUTSIDE), `${p} leaked the file outside staticDir`);
    assert.ok(!res.body.includes(HIDDEN_INSIDE), `${p} leaked a dot-file`);
    assert.ok(!/root:.*:0:0:/.test(res.body), `${p} leaked /etc/passwd`);
  }
});

test('without a built renderer, / tells the user to run npm run build', async () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
  const h = await startHost({ services: makeServices(), staticDir: path.join(empty, 'missing'), log: () => {} });
  try {
    const res = await rawHttp(h.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(res.status, 200);
    assert.match(res.body, /npm run build/);
    assert.ok(res.headers.get('content-security-policy'));
    assert.equal(res.headers.get('cache-control'), 'no-store');
  } finally {
    await h.close();
  }
});

test('close() disconnects clients and stops listening', async () => {
  const h = await startHost({ services: makeServices(), staticDir, log: () => {} });
  const ws = new WebSocket(`ws://127.0.0.1:${h.port}/api?token=${h.token}`, { origin: `http://127.0.0.1:${h.port}` });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await h.close();
  assert.equal(await closed, 1001);
  assert.equal(await canConnect('127.0.0.1', h.port), false);
});
