// The seam between the run lifecycle and whatever runs containers. A SandboxEngine offers sandbox
// operations (create with a profile, start, attach, wait, kill, remove, stats, list by label), each
// with a deadline, so that a hung engine costs a run its slot for a bounded time, never forever.
// Implementations: the local Docker engine and a remote Docker over SSH (docker-engine.ts);
// Kubernetes fits behind the same interface.
import type { EgressBridge } from '../egress/net/types';
import type Dockerode from 'dockerode';
import type { Duplex } from 'node:stream';
import { basename } from 'node:path';
import { MoatError } from '../../shared/errors';
import type { HostRecord } from '../remote/hosts';
import type { SshAuth, SshConnectionOptions } from '../remote/ssh';
import type { Sentinel } from './sentinel';

export interface EngineState {
  connected: boolean;
  version?: string;
  error?: string;
  /** Name of a runtime whose binary is gVisor's runsc, if any (never one that may reach host sockets). */
  gvisorRuntime?: string;
  /** Name of a runsc runtime registered with --network=none --host-uds=open (runs with network egress; findEgressRuntime). */
  egressRuntime?: string;
}

export const GVISOR_FIX =
  'Install gVisor (Debian/Ubuntu: `apt-get install runsc`; elsewhere see gvisor.dev), register it in ' +
  '/etc/docker/daemon.json as {"runtimes":{"runsc":{"path":"/usr/bin/runsc"}}}, then reload dockerd ' +
  '(`systemctl reload docker` or `kill -HUP $(pidof dockerd)`). `bash scripts/setup.sh` does all of this on Debian.';

export const ENGINE_FIX = 'Start the Docker engine (`systemctl start docker`, or `bash scripts/setup.sh`), or point DOCKER_HOST at it.';

/**
 * How long Moat waits for the engine. Short calls (create, start, kill, remove, inspect, list) get
 * a fixed deadline; waiting for a run's end gets the run's own timeout plus `graceMs`; the stats
 * stream, which the engine sends about once a second, may fall silent for `silenceMs` before Moat
 * asks whether the engine still answers.
 */
export interface EngineDeadlines {
  shortMs: number;
  /** `docker info` in the health check: a slow answer marks the engine unreachable. */
  infoMs: number;
  graceMs: number;
  silenceMs: number;
}

export const DEFAULT_DEADLINES: EngineDeadlines = { shortMs: 15_000, infoMs: 5_000, graceMs: 15_000, silenceMs: 10_000 };

export interface RuntimeInfo {
  path?: string;
  runtimeType?: string;
  runtimeArgs?: string[];
}

function isRunsc(r: RuntimeInfo): boolean {
  return (r.path !== undefined && basename(r.path).startsWith('runsc')) || (r.runtimeType ?? '').includes('runsc');
}

/** The value of a runsc flag in runtimeArgs (`--flag=value`, `-flag=value`, or `--flag value`), or undefined. */
function flagValue(args: readonly string[] | undefined, flag: string): string | undefined {
  if (!Array.isArray(args)) return undefined;
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(String(args[i]));
    if (!m || m[1] !== flag) continue;
    const next = args[i + 1];
    value = m[2] ?? (next !== undefined && !next.startsWith('-') ? next : 'true');
  }
  return value;
}

/** Whether a runtime lets the sandbox reach host unix sockets (--host-uds other than none). */
function reachesHostSockets(r: RuntimeInfo): boolean {
  const v = flagValue(r.runtimeArgs, 'host-uds');
  return (v !== undefined && v !== 'none') || flagValue(r.runtimeArgs, 'fsgofer-host-uds') !== undefined;
}

function preferring(name: string): (a: string, b: string) => number {
  return (a, b) => (a === name ? -1 : b === name ? 1 : a.localeCompare(b));
}

/**
 * Picks the runtime whose binary is runsc (by path, or by a runsc containerd shim type), never one
 * whose runtimeArgs let the sandbox open host unix sockets (--host-uds): that one is only for runs
 * with network egress (findEgressRuntime).
 */
export function findGvisorRuntime(runtimes: Record<string, RuntimeInfo> | undefined): string | undefined {
  if (!runtimes) return undefined;
  const names = Object.keys(runtimes).sort(preferring('runsc'));
  return names.find((name) => {
    const r = runtimes[name] ?? {};
    return isRunsc(r) && !reachesHostSockets(r);
  });
}

/**
 * Picks the runtime for runs with network egress: runsc with --host-uds=open (or all) and
 * --network=none, so that the sandbox can connect to the proxy's socket and has no network of its
 * own; `runsc-egress` first.
 */
export function findEgressRuntime(runtimes: Record<string, RuntimeInfo> | undefined): string | undefined {
  if (!runtimes) return undefined;
  const names = Object.keys(runtimes).sort(preferring('runsc-egress'));
  return names.find((name) => {
    const r = runtimes[name] ?? {};
    const uds = flagValue(r.runtimeArgs, 'host-uds');
    return isRunsc(r) && (uds === 'open' || uds === 'all') && flagValue(r.runtimeArgs, 'network') === 'none';
  });
}

