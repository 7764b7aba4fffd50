// Docker engines through dockerode, every request with a deadline (see EngineDeadlines): the local
// one on its Unix socket, and a remote one over SSH (SshDockerEngine: the same client, its HTTP
// requests carried over one SSH connection). A deadline aborts the HTTP request as well as failing
// the call, so a hung daemon leaves no request hanging in Moat.
import Dockerode from 'dockerode';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { SANDBOX_NET_DIR, SANDBOX_NETFWD, SOCKET_NAME as EGRESS_SOCKET_NAME } from '../egress/net/open';
import type { EgressBridge } from '../egress/net/types';
import { MoatError } from '../../shared/errors';
import { RemoteError } from '../remote/errors';
import { endpointOf, type HostRecord } from '../remote/hosts';
import { watchRemotePids } from '../remote/pids-watch';
import {
  DockerSocketAgent,
  SshConnection,
  describeEndpoint,
  type HostKeyPin,
  type SshAuth,
  type SshConnectionOptions,
} from '../remote/ssh';
import { LABEL_ENGINE, LABEL_MANAGED } from './labels';
import { watchCgroupPids } from './pids-watch';
import { startSentinel, type Sentinel } from './sentinel';
import {
  DEFAULT_DEADLINES,
  EngineConnectionError,
  EngineTimeoutError,
  engineErrorMessage,
  engineUnavailable,
  findEgressRuntime,
  findGvisorRuntime,
  isConnectionError,
  type EngineConfig,
  type EngineDeadlines,
  type EngineState,
  type PidsWatch,
  type RuntimeInfo,
  type SandboxEngine,
  type SandboxListing,
  type SandboxState,
  type StatsWatch,
} from './engine';

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
    case 'ssh':
      return new SshDockerEngine(config);
  }
}

export class DockerEngine implements SandboxEngine {
  readonly id: string;
  readonly docker: Dockerode;
  readonly deadlines: EngineDeadlines;
  protected state: EngineState = { connected: false, error: 'Not checked yet.' };

  constructor(opts: { socketPath?: string; deadlines?: Partial<EngineDeadlines>; id?: string; docker?: Dockerode } = {}) {
    const fromEnv = process.env.DOCKER_HOST;
    this.id = opts.id ?? 'local';
    if (opts.docker) this.docker = opts.docker;
    else if (opts.socketPath) this.docker = new Dockerode({ socketPath: opts.socketPath });
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
      const egressRuntime = findEgressRuntime(info.Runtimes);
      this.state = {
        connected: true,
        version: info.ServerVersion,
        ...(gvisorRuntime ? { gvisorRuntime } : {}),
        ...(egressRuntime ? { egressRuntime } : {}),
      };
    } catch (err) {
      this.state = { connected: false, error: engineErrorMessage(err) };
    }
    return this.state;
  }

  requireConnected(): void {
    if (!this.state.connected) throw engineUnavailable(this.state);
  }

  async ping(deadlineMs = this.deadlines.shortMs): Promise<boolean> {
    try {
      await withDeadline('ping', deadlineMs, (abortSignal) =>
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
    // Which of this process's engines made it: two engines can be one Docker (an SSH host that is
    // this machine), and each must reconcile only its own sandboxes.
    const labels = { ...options.Labels, [LABEL_ENGINE]: this.id };
    const c = await this.short('create sandbox', (abortSignal) => this.docker.createContainer({ ...options, Labels: labels, abortSignal }));
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
      (err: unknown) => {
        // The engine answered, refusing the stream (e.g. a 500): it is not hung, so its silence
        // means nothing; the run goes without samples.
        if (statusCode(err) !== undefined && silence) {
          clearTimeout(silence);
          silence = null;
        }
      },
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

  /** On this machine's socket only (the SSH engine's client has none). */
  startSentinel(owner: string): Sentinel | null {
    const socketPath = (this.docker.modem as { socketPath?: string }).socketPath;
    return socketPath ? startSentinel(socketPath, owner) : null;
  }

  async listManaged(): Promise<SandboxListing[]> {
    const rows = await this.short('list sandboxes', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] }, abortSignal }),
    );
    // Containers from before the engine label existed were all made by the local engine.
    return rows
      .filter((c) => (c.Labels?.[LABEL_ENGINE] ?? 'local') === this.id)
      .map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State, image: c.Image }));
  }
}

/** How long to let the SSH connection report its own end before deciding why a call failed. */
const LOSS_SETTLE_MS = 100;

