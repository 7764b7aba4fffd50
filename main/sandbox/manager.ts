// Runs sandboxes on one engine: checks the request against the engine (gVisor or an explicit runc
// opt-in, image present), records the run, queues it (run-queue.ts), hands it a warm or cold
// sandbox, relays its output and stats, and removes the sandbox through the tracker. A health loop
// follows the engine: when it is lost the pool is suspended, when it is back every container of
// this process is reconciled with what is tracked and orphans of dead Moat processes are reaped.
// Nothing here may reject unobserved: every background task catches and logs.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { MoatError } from '../../shared/errors';
import type { Alert, EgressPolicy } from '../../shared/egress';
import { isUtf8 } from 'node:buffer';
import {
  ARTIFACT_DEFAULT_BYTES,
  type ArtifactInfo,
  type Limits,
  type RunDetail,
  type RunRecord,
  type RunRequest,
  type StatsSample,
  type StreamName,
} from '../../shared/types';
import { parseAllowEntry, type AllowRule } from '../../shared/egress';
import { findNetfwd, openEgressNet } from '../egress/net/open';
import type { EgressNet } from '../egress/net/types';
import { WorkerRunFilter } from '../egress/filter-worker';
import { RunFilter } from '../egress/run-filter';
import type { Finding } from '../egress/stream';
import type { AlertStore } from '../store/alerts';
import type { AuditLog } from '../store/audit';
import type { RunStore } from '../store/runs';
import { ArtifactTrailer, type CollectedArtifact } from './artifacts';
import { COMPILE_ERROR_PREFIX, newExitNonce, programArgv, programScript, type ProgramSpec } from './bootstrap';
import { withDeadline } from './docker-engine';
import { ENGINE_FIX, GVISOR_FIX, engineErrorMessage, isConnectionError, type EngineState, type SandboxEngine } from './engine';
import { inspectOrNull, resolveImage } from './images';
import { ownerAlive, ownerId } from './labels';
import { WarmPool, type PoolProfile } from './pool';
import { hardenedCreateOptions, pidsLimitFor } from './profile';
import { reapOrphans } from './reaper';
import type { Sentinel } from './sentinel';
import { RunQueue } from './run-queue';
import { startRun, type RunControl } from './runner';
import { LABEL_SANDBOX, SandboxTracker } from './tracker';
import { allTemplates, findTemplate, loadUserTemplates, TEMPLATES, type TemplateDef } from './templates';

export interface ManagerEvents {
  output(runId: string, stream: StreamName, data: string): void;
  updated(run: RunRecord): void;
  stats(sample: StatsSample): void;
  status(): void;
  /** An egress-filter alert was raised for one of this manager's runs. */
  alert?(a: Alert): void;
}

export interface ManagerOptions {
  engine: SandboxEngine;
  store: RunStore;
  audit: AuditLog;
  events: ManagerEvents;
  defaults: () => {
    limits: Limits;
    warmPoolSize: number;
    /** The most warm sandboxes per template under demand (default: warmPoolSize, no growth). */
    maxWarmPool?: number;
    preferOfficialImages: boolean;
    maxConcurrentRuns: number;
    egressPolicy?: EgressPolicy;
    templateAllowNet?: Record<string, string[]>;
  };
  /** Where egress-filter alerts go, and which rules are suppressed (none kept without it). */
  alerts?: AlertStore;
  /** The keys Moat holds (provider API keys): the filter finds them when a sandbox echoes one. */
  ownSecrets?: () => Promise<string[]>;
  /** Ports of Moat's own listeners on this machine, refused to every egress proxy. */
  protectedPorts?: () => number[];
  /** Keep warm sandboxes (off for one-shot CLI use). */
  pool: boolean;
  log: (msg: string) => void;
  healthIntervalMs?: number;
  /** How long a burst of runs keeps the pool grown (default 5 minutes). */
  demandWindowMs?: number;
}

/** Samples kept per run; past it, every other one is dropped (the series keeps its whole span). */
const MAX_SAMPLES = 2000;
/** While connected, this process's containers are reconciled with the tracker every this many health checks. */
const RECONCILE_EVERY = 8;
/**
 * The periodic health check pings the engine; every INFO_EVERY-th tick (and whenever a ping
 * disagrees with the last state, or a request failed) it reads `docker info` again, which also
 * notices a gVisor runtime added or removed. `docker info` makes dockerd run `runc --version` and
 * `docker-init --version`: about 8 ms of the machine's CPU a call against about 1 for a ping, every
 * 2 s for as long as Moat runs.
 */
const INFO_EVERY = 15;
/** How long a found image is trusted without asking the engine again. */
const IMAGE_CACHE_MS = 30_000;
/** Alerts raised per run; past it findings are counted in the run's record, and one alert says how many more. */
export const MAX_ALERTS_PER_RUN = 100;

/** What execute needs to build the run's egress filter. */
interface EgressSetup {
  filter: boolean;
  policy: EgressPolicy;
  secrets: string[];
  /** The run's and its template's allowed destinations; empty: no network. */
  allow: AllowRule[];
}

interface LiveRun {
  record: RunRecord;
  /** Set while the run waits for a slot: takes it out of the queue. */
  leaveQueue: (() => void) | null;
  samples: StatsSample[];
  control: RunControl | null;
  cancelRequested: boolean;
  /** Settles when the run is over: recorded, its sandbox removed, its queue slot released. */
  done: Promise<void>;
  /** Settles when the run's result is recorded as finished (before its sandbox is removed). */
  recorded: Promise<void>;
  markRecorded: () => void;
  egress: EgressSetup;
  /** Network alerts raised for this run (capped like findings). */
  netAlerts: number;
}

