// The CLI's side of the owner's socket (app/daemon/socket-server.ts). Before connecting, the
// socket and its directory are checked: ours, and open to nobody else (0600 / 0700). Node cannot
// ask the kernel who listens on the other end, so a socket that another user could have made, or
// that someone loosened, is refused rather than trusted: the run's code, input and secrets would
// go to whoever listens.
import { lstatSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { EventName, MethodName, ParamsOf, ResultOf, Envelope } from '../../shared/api';
import { MoatError } from '../../shared/errors';
import type { RunRecord } from '../../shared/types';
import { socketPathFor, type OwnerInfo } from './owner';

/** A socket that exists but must not be used; its message says why and what to do. */
export class UnsafeSocketError extends Error {}

export interface OwnerClient {
  info: OwnerInfo;
  socketPath: string;
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  /** The run's record once it has finished and been recorded (its sandbox removed). */
  wait(runId: string): Promise<RunRecord>;
  shutdown(): Promise<void>;
  /** Events of the runs this connection started. */
  onEvent(listener: (event: EventName, payload: unknown) => void): void;
  /** Called when the owner goes away (not when close() is called). */
  onLost(listener: () => void): void;
  close(): void;
}

/** Checks the socket and its directory before anything is sent; throws UnsafeSocketError. */
export function checkSocket(path: string): 'ok' | 'absent' {
  if (process.platform === 'win32') return 'ok';
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const suspicious = (what: string): never => {
    throw new UnsafeSocketError(
      `refusing the Moat socket ${path}: ${what}. Moat creates it owner-only (0600, in a 0700 directory); ` +
        `something else changed or made it, and another user could be listening or able to connect, so this run's ` +
        `code, input and secrets are not sent there.\nfix: check who made it (ls -l ${path}); stop the Moat daemon ` +
        `(moat daemon stop) or remove the socket (rm ${path}), then start it again`,
    );
  };
  if (!st.isSocket()) suspicious('it is not a socket');
  if (uid >= 0 && st.uid !== uid) suspicious(`it belongs to uid ${st.uid}, not to you (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) suspicious(`its mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}, open to other users`);
  const dir = lstatSync(dirname(path));
  if (uid >= 0 && dir.uid !== uid) suspicious(`its directory belongs to uid ${dir.uid}, not to you`);
  if ((dir.mode & 0o077) !== 0)
    suspicious(`its directory ${dirname(path)} is open to other users (mode ${(dir.mode & 0o777).toString(8).padStart(4, '0')})`);
  return 'ok';
}

/**
 * Connects to the data directory's owner, or null when none answers (no socket, or one left by
 * an owner that was killed: connect is refused). Throws UnsafeSocketError for a socket that must
 * not be used.
 */
export async function connectOwner(dataDir: string, timeoutMs = 5_000): Promise<OwnerClient | null> {
  const path = socketPathFor(dataDir);
  if (checkSocket(path) === 'absent') return null;
  const sock = await new Promise<Socket | null>((resolve) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      // Refused: a stale socket (its owner was killed); absent: removed meanwhile.
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(null);
      else resolve(null);
    });
  });
  if (!sock) return null;
  return new Client(sock, path).ready(timeoutMs);
}

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

class Client implements OwnerClient {
  info!: OwnerInfo;
  private buf = '';
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private helloWaiter: Waiter | null = null;
  private readonly listeners: ((event: EventName, payload: unknown) => void)[] = [];
  private readonly lost: (() => void)[] = [];
  private closing = false;

  constructor(
    private readonly sock: Socket,
    readonly socketPath: string,
  ) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.data(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      const err = new MoatError('ENGINE_UNAVAILABLE', `the Moat ${this.info?.kind ?? 'daemon'} (pid ${this.info?.pid ?? '?'}) went away`);
      this.helloWaiter?.reject(err);
      for (const w of this.waiters.values()) w.reject(err);
      this.waiters.clear();
      if (!this.closing) for (const l of this.lost) l();
    });
  }

  async ready(timeoutMs: number): Promise<OwnerClient | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      this.info = await new Promise<OwnerInfo>((resolve, reject) => {
        this.helloWaiter = { resolve: resolve as (v: unknown) => void, reject };
        timer = setTimeout(() => reject(new Error('no answer')), timeoutMs);
        this.sock.write(JSON.stringify({ type: 'hello' }) + '\n');
      });
      return this;
    } catch {
      this.close();
      return null;
    } finally {
      clearTimeout(timer);
      this.helloWaiter = null;
    }
  }

  private data(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let msg: { type?: string; id?: number; envelope?: Envelope<unknown>; event?: EventName; payload?: unknown; message?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (msg.type === 'hello') this.helloWaiter?.resolve(msg as unknown as OwnerInfo);
      else if (msg.type === 'event' && msg.event) for (const l of this.listeners) l(msg.event, msg.payload);
      else if (msg.type === 'result' && typeof msg.id === 'number') {
        const w = this.waiters.get(msg.id);
        this.waiters.delete(msg.id);
        if (!w || !msg.envelope) continue;
        if (msg.envelope.ok) w.resolve(msg.envelope.result);
        else w.reject(MoatError.fromPayload(msg.envelope.error));
      }
    }
  }

  private request(msg: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.sock.destroyed) {
        reject(new MoatError('ENGINE_UNAVAILABLE', `the Moat ${this.info.kind} (pid ${this.info.pid}) went away`));
        return;
      }
      this.waiters.set(id, { resolve, reject });
      this.sock.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.request({ type: 'call', method, params }) as Promise<ResultOf<M>>;
  }

  wait(runId: string): Promise<RunRecord> {
    return this.request({ type: 'wait', runId }) as Promise<RunRecord>;
  }

  async shutdown(): Promise<void> {
    await this.request({ type: 'shutdown' });
  }

  onEvent(listener: (event: EventName, payload: unknown) => void): void {
    this.listeners.push(listener);
  }

  onLost(listener: () => void): void {
    this.lost.push(listener);
  }

  close(): void {
    this.closing = true;
    this.sock.destroy();
  }
}
