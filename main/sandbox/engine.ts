// A sandbox engine is a Docker engine Moat talks to through dockerode: the local one on its
// socket now, a remote one through an SSH tunnel later (same class, different connection).
// It knows whether it is reachable, which runtimes it has, and how to find its orphans.
import Dockerode from 'dockerode';
import { basename } from 'node:path';
import { MoatError } from '../../shared/errors';
import { LABEL_MANAGED, LABEL_OWNER, ownerAlive } from './labels';

export interface EngineState {
  connected: boolean;
  version?: string;
  error?: string;
  /** Name of a runtime whose binary is gVisor's runsc, if any. */
  gvisorRuntime?: string;
}

export const GVISOR_FIX =
  'Install gVisor (Debian/Ubuntu: `apt-get install runsc`; elsewhere see gvisor.dev), register it in ' +
  '/etc/docker/daemon.json as {"runtimes":{"runsc":{"path":"/usr/bin/runsc"}}}, then reload dockerd ' +
  '(`systemctl reload docker` or `kill -HUP $(pidof dockerd)`). `bash scripts/setup.sh` does all of this on Debian.';

export const ENGINE_FIX = 'Start the Docker engine (`systemctl start docker`, or `bash scripts/setup.sh`), or point DOCKER_HOST at it.';

interface RuntimeInfo {
  path?: string;
  runtimeType?: string;
}

/** Picks the runtime whose binary is runsc (by path, or by a runsc containerd shim type). */
export function findGvisorRuntime(runtimes: Record<string, RuntimeInfo> | undefined): string | undefined {
  if (!runtimes) return undefined;
  const names = Object.keys(runtimes).sort((a, b) => (a === 'runsc' ? -1 : b === 'runsc' ? 1 : a.localeCompare(b)));
  return names.find((name) => {
    const r = runtimes[name] ?? {};
    return (r.path !== undefined && basename(r.path).startsWith('runsc')) || (r.runtimeType ?? '').includes('runsc');
  });
}

/** Human-readable reason for a failed engine call, without leaking internals. */
export function engineErrorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOENT') return 'The Docker engine is not running (its socket refused the connection).';
  if (e?.code === 'EACCES') return 'Permission denied on the Docker socket (is this user in the docker group?).';
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE') return 'The connection to the Docker engine was lost.';
  if (e?.json?.message) return `Docker engine: ${e.json.message}`;
  if (typeof e?.message === 'string') return `Docker engine: ${e.message.split('\n')[0]}`;
  return 'The Docker engine did not answer.';
}

export function isConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/**
 * What the sandbox manager needs of an engine. Local Docker (DockerEngine) today; a remote Docker
 * reached over SSH will be a second implementation, picked by `createEngine` from configuration.
 */
export interface SandboxEngine {
  /** Where it runs, for display and labels ("local", or an instance id). */
  readonly id: string;
  readonly docker: Dockerode;
  /** The last state seen by `refresh`. */
  readonly current: EngineState;
  /** Asks the engine for its version and runtimes; never throws. */
  refresh(): Promise<EngineState>;
  /** Throws ENGINE_UNAVAILABLE (with the fix) unless the last refresh reached the engine. */
  requireConnected(): void;
  listManaged(): Promise<Dockerode.ContainerInfo[]>;
  reap(opts?: { all?: boolean; keep?: Set<string> }): Promise<string[]>;
}

export type EngineConfig = { kind: 'local'; socketPath?: string };

export function createEngine(config: EngineConfig = { kind: 'local' }): SandboxEngine {
  switch (config.kind) {
    case 'local':
      return new DockerEngine(config.socketPath ? { socketPath: config.socketPath } : {});
  }
}

export class DockerEngine implements SandboxEngine {
  readonly id = 'local';
  readonly docker: Dockerode;
  private state: EngineState = { connected: false, error: 'Not checked yet.' };

  constructor(opts: { socketPath?: string } = {}) {
    const fromEnv = process.env.DOCKER_HOST;
    if (opts.socketPath) this.docker = new Dockerode({ socketPath: opts.socketPath });
    else if (fromEnv && fromEnv.startsWith('unix://')) this.docker = new Dockerode({ socketPath: fromEnv.slice(7) });
    else this.docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
  }

  get current(): EngineState {
    return this.state;
  }

  /** Asks the engine for its version and runtimes; never throws. */
  async refresh(): Promise<EngineState> {
    try {
      const info = (await withTimeout(this.docker.info(), 5000)) as { ServerVersion?: string; Runtimes?: Record<string, RuntimeInfo> };
      const gvisorRuntime = findGvisorRuntime(info.Runtimes);
      this.state = { connected: true, version: info.ServerVersion, ...(gvisorRuntime ? { gvisorRuntime } : {}) };
    } catch (err) {
      this.state = { connected: false, error: engineErrorMessage(err) };
    }
    return this.state;
  }

  requireConnected(): void {
    if (!this.state.connected)
      throw new MoatError('ENGINE_UNAVAILABLE', this.state.error ?? 'The Docker engine is not reachable.', ENGINE_FIX);
  }

  /** Moat's containers on this engine. */
  async listManaged(): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
  }

  /**
   * Removes containers whose owning Moat process is gone (or all of Moat's with `all`), except
   * those in `keep`. Returns the ids removed.
   */
  async reap(opts: { all?: boolean; keep?: Set<string> } = {}): Promise<string[]> {
    const removed: string[] = [];
    for (const c of await this.listManaged()) {
      if (opts.keep?.has(c.Id)) continue;
      if (!opts.all && ownerAlive(c.Labels?.[LABEL_OWNER])) continue;
      try {
        await this.docker.getContainer(c.Id).remove({ force: true, v: true });
        removed.push(c.Id);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }
    return removed;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