/** An engine call that passed its deadline. */
export class EngineTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`no answer to ${what} within ${formatSeconds(ms)}`);
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The way to the engine failed, and the engine knows how to say it (e.g. "the SSH connection to
 * gpu1 was lost"): the message is for the user as is. Its code makes it a connection error.
 */
export class EngineConnectionError extends Error {
  constructor(
    message: string,
    readonly code: 'ECONNRESET' | 'ECONNREFUSED' = 'ECONNRESET',
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'EngineConnectionError';
  }
}

/** Human-readable reason for a failed engine call, without leaking internals. */
export function engineErrorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  if (err instanceof EngineConnectionError) return err.message;
  if (err instanceof EngineTimeoutError)
    return `The Docker engine did not answer (${err.what}) within ${formatSeconds(err.ms)}: it may be hung.`;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOENT') return 'The Docker engine is not running (its socket refused the connection).';
  if (e?.code === 'EACCES') return 'Permission denied on the Docker socket (is this user in the docker group?).';
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE') return 'The connection to the Docker engine was lost.';
  if (e?.json?.message) return `Docker engine: ${e.json.message}`;
  if (typeof e?.message === 'string') return `Docker engine: ${e.message.split('\n')[0]}`;
  return 'The Docker engine did not answer.';
}

/** True when the error says the engine is unreachable or hung (not that it refused a request). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof EngineTimeoutError) return true;
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** What `inspect` tells about a sandbox. */
export interface SandboxState {
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
  labels: Record<string, string>;
}

/** A sandbox container as listed by label. */
export interface SandboxListing {
  id: string;
  labels: Record<string, string>;
  state: string;
  image: string;
}

/** A stream of stats samples; `stop` ends it. */
export interface StatsWatch {
  stop(): void;
}

/** Samples of the sandbox's task count taken faster than the stats stream (where the engine can). */
export interface PidsWatch {
  /** The highest task count seen, and whether the PID limit was hit (where the engine can tell). */
  readonly peak: number;
  readonly limitHit: boolean;
  stop(): void;
}

export interface SandboxEngine {
  /** Where it runs, for display and labels ("local", or an instance id). */
  readonly id: string;
  /** The last state seen by `refresh`. */
  readonly current: EngineState;
  readonly deadlines: EngineDeadlines;
  /** The raw client, for image management only (images/); runs go through the operations below. */
  readonly docker: Dockerode;
  /** Asks the engine for its version and runtimes; never throws. */
  refresh(): Promise<EngineState>;
  /** Throws ENGINE_UNAVAILABLE (with the fix) unless the last refresh reached the engine. */
  requireConnected(): void;
  /** True when the engine answers a ping within `deadlineMs` (the short deadline by default). */
  ping(deadlineMs?: number): Promise<boolean>;

  create(options: Dockerode.ContainerCreateOptions): Promise<string>;
  start(id: string): Promise<void>;
  /** The sandbox's multiplexed stdin/stdout/stderr (hijacked); establishing it has the short deadline. */
  attach(id: string): Promise<Duplex>;
  /** Resolves with the exit status; rejects with EngineTimeoutError after `deadlineMs`, or when `cancel` aborts. */
  wait(id: string, condition: 'next-exit' | 'not-running', deadlineMs: number, cancel?: AbortSignal): Promise<number>;
  kill(id: string): Promise<void>;
  /** 'removed' or 'gone' (already removed, or being removed); throws when the engine did not answer. */
  remove(id: string): Promise<'removed' | 'gone'>;
  inspect(id: string): Promise<SandboxState | null>;
  stats(id: string, onRaw: (raw: unknown) => void, onSilence: () => void): StatsWatch;
  watchPids(id: string): PidsWatch;
  /** Moat's containers on this engine. */
  listManaged(): Promise<SandboxListing[]>;
  /** Lets go of what the engine holds open (a remote engine's SSH connection). */
  close?(): void;
  /**
   * Starts the process that removes `owner`'s sandboxes if that Moat process dies (sentinel.ts);
   * null or absent where the engine is out of its reach (a remote host).
   */
  startSentinel?(owner: string): Sentinel | null;
  /**
   * Engines on another machine: makes the run's egress proxy socket (a unix socket on this
   * machine) reachable on the engine's host, and the forwarder binary present there, and returns
   * the mounts with host paths. Absent for the local engine (its mounts are local paths already).
   */
  bridgeEgress?(localSocket: string, netfwd: string): Promise<EgressBridge>;
}

export type EngineConfig =
  | { kind: 'local'; socketPath?: string; deadlines?: Partial<EngineDeadlines> }
  | {
      kind: 'ssh';
      host: HostRecord;
      /** The login, read each time the connection is (re-)established (hosts.ts hostAuth). */
      auth: () => Promise<SshAuth>;
      deadlines?: Partial<EngineDeadlines>;
      ssh?: SshConnectionOptions;
      /** The Docker socket on the host. */
      socketPath?: string;
    };

export function engineUnavailable(state: EngineState): MoatError {
  return new MoatError('ENGINE_UNAVAILABLE', state.error ?? 'The Docker engine is not reachable.', ENGINE_FIX);
}
