// The CLI socket of a data directory's owner (`moat daemon`, `moat serve`, the app): `moat run`
// sends its run here and gets the owner's warm pool, queue and `maxConcurrentRuns`.
//
// Protocol: newline-delimited JSON, one message a line.
//   client → server: {type:'hello'}                        → {type:'hello', ...OwnerInfo}
//                    {type:'call', id, method, params}     → {type:'result', id, envelope}  (shared/dispatch.ts)
//                    {type:'wait', id, runId}              → {type:'result', id, envelope}  (the finished RunRecord)
//                    {type:'shutdown', id}                 → {type:'result', id, envelope}  (daemon only)
//   server → client: {type:'event', event, payload}        run.output / run.updated / run.stats of the
//                    runs this connection started (so a busy owner does not flood every client).
//   client → server: {type:'exec', ...}, then {type:'cancel'}: the native `moat run` client; the
//                    connection's answers are binary frames from then on (app/daemon/exec.ts).
// A connection that goes away cancels the runs it started and that are still live (its `moat run`
// was killed: nobody is left to read the output).
//
// Who may connect: Node does not expose SO_PEERCRED, so the peer's uid is not checked here.
// Instead the socket is created 0600 (under umask 0177, then chmod) in the data directory, which
// must be ours and 0700 (checked at start); only our user (and root) can connect. The client
// checks the same (owner and mode of both) before it connects, and refuses a socket that is not
// (app/daemon/client.ts).
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { EventName } from '../../shared/api';
import { dispatch } from '../../shared/dispatch';
import { MoatError, toErrorPayload } from '../../shared/errors';
import type { OutputChunk, RunRecord } from '../../shared/types';
import type { Services } from '../../main/services';
import { maxRequestFrameBytes } from '../host/frame-limit';
import type { OwnerInfo } from './owner';
import { endOfRun } from '../cli/run';
import { endFrame, execRequest, FRAME, frame, refusedEnd, type ExecMessage } from './exec';

export type SocketServices = Pick<Services, 'handlers' | 'onEvent' | 'targets'>;

export interface SocketServerOptions {
  services: SocketServices;
  socketPath: string;
  info: OwnerInfo;
  /** Called on a `shutdown` message; absent: shutdown is refused (the owner is an app or `serve`). */
  onShutdown?: () => void;
  log?: (msg: string) => void;
}

export interface SocketServer {
  close(): Promise<void>;
  connections(): number;
}

/** Largest line a client may send: the largest valid run request, plus the envelope. */
export const MAX_LINE_BYTES = maxRequestFrameBytes() + 4096;
/** A client this far behind is not reading: cut it off rather than grow the owner's memory. */
const DISCONNECT_ABOVE = 64 * 1024 * 1024;
/** Events held for a connection while its `sandbox.run` is being answered. */
const PENDING_BUFFER_MAX = 10_000;
const RUN_EVENTS: ReadonlySet<EventName> = new Set<EventName>(['run.output', 'run.updated', 'run.stats']);

/** Refuses to serve a socket in a directory other users can enter, or that is not ours. */
export function checkSocketDir(dir: string): void {
  if (process.platform === 'win32') return;
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid())
    throw new Error(`${dir} belongs to uid ${st.uid}, not to this user: the CLI socket is not served there`);
  if ((st.mode & 0o077) !== 0)
    throw new Error(
      `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}): the CLI socket is not served there; fix: chmod 700 ${dir}`,
    );
}

function runIdOf(event: EventName, payload: unknown): string | undefined {
  if (event === 'run.updated') return (payload as RunRecord).id;
  return (payload as { runId?: string }).runId;
}

