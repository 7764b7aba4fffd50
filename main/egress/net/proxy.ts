// Moat's filtering proxy: a net.Server on a unix socket (the one thing a sandbox with egress can
// reach), speaking HTTP (CONNECT, and plain http:// requests) and SOCKS5 (no auth, CONNECT, with
// names resolved here), told apart by the first byte. Every destination is checked against the
// run's allowlist (policy.ts) before anything is connected: names resolve here (the sandbox has no
// DNS), every address a name resolves to is checked (DNS rebinding), and only a checked address is
// connected to. Through a tunnel to port 443, or any tunnel whose client speaks TLS first, the
// ClientHello's server name must be the name that was asked for (no TLS is terminated). A refusal
// is a refusal the client sees (403, SOCKS reply 0x02, a TLS access_denied alert), and a call of
// onRefused with the destination, the port and the reason.
import { promises as dnsp } from 'node:dns';
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import type { AllowRule } from '../../../shared/egress';
import { checkName, checkResolved, formatIp, normalizeName, type IpBytes, type PolicyContext } from './policy';
import { peekClientHello, TLS_ACCESS_DENIED_ALERT } from './tls';
import type { RefusedConnection } from './types';

export interface EgressProxyOptions {
  /** Where to listen: a unix socket path (or a TCP port on 127.0.0.1, for tests). */
  socketPath?: string;
  port?: number;
  rules: readonly AllowRule[];
  /** DNS servers ("ip", "ip:port", "[ip6]:port"); empty/absent: MOAT_EGRESS_DNS, else the system's resolver (getaddrinfo). */
  dnsServers?: string[];
  protectedPorts?: number[];
  onRefused(ev: RefusedConnection): void;
  log?(msg: string): void;
  /** Concurrent client connections; more are closed at once. Default 256. */
  maxConnections?: number;
  /** Until the request (and for tunnels the ClientHello) has been read. Default 15 s. */
  handshakeTimeoutMs?: number;
  /** Connecting to the destination. Default 10 s. */
  connectTimeoutMs?: number;
  /** A tunnel with no traffic either way for this long is closed. Default 10 min. */
  idleTimeoutMs?: number;
  /** This machine's addresses (tests); default: every interface's. */
  localAddresses?: IpBytes[];
  /** Ports whose tunnels must start with a TLS ClientHello. Default [443]. */
  tlsOnlyPorts?: number[];
}

export interface EgressProxy {
  readonly server: Server;
  /** The TCP port when listening on one. */
  readonly port: number | null;
  refused(): number;
  connections(): number;
  close(): Promise<void>;
}

class Closed extends Error {}

/** Buffered reads from a socket in paused mode, for the handshake. */
class Reader {
  buf: Buffer = Buffer.alloc(0);
  constructor(private readonly s: Socket) {}

