// Runs sandboxes on one engine: checks the request against the engine (gVisor or an explicit runc
// opt-in, image present), records the run, hands it a warm or cold sandbox, relays its output and
// stats, and keeps the engine connection, the warm pool and orphan cleanup healthy.
import { randomBytes } from 'node:crypto';
import { MoatError } from '../../shared/errors';
import type { Limits, RunRecord, RunRequest, StatsSample, StreamName } from '../../shared/types';
import type { AuditLog } from '../store/audit';
import type { RunStore } from '../store/runs';
import { newExitNonce, programArgv, programScript } from './bootstrap';
import { GVISOR_FIX, engineErrorMessage, isConnectionError, type EngineState, type SandboxEngine } from './engine';
import { resolveImage } from './images';
import { ownerAlive, ownerId } from './labels';
import { WarmPool, type PoolProfile } from './pool';
import { hardenedCreateOptions } from './profile';
import { startRun, type RunControl } from './runner';
import { findTemplate, TEMPLATES } from './templates';

export interface ManagerEvents {
  output(runId: string, stream: StreamName, data: string): void;
  updated(run: RunRecord): void;
  stats(sample: StatsSample): void;
  status(): void;
}

export interface ManagerOptions {
  engine: SandboxEngine;
  store: RunStore;
  audit: AuditLog;
  events: ManagerEvents;
  defaults: () => { limits: Limits; warmPoolSize: number; preferOfficialImages: boolean; maxConcurrentRuns: number };
  /** Keep warm sandboxes (off for one-shot CLI use). */
  pool: boolean;
  log: (msg: string) => void;
  healthIntervalMs?: number;
}

/** Samples kept per run; past it, every other one is dropped (the series keeps its whole span). */
const MAX_SAMPLES = 2000;

interface LiveRun {
  record: RunRecord;
  /** Set while the run waits for a slot: takes it out of the queue. */
  dequeue?: (() => void) | null;
  samples: StatsSample[];
  control: RunControl | null;
  cancelRequested: boolean;
  done: Promise<void>;
}

export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