/**
 * Why a compiled template's run failed to compile, or null: the run exited nonzero and the last
 * stderr line is the script's compile-error line (bootstrap.ts compileThen). A program that printed
 * that line itself and exited nonzero would only relabel its own run.
 */
export function compileFailure(
  spec: Pick<ProgramSpec, 'template' | 'code' | 'argv'>,
  out: { endReason: string; exitCode: number | null; output: { chunks: { stream: string; data: string }[] } },
): string | null {
  if (!spec.template.compile || spec.code === undefined || spec.argv || out.endReason !== 'exited' || !out.exitCode) return null;
  let tail = '';
  for (let i = out.output.chunks.length - 1; i >= 0 && tail.length < 4096; i--) {
    const c = out.output.chunks[i]!;
    if (c.stream === 'stderr') tail = c.data + tail;
  }
  const m = new RegExp(`(?:^|\\n)${COMPILE_ERROR_PREFIX}([^\\n]*)\\n$`).exec(tail);
  return m ? `compile error: ${m[1]}` : null;
}

export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

/** Starts remembered per template for the arrival rate. */
const RATE_STARTS = 8;
/** Starts further back than this do not count towards the rate. */
const RATE_WINDOW_MS = 10_000;

/**
 * Warm sandboxes a template needs so that runs arriving at the recent rate find one ready while
 * each taken sandbox is being replaced (Little's law: arrivals per ms × the refill time), from the
 * start times of its recent runs. One at a time, back to back, with a refill slower than a run
 * (a gVisor sandbox takes 0.3-0.5 s to create and start; a small program's run 0.2 s), that is 2:
 * with only 1, every other run found the pool empty and started cold.
 */
export function refillNeed(starts: number[], refillMs: number, now: number): number {
  const recent = starts.filter((t) => now - t < RATE_WINDOW_MS);
  if (recent.length < 2) return 0;
  const span = recent[recent.length - 1]! - recent[0]!;
  if (span <= 0) return 0;
  const perMs = (recent.length - 1) / span;
  return Math.ceil(perMs * refillMs);
}

export class SandboxManager {
  private readonly live = new Map<string, LiveRun>();
  private readonly tracker: SandboxTracker;
  private readonly pool: WarmPool;
  private readonly queue: RunQueue;
  private health: NodeJS.Timeout | null = null;
  private healthTicks = 0;
  private checking: Promise<void> | null = null;
  private closed = false;
  /** Removes this process's sandboxes if it dies (sentinel.ts); long-lived local Moats only. */
  private sentinel: Sentinel | null = null;

  constructor(private readonly o: ManagerOptions) {
    this.tracker = new SandboxTracker(o.engine, o.log);
    this.pool = new WarmPool(o.engine, this.tracker, o.log);
    // Runs not yet finished (queued, starting, running) against the cores Moat knows of (this
    // machine's; a remote host's count is not asked for): at that many, a warm-up would take CPU
    // from them. Counting only the running ones missed most of a batch's load: the sandbox is
    // refilled just as a run takes one, while its neighbours are between runs or still starting,
    // and 29 of 33 sandboxes of a 4-at-a-time batch on 2 cores ran the warm-up (~60 ms of CPU each).
    const cores = availableParallelism();
    this.pool.spareCpu = () => [...this.live.values()].filter((l) => l.record.status !== 'finished').length < cores;
    this.pool.onChange = () => o.events.status();
    this.queue = new RunQueue(() => o.defaults().maxConcurrentRuns);
  }

  /** Connects, marks runs left unfinished by a crash, reaps orphans, warms the pool, starts health checks. */
  async start(): Promise<void> {
    for (const rec of this.o.store.unfinished()) {
      if (ownerAlive(rec.owner)) continue; // another live Moat process's run
      this.o.store.put({
        ...rec,
        status: 'finished',
        endReason: 'failed',
        error: 'Moat stopped while this run was in progress; its sandbox was removed at the next start.',
        endedAt: rec.endedAt ?? Date.now(),
      });
    }
    if (this.o.pool) this.sentinel = this.o.engine.startSentinel?.(ownerId()) ?? null;
    await this.o.engine.refresh();
    await this.onEngineChange(this.o.engine.current, true);
    const every = this.o.healthIntervalMs ?? 2000;
    this.health = setInterval(() => void this.checkHealth(false), every);
    this.health.unref();
  }

  /** The engine this manager runs sandboxes on. */
  get engine(): SandboxEngine {
    return this.o.engine;
  }

  poolCounts(): { enabled: boolean; warm: number; target: number } {
    return { enabled: this.o.pool, ...this.pool.counts() };
  }

  liveRuns(): RunRecord[] {
    return [...this.live.values()].map((l) => l.record);
  }

  /** True when a container with these labels is one this process tracks as alive (pool or run). */
  tracks(labels: Record<string, string>): boolean {
    return this.tracker.isTrackedAlive(labels[LABEL_SANDBOX]);
  }

  /** Sandboxes this process tracks, by role (for status and tests). */
  trackedSandboxes(): ReturnType<SandboxTracker['counts']> {
    return this.tracker.counts();
  }

