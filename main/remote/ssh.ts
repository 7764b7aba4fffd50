// One SSH connection per remote host, through which Moat reaches that host's Docker engine and
// runs its checks. The connection is kept alive (SSH keepalives), and re-established with a
// bounded exponential back-off when it drops. Docker's API travels over the same connection: each
// HTTP request gets a streamlocal channel to the host's /var/run/docker.sock (`direct-streamlocal`,
// OpenSSH's `ssh -L /sock:/var/run/docker.sock`), which costs a channel, not a TCP connection and
// a handshake (dockerode's own ssh mode opens a new SSH connection per request).
//
// Trust: the host key is pinned by its SHA256 fingerprint (as `ssh-keygen -lf` shows it). No pin
// yet: HOST_KEY_UNKNOWN with the fingerprint, for the caller to ask the user and pin it. A key
// that differs from the pin is refused (HOST_KEY_CHANGED), never silently accepted. Only modern
// algorithms are offered, so a downgrade to SHA-1, CBC or small DH groups cannot be negotiated.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import ssh2, {
  type AcceptConnection,
  type Channel,
  type Client,
  type ClientChannel,
  type ConnectConfig,
  type RejectConnection,
  type UNIXConnectionDetails,
} from 'ssh2';
import { RemoteError } from './errors';

export const MODERN_ALGORITHMS = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521'],
  serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  compress: ['none'],
} satisfies ConnectConfig['algorithms'];

/** Where to connect, and as whom. */
export interface SshEndpoint {
  /** The host's name in Moat (for messages). */
  name: string;
  host: string;
  port: number;
  user: string;
}

/** How to log in: a private key (with its passphrase), or the ssh-agent at `agent`. */
export interface SshAuth {
  privateKey?: string;
  passphrase?: string;
  agent?: string;
}

/** The pinned host key. */
export interface HostKeyPin {
  /** `SHA256:<base64, no padding>` */
  fingerprint: string;
  keyType?: string;
}

export interface HostKeyInfo {
  fingerprint: string;
  keyType: string;
}

/** The fingerprint and type of a host key blob (SSH wire format), as `ssh-keygen -l` shows them. */
export function hostKeyInfo(blob: Buffer): HostKeyInfo {
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  let keyType = 'unknown';
  if (blob.length >= 4) {
    const n = blob.readUInt32BE(0);
    if (n > 0 && n < 64 && blob.length >= 4 + n) keyType = blob.subarray(4, 4 + n).toString('latin1');
  }
  return { fingerprint, keyType };
}

export function describeEndpoint(e: SshEndpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? '' : `:${e.port}`}`;
}

export interface SshConnectionOptions {
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** The handshake and login must finish within this. */
  readyTimeoutMs?: number;
  /** Reconnect delays after a drop: base, doubling up to max. */
  backoff?: { baseMs: number; maxMs: number };
  log?: (msg: string) => void;
}

const DEFAULTS = { keepaliveIntervalMs: 5000, keepaliveCountMax: 3, readyTimeoutMs: 15_000, backoff: { baseMs: 250, maxMs: 30_000 } };

/** Turns what ssh2 reports about a failed connection into a RemoteError for the user. */
function connectError(e: SshEndpoint, err: unknown, refusal: RemoteError | null): RemoteError {
  if (refusal) return refusal;
  if (err instanceof RemoteError) return err;
  const x = err as (Error & { code?: string; level?: string }) | null;
  const where = `${e.name} (${describeEndpoint(e)})`;
  const text = x?.message ?? String(err);
  if (x?.level === 'client-authentication' || /authentication methods failed/i.test(text)) {
    return new RemoteError(
      'SSH_AUTH_FAILED',
      `${where} refused the login as ${e.user}: none of the offered keys was accepted.`,
      `Check that the key's public half is in ~${e.user}/.ssh/authorized_keys on the host, or add the host again with --identity FILE.`,
    );
  }
  if (/passphrase|Encrypted private/i.test(text)) {
    return new RemoteError(
      'SSH_KEY_LOCKED',
      `The private key for ${e.name} could not be decrypted: ${text}`,
      `Add the host again with \`moat hosts add\` and the right passphrase.`,
    );
  }
  if (x?.level === 'handshake' || /handshake|no matching/i.test(text)) {
    return new RemoteError(
      'SSH_UNREACHABLE',
      `The SSH handshake with ${where} failed: ${text}. Moat offers only modern algorithms (curve25519/ECDH, ed25519/ECDSA/RSA-SHA2, AES-GCM/ChaCha20/AES-CTR, HMAC-SHA2).`,
      'Update the host\'s OpenSSH server, or check `sshd -T | grep -Ei "kex|cipher|mac|hostkey"` on it.',
    );
  }
  const code = x?.code ? ` (${x.code})` : '';
  return new RemoteError(
    'SSH_UNREACHABLE',
    `Could not connect to ${where} over SSH${code}: ${text}`,
    'Check that the host is up, that sshd listens on that port, and that nothing in between blocks it.',
  );
}