  private async more(): Promise<void> {
    for (;;) {
      const chunk = this.s.read() as Buffer | null;
      if (chunk) {
        this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
        return;
      }
      if (this.s.readableEnded || this.s.destroyed) throw new Closed('client closed');
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.s.off('readable', done);
          this.s.off('close', done);
          this.s.off('end', done);
          resolve();
        };
        this.s.on('readable', done);
        this.s.once('close', done);
        this.s.once('end', done);
      });
    }
  }

  async need(n: number): Promise<void> {
    while (this.buf.length < n) await this.more();
  }

  async take(n: number): Promise<Buffer> {
    await this.need(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async until(delim: string, max: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(delim);
      if (at >= 0) return this.take(at + delim.length);
      if (this.buf.length > max) throw new Closed('request head too large');
      await this.more();
    }
  }

  /** Waits for at least one byte; false at end of stream. */
  async some(): Promise<boolean> {
    if (this.buf.length) return true;
    try {
      await this.more();
      return true;
    } catch (err) {
      if (err instanceof Closed) return false;
      throw err;
    }
  }

  rest(): Buffer {
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

type Outcome =
  { ok: true; socket: Socket; address: string } | { ok: false; kind: 'policy' | 'dns' | 'refused' | 'unreachable'; reason: string };

/** "host:port" / "[v6]:port" → parts. */
function splitHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : null;
}

export async function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const ctx: PolicyContext = { rules: o.rules, protectedPorts: o.protectedPorts, ...(o.localAddresses ? { local: o.localAddresses } : {}) };
  const log = o.log ?? ((): void => {});
  const max = o.maxConnections ?? 256;
  const handshakeMs = o.handshakeTimeoutMs ?? 15_000;
  const connectMs = o.connectTimeoutMs ?? 10_000;
  const idleMs = o.idleTimeoutMs ?? 600_000;
  const tlsOnlyPorts = o.tlsOnlyPorts ?? [443];
  const servers = o.dnsServers?.length
    ? o.dnsServers
    : (process.env.MOAT_EGRESS_DNS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  let resolver: dnsp.Resolver | null = null;
  if (servers.length) {
    resolver = new dnsp.Resolver({ timeout: 3000, tries: 2 });
    resolver.setServers(servers);
  }
  let refusedCount = 0;
  let closed = false;
  const live = new Set<Socket>();

  const refuse = (destination: string, port: number, reason: string): void => {
    refusedCount++;
    log(`egress: refused ${destination}:${port}: ${reason}`);
    try {
      o.onRefused({ destination, port, reason });
    } catch (err) {
      log(`egress: onRefused threw: ${(err as Error).message}`);
    }
  };

  async function resolve(name: string): Promise<string[]> {
    if (resolver) {
      const [a, aaaa] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
      const out = [...(a.status === 'fulfilled' ? a.value : []), ...(aaaa.status === 'fulfilled' ? aaaa.value : [])];
      return out;
    }
    try {
      const r = await dnsp.lookup(name, { all: true, verbatim: true });
      return r.map((x) => x.address);
    } catch {
      return [];
    }
  }

  function connectTo(address: string, port: number): Promise<Socket> {
    return new Promise((res, rej) => {
      const s = connect({ host: address, port, allowHalfOpen: true });
      const timer = setTimeout(() => {
        s.destroy();
        rej(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
      }, connectMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        res(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        rej(err);
      });
    });
  }

  /** Checks the destination, resolves it, checks what it resolved to, connects to a checked address. */
  async function open(dest: string, port: number): Promise<Outcome> {
    const first = checkName(ctx, dest, port);
    if (!first.allowed) return { ok: false, kind: 'policy', reason: first.reason };
    let addresses: string[];
    if (isIP(dest)) addresses = [dest];
    else {
      const name = normalizeName(dest)!;
      const found = await resolve(name);
      if (found.length === 0) return { ok: false, kind: 'dns', reason: `${name} does not resolve` };
      const d = checkResolved(ctx, name, port, found);
      if (!d.allowed) return { ok: false, kind: 'policy', reason: d.reason };
      addresses = d.addresses;
    }
    let last: NodeJS.ErrnoException | null = null;
    for (const a of addresses) {
      try {
        return { ok: true, socket: await connectTo(a, port), address: a };
      } catch (err) {
        last = err as NodeJS.ErrnoException;
      }
    }
    const kind = last?.code === 'ECONNREFUSED' ? 'refused' : 'unreachable';
    return { ok: false, kind, reason: `could not connect (${last?.code ?? last?.message ?? 'no address'})` };
  }

  function splice(client: Socket, upstream: Socket): void {
    const both = [client, upstream];
    const kill = (): void => both.forEach((s) => s.destroy());
    for (const s of both) {
      s.on('error', kill);
      s.setTimeout(idleMs, kill);
    }
    let ends = 0;
    const ended = (): void => {
      if (++ends === 2) kill();
    };
    client.on('end', ended);
    upstream.on('end', ended);
    client.on('close', kill);
    upstream.on('close', kill);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /**
   * A tunnel whose destination has been connected: the server's bytes flow at once (protocols
   * where the server speaks first work), the client's first bytes are checked first: to port 443,
   * or when they start a TLS handshake, a ClientHello whose server name is the name asked for.
   */
  async function tunnel(client: Socket, reader: Reader, upstream: Socket, dest: string, port: number): Promise<void> {
    client.once('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      if (!client.destroyed && client.writableLength === 0) client.end();
    });
    upstream.pipe(client, { end: true });
    if (!(await reader.some())) {
      // The client sent nothing and half-closed: pass that on.
      upstream.end();
      upstream.unpipe(client);
      splice(client, upstream);
      return;
    }
    const tlsPort = tlsOnlyPorts.includes(port);
    for (;;) {
      const peek = peekClientHello(reader.buf);
      if (peek.kind === 'incomplete') {
        try {
          await reader.need(reader.buf.length + 1);
        } catch {
          throw new Closed('client closed during the TLS handshake');
        }
        continue;
      }
      let why: string | null = null;
      if (peek.kind === 'not-tls') why = tlsPort ? `port ${port} carries TLS only, and the client did not start a TLS handshake` : null;
      else if (peek.kind === 'malformed') why = `malformed TLS ClientHello (${peek.why})`;
      else if (peek.sni !== null) {
        if (isIP(dest)) {
          if (!isIP(peek.sni)) {
            const d = checkName(ctx, peek.sni, port);
            if (!d.allowed) why = `TLS server name ${peek.sni} is not in the allowlist`;
          }
        } else if (peek.sni !== normalizeName(dest)) why = `TLS server name ${peek.sni} does not match ${normalizeName(dest)}`;
      }
      if (why) {
        upstream.unpipe(client);
        upstream.destroy();
        refuse(dest, port, why);
        if (peek.kind !== 'not-tls') client.end(TLS_ACCESS_DENIED_ALERT);
        else client.end();
        setTimeout(() => client.destroy(), 1000).unref();
        return;
      }
      break;
    }
    upstream.write(reader.rest());
    upstream.unpipe(client);
    client.setTimeout(0);
    splice(client, upstream);
  }

  async function handleSocks(client: Socket, r: Reader): Promise<void> {
    const [, nmethods] = await r.take(2);
    const methods = await r.take(nmethods!);
    if (!methods.includes(0x00)) {
      client.end(Buffer.from([0x05, 0xff]));
      return;
    }
    client.write(Buffer.from([0x05, 0x00]));
    const head = await r.take(4);
    const reply = (code: number): Buffer => Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
    if (head[0] !== 0x05) throw new Closed('bad SOCKS request');
    let dest: string;
    if (head[3] === 0x01) dest = [...(await r.take(4))].join('.');
    else if (head[3] === 0x03) {
      const [len] = await r.take(1);
      dest = (await r.take(len!)).toString('latin1');
    } else if (head[3] === 0x04) {
      const b = await r.take(16);
      dest = formatIp({ family: 6, bytes: [...b] });
    } else {
      client.end(reply(0x08));
      return;
    }
    const port = (await r.take(2)).readUInt16BE(0);
    if (head[1] !== 0x01) {
      refuse(dest, port, head[1] === 0x03 ? 'UDP is not supported' : 'only CONNECT is supported');
      client.end(reply(0x07));
      return;
    }
    const out = await open(dest, port);
    if (!out.ok) {
      if (out.kind === 'policy') refuse(dest, port, out.reason);
      else log(`egress: ${dest}:${port}: ${out.reason}`);
      client.end(reply(out.kind === 'policy' ? 0x02 : out.kind === 'refused' ? 0x05 : 0x04));
      return;
    }
    client.write(reply(0x00));
    await tunnel(client, r, out.socket, dest, port);
  }

  async function handleHttp(client: Socket, r: Reader): Promise<void> {
    const head = (await r.until('\r\n\r\n', 64 * 1024)).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0] ?? '');
    const answer = (status: string, body: string): void => {
      client.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!m) {
      answer('400 Bad Request', 'Moat egress proxy: not an HTTP proxy request\n');
      return;
    }
    const [, method, target, version] = m;
    let dest: string;
    let port: number;
    let path = '';
    if (method === 'CONNECT') {
      const hp = splitHostPort(target!);
      if (!hp) {
        answer('400 Bad Request', 'Moat egress proxy: CONNECT needs host:port\n');
        return;
      }
      ({ host: dest, port } = hp);
    } else {
      let url: URL;
      try {
        url = new URL(target!);
      } catch {
        answer('400 Bad Request', 'Moat egress proxy: requests need an absolute http:// URL\n');
        return;
      }
      if (url.protocol !== 'http:') {
        answer('400 Bad Request', `Moat egress proxy: ${url.protocol} URLs go through CONNECT\n`);
        return;
      }
      dest = url.hostname.replace(/^\[(.*)\]$/, '$1');
      port = url.port ? Number(url.port) : 80;
      path = `${url.pathname}${url.search}`;
    }
    const out = await open(dest, port);
    if (!out.ok) {
      if (out.kind === 'policy') {
        refuse(dest, port, out.reason);
        answer('403 Forbidden', `Moat egress: ${dest}:${port} refused: ${out.reason}\n`);
      } else {
        log(`egress: ${dest}:${port}: ${out.reason}`);
        answer('502 Bad Gateway', `Moat egress: ${dest}:${port}: ${out.reason}\n`);
      }
      return;
    }
    if (method === 'CONNECT') {
      client.write(`${version} 200 Connection established\r\n\r\n`);
      await tunnel(client, r, out.socket, dest, port);
      return;
    }
    const drop = /^(proxy-connection|proxy-authorization|connection|keep-alive):/i;
    const headers = lines.slice(1).filter((l) => l !== '' && !drop.test(l));
    if (!headers.some((l) => /^host:/i.test(l)))
      headers.unshift(`Host: ${isIP(dest) === 6 ? `[${dest}]` : dest}${port === 80 ? '' : `:${port}`}`);
    const upstream = out.socket;
    upstream.write(`${method} ${path || '/'} ${version}\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n`);
    upstream.write(r.rest());
    client.setTimeout(0);
    splice(client, upstream);
  }

  async function handle(client: Socket): Promise<void> {
    const r = new Reader(client);
    await r.need(1);
    if (r.buf[0] === 0x05) await handleSocks(client, r);
    else await handleHttp(client, r);
  }

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (closed || live.size >= max) {
      log(`egress: connection closed at once (${closed ? 'closing' : `${max} connections open`})`);
      client.destroy();
      return;
    }
    live.add(client);
    client.on('close', () => live.delete(client));
    client.on('error', () => client.destroy());
    client.setTimeout(handshakeMs, () => client.destroy());
    handle(client).catch((err: unknown) => {
      if (!(err instanceof Closed)) log(`egress: connection failed: ${(err as Error).message}`);
      client.destroy();
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    if (o.socketPath) server.listen(o.socketPath, () => res());
    else server.listen(o.port ?? 0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : null,
    refused: () => refusedCount,
    connections: () => live.size,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of live) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