  async run(req: RunRequest): Promise<RunRecord> {
    if (this.closed) throw new MoatError('ENGINE_UNAVAILABLE', 'Moat is shutting down.');
    const engine = this.o.engine;
    if (!engine.current.connected) await engine.refresh();
    engine.requireConnected();
    const template = findTemplate(req.template);
    if (!template) {
      const user = loadUserTemplates();
      throw new MoatError(
        'NOT_FOUND',
        `Unknown template "${req.template}". Templates: ${allTemplates()
          .map((t) => t.id)
          .join(', ')}.${user.error ? ` (Your templates file was not read: ${user.error})` : ''}`,
      );
    }
    const gvisor = engine.current.gvisorRuntime;
    if (!gvisor && !req.allowRunc) {
      throw new MoatError(
        'GVISOR_UNAVAILABLE',
        'This Docker engine has no gVisor (runsc) runtime, so Moat refuses to run untrusted code on it. ' +
          'You can opt in to runc with the same hardening for this run (weaker isolation: the program shares the host kernel).',
        GVISOR_FIX,
      );
    }
    const runtime = gvisor ?? 'runc';
    const defaults = this.o.defaults();
    // An image of the user's (the run's own, or a user template's) is checked once per image id.
    const ownImage = req.image ?? (template.user ? template.localImage : undefined);
    const image =
      ownImage !== undefined ? await this.checkOwnImage(ownImage, template, runtime) : await this.templateImage(template, defaults);
    const limits: Limits = { ...defaults.limits, ...(req.limits ?? {}) };
    const env = req.env ?? [];
    const allowNet = [...new Set([...(req.allowNet ?? []), ...(defaults.templateAllowNet?.[template.id] ?? [])])];
    const allow: AllowRule[] = [];
    for (const e of allowNet) {
      const rule = parseAllowEntry(e);
      if (!rule) {
        throw new MoatError(
          'INVALID_REQUEST',
          `"${e.slice(0, 100)}" is not an allowed destination: give DOMAIN[:PORT] (*.example.com for subdomains), an IPv4 CIDR, or [IPv6 CIDR], with an optional :PORT.`,
        );
      }
      allow.push(rule);
    }
    if (allow.length > 0) {
      if (engine.id !== 'local' && !engine.bridgeEgress) {
        throw new MoatError(
          'INVALID_REQUEST',
          `Network egress (${allowNet.join(', ')}) is not available on ${engine.id}; its sandboxes run without network.`,
          'Run it locally, or without --allow-net.',
        );
      }
      if (!engine.current.egressRuntime) {
        throw new MoatError(
          'GVISOR_UNAVAILABLE',
          `This run may reach ${allowNet.join(', ')}, which needs the "runsc-egress" Docker runtime (gVisor with --network=none --host-uds=open); this engine has none.`,
          'Run `bash scripts/setup.sh` (it registers the runtime in /etc/docker/daemon.json and builds the forwarder), or run without --allow-net.',
        );
      }
    }
    const egress: EgressSetup = {
      filter: req.egressFilter !== false,
      policy: req.egressPolicy ?? defaults.egressPolicy ?? 'redact',
      // The run's own secrets and the keys Moat holds, looked for when echoed back.
      secrets: req.egressFilter === false ? [] : [...env.filter((v) => v.secret).map((v) => v.value), ...(await this.heldSecrets())],
      allow,
    };
    const spec = {
      template,
      ...(req.code !== undefined ? { code: req.code } : {}),
      ...(req.argv ? { argv: req.argv } : {}),
      ...(req.args?.length ? { args: req.args } : {}),
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      ...(req.stdinBase64 !== undefined ? { stdin: Buffer.from(req.stdinBase64, 'base64') } : {}),
      ...(req.files?.length
        ? {
            files: req.files.map((f) => ({
              path: f.path,
              data: Buffer.from(f.data, 'base64'),
              ...(f.executable ? { executable: true } : {}),
            })),
          }
        : {}),
      ...(req.artifacts?.length ? { artifacts: { paths: req.artifacts, capBytes: req.artifactBytes ?? ARTIFACT_DEFAULT_BYTES } } : {}),
      ...(env.length ? { env: env.map((v) => ({ name: v.name, value: v.value })) } : {}),
      // Moat stops the run at its timeout. Should Moat die first, its sentinel removes the sandbox;
      // without one, the sandbox's own backstop ends the program after the engine's grace.
      ...(this.sentinel?.alive ? {} : { deadlineMs: limits.timeoutMs + engine.deadlines.graceMs }),
    };
    // A run with network runs under the egress runtime, in a sandbox of its own (never a warm one).
    const profile: PoolProfile = { template, image, runtime: allow.length ? engine.current.egressRuntime! : runtime, limits };

    const record: RunRecord = {
      id: newRunId(),
      template: template.id,
      image,
      runtime: { name: runtime, gvisor: Boolean(gvisor) },
      runcOptIn: !gvisor,
      ...(req.code !== undefined ? { code: req.code } : {}),
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      ...(req.stdinBase64 !== undefined ? { stdinBytes: Buffer.from(req.stdinBase64, 'base64').length } : {}),
      ...(spec.files
        ? { files: spec.files.map((f) => ({ path: f.path, size: f.data.length, ...(f.executable ? { executable: true } : {}) })) }
        : {}),
      ...(req.keep === false ? { keep: false } : {}),
      ...(engine.id !== 'local' ? { target: engine.id } : {}),
      argv: programArgv(spec),
      limits,
      warm: false,
      // Every run passes through the queue, however briefly: statuses only ever move forward.
      status: 'queued',
      exitCode: null,
      createdAt: Date.now(),
      owner: ownerId(),
      stdoutBytes: 0,
      stderrBytes: 0,
      truncated: false,
      // Names always; values only of variables not marked secret, and not for runs that are not kept.
      ...(env.length
        ? {
            env: env.map((v) => ({
              name: v.name,
              secret: v.secret === true,
              ...(v.secret || req.keep === false ? {} : { value: v.value }),
            })),
          }
        : {}),
      egress: { filter: egress.filter, policy: egress.policy, findings: 0, critical: 0, blocked: false, allowNet, refused: 0 },
    };
    this.o.store.put(record);
    if (record.runcOptIn) {
      this.o.audit.record({ action: 'run.runc-opt-in', by: ownerId(), details: { run: record.id, template: template.id, image } });
    }
    if (!egress.filter) {
      this.o.audit.record({ action: 'run.egress-filter-off', by: ownerId(), details: { run: record.id, template: template.id } });
    }
    // Code and stdin are the store's to keep (or not); the live record and events carry neither.
    delete record.code;
    delete record.stdin;
    this.o.events.updated({ ...record });
    let markRecorded = (): void => {};
    const recorded = new Promise<void>((resolve) => (markRecorded = resolve));
    const live: LiveRun = {
      record,
      leaveQueue: null,
      samples: [],
      control: null,
      cancelRequested: false,
      done: Promise.resolve(),
      recorded,
      markRecorded,
      egress,
      netAlerts: 0,
    };
    this.live.set(record.id, live);
    this.noteDemand(template.id);
    this.o.events.status();
    const exitNonce = newExitNonce();
    live.done = this.execute(live, spec, exitNonce, profile, req.warm !== false && allow.length === 0);
    // However execute ends, whoever waits for the record is let go.
    live.done.then(live.markRecorded, live.markRecorded);
    return { ...record };
  }

