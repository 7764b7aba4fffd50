// The headless host (`moat serve`): the built renderer plus the Moat API over a WebSocket, on
// 127.0.0.1 only. Anything that can reach the loopback interface can reach this port (other local
// users, and every web page the user's browser opens), so:
// - the API needs a per-launch random token, which only travels in the URL fragment we print
//   (fragments are never sent to a server, so it stays out of logs and Referer headers);
// - every request, and the upgrade, must carry Host 127.0.0.1:PORT or localhost:PORT, which
//   defeats DNS rebinding (evil.example resolving to 127.0.0.1 still says Host: evil.example);
// - the upgrade must come from our own Origin, which stops other sites' pages from opening the
//   socket even if they learnt the token; and no CORS header is ever sent.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Envelope, EventName } from '../../shared/api';
import { EVENT_NAMES } from '../../shared/names';
import { dispatch } from '../../shared/dispatch';
import type { Services } from '../../main/services';
import { contentSecurityPolicy, securityHeaders } from '../common/csp';
import { contentTypeFor, lookupStaticFile } from '../common/static-files';
import { maxRequestFrameBytes } from './frame-limit';

/** All the host needs of the services; it never closes them (the caller owns them). */
export type HostServices = Pick<Services, 'handlers' | 'onEvent' | 'protectPort'>;

export interface HostOptions {
  services: HostServices;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** 0 or absent: a free port chosen by the OS. */
  port?: number;
  /** Normally absent (a fresh random token per launch); at least 32 base64url characters if given. */
  token?: string;
  /** Where errors that are not shown to the user go (default: stderr). */
  log?: (msg: string) => void;
}

export interface Host {
  /** Open this in a browser: http://127.0.0.1:PORT/#token=TOKEN */
  url: string;
  port: number;
  token: string;
  /** Stops the server and disconnects every client. Does not close the services. */
  close(): Promise<void>;
}

export const API_PATH = '/api';
/**
 * Largest frame a client may send: the largest valid request with JSON's worst-case escaping
 * (frame-limit.ts). A larger frame closes the connection with 1009, which the UI reports as such.
 */
export const MAX_PAYLOAD_BYTES = maxRequestFrameBytes();
/** Above this much unsent data, a client stops getting the high-volume events. */
const DROP_STREAM_EVENTS_ABOVE = 4 * 1024 * 1024;
/** A client this far behind is not reading at all; cut it off rather than grow main's memory. */
const DISCONNECT_ABOVE = 64 * 1024 * 1024;
const DROPPABLE_EVENTS: ReadonlySet<EventName> = new Set<EventName>(['run.output', 'run.stats']);
const KNOWN_EVENTS: ReadonlySet<string> = new Set<string>(EVENT_NAMES);
const TOKEN_RE = /^[A-Za-z0-9_-]{32,256}$/;