export async function startSocketServer(opts: SocketServerOptions): Promise<SocketServer> {
  const { services, socketPath } = opts;
  const log = opts.log ?? (() => {});
  if (process.platform !== 'win32') {
    checkSocketDir(dirname(socketPath));
    // Left by an owner that was killed (the caller holds the ownership claim, so it is not live).
    try {
      if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
      else throw new Error(`${socketPath} exists and is not a socket; remove it`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const conns = new Set<Conn>();
  const server: Server = createServer((sock: Socket) => {
    const conn: Conn = new Conn(sock, opts, log, () => conns.delete(conn));
    conns.add(conn);
  });
  const off = services.onEvent((event, payload) => {
    if (!RUN_EVENTS.has(event)) return;
    const runId = runIdOf(event, payload);
    if (!runId) return;
    for (const conn of conns) conn.event(event, payload, runId);
  });
  const oldMask = process.platform === 'win32' ? null : process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    if (oldMask !== null) process.umask(oldMask);
  }
  if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
  server.on('error', (err) => log(`CLI socket: ${err.message}`));
  return {
    connections: () => conns.size,
    async close() {
      off();
      for (const conn of conns) conn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (process.platform !== 'win32') {
        try {
          unlinkSync(socketPath);
        } catch {
          // Already removed.
        }
      }
    },
  };
}

class Conn {
  private buf = '';
  /** Runs this connection started and that have not finished: their events are sent. */
  private readonly runs = new Set<string>();
  private pendingRuns = 0;
  private pending: { event: EventName; payload: unknown; runId: string }[] = [];
  private closed = false;
  /** Set once the connection is the native client's (`exec`): its answers are frames. */
  private exec: { runId: string | null; cancel: boolean } | null = null;

  constructor(
    private readonly sock: Socket,
    private readonly opts: SocketServerOptions,
    private readonly log: (msg: string) => void,
    private readonly onGone: () => void,
  ) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.data(d));
    sock.on('error', () => {});
    sock.on('close', () => this.gone());
  }

  destroy(): void {
    this.sock.destroy();
  }

  event(event: EventName, payload: unknown, runId: string): void {
    if (this.closed) return;
    if (this.runs.has(runId)) {
      if (!this.exec) this.send({ type: 'event', event, payload });
      else if (event === 'run.output') {
        const p = payload as OutputChunk;
        this.write(frame(p.stream === 'stdout' ? FRAME.stdout : FRAME.stderr, p.data));
      }
      if (event === 'run.updated' && (payload as RunRecord).status === 'finished') this.runs.delete(runId);
    } else if (this.pendingRuns > 0) {
      this.pending.push({ event, payload, runId });
      if (this.pending.length > PENDING_BUFFER_MAX) this.pending.shift();
    }
  }

  private send(msg: unknown): void {
    // A native client's connection carries frames only.
    if (!this.exec) this.write(JSON.stringify(msg) + '\n');
  }

  private write(data: string | Buffer): void {
    if (this.closed) return;
    if (this.sock.writableLength > DISCONNECT_ABOVE) {
      this.log('CLI socket: a client stopped reading; disconnected');
      this.sock.destroy();
      return;
    }
    this.sock.write(data);
  }

  private data(d: string): void {
    this.buf += d;
    if (this.buf.length > MAX_LINE_BYTES && !this.buf.includes('\n')) {
      this.send({ type: 'error', message: `message over ${MAX_LINE_BYTES} bytes` });
      this.sock.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: { type?: unknown; id?: unknown; method?: unknown; params?: unknown; runId?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        this.send({ type: 'error', message: 'not JSON' });
        this.sock.destroy();
        return;
      }
      void this.handle(msg).catch((err: unknown) => this.log(`CLI socket: ${(err as Error).message}`));
    }
  }

  private async handle(msg: { type?: unknown; id?: unknown; method?: unknown; params?: unknown; runId?: unknown }): Promise<void> {
    const { services } = this.opts;
    const id = msg.id;
    switch (msg.type) {
      case 'hello':
        this.send({ type: 'hello', ...this.opts.info });
        return;
      case 'call': {
        const isRun = msg.method === 'sandbox.run';
        if (isRun) this.pendingRuns++;
        let envelope;
        try {
          envelope = await dispatch(services.handlers, msg.method, msg.params, (m, err) =>
            this.log(`CLI socket: ${m} failed: ${(err as Error).stack ?? String(err)}`),
          );
        } finally {
          if (isRun) this.pendingRuns--;
        }
        if (isRun && envelope.ok) {
          const runId = (envelope.result as { runId: string }).runId;
          this.runs.add(runId);
          this.send({ type: 'result', id, envelope });
          // What the run emitted before its id was known here, in order.
          for (const p of this.pending) if (p.runId === runId) this.event(p.event, p.payload, runId);
          if (this.closed) void services.handlers['sandbox.cancel']({ runId }).catch(() => {});
        } else this.send({ type: 'result', id, envelope });
        if (this.pendingRuns === 0) this.pending = [];
        return;
      }
      case 'wait': {
        // Resolves once the run's result is recorded (history, output); its sandbox's removal
        // follows in the owner, so the CLI does not wait for it (SandboxManager.whenRecorded).
        const runId = typeof msg.runId === 'string' ? msg.runId : '';
        try {
          const run = await this.recorded(runId);
          this.send({
            type: 'result',
            id,
            envelope: run ? { ok: true, result: run } : { ok: false, error: { code: 'NOT_FOUND', message: `No run with id ${runId}.` } },
          });
        } catch (err) {
          this.send({ type: 'result', id, envelope: { ok: false, error: toErrorPayload(err) } });
        }
        return;
      }
      case 'exec':
        if (this.exec) {
          this.sock.destroy();
          return;
        }
        this.exec = { runId: null, cancel: false };
        try {
          await this.runExec(msg as ExecMessage);
        } catch (err) {
          // Never leave the client waiting: what went wrong is said, and the command ends.
          this.log(`CLI socket: a native run failed: ${(err as Error).stack ?? String(err)}`);
          const said = err instanceof MoatError ? refusedEnd(err, this.exec.runId) : null;
          this.write(
            endFrame(
              said ?? { stderr: `moat: the run failed in the Moat ${this.opts.info.kind}: ${(err as Error).message}\n`, status: 125 },
            ),
          );
          this.sock.end();
        }
        return;
      case 'cancel':
        if (!this.exec) break;
        if (this.exec.runId) void services.handlers['sandbox.cancel']({ runId: this.exec.runId }).catch(() => {});
        else this.exec.cancel = true;
        return;
      case 'shutdown':
        if (!this.opts.onShutdown) {
          this.send({
            type: 'result',
            id,
            envelope: {
              ok: false,
              error: { code: 'INVALID_REQUEST', message: `The owner is ${this.opts.info.kind}, not a daemon: stop it there.` },
            },
          });
          return;
        }
        this.send({ type: 'result', id, envelope: { ok: true, result: { stopping: true } } });
        this.opts.onShutdown();
        return;
    }
    this.send({ type: 'error', message: `unknown message type ${JSON.stringify(msg.type)}` });
  }

  /**
   * The run's record once its result is recorded (history, output), whichever target runs it; its
   * sandbox's removal follows in the owner (SandboxManager.whenRecorded).
   */
  private async recorded(runId: string): Promise<RunRecord | undefined> {
    const records = await Promise.all(this.opts.services.targets.allManagers().map((m) => m.whenRecorded(runId)));
    return records.find((r) => r !== undefined);
  }

  /** A run for the native client: as `moat run` does it through an owner, answered in frames. */
  private async runExec(msg: ExecMessage): Promise<void> {
    const { services, info } = this.opts;
    const exec = this.exec!;
    const end = (e: { stderr: string; status: number }): void => {
      this.write(endFrame(e));
      this.sock.end();
    };
    this.write(frame(FRAME.accepted, `the Moat ${info.kind} (pid ${info.pid})`));
    const built = await execRequest(msg);
    if ('end' in built) return end(built.end);
    this.pendingRuns++;
    let envelope;
    try {
      envelope = await dispatch(services.handlers, 'sandbox.run', built.req, (m, err) =>
        this.log(`CLI socket: ${m} failed: ${(err as Error).stack ?? String(err)}`),
      );
    } finally {
      this.pendingRuns--;
    }
    if (!envelope.ok) {
      if (this.pendingRuns === 0) this.pending = [];
      return end(refusedEnd(MoatError.fromPayload(envelope.error), null));
    }
    const runId = (envelope.result as { runId: string }).runId;
    exec.runId = runId;
    this.runs.add(runId);
    this.write(frame(FRAME.runId, runId));
    for (const p of this.pending) if (p.runId === runId) this.event(p.event, p.payload, runId);
    if (this.pendingRuns === 0) this.pending = [];
    if (this.closed || exec.cancel) void services.handlers['sandbox.cancel']({ runId }).catch(() => {});
    try {
      const run = await this.recorded(runId);
      end(run ? endOfRun(run, false) : { stderr: `moat: run ${runId} was not recorded; see \`moat history\`\n`, status: 125 });
    } catch (err) {
      end(refusedEnd(err, runId));
    }
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone();
    for (const runId of this.runs) void this.opts.services.handlers['sandbox.cancel']({ runId }).catch(() => {});
    this.runs.clear();
    this.pending = [];
  }
}