  /**
   * Per template: the peak of concurrent runs seen lately, when a run last started, and how many
   * warm sandboxes the rate of recent starts needs (refillNeed).
   */
  private readonly demand = new Map<string, { peak: number; at: number; need: number }>();
  /** Per template: when its recent runs started (the last few), for refillNeed. */
  private readonly starts = new Map<string, number[]>();

  /**
   * Notes a run starting: the pool for its template grows to the peak of concurrent runs, or to
   * what runs arriving back to back need while each taken sandbox is replaced, if that is more.
   */
  private noteDemand(template: string): void {
    const now = Date.now();
    const live = [...this.live.values()].filter((l) => l.record.template === template && l.record.status !== 'finished').length;
    const prev = this.demand.get(template);
    const window = this.o.demandWindowMs ?? 5 * 60_000;
    const peak = prev && now - prev.at < window ? Math.max(prev.peak, live) : live;
    const starts = [...(this.starts.get(template) ?? []), now].slice(-RATE_STARTS);
    this.starts.set(template, starts);
    const need = refillNeed(starts, this.pool.refillMs(), now);
    // The rate's need holds for the window like the peak, so a pause between runs does not shrink it.
    const held = prev && now - prev.at < window ? Math.max(prev.need, need) : need;
    this.demand.set(template, { peak, at: now, need: held });
    if (!prev || peak !== prev.peak || held !== prev.need) void this.refreshPoolTargets();
  }

  /** The warm sandboxes to keep for a template: warmPoolSize, grown to the recent peak up to maxWarmPool. */
  private poolSizeFor(template: string, d: ReturnType<ManagerOptions['defaults']>): number {
    if (d.warmPoolSize === 0) return 0;
    const demand = this.demand.get(template);
    const window = this.o.demandWindowMs ?? 5 * 60_000;
    if (!demand || Date.now() - demand.at >= window) {
      this.demand.delete(template);
      return d.warmPoolSize;
    }
    return Math.max(d.warmPoolSize, Math.min(Math.max(demand.peak, demand.need), d.maxWarmPool ?? d.warmPoolSize));
  }

  private heldCache: { at: number; keys: Promise<string[]> } | null = null;

  /** The keys Moat holds, read once a minute at most (each read may ask the OS keychain). */
  private async heldSecrets(): Promise<string[]> {
    const read = this.o.ownSecrets;
    if (!read) return [];
    if (!this.heldCache || Date.now() - this.heldCache.at > 60_000) {
      this.heldCache = { at: Date.now(), keys: read().catch(() => []) };
    }
    return this.heldCache.keys;
  }

  /** Stops a live run; false if it is not running (finished or unknown). */
  cancel(runId: string): boolean {
    const live = this.live.get(runId);
    if (!live) return false;
    live.cancelRequested = true;
    live.leaveQueue?.();
    live.control?.stop('cancelled');
    return true;
  }

  /** Resolves when the run has finished and been recorded, and its sandbox is removed. */
  async whenDone(runId: string): Promise<RunRecord | undefined> {
    await this.live.get(runId)?.done;
    return this.o.store.get(runId);
  }

  /**
   * Resolves as soon as the run's result is recorded (in history, with its output), without
   * waiting for its sandbox's removal, which follows at once in the background (~0.1–0.3 s
   * under gVisor) and still holds the run's queue slot until it is done. For callers that only
   * report the result: `moat run` through a running Moat returns that much sooner.
   */
  async whenRecorded(runId: string): Promise<RunRecord | undefined> {
    await this.live.get(runId)?.recorded;
    return this.o.store.get(runId);
  }

  /**
   * Cancels every run (queued ones never start), removes the warm pool and whatever this process
   * still owns. Bounded: each run ends within the engine's grace after its kill, and each removal
   * has the short deadline.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.health) clearInterval(this.health);
    this.queue.close();
    for (const id of this.live.keys()) this.cancel(id);
    await Promise.all([...this.live.values()].map((l) => l.done));
    await this.pool.close();
    if (this.o.engine.current.connected) {
      await this.tracker.reconcile().catch((err: unknown) => this.o.log(`cleanup at shutdown: ${engineErrorMessage(err)}`));
    }
    // Whatever could not be removed now is left to the sentinel, which acts once this process ends.
    if (Object.values(this.tracker.counts()).every((n) => n === 0)) this.sentinel?.stop();
  }

  /** Removes orphans of Moat processes that are gone; `all` also those of other live Moat processes. */
  async reap(all = false): Promise<string[]> {
    return reapOrphans(this.o.engine, { all });
  }