/**
 * A Docker engine on another host, reached over SSH (main/remote/ssh.ts): every Docker API request
 * is a channel of one kept-alive connection to the host's Docker socket. The run lifecycle is the
 * local one; what differs is said here: a call cut off because the SSH connection dropped fails
 * with a reason naming SSH and the host, and the sandbox's PID cgroup is read on the host.
 */
export class SshDockerEngine extends DockerEngine {
  readonly connection: SshConnection;
  readonly host: HostRecord;
  /** Why the host could not be reached the last time it was not (host key, login, network). */
  private readonly seen: { error: RemoteError | null };

  constructor(config: {
    host: HostRecord;
    auth: () => Promise<SshAuth>;
    deadlines?: Partial<EngineDeadlines>;
    ssh?: SshConnectionOptions;
    socketPath?: string;
  }) {
    const endpoint = endpointOf(config.host);
    const connection = new SshConnection(endpoint, config.host.hostKey, config.auth, config.ssh);
    const seen: { error: RemoteError | null } = { error: null };
    const agent = new DockerSocketAgent(connection, config.socketPath ?? '/var/run/docker.sock', (err) => {
      if (err instanceof RemoteError) seen.error = err;
      return unreachable(endpoint.name, err);
    });
    // No socketPath: docker-modem then builds http://docker/... URLs and sends them through the agent.
    const docker = new Dockerode({ host: 'docker', port: 80, protocol: 'http', agent } as Dockerode.DockerOptions);
    super({ id: `ssh:${config.host.name}`, docker, ...(config.deadlines ? { deadlines: config.deadlines } : {}) });
    this.connection = connection;
    this.host = config.host;
    this.seen = seen;
  }

  /** The host-key, login or network failure behind the last unreachable state, if any. */
  get remoteError(): RemoteError | null {
    return this.seen.error;
  }

  /** Re-pins the host key for this engine's connection (after the user re-trusted it). */
  setPin(pin: HostKeyPin): void {
    this.connection.setPin(pin);
  }

  override async refresh(): Promise<EngineState> {
    this.seen.error = null;
    return super.refresh();
  }

  override requireConnected(): void {
    if (this.state.connected) return;
    const r = this.seen.error;
    if (r) throw new MoatError(r.code === 'UNAUTHORIZED' ? 'UNAUTHORIZED' : 'ENGINE_UNAVAILABLE', `${r.reason}: ${r.message}`, r.fix);
    throw new MoatError(
      'ENGINE_UNAVAILABLE',
      `The Docker engine on ${this.host.name} is not reachable: ${this.state.error ?? 'not checked yet'}`,
      `Check Docker on the host: \`ssh ${describeEndpoint(endpointOf(this.host))} docker info\` (start it with \`systemctl start docker\`; the user must be in the docker group).`,
    );
  }