function baseConfig(e: SshEndpoint, opts: Required<Omit<SshConnectionOptions, 'log'>>): ConnectConfig {
  return {
    host: e.host,
    port: e.port,
    username: e.user,
    algorithms: MODERN_ALGORITHMS,
    keepaliveInterval: opts.keepaliveIntervalMs,
    keepaliveCountMax: opts.keepaliveCountMax,
    readyTimeout: opts.readyTimeoutMs,
  };
}

/**
 * Connects only as far as the host key, for the trust prompt: the key is captured in the
 * verifier, which then refuses it, so nothing is sent that needs the host to be trusted.
 */
export async function fetchHostKey(e: SshEndpoint, opts: SshConnectionOptions = {}): Promise<HostKeyInfo> {
  const o = { ...DEFAULTS, ...opts };
  return new Promise<HostKeyInfo>((resolve, reject) => {
    const client = new ssh2.Client();
    let seen: HostKeyInfo | null = null;
    const done = (err: unknown): void => {
      client.removeAllListeners();
      client.on('error', () => {});
      client.end();
      if (seen) resolve(seen);
      else reject(connectError(e, err, null));
    };
    client.on('error', done);
    client.on('close', () => done(new Error('the connection closed before the host showed its key')));
    client.on('ready', () => done(new Error('unexpected login without a host key check')));
    client.connect({
      ...baseConfig(e, o),
      hostVerifier: (key: Buffer) => {
        seen = hostKeyInfo(key);
        return false;
      },
    });
  });
}

type State =
  | { kind: 'idle' }
  | { kind: 'connecting'; promise: Promise<Client> }
  | { kind: 'ready'; client: Client }
  | { kind: 'backoff'; until: number; error: RemoteError }
  | { kind: 'closed' };

/** A caller waits for a reconnect due within this; past it, it fails with the last error. */
const JOIN_RETRY_MS = 2000;

/** Errors that will not go away by trying again: the user has to act. */
function permanent(err: RemoteError): boolean {
  return (
    err.reason === 'HOST_KEY_CHANGED' ||
    err.reason === 'HOST_KEY_UNKNOWN' ||
    err.reason === 'SSH_AUTH_FAILED' ||
    err.reason === 'SSH_KEY_LOCKED'
  );
}

/**
 * The one connection to a host. `ready()` hands out the live client, connecting when there is
 * none. A drop schedules a reconnect after a delay that doubles per failed attempt (bounded);
 * a call made meanwhile joins the reconnect if it is due soon, else fails at once with the last
 * error rather than queue behind the timer.
 */
export class SshConnection {
  private state: State = { kind: 'idle' };
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private gen = 0;
  private readonly dropListeners = new Set<() => void>();
  /** The client of an attempt under way, for close() to end. */
  private opening: Client | null = null;
  private readonly o: Required<Omit<SshConnectionOptions, 'log'>> & { log: (msg: string) => void };

  constructor(
    readonly endpoint: SshEndpoint,
    private pin: HostKeyPin | null,
    private readonly auth: () => Promise<SshAuth>,
    opts: SshConnectionOptions = {},
  ) {
    this.o = { ...DEFAULTS, log: () => {}, ...opts };
  }

  /** Counts established connections: a change means the connection dropped in between. */
  get generation(): number {
    return this.gen;
  }

  get connected(): boolean {
    return this.state.kind === 'ready';
  }

  /**
   * Calls `listener` once when the live connection drops. A request whose response is under way
   * (Docker's wait sends its headers at once and its body at the exit) is not always failed by
   * its channel's end, so callers that wait long listen for this too.
   */
  onDrop(listener: () => void): () => void {
    const once = (): void => {
      this.dropListeners.delete(once);
      listener();
    };
    this.dropListeners.add(once);
    return () => {
      this.dropListeners.delete(once);
    };
  }

  /** Re-pins (after `moat hosts trust`); the next connection checks the new key. */
  setPin(pin: HostKeyPin): void {
    this.pin = pin;
    if (this.state.kind === 'backoff') this.state = { kind: 'idle' };
  }