  /**
   * Which image a template uses, remembered for a few seconds once found: a burst of runs (or a
   * remote engine, where each lookup is a round trip over SSH) does not ask again for every run. An
   * image removed meanwhile makes the create fail with the engine's own "no such image".
   */
  private readonly imageCache = new Map<string, { at: number; found: Awaited<ReturnType<typeof resolveImage>> }>();

  /** The template's own image (official or local build), or why there is none. */
  private async templateImage(template: TemplateDef, defaults: ReturnType<ManagerOptions['defaults']>): Promise<string> {
    const { image, source } = await this.lookUpImage(template, defaults.preferOfficialImages);
    if (image) return image;
    throw new MoatError(
      'IMAGE_UNAVAILABLE',
      `No image for template "${template.id}": neither ${template.officialImage} nor the local build ${template.localImage} is present (${source}).`,
      'Pull the official image (`docker pull ' + template.officialImage + '`), or build it from Debian packages with `moat images build`.',
    );
  }

  /** Probe results by image id: null when the image works, else why it is refused. */
  private readonly probed = new Map<string, Promise<string | null>>();

  /**
   * An image the user names (RunRequest.image, or a user template's): it must be on this engine
   * already (never pulled), and is checked once per image id by a probe sandbox under the same
   * hardened profile: /bin/sh must start as user 65534 and write to /work. Returns the name.
   */
  private async checkOwnImage(name: string, template: TemplateDef, runtime: string): Promise<string> {
    const engine = this.o.engine;
    let info: Awaited<ReturnType<typeof inspectOrNull>>;
    try {
      info = await withDeadline('look up image', engine.deadlines.shortMs, () => inspectOrNull(engine.docker, name));
    } catch (err) {
      if (isConnectionError(err)) void this.checkHealth();
      throw new MoatError('ENGINE_UNAVAILABLE', engineErrorMessage(err), ENGINE_FIX);
    }
    if (!info) {
      throw new MoatError(
        'IMAGE_UNAVAILABLE',
        `No image "${name}" on ${engine.id === 'local' ? 'this engine' : engine.id}: Moat runs only images that are already there and never pulls one.`,
        `Pull or build it first (\`docker pull ${name}\`, \`docker import\`, \`docker build\`), or pick a template's image.`,
      );
    }
    if (info.Architecture && info.Architecture !== 'amd64' && info.Architecture !== process.arch.replace('x64', 'amd64')) {
      throw new MoatError('INVALID_REQUEST', `Image "${name}" cannot be used: it is built for ${info.Architecture}.`);
    }
    const id = info.Id;
    let probe = this.probed.get(id);
    if (!probe) {
      probe = this.probeImage(id, template, runtime);
      this.probed.set(id, probe);
      // An engine failure is not the image's fault: ask again next time.
      probe.catch(() => this.probed.delete(id));
    }
    let why: string | null;
    try {
      why = await probe;
    } catch (err) {
      if (isConnectionError(err)) void this.checkHealth();
      throw new MoatError('ENGINE_UNAVAILABLE', `Could not check image "${name}": ${engineErrorMessage(err)}`, ENGINE_FIX);
    }
    if (why) {
      throw new MoatError(
        'INVALID_REQUEST',
        `Image "${name}" cannot be used: ${why}`,
        'Moat needs a POSIX /bin/sh in the image that runs as an unprivileged user (65534) with a read-only root filesystem.',
      );
    }
    return name;
  }

  /** One short sandbox: null when /bin/sh started as 65534 and wrote to /work, else what went wrong. */
  private async probeImage(imageId: string, template: TemplateDef, runtime: string): Promise<string | null> {
    const engine = this.o.engine;
    const PROBE_OK = 97;
    const limits: Limits = { ...this.o.defaults().limits, timeoutMs: 20_000, processes: 16 };
    const key = this.tracker.begin();
    let id: string | null = null;
    try {
      const opts = hardenedCreateOptions({ template, image: imageId, runtime, limits, runId: null, sandboxKey: key });
      opts.Cmd = [
        '/bin/sh',
        '-c',
        `cd /work && : > /work/.moat-probe && [ "$(id -u 2>/dev/null || echo 65534)" = 65534 ] && exit ${PROBE_OK}`,
      ];
      Object.assign(opts, { OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false });
      try {
        id = await engine.create(opts);
      } catch (err) {
        if (isConnectionError(err)) throw err;
        return `the engine refused to create a sandbox from it (${engineErrorMessage(err)}).`;
      }
      this.tracker.created(key, id, 'run');
      try {
        await engine.start(id);
      } catch (err) {
        if (isConnectionError(err)) throw err;
        const msg = engineErrorMessage(err);
        return /no such file|not found|ENOENT/i.test(msg)
          ? `it has no /bin/sh (starting one failed: ${msg}).`
          : `a sandbox with it did not start (${msg}).`;
      }
      const status = await engine.wait(id, 'not-running', limits.timeoutMs);
      if (status === PROBE_OK) return null;
      if (status === 126 || status === 127) return `it has no usable /bin/sh (exit status ${status}).`;
      return `/bin/sh could not run as user 65534 and write to /work (exit status ${status}).`;
    } finally {
      if (id) await this.tracker.remove(key);
      else this.tracker.abandon(key);
    }
  }

