// Transport for the headless host (`moat serve`): one WebSocket to /api, calls matched to results
// by id, events fanned out to listeners. The socket is re-opened with backoff when it drops; calls
// that cannot complete are answered with an INTERNAL error envelope so the typed client throws a
// normal MoatError and every caller handles it like any other failure.
import type { Envelope, EventName, MethodName } from '../../../shared/api';
import type { Transport } from '../../../shared/client';
import type { ErrorPayload } from '../../../shared/errors';
import { parseServerFrame, type CallFrame } from './protocol';

export type ConnectionState =
  | { phase: 'connecting'; attempt: number }
  | { phase: 'open' }
  /** `tooLarge`: the host closed the socket because a frame was over its size limit (1009). */
  | { phase: 'waiting'; attempt: number; retryAt: number; tooLarge?: boolean };

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A socket that stayed open this long counts as healthy: the next drop retries quickly again. */
  healthyAfterMs: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, healthyAfterMs: 5_000 };

export const CONNECTION_LOST: ErrorPayload = {
  code: 'INTERNAL',
  message: 'Connection to Moat lost',
  fix: 'Moat reconnects on its own; try again once the connection banner is gone.',
};

/** WebSocket close code "message too big": the host's answer to a frame over its size limit. */
export const CLOSE_TOO_LARGE = 1009;

export const REQUEST_TOO_LARGE: ErrorPayload = {
  code: 'INVALID_REQUEST',
  message: 'Request too large: Moat closed the connection because a request was larger than it accepts',
  fix: 'Make the code or standard input smaller. Moat reconnects on its own.',
};

type Resolve = (env: Envelope<unknown>) => void;

export class WebSocketTransport implements Transport {
  private socket: WebSocket | null = null;
  private nextId = 1;
  /** Sent and waiting for their result. */
  private readonly inFlight = new Map<number, Resolve>();
  /** Made while the socket was still opening; sent on open. */
  private queued: { frame: CallFrame; resolve: Resolve }[] = [];
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState = { phase: 'connecting', attempt: 1 };
  private attempt = 0;
  private openedAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close();
    this.failAll();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  call(method: MethodName, params: unknown): Promise<Envelope<unknown>> {
    return new Promise((resolve) => {
      const frame: CallFrame = { type: 'call', id: this.nextId++, method, params };
      if (this.state.phase === 'open' && this.socket) {
        this.send(frame, resolve);
      } else if (this.state.phase === 'connecting') {
        this.queued.push({ frame, resolve });
      } else {
        resolve({ ok: false, error: CONNECTION_LOST });
      }
    });
  }

  on(listener: (event: EventName, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connect(): void {
    this.attempt += 1;
    this.setState({ phase: 'connecting', attempt: this.attempt });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.openedAt = Date.now();
      this.setState({ phase: 'open' });
      const queued = this.queued;
      this.queued = [];
      for (const q of queued) this.send(q.frame, q.resolve);
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === 'string') this.receive(ev.data);
    };
    // onerror is always followed by onclose; all the handling is there.
    socket.onclose = (ev: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.openedAt && Date.now() - this.openedAt >= this.backoff.healthyAfterMs) this.attempt = 0;
      this.openedAt = 0;
      // Which call was too large is not known: every call in flight is lost with the socket.
      const tooLarge = ev.code === CLOSE_TOO_LARGE;
      this.failAll(tooLarge ? REQUEST_TOO_LARGE : CONNECTION_LOST);
      if (!this.stopped) this.scheduleRetry(tooLarge);
    };
  }

  private send(frame: CallFrame, resolve: Resolve): void {
    this.inFlight.set(frame.id, resolve);
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      this.inFlight.delete(frame.id);
      resolve({ ok: false, error: CONNECTION_LOST });
    }
  }

  private receive(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    if (frame.type === 'result') {
      const resolve = this.inFlight.get(frame.id);
      if (!resolve) return;
      this.inFlight.delete(frame.id);
      resolve(frame.envelope);
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(frame.event, frame.payload);
      } catch (err) {
        // One broken listener must not starve the others of events.
        console.error('Moat event listener failed', err);
      }
    }
  }

  private failAll(error: ErrorPayload = CONNECTION_LOST): void {
    const lost: Envelope<unknown> = { ok: false, error };
    for (const resolve of this.inFlight.values()) resolve(lost);
    this.inFlight.clear();
    for (const q of this.queued) q.resolve(lost);
    this.queued = [];
  }

  private scheduleRetry(tooLarge = false): void {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.max(0, this.attempt - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    const retryAt = Date.now() + delay;
    this.setState(
      tooLarge ? { phase: 'waiting', attempt: this.attempt, retryAt, tooLarge } : { phase: 'waiting', attempt: this.attempt, retryAt },
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}

export function apiSocketUrl(token: string, loc: Location = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}/api?token=${encodeURIComponent(token)}`;
}