  ready(): Promise<Client> {
    switch (this.state.kind) {
      case 'ready':
        return Promise.resolve(this.state.client);
      case 'connecting':
        return this.state.promise;
      case 'closed':
        return Promise.reject(this.closedError());
      case 'backoff': {
        const wait = this.state.until - Date.now();
        if (wait <= 0) return this.connect();
        // A retry due soon (the first ones after a drop are) is joined; a host that has been down
        // for a while answers at once with why, rather than holding every caller to its deadline.
        if (permanent(this.state.error) || wait > JOIN_RETRY_MS) return Promise.reject(this.state.error);
        return new Promise((r) => setTimeout(r, wait)).then(() => this.ready());
      }
      case 'idle':
        return this.connect();
    }
  }

  private connect(): Promise<Client> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const promise = this.open().then(
      (client) => {
        if (this.state.kind === 'closed') {
          // Closed while it was being established: nobody may use it, and it must not linger.
          client.end();
          throw this.closedError();
        }
        this.attempts = 0;
        this.gen++;
        this.state = { kind: 'ready', client };
        client.on('close', () => this.dropped(client));
        return client;
      },
      (err: unknown) => {
        const error = err instanceof RemoteError ? err : connectError(this.endpoint, err, null);
        if (this.state.kind !== 'closed') this.scheduleRetry(error);
        throw error;
      },
    );
    this.state = { kind: 'connecting', promise };
    return promise;
  }

  private closedError(): RemoteError {
    return new RemoteError('SSH_UNREACHABLE', `The SSH connection to ${this.endpoint.name} is closed.`);
  }

  private dropped(client: Client): void {
    if (this.state.kind !== 'ready' || this.state.client !== client) return;
    this.o.log(`ssh ${this.endpoint.name}: connection lost; reconnecting`);
    for (const l of [...this.dropListeners]) l();
    this.scheduleRetry(new RemoteError('SSH_UNREACHABLE', `The SSH connection to ${this.endpoint.name} was lost; reconnecting.`));
  }

  private scheduleRetry(error: RemoteError): void {
    const delay = Math.min(this.o.backoff.maxMs, this.o.backoff.baseMs * 2 ** this.attempts);
    this.attempts++;
    this.state = { kind: 'backoff', until: Date.now() + delay, error };
    if (permanent(error)) return; // retried only when asked, after the user acted
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state.kind === 'backoff') this.connect().catch(() => {});
    }, delay);
    this.timer.unref();
  }

  private async open(): Promise<Client> {
    const auth = await this.auth();
    const e = this.endpoint;
    if (this.state.kind === 'closed') throw this.closedError();
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      this.opening = client;
      let refusal: RemoteError | null = null;
      let settled = false;
      client.on('ready', () => {
        this.opening = null;
        settled = true;
        client.removeAllListeners('error');
        // After login, errors end the connection ('close' follows); they are not the caller's.
        client.on('error', (err) => this.o.log(`ssh ${e.name}: ${err.message}`));
        resolve(client);
      });
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        this.opening = null;
        client.end();
        reject(this.state.kind === 'closed' ? this.closedError() : connectError(e, err, refusal));
      });
      client.on('close', () => {
        if (settled) return;
        settled = true;
        this.opening = null;
        reject(
          this.state.kind === 'closed' ? this.closedError() : connectError(e, new Error('the connection closed during login'), refusal),
        );
      });
      client.connect({
        ...baseConfig(e, this.o),
        ...(auth.privateKey ? { privateKey: auth.privateKey } : {}),
        ...(auth.passphrase ? { passphrase: auth.passphrase } : {}),
        ...(auth.agent ? { agent: auth.agent } : {}),
        hostVerifier: (key: Buffer) => {
          const seen = hostKeyInfo(key);
          if (!this.pin) {
            refusal = RemoteError.hostKeyUnknown(e, seen);
            return false;
          }
          if (seen.fingerprint !== this.pin.fingerprint) {
            refusal = RemoteError.hostKeyChanged(e, this.pin, seen);
            return false;
          }
          return true;
        },
      });
    });
  }

  /** A channel to a Unix socket on the host (OpenSSH streamlocal forwarding). */
  async openSocket(path: string): Promise<ClientChannel> {
    const client = await this.ready();
    return new Promise<ClientChannel>((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(path, (err, channel) => (err ? reject(err) : resolve(channel)));
    });
  }

  /**
   * Asks the host's sshd to listen on a Unix socket at `path` (OpenSSH streamlocal forwarding, as
   * `ssh -R path:...`) and hands every connection to it to `onConnection` as a channel. Resolves
   * with the undo. Connections arrive only while this SSH connection lives.
   */
  async forwardInSocket(path: string, onConnection: (channel: Channel) => void): Promise<() => Promise<void>> {
    const client = await this.ready();
    const listener = (info: UNIXConnectionDetails, accept: AcceptConnection<Channel>, reject: RejectConnection): void => {
      if (info.socketPath !== path) return;
      try {
        onConnection(accept());
      } catch {
        reject();
      }
    };
    client.on('unix connection', listener);
    try {
      await new Promise<void>((resolve, reject) => client.openssh_forwardInStreamLocal(path, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      client.off('unix connection', listener);
      throw err;
    }
    return async () => {
      client.off('unix connection', listener);
      await new Promise<void>((resolve) => {
        try {
          client.openssh_unforwardInStreamLocal(path, () => resolve());
        } catch {
          resolve(); // the connection is gone, and the forward with it
        }
      });
    };
  }

  /** Writes `data` to `command`'s stdin on the host (e.g. `cat > file`); resolves with its exit status and stderr. */
  async execWithInput(command: string, data: Buffer, timeoutMs = 60_000): Promise<{ code: number | null; stderr: string }> {
    const client = await this.ready();
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let stderr = '';
        const timer = setTimeout(() => {
          channel.close();
          reject(new RemoteError('SSH_UNREACHABLE', `\`${command}\` on ${this.endpoint.name} did not finish within ${timeoutMs} ms.`));
        }, timeoutMs);
        timer.unref();
        channel.on('data', () => {});
        channel.stderr.on('data', (d: Buffer) => {
          if (stderr.length < 65536) stderr += d.toString('utf8');
        });
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? null, stderr });
        });
        channel.end(data);
      });
    });
  }

  /** Starts a command on the host and hands over its channel (stdout; `.stderr`), for streams. */
  async execStream(command: string): Promise<ClientChannel> {
    const client = await this.ready();
    return new Promise((resolve, reject) => client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))));
  }

  /** Runs a command on the host; resolves with its exit status and output (each capped). */
  async exec(
    command: string,
    opts: { timeoutMs?: number; maxBytes?: number } = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const client = await this.ready();
    const max = opts.maxBytes ?? 1 << 20;
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
          channel.close();
          reject(new RemoteError('SSH_UNREACHABLE', `\`${command}\` on ${this.endpoint.name} did not finish within ${opts.timeoutMs} ms.`));
        }, opts.timeoutMs ?? 15_000);
        timer.unref();
        channel.on('data', (d: Buffer) => {
          if (stdout.length < max) stdout += d.toString('utf8');
        });
        channel.stderr.on('data', (d: Buffer) => {
          if (stderr.length < max) stderr += d.toString('utf8');
        });
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? null, stdout: stdout.slice(0, max), stderr: stderr.slice(0, max) });
        });
      });
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    const s = this.state;
    this.state = { kind: 'closed' };
    if (s.kind === 'ready') s.client.end();
    if (s.kind === 'connecting') s.promise.catch(() => {});
    this.opening?.end(); // an attempt under way ends now ('close' rejects it)
    this.opening = null;
  }
}