  private async lookUpImage(template: TemplateDef, preferOfficial: boolean): ReturnType<typeof resolveImage> {
    const key = `${template.id}:${preferOfficial}`;
    const hit = this.imageCache.get(key);
    if (hit && Date.now() - hit.at < IMAGE_CACHE_MS) return hit.found;
    try {
      const found = await withDeadline('look up image', this.o.engine.deadlines.shortMs, () =>
        resolveImage(this.o.engine.docker, template, { preferOfficial }),
      );
      if (found.image) this.imageCache.set(key, { at: Date.now(), found });
      else this.imageCache.delete(key);
      return found;
    } catch (err) {
      if (isConnectionError(err)) void this.checkHealth();
      throw new MoatError('ENGINE_UNAVAILABLE', engineErrorMessage(err), ENGINE_FIX);
    }
  }

  private async execute(
    live: LiveRun,
    spec: Parameters<typeof programScript>[0],
    exitNonce: string,
    profile: PoolProfile,
    allowWarm: boolean,
  ): Promise<void> {
    const { record } = live;
    const engine = this.o.engine;
    const update = (patch: Partial<RunRecord>): void => {
      Object.assign(record, patch);
      this.o.store.put(record);
      this.o.events.updated({ ...record });
      if (record.status === 'finished') live.markRecorded();
    };
    let slot = false;
    let sandboxKey: string | null = null;
    let sandboxExited: Promise<void> | undefined;
    let net: EgressNet | null = null;
    try {
      slot = await this.queue.acquire((leave) => (live.leaveQueue = leave));
      live.leaveQueue = null;
      if (slot && (live.cancelRequested || this.closed)) {
        this.queue.release();
        slot = false;
      }
      if (!slot) {
        update({ status: 'finished', endReason: 'cancelled', endedAt: Date.now() });
        return;
      }
      // Taken only now, so a queued run does not hold a warm sandbox while it waits.
      const warm = allowWarm ? this.pool.take(profile) : null;
      update({ status: 'starting', warm: warm !== null });
      let containerId: string;
      if (warm) {
        sandboxKey = warm.key;
        containerId = warm.id;
      } else {
        if (live.egress.allow.length > 0) {
          try {
            net = await openEgressNet({
              runId: record.id,
              allow: live.egress.allow,
              protectedPorts: this.o.protectedPorts?.() ?? [],
              onRefused: (ev) => this.refused(live, ev),
              log: this.o.log,
            });
            // A remote engine's sandbox reaches the proxy here through its host (an SSH-forwarded socket).
            if (engine.bridgeEgress) {
              const local = net;
              const bridge = await engine.bridgeEgress(local.socketPath, findNetfwd());
              net = {
                ...local,
                mounts: bridge.mounts,
                close: async () => {
                  await bridge.close();
                  await local.close();
                },
              };
            }
          } catch (err) {
            update({
              status: 'finished',
              endReason: 'failed',
              error: `Could not start the run's network egress: ${(err as Error).message}${err instanceof MoatError && err.fix ? ` Fix: ${err.fix}` : ''}`,
              endedAt: Date.now(),
            });
            return;
          }
        }
        sandboxKey = this.tracker.begin();
        try {
          containerId = await engine.create(
            hardenedCreateOptions({ ...profile, runId: record.id, sandboxKey, ...(net ? { mounts: net.mounts } : {}) }),
          );
          this.tracker.created(sandboxKey, containerId, 'run');
        } catch (err) {
          this.tracker.abandon(sandboxKey);
          if (isConnectionError(err)) void this.checkHealth();
          update({ status: 'finished', endReason: 'failed', error: engineErrorMessage(err), endedAt: Date.now() });
          return;
        }
      }
      const filter = live.egress.filter ? this.runFilter(live, containerId) : undefined;
      const trailer = spec.artifacts ? new ArtifactTrailer(spec.artifacts.paths, spec.artifacts.capBytes) : undefined;
      const { control, done } = startRun({
        ...(filter ? { filter } : {}),
        ...(trailer ? { trailer } : {}),
        engine,
        runId: record.id,
        containerId,
        alreadyStarted: warm !== null,
        script: programScript({ ...spec, ...(net ? { prelude: net.prelude } : {}) }, exitNonce),
        exitNonce,
        limits: record.limits,
        gvisor: record.runtime.gvisor,
        pidsLimit: pidsLimitFor(record.limits),
        hooks: {
          onStarted: (startedAt) => update({ status: 'running', startedAt }),
          onOutput: (stream, data) => this.o.events.output(record.id, stream, data),
          onStats: (s) => {
            if (live.samples.length >= MAX_SAMPLES) live.samples = live.samples.filter((_, i) => i % 2 === 1);
            live.samples.push(s);
            this.o.events.stats(s);
          },
        },
      });
      live.control = control;
      if (live.cancelRequested) control.stop('cancelled');
      const out = await done;
      sandboxExited = out.sandboxExited;
      if (out.endReason === 'failed') void this.checkHealth();
      const artifacts = out.artifacts ? this.filterArtifacts(live, containerId, out.artifacts) : undefined;
      try {
        this.o.store.saveOutput(record.id, out.output.chunks, live.samples, artifacts);
      } catch (err) {
        this.o.log(`could not save output of ${record.id}: ${(err as Error).message}`);
      }
      const first = filter?.firstCritical;
      const compileError = compileFailure(spec, out);
      const error =
        out.endReason === 'secret-found' && first
          ? `the egress filter found a critical secret (${first.title}, ${first.preview}) in ${first.stream} at byte ${first.offset}`
          : (compileError ?? out.error);
      update({
        status: 'finished',
        endReason: compileError ? 'compile-error' : out.endReason,
        exitCode: out.exitCode,
        ...(error ? { error } : {}),
        ...(record.egress
          ? {
              egress: {
                ...record.egress,
                ...(filter ? { findings: filter.findings, critical: filter.critical, blocked: filter.blocked } : {}),
                refused: net?.refused() ?? 0,
              },
            }
          : {}),
        ...(out.startedAt ? { startedAt: out.startedAt } : {}),
        endedAt: out.endedAt,
        durationMs: out.endedAt - (out.startedAt ?? record.createdAt),
        stdoutBytes: out.output.stdoutBytes,
        stderrBytes: out.output.stderrBytes,
        truncated: out.output.truncated,
        ...(out.peakMemoryBytes ? { peakMemoryBytes: out.peakMemoryBytes } : {}),
        ...(out.peakTasks ? { peakTasks: out.peakTasks } : {}),
        ...(artifacts ? { artifacts: artifacts.map(({ base64: _b, ...info }) => info) } : {}),
      });
    } catch (err) {
      this.o.log(`run ${record.id} failed unexpectedly: ${(err as Error).stack ?? String(err)}`);
      update({ status: 'finished', endReason: 'failed', error: 'Internal error in Moat while running the sandbox.', endedAt: Date.now() });
    } finally {
      // The result is recorded; the removal (short deadline, retried by reconcile) comes after it,
      // once a sandbox whose program exited has exited too (bounded): no kill for the engine.
      if (sandboxExited) await sandboxExited;
      if (sandboxKey) await this.tracker.remove(sandboxKey);
      await net?.close().catch((err: unknown) => this.o.log(`egress proxy of ${record.id}: ${(err as Error).message}`));
      if (slot) this.queue.release();
      this.live.delete(record.id);
      this.o.events.status();
    }
  }