export async function startHost(opts: HostOptions): Promise<Host> {
  const { services, staticDir } = opts;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`moat host: ${msg}\n`));
  if (opts.token !== undefined && !TOKEN_RE.test(opts.token)) {
    throw new Error('Host token must be 32 to 256 base64url characters.');
  }
  const token = opts.token ?? crypto.randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);

  // Filled in once the port is known; nothing is served before listen() returns.
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();
  let headers: Record<string, string> = {};

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      log(`HTTP ${req.method} failed: ${describe(err)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal error.');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    // Compression buys nothing on loopback and costs CPU and memory (zip-bomb frames).
    perMessageDeflate: false,
    clientTracking: true,
  });

  function hostAllowed(req: http.IncomingMessage): boolean {
    const host = req.headers.host;
    return typeof host === 'string' && allowedHosts.has(host.toLowerCase());
  }

  function sendText(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return sendText(res, 421, 'Misdirected request: wrong Host header.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendText(res, 405, 'Method not allowed.\n', { Allow: 'GET, HEAD' });
    }
    const target = req.url ?? '';
    // Origin-form only ("/path?query"); absolute-form and "*" have no business here.
    if (!target.startsWith('/')) return sendText(res, 400, 'Bad request.\n');
    // The raw (not URL-normalized) path goes to the lookup, which refuses any ".." it finds.
    const pathname = target.split(/[?#]/, 1)[0] ?? '/';
    if (pathname === API_PATH) return sendText(res, 426, 'The API is a WebSocket.\n', { Upgrade: 'websocket' });

    const found = await lookupStaticFile(staticDir, pathname);
    if (found.kind === 'bad-request') return sendText(res, 400, 'Bad request.\n');
    if (found.kind === 'not-found') {
      if (pathname === '/' || pathname === '/index.html') return sendNotBuiltPage(res);
      return sendText(res, 404, 'Not found.\n');
    }
    const isHtml = found.file.endsWith('.html');
    res.writeHead(200, {
      ...headers,
      'Content-Type': contentTypeFor(found.file),
      'Content-Length': String(found.size),
      // index.html names the hashed bundles of the current build; never serve a stale one.
      'Cache-Control': isHtml ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(found.file);
    stream.on('error', (err) => {
      log(`reading ${found.file} failed: ${describe(err)}`);
      res.destroy();
    });
    stream.pipe(res);
  }

  function sendNotBuiltPage(res: http.ServerResponse): void {
    const body =
      '<!doctype html><html><head><meta charset="utf-8"><title>Moat</title></head>' +
      '<body style="font-family:sans-serif;max-width:40em;margin:4em auto">' +
      '<h1>Moat is running, but the UI is not built</h1>' +
      '<p>Run <code>npm run build</code> in the Moat checkout, then reload this page.</p>' +
      '</body></html>\n';
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!hostAllowed(req)) return refuseUpgrade(socket, 421, 'Misdirected request: wrong Host header.');
    const target = req.url ?? '';
    if (!target.startsWith('/')) return refuseUpgrade(socket, 400, 'Bad request.');
    const url = new URL(target, 'http://127.0.0.1');
    if (url.pathname !== API_PATH) return refuseUpgrade(socket, 404, 'Not found.');
    const given = url.searchParams.getAll('token');
    if (given.length !== 1 || !crypto.timingSafeEqual(sha256(given[0] ?? ''), tokenDigest)) {
      return refuseUpgrade(socket, 401, 'Missing or wrong token.');
    }
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !allowedOrigins.has(origin)) {
      return refuseUpgrade(socket, 403, 'Forbidden origin.');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', (err) => {
      log(`WebSocket client error: ${describe(err)}`);
      ws.terminate();
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void handleFrame(ws, data, isBinary);
    });
  });

  async function handleFrame(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) return reply(ws, null, invalid('Binary frames are not accepted.'));
    let msg: unknown;
    try {
      msg = JSON.parse(rawToString(data));
    } catch {
      return reply(ws, null, invalid('Frame is not valid JSON.'));
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return reply(ws, null, invalid('Frame must be a JSON object.'));
    }
    const frame = msg as Record<string, unknown>;
    const id = typeof frame.id === 'number' && Number.isFinite(frame.id) ? frame.id : null;
    if (frame.type !== 'call' || id === null || typeof frame.method !== 'string') {
      return reply(ws, id, invalid('Expected {"type":"call","id":<number>,"method":<string>,"params":<any>}.'));
    }
    const envelope = await dispatch(services.handlers, frame.method, frame.params, (method, err) =>
      log(`${method} failed: ${describe(err)}`),
    );
    reply(ws, id, envelope);
  }

  function reply(ws: WebSocket, id: number | null, envelope: Envelope<unknown>): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify({ type: 'result', id, envelope });
    } catch (err) {
      log(`result for call ${id} is not serializable: ${describe(err)}`);
      text = JSON.stringify({
        type: 'result',
        id,
        envelope: { ok: false, error: { code: 'INTERNAL', message: 'Internal error in Moat; see the log for details.' } },
      });
    }
    ws.send(text);
  }

  const unsubscribe = services.onEvent((event, payload) => {
    if (!KNOWN_EVENTS.has(event)) return;
    let text: string;
    try {
      text = JSON.stringify({ type: 'event', event, payload });
    } catch (err) {
      log(`event ${event} is not serializable: ${describe(err)}`);
      return;
    }
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > DISCONNECT_ABOVE) {
        log('disconnecting a WebSocket client that stopped reading');
        ws.terminate();
        continue;
      }
      // Output and stats are re-readable (runs.get) and superseded by the next sample; a slow
      // client loses them rather than main buffering without bound. Run updates always go out.
      if (DROPPABLE_EVENTS.has(event) && ws.bufferedAmount > DROP_STREAM_EVENTS_ABOVE) continue;
      ws.send(text);
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: opts.port ?? 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    unsubscribe();
    wss.close();
    throw err;
  }
  server.on('error', (err) => log(`server error: ${describe(err)}`));

  const port = (server.address() as AddressInfo).port;
  // Sandboxes with network egress may never reach the host's own API, whatever their allowlist says.
  services.protectPort?.(port);
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  headers = securityHeaders(contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unsubscribe();
      for (const ws of wss.clients) ws.close(1001, 'Moat host shutting down');
      await waitForClients(wss, 1000);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return closing;
  };

  return { url: `http://127.0.0.1:${port}/#token=${token}`, port, token, close };
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function invalid(message: string): Envelope<unknown> {
  return { ok: false, error: { code: 'INVALID_REQUEST', message } };
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

async function waitForClients(wss: WebSocketServer, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (wss.clients.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
}