function noop(): void {}

/**
 * An http.Agent whose every connection is a streamlocal channel to the host's Docker socket over
 * the one SSH connection. Not keep-alive: a finished request closes its channel, and a hijacked
 * one (attach) keeps it as the sandbox's stream.
 */
export class DockerSocketAgent extends Agent {
  constructor(
    private readonly conn: SshConnection,
    private readonly socketPath = '/var/run/docker.sock',
    private readonly wrapError: (err: unknown) => Error = (err) => err as Error,
    opts: AgentOptions = {},
  ) {
    super({ ...opts, keepAlive: false });
  }

  /**
   * docker-modem formats every request's options with util.inspect (showHidden, unlimited depth)
   * whether or not its debug log is on; without this, that walks the whole SSH client behind the
   * agent, which grows with use, and a remote run cost seconds of CPU after a few dozen calls.
   */
  [inspect.custom](): string {
    return `DockerSocketAgent(${this.socketPath})`;
  }

  // http.Agent calls this for each new request; the callback form lets the channel open async.
  override createConnection(_options: unknown, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    this.conn.openSocket(this.socketPath).then(
      (ch) => {
        // What http expects of a net.Socket and a channel lacks.
        const s = ch as ClientChannel & Record<string, unknown>;
        s.setKeepAlive = noop;
        s.setNoDelay = noop;
        s.setTimeout = noop;
        s.ref = noop;
        s.unref = noop;
        s.destroySoon = ch.destroy.bind(ch);
        cb(null, ch);
      },
      (err: unknown) => cb(this.wrapError(err)),
    );
    return undefined;
  }
}