  /** The run's egress filter: findings become alerts (at most MAX_ALERTS_PER_RUN, then one saying how many more). */
  private runFilter(live: LiveRun, containerId: string): WorkerRunFilter {
    const { record, egress } = live;
    const alerts = this.o.alerts;
    let raised = 0;
    let unlisted = 0;
    const base = {
      runId: record.id,
      template: record.template,
      target: this.o.engine.id,
      sandbox: containerId.slice(0, 12),
    };
    const filter = new WorkerRunFilter({
      policy: egress.policy,
      secrets: egress.secrets,
      suppressed: alerts?.suppressedRules() ?? new Set(),
      capBytes: record.limits.outputBytes,
      onFinding: (f: Finding) => {
        if (!alerts) return;
        if (raised >= MAX_ALERTS_PER_RUN) {
          unlisted++;
          return;
        }
        raised++;
        this.raise(alerts, {
          ...base,
          kind: 'secret',
          severity: f.severity,
          detector: f.detector,
          rule: f.rule,
          title: f.title,
          stream: f.stream,
          offset: f.offset,
          length: f.length,
          preview: f.preview,
          ...(f.binary ? { binary: true } : {}),
        });
      },
      // After the last output: one alert for the findings past the per-run cap.
      onEnd: () => {
        if (!alerts || unlisted === 0) return;
        this.raise(alerts, {
          ...base,
          kind: 'secret',
          severity: 'high',
          detector: 'format',
          rule: 'more-findings',
          title: `${unlisted} more findings in this run (alerts are kept for the first ${MAX_ALERTS_PER_RUN})`,
        });
        unlisted = 0;
      },
    });
    return filter;
  }

  /**
   * The run's artifacts through the egress filter, each in a scanner of its own with the run's
   * detectors and secrets: text is redacted, binary is scanned and left as it is; every finding is
   * an alert naming the artifact. Policy `block` withholds an artifact with findings. Without the
   * filter (the run opted out) they are kept as they came.
   */
  private filterArtifacts(live: LiveRun, containerId: string, collected: CollectedArtifact[]): NonNullable<RunDetail['artifacts']> {
    const { record, egress } = live;
    const alerts = this.o.alerts;
    let raised = 0;
    return collected.map((a) => {
      const info: ArtifactInfo & { base64?: string } = { path: a.path, size: a.size, status: a.status };
      if (a.status !== 'saved' || !a.data) return info;
      const binary = !isUtf8(a.data);
      if (binary) info.binary = true;
      if (!egress.filter) return { ...info, base64: a.data.toString('base64') };
      let findings = 0;
      const filter = new RunFilter({
        policy: 'redact',
        secrets: egress.secrets,
        suppressed: alerts?.suppressedRules() ?? new Set(),
        capBytes: a.data.length + 1,
        onFinding: (f: Finding) => {
          findings++;
          if (!alerts || raised >= MAX_ALERTS_PER_RUN) return;
          raised++;
          this.raise(alerts, {
            runId: record.id,
            template: record.template,
            target: this.o.engine.id,
            sandbox: containerId.slice(0, 12),
            kind: 'secret',
            severity: f.severity,
            detector: f.detector,
            rule: f.rule,
            title: f.title,
            artifact: a.path,
            offset: f.offset,
            length: f.length,
            preview: f.preview,
            ...(f.binary ? { binary: true } : {}),
          });
        },
      });
      const parts: Buffer[] = [];
      // In pieces, as output arrives: each piece is judged text or binary on its own.
      for (let off = 0; off < a.data.length; off += 64 * 1024) {
        for (const r of filter.push('stdout', a.data.subarray(off, off + 64 * 1024))) parts.push(r.data);
      }
      for (const r of filter.flush()) parts.push(r.data);
      const out = Buffer.concat(parts);
      if (findings > 0) info.findings = findings;
      if (findings > 0 && egress.policy === 'block') return { ...info, status: 'withheld' as const };
      if (!out.equals(a.data)) info.redacted = true;
      return { ...info, base64: out.toString('base64') };
    });
  }

