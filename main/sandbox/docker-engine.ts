// The local Docker engine through dockerode, every request with a deadline (see EngineDeadlines).
// A deadline aborts the HTTP request as well as failing the call, so a hung daemon leaves no
// request hanging in Moat.
import Dockerode from 'dockerode';
import type { Duplex } from 'node:stream';
import { LABEL_MANAGED } from './labels';
import { watchCgroupPids } from './pids-watch';
import {
  DEFAULT_DEADLINES,
  EngineTimeoutError,
  engineErrorMessage,
  engineUnavailable,
  findGvisorRuntime,
  type EngineConfig,
  type EngineDeadlines,
  type EngineState,
  type PidsWatch,
  type SandboxEngine,
  type SandboxListing,
  type SandboxState,
  type StatsWatch,
} from './engine';

interface RuntimeInfo {
  path?: string;
  runtimeType?: string;
}

/**
 * Runs `call` with an AbortSignal; fails with EngineTimeoutError (and aborts) after `ms`, or with
 * an AbortError (and aborts) as soon as `cancel` aborts: a caller that no longer needs an answer
 * must not leave the request, or its deadline timer, behind.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new EngineTimeoutError(what, ms));
      ac.abort();
    }, ms);
    onCancel = () => {
      reject(Object.assign(new Error(`${what}: no longer needed`), { name: 'AbortError' }));
      ac.abort();
    };
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
  });
  const pending = call(ac.signal);
  pending.catch(() => {}); // after a deadline or a cancel, the aborted call's rejection is expected
  try {
    return await Promise.race([pending, expired]);
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel?.removeEventListener('abort', onCancel);
  }
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

export function createEngine(config: EngineConfig = { kind: 'local' }): SandboxEngine {
  switch (config.kind) {
    case 'local':
      return new DockerEngine(config);
  }
}

export class DockerEngine implements SandboxEngine {
  readonly id = 'local';
  readonly docker: Dockerode;
  readonly deadlines: EngineDeadlines;
  private state: EngineState = { connected: false, error: 'Not checked yet.' };

  constructor(opts: { socketPath?: string; deadlines?: Partial<EngineDeadlines> } = {}) {
    const fromEnv = process.env.DOCKER_HOST;
    if (opts.socketPath) this.docker = new Dockerode({ socketPath: opts.socketPath });
    else if (fromEnv && fromEnv.startsWith('unix://')) this.docker = new Dockerode({ socketPath: fromEnv.slice(7) });
    else this.docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
    this.deadlines = { ...DEFAULT_DEADLINES, ...opts.deadlines };
  }

  get current(): EngineState {
    return this.state;
  }

  async refresh(): Promise<EngineState> {
    try {
      const info = (await withDeadline('docker info', this.deadlines.infoMs, (abortSignal) =>
        (this.docker.info as (o: object) => Promise<unknown>).call(this.docker, { abortSignal }),
      )) as {
        ServerVersion?: string;
        Runtimes?: Record<string, RuntimeInfo>;
      };
      const gvisorRuntime = findGvisorRuntime(info.Runtimes);
      this.state = { connected: true, version: info.ServerVersion, ...(gvisorRuntime ? { gvisorRuntime } : {}) };
    } catch (err) {
      this.state = { connected: false, error: engineErrorMessage(err) };
    }
    return this.state;
  }

  requireConnected(): void {
    if (!this.state.connected) throw engineUnavailable(this.state);
  }

  async ping(): Promise<boolean> {
    try {
      await withDeadline('ping', this.deadlines.shortMs, (abortSignal) =>
        (this.docker.ping as (o: object) => Promise<unknown>).call(this.docker, { abortSignal }),
      );
      return true;
    } catch {
      return false;
    }
  }

  private short<T>(what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(what, this.deadlines.shortMs, call);
  }

  async create(options: Dockerode.ContainerCreateOptions): Promise<string> {
    const c = await this.short('create sandbox', (abortSignal) => this.docker.createContainer({ ...options, abortSignal }));
    return c.id;
  }

  async start(id: string): Promise<void> {
    await this.short('start sandbox', (abortSignal) => this.docker.getContainer(id).start({ abortSignal }));
  }

  async attach(id: string): Promise<Duplex> {
    // No signal: aborting would later tear the stream down from under the run; the caller
    // destroys the stream when the run ends, and the deadline only covers establishing it.
    return (await this.short('attach to sandbox', () =>
      this.docker.getContainer(id).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }),
    )) as unknown as Duplex;
  }

  async wait(id: string, condition: 'next-exit' | 'not-running', deadlineMs: number, cancel?: AbortSignal): Promise<number> {
    const r = (await withDeadline(
      'wait for sandbox exit',
      deadlineMs,
      (abortSignal) => this.docker.getContainer(id).wait({ condition, abortSignal }),
      cancel,
    )) as { StatusCode: number };
    return r.StatusCode;
  }

  async kill(id: string): Promise<void> {
    try {
      await this.short('kill sandbox', (abortSignal) => this.docker.getContainer(id).kill({ signal: 'SIGKILL', abortSignal }));
    } catch (err) {
      // 404: gone; 409: not running. Both mean there is nothing left to kill.
      const code = statusCode(err);
      if (code !== 404 && code !== 409) throw err;
    }
  }

  async remove(id: string): Promise<'removed' | 'gone'> {
    try {
      await this.short('remove sandbox', (abortSignal) => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
      return 'removed';
    } catch (err) {
      // 404: already gone. 409: removal already in progress.
      const code = statusCode(err);
      if (code === 404 || code === 409) return 'gone';
      throw err;
    }
  }

  async inspect(id: string): Promise<SandboxState | null> {
    try {
      const info = await this.short('inspect sandbox', (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
      return {
        running: Boolean(info.State?.Running),
        exitCode: info.State?.Running ? null : (info.State?.ExitCode ?? null),
        oomKilled: Boolean(info.State?.OOMKilled),
        labels: info.Config?.Labels ?? {},
      };
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  }

  stats(id: string, onRaw: (raw: unknown) => void, onSilence: () => void): StatsWatch {
    const ac = new AbortController();
    let stopped = false;
    let silence: NodeJS.Timeout | null = null;
    const arm = (): void => {
      if (silence) clearTimeout(silence);
      if (!stopped) silence = setTimeout(() => !stopped && onSilence(), this.deadlines.silenceMs);
    };
    arm();
    const container = this.docker.getContainer(id);
    (container.stats as (o: object) => Promise<unknown>).call(container, { stream: true, abortSignal: ac.signal }).then(
      (s) => {
        const stream = s as NodeJS.ReadableStream & { destroy?: () => void };
        if (stopped) return stream.destroy?.();
        let buf = '';
        stream.on('data', (chunk: Buffer) => {
          arm();
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              if (!stopped) onRaw(JSON.parse(line));
            } catch {
              // A torn line at shutdown; nothing to show.
            }
          }
          if (buf.length > 1 << 20) buf = '';
        });
        stream.on('error', () => {});
      },
      () => {},
    );
    return {
      stop() {
        stopped = true;
        if (silence) clearTimeout(silence);
        ac.abort();
      },
    };
  }

  watchPids(id: string): PidsWatch {
    return watchCgroupPids(id);
  }

  async listManaged(): Promise<SandboxListing[]> {
    const rows = await this.short('list sandboxes', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }),
    );
    return rows.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State, image: c.Image }));
  }
}