export class SandboxManager {
  private readonly live = new Map<string, LiveRun>();
  private readonly pool: WarmPool;
  /** Containers that could not be removed because the engine was gone; retried on reconnect. */
  private readonly leftBehind = new Set<string>();
  private health: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: ManagerOptions) {
    this.pool = new WarmPool(() => o.engine.docker, o.log);
    this.pool.onChange = () => o.events.status();
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
    await this.onEngineChange(await this.o.engine.refresh(), true);
    const every = this.o.healthIntervalMs ?? 2000;
    this.health = setInterval(() => void this.checkHealth(), every);
    this.health.unref();
  }

  poolCounts(): { enabled: boolean; warm: number; target: number } {
    return { enabled: this.o.pool, ...this.pool.counts() };
  }

  liveRuns(): RunRecord[] {
    return [...this.live.values()].map((l) => l.record);
  }

  async run(req: RunRequest): Promise<RunRecord> {
    if (this.closed) throw new MoatError('ENGINE_UNAVAILABLE', 'Moat is shutting down.');
    const engine = this.o.engine;
    if (!engine.current.connected) await engine.refresh();
    engine.requireConnected();
    const template = findTemplate(req.template);
    if (!template) {
      throw new MoatError('NOT_FOUND', `Unknown template "${req.template}". Templates: ${TEMPLATES.map((t) => t.id).join(', ')}.`);
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
    const { image, source } = await resolveImage(engine.docker, template, { preferOfficial: defaults.preferOfficialImages });
    if (!image) {
      throw new MoatError(
        'IMAGE_UNAVAILABLE',
        `No image for template "${template.id}": neither ${template.officialImage} nor the local build ${template.localImage} is present (${source}).`,
        'Pull the official image (`docker pull ' +
          template.officialImage +
          '`), or build it from Debian packages with `moat images build`.',
      );
    }
    const limits: Limits = { ...defaults.limits, ...(req.limits ?? {}) };
    const spec = {
      template,
      ...(req.code !== undefined ? { code: req.code } : {}),
      ...(req.argv ? { argv: req.argv } : {}),
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
    };
    const profile: PoolProfile = { template, image, runtime, limits };

    const record: RunRecord = {
      id: newRunId(),
      template: template.id,
      image,
      runtime: { name: runtime, gvisor: Boolean(gvisor) },
      runcOptIn: !gvisor,
      ...(req.code !== undefined ? { code: req.code } : {}),
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
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
    };
    this.o.store.put(record);
    if (record.runcOptIn) {
      this.o.audit.record({ action: 'run.runc-opt-in', by: ownerId(), details: { run: record.id, template: template.id, image } });
    }
    this.o.events.updated({ ...record });
    const live: LiveRun = { record, samples: [], control: null, cancelRequested: false, done: Promise.resolve() };
    this.live.set(record.id, live);
    this.o.events.status();
    const exitNonce = newExitNonce();
    live.done = this.execute(live, programScript(spec, exitNonce), exitNonce, profile, req.warm !== false);
    return record;
  }

  /** Stops a live run; false if it is not running (finished or unknown). */
  cancel(runId: string): boolean {
    const live = this.live.get(runId);
    if (!live) return false;
    live.cancelRequested = true;
    live.dequeue?.();
    live.control?.stop('cancelled');
    return true;
  }

  /** Resolves when the run has finished and been recorded. */
  async whenDone(runId: string): Promise<RunRecord | undefined> {
    await this.live.get(runId)?.done;
    return this.o.store.get(runId);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.health) clearInterval(this.health);
    for (const id of this.live.keys()) this.cancel(id);
    await Promise.all([...this.live.values()].map((l) => l.done));
    await this.pool.close();
  }

  /** Removes orphans; `all` also removes live sandboxes of other Moat processes. */
  async reap(all = false): Promise<string[]> {
    const keep = new Set<string>(this.pool.ids());
    return this.o.engine.reap({ all, keep });
  }

  private async execute(live: LiveRun, script: string, exitNonce: string, profile: PoolProfile, allowWarm: boolean): Promise<void> {
    const { record } = live;
    const update = (patch: Partial<RunRecord>): void => {
      Object.assign(record, patch);
      this.o.store.put(record);
      this.o.events.updated({ ...record });
    };
    let slot = false;
    try {
      slot = await this.acquireSlot(live);
      if (!slot) {
        update({ status: 'finished', endReason: 'cancelled', endedAt: Date.now() });
        return;
      }
      // Taken only now, so a queued run does not hold a warm sandbox while it waits.
      const warm = allowWarm ? this.pool.take(profile) : null;
      update({ status: 'starting', warm: warm !== null });
      let container = warm;
      if (!container) {
        try {
          container = await this.o.engine.docker.createContainer(hardenedCreateOptions({ ...profile, runId: record.id }));
        } catch (err) {
          if (isConnectionError(err)) void this.checkHealth();
          update({ status: 'finished', endReason: 'failed', error: engineErrorMessage(err), endedAt: Date.now() });
          return;
        }
      }
      const { control, done } = startRun({
        docker: this.o.engine.docker,
        runId: record.id,
        container,
        alreadyStarted: warm !== null,
        script,
        exitNonce,
        limits: record.limits,
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
      if (out.endReason === 'failed') void this.checkHealth();
      try {
        this.o.store.saveOutput(record.id, out.output.chunks, live.samples);
      } catch (err) {
        this.o.log(`could not save output of ${record.id}: ${(err as Error).message}`);
      }
      update({
        status: 'finished',
        endReason: out.endReason,
        exitCode: out.exitCode,
        ...(out.error ? { error: out.error } : {}),
        ...(out.startedAt ? { startedAt: out.startedAt } : {}),
        endedAt: out.endedAt,
        durationMs: out.endedAt - (out.startedAt ?? record.createdAt),
        stdoutBytes: out.output.stdoutBytes,
        stderrBytes: out.output.stderrBytes,
        truncated: out.output.truncated,
        ...(out.peakMemoryBytes ? { peakMemoryBytes: out.peakMemoryBytes } : {}),
      });
      if (await out.removal) this.leftBehind.add(container.id);
    } catch (err) {
      this.o.log(`run ${record.id} failed unexpectedly: ${(err as Error).stack ?? String(err)}`);
      update({ status: 'finished', endReason: 'failed', error: 'Internal error in Moat while running the sandbox.', endedAt: Date.now() });
    } finally {
      if (slot) this.releaseSlot();
      this.live.delete(record.id);
      this.o.events.status();
    }
  }

  private running = 0;
  private readonly waiting: ((granted: boolean) => void)[] = [];

  /**
   * Waits for a free slot (at most maxConcurrentRuns at once, first come first served); false if
   * the run was cancelled while it waited.
   */
  private async acquireSlot(live: LiveRun): Promise<boolean> {
    if (this.running < this.o.defaults().maxConcurrentRuns && this.waiting.length === 0) {
      this.running++;
      return true;
    }
    const granted = await new Promise<boolean>((resolve) => {
      this.waiting.push(resolve);
      live.dequeue = () => {
        const i = this.waiting.indexOf(resolve);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      };
    });
    live.dequeue = null;
    if (granted && live.cancelRequested) {
      this.releaseSlot();
      return false;
    }
    return granted;
  }

  /** Frees a slot, handing it straight to the longest-waiting run, if any. */
  private releaseSlot(): void {
    this.running--;
    if (this.running < this.o.defaults().maxConcurrentRuns) {
      const next = this.waiting.shift();
      if (next) {
        this.running++;
        next(true);
      }
    }
  }

  private checking = false;

  private async checkHealth(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      const before = this.o.engine.current;
      const after = await this.o.engine.refresh();
      const changed = before.connected !== after.connected || before.gvisorRuntime !== after.gvisorRuntime || before.error !== after.error;
      if (changed) await this.onEngineChange(after, !before.connected && after.connected);
    } finally {
      this.checking = false;
    }
  }

  private async onEngineChange(state: EngineState, connectedNow: boolean): Promise<void> {
    if (!state.connected) {
      this.pool.forget();
    } else if (connectedNow) {
      try {
        const removed = await this.reap(false);
        for (const id of [...this.leftBehind]) {
          try {
            await this.o.engine.docker.getContainer(id).remove({ force: true, v: true });
          } catch {
            // Gone already, or reaped above.
          }
          this.leftBehind.delete(id);
        }
        if (removed.length > 0) {
          this.o.log(`removed ${removed.length} orphaned sandbox(es)`);
          this.o.audit.record({
            action: 'sandbox.orphans-removed',
            by: ownerId(),
            details: { containers: removed.map((id) => id.slice(0, 12)) },
          });
        }
      } catch (err) {
        this.o.log(`orphan cleanup failed: ${engineErrorMessage(err)}`);
      }
      await this.refreshPoolTargets();
    }
    this.o.events.status();
  }

  /** Keeps `warmPoolSize` sandboxes per template for the default limits, under gVisor only. */
  async refreshPoolTargets(): Promise<void> {
    const engine = this.o.engine.current;
    const d = this.o.defaults();
    if (!this.o.pool || !engine.connected || !engine.gvisorRuntime || d.warmPoolSize === 0) {
      this.pool.setTargets([]);
      return;
    }
    const targets: { profile: PoolProfile; size: number }[] = [];
    for (const t of TEMPLATES) {
      const { image } = await resolveImage(this.o.engine.docker, t, { preferOfficial: d.preferOfficialImages });
      if (image) targets.push({ profile: { template: t, image, runtime: engine.gvisorRuntime, limits: d.limits }, size: d.warmPoolSize });
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