  /** A connection the egress proxy refused: an alert with the destination and port. */
  private refused(live: LiveRun, ev: { destination: string; port: number; reason: string }): void {
    const alerts = this.o.alerts;
    if (!alerts || live.netAlerts >= MAX_ALERTS_PER_RUN) return;
    live.netAlerts++;
    const { record } = live;
    this.raise(alerts, {
      kind: 'network',
      runId: record.id,
      template: record.template,
      target: this.o.engine.id,
      severity: 'high',
      detector: 'egress-proxy',
      rule: 'net-refused',
      title: `Connection refused: ${ev.destination}:${ev.port}`,
      destination: ev.destination,
      port: ev.port,
      reason: ev.reason,
    });
  }

  private raise(alerts: AlertStore, a: Parameters<AlertStore['append']>[0]): void {
    try {
      this.o.events.alert?.(alerts.append(a));
    } catch (err) {
      this.o.log(`could not record an alert: ${(err as Error).message}`);
    }
  }

  /**
   * One health check at a time; never rejects. `full` (the default: a request failed, a run failed)
   * reads `docker info` at once; the timer's checks ping first (INFO_EVERY).
   */
  private checkHealth(full = true): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.checking ??= this.healthCheck(full)
      .catch((err: unknown) => this.o.log(`health check failed: ${engineErrorMessage(err)}`))
      .finally(() => (this.checking = null));
    return this.checking;
  }

  private async healthCheck(full: boolean): Promise<void> {
    const before = this.o.engine.current;
    const tick = ++this.healthTicks;
    // A ping that agrees with the last state (connected) stands in for `docker info`. It gets half
    // of `docker info`'s deadline: a ping that fails costs only time (`docker info` then decides),
    // and an engine that hangs is noticed at most that much later than when every tick read it.
    const engine = this.o.engine;
    const pinged = !full && before.connected && tick % INFO_EVERY !== 0 && (await engine.ping(engine.deadlines.infoMs / 2));
    const after = pinged ? before : await engine.refresh();
    if (this.closed) return;
    const changed = before.connected !== after.connected || before.gvisorRuntime !== after.gvisorRuntime || before.error !== after.error;
    if (changed) await this.onEngineChange(after, !before.connected && after.connected);
    else if (after.connected && tick % RECONCILE_EVERY === 0) await this.reconcile();
    // A burst is over: the pool falls back to its idle size.
    const window = this.o.demandWindowMs ?? 5 * 60_000;
    if (after.connected && [...this.demand.values()].some((d) => Date.now() - d.at >= window)) await this.refreshPoolTargets();
  }

  /** Never rejects: failures are logged and retried at the next change or reconcile. */
  private async onEngineChange(state: EngineState, connectedNow: boolean): Promise<void> {
    if (!state.connected) {
      this.pool.suspend();
    } else if (connectedNow) {
      await this.reconcile();
      try {
        await this.pool.resume();
      } catch (err) {
        this.o.log(`warm pool: could not check its sandboxes: ${engineErrorMessage(err)}`);
      }
      await this.refreshPoolTargets();
    }
    this.o.events.status();
  }

  /** Removes this process's untracked containers and dead processes' orphans; never rejects. */
  private async reconcile(): Promise<void> {
    try {
      const mine = await this.tracker.reconcile();
      if (mine.length > 0) this.o.log(`removed ${mine.length} untracked sandbox(es) of this process`);
      const removed = await reapOrphans(this.o.engine);
      if (removed.length > 0) {
        this.o.log(`removed ${removed.length} orphaned sandbox(es)`);
        this.o.audit.record({
          action: 'sandbox.orphans-removed',
          by: ownerId(),
          details: { containers: removed.map((id) => id.slice(0, 12)) },
        });
      }
    } catch (err) {
      this.o.log(`sandbox cleanup failed: ${engineErrorMessage(err)}`);
    }
  }

  /** Keeps `warmPoolSize` sandboxes per template for the default limits, under gVisor only. Never rejects. */
  async refreshPoolTargets(): Promise<void> {
    const engine = this.o.engine.current;
    const d = this.o.defaults();
    if (!this.o.pool || !engine.connected || !engine.gvisorRuntime || d.warmPoolSize === 0 || this.closed) {
      this.pool.setTargets([]);
      return;
    }
    const targets: { profile: PoolProfile; size: number }[] = [];
    try {
      for (const t of TEMPLATES.filter((x) => x.warmPool !== false)) {
        const { image } = await this.lookUpImage(t, d.preferOfficialImages);
        if (image)
          targets.push({
            profile: { template: t, image, runtime: engine.gvisorRuntime, limits: d.limits },
            size: this.poolSizeFor(t.id, d),
          });
      }
    } catch (err) {
      this.o.log(`warm pool: could not look up images: ${(err as Error).message}`);
      return; // keep the current targets; the next reconnect or settings change retries
    }
    this.pool.setTargets(targets);
  }

  /** For tests and benchmarks: waits until the pool holds its target (or the timeout passes). */
  async poolReady(timeoutMs = 30_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const c = this.pool.counts();
      if (c.warm >= c.target) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }
}