  /**
   * Runs `call`; when the SSH connection drops meanwhile, fails at once with a reason naming SSH
   * and the host (the call's own error may never come: see SshConnection.onDrop).
   */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    const gen = this.connection.generation;
    const wasUp = this.connection.connected;
    let off = (): void => {};
    const dropped = new Promise<never>((_, reject) => {
      if (wasUp) off = this.connection.onDrop(() => reject(this.lost()));
    });
    const pending = call();
    pending.catch(() => {}); // after a drop its rejection, if any, is expected
    try {
      return await Promise.race([pending, dropped]);
    } catch (err) {
      if (!isConnectionError(err) || err instanceof EngineConnectionError) throw err;
      // The channel's end can be seen before the connection's own.
      await new Promise((r) => setTimeout(r, LOSS_SETTLE_MS));
      if (wasUp && (this.connection.generation !== gen || !this.connection.connected)) throw this.lost();
      throw err;
    } finally {
      off();
    }
  }

  private lost(): EngineConnectionError {
    return new EngineConnectionError(
      `The SSH connection to ${this.host.name} (${describeEndpoint(endpointOf(this.host))}) was lost.`,
      'ECONNRESET',
      'Moat reconnects by itself; check the network to the host if it keeps happening.',
    );
  }

  override create(options: Dockerode.ContainerCreateOptions): Promise<string> {
    return this.guard(() => super.create(options));
  }
  override start(id: string): Promise<void> {
    return this.guard(() => super.start(id));
  }
  override attach(id: string): Promise<Duplex> {
    return this.guard(() => super.attach(id));
  }
  override wait(id: string, condition: 'next-exit' | 'not-running', deadlineMs: number, cancel?: AbortSignal): Promise<number> {
    return this.guard(() => super.wait(id, condition, deadlineMs, cancel));
  }
  override kill(id: string): Promise<void> {
    return this.guard(() => super.kill(id));
  }
  override remove(id: string): Promise<'removed' | 'gone'> {
    return this.guard(() => super.remove(id));
  }
  override inspect(id: string): Promise<SandboxState | null> {
    return this.guard(() => super.inspect(id));
  }
  override listManaged(): Promise<SandboxListing[]> {
    return this.guard(() => super.listManaged());
  }

  /**
   * A run's egress on this host: the forwarder binary is copied once per version to
   * /var/lib/moat (or ~/.cache/moat when that is not writable); sshd listens on a Unix socket in
   * a fresh directory (0711, the socket 0666, like the local one) and every connection to it is
   * carried over this SSH connection to the run's proxy on Moat's machine, where the allowlist is
   * enforced. So the sandbox's traffic leaves from Moat's machine, not from the host.
   */
  async bridgeEgress(localSocket: string, netfwd: string): Promise<EgressBridge> {
    const binary = readFileSync(netfwd);
    const version = createHash('sha256').update(binary).digest('hex').slice(0, 16);
    const found = await this.connection.exec(
      `d=/var/lib/moat; mkdir -p "$d" 2>/dev/null && [ -w "$d" ] || { d="$HOME/.cache/moat"; mkdir -p "$d"; }; ` +
        `f="$d/moat-netfwd-${version}"; [ -x "$f" ] && echo "have $f" || echo "need $f"; ` +
        `s=$(mktemp -d /tmp/moat-net-XXXXXXXX) && chmod 711 "$s" && echo "dir $s"`,
    );
    const have = /^have (\S+)$/m.exec(found.stdout)?.[1];
    const need = /^need (\S+)$/m.exec(found.stdout)?.[1];
    const dir = /^dir (\S+)$/m.exec(found.stdout)?.[1];
    const path = have ?? need;
    if (found.code !== 0 || !path || !dir) {
      throw new MoatError('RUN_FAILED', `Could not prepare network egress on ${this.host.name}: ${found.stderr.trim() || 'no answer'}`);
    }
    const cleanup = (): Promise<unknown> => this.connection.exec(`rm -rf '${dir}'`).catch(() => null);
    try {
      if (need) {
        const up = await this.connection.execWithInput(
          `cat > '${need}.tmp' && chmod 755 '${need}.tmp' && mv '${need}.tmp' '${need}'`,
          binary,
        );
        if (up.code !== 0)
          throw new MoatError('RUN_FAILED', `Could not copy the egress forwarder to ${this.host.name}: ${up.stderr.trim()}`);
      }
      const remoteSocket = `${dir}/${EGRESS_SOCKET_NAME}`;
      const unforward = await this.connection
        .forwardInSocket(remoteSocket, (channel) => {
          const local = netConnect(localSocket);
          channel.pipe(local).pipe(channel);
          const end = (): void => {
            local.destroy();
            channel.destroy();
          };
          local.on('error', end);
          channel.on('error', end);
          channel.on('close', end);
        })
        .catch((err: unknown) => {
          throw new MoatError(
            'RUN_FAILED',
            `The SSH server on ${this.host.name} refused to forward a Unix socket for the run's network egress (${(err as Error).message}).`,
            "Allow it in the host's sshd_config: `AllowStreamLocalForwarding yes` and `AllowTcpForwarding yes` (OpenSSH's defaults), then reload sshd; or run without --allow-net.",
          );
        });
      const chmod = await this.connection.exec(`chmod 666 '${remoteSocket}'`);
      if (chmod.code !== 0) {
        await unforward();
        throw new MoatError('RUN_FAILED', `Could not open the egress socket on ${this.host.name}: ${chmod.stderr.trim()}`);
      }
      return {
        mounts: [
          { Type: 'bind', Source: dir, Target: SANDBOX_NET_DIR, ReadOnly: true },
          { Type: 'bind', Source: path, Target: SANDBOX_NETFWD, ReadOnly: true },
        ],
        close: async () => {
          await unforward();
          await cleanup();
        },
      };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  /** The host is out of a local sentinel's reach: its sandboxes keep their own deadline. */
  override startSentinel(): Sentinel | null {
    return null;
  }

  /** The cgroup is on the host: read there, over the same connection (remote/pids-watch.ts). */
  override watchPids(id: string): PidsWatch {
    return watchRemotePids(this.connection, id);
  }

  close(): void {
    this.connection.close();
  }
}

function unreachable(name: string, err: unknown): EngineConnectionError {
  const r = err instanceof RemoteError ? err : null;
  const text = r ? `${r.reason}: ${r.message}` : ((err as Error)?.message ?? String(err));
  const e = new EngineConnectionError(`Cannot reach the Docker engine on ${name} over SSH. ${text}`, 'ECONNREFUSED', r?.fix);
  return e;
}
