// The warm pool: sandboxes created and started ahead of time, each waiting in its bootstrap for a
// program. A warm sandbox is handed out once and never returns to the pool: every run gets a
// fresh sandbox, warm only means "started before it was needed". Every sandbox the pool starts is
// tracked (tracker.ts) until its removal is confirmed; when the engine is unreachable the pool
// keeps its sandboxes but hands none out, and checks each one when the engine is back.
import type { Limits } from '../../shared/types';
import { EngineTimeoutError, engineErrorMessage, isConnectionError, type SandboxEngine } from './engine';
import { hardenedCreateOptions } from './profile';
import type { SandboxTracker } from './tracker';
import type { TemplateDef } from './templates';

export interface PoolProfile {
  template: TemplateDef;
  image: string;
  runtime: string;
  limits: Limits;
}

/** Only what is fixed at container creation decides whether a warm sandbox fits a run. */
export function poolKey(p: PoolProfile): string {
  const { memoryMb, cpus, processes } = p.limits;
  return JSON.stringify([p.template.id, p.image, p.runtime, memoryMb, cpus, processes]);
}

/** A warm sandbox: its container id and its tracker key. */
export interface WarmSandbox {
  id: string;
  key: string;
}

interface Warm extends WarmSandbox {
  /** Set when it died while waiting, or was handed out: either way no longer the pool's. */
  gone: boolean;
  /** Ends its engine wait once it is no longer the pool's. */
  unwatch: AbortController;
}

// A warm sandbox's wait is re-armed this often (every engine request has a deadline).
const WAIT_REARM_MS = 10 * 60_000;

export class WarmPool {
  private readonly ready = new Map<string, Warm[]>();
  private readonly targets = new Map<string, { profile: PoolProfile; size: number }>();
  private filling = false;
  /** How long a warm sandbox takes to be ready (create and start), smoothed; null before the first. */
  private refillEwmaMs: number | null = null;
  private closed = false;
  /** While the engine is unreachable: nothing is handed out or started. */
  private suspended = false;
  private fillLoop: Promise<void> = Promise.resolve();

  /** Called whenever the number of warm sandboxes changes. */
  onChange: (() => void) | null = null;

  /**
   * Whether the engine's host has CPU to spare now. A sandbox started then runs its template's
   * warm-up (the interpreter once, so its files are in the sandbox's cache: ~20 ms less latency for
   * the run it gets, for ~60 ms of CPU under gVisor); one started while runs keep every core busy
   * skips it, since that CPU would come out of the runs' own.
   */
  spareCpu: () => boolean = () => true;

  constructor(
    private readonly engine: SandboxEngine,
    private readonly tracker: SandboxTracker,
    private readonly log: (msg: string) => void,
  ) {}

  /** Declares which profiles to keep warm and how many of each; others are drained. */
  setTargets(list: { profile: PoolProfile; size: number }[]): void {
    this.targets.clear();
    for (const t of list) if (t.size > 0) this.targets.set(poolKey(t.profile), t);
    for (const key of [...this.ready.keys()]) {
      if (!this.targets.has(key)) this.drainKey(key);
      else this.trimKey(key, this.targets.get(key)!.size);
    }
    this.fill();
  }

  /** Takes a warm sandbox for this profile, if one is ready. The caller owns it from now on. */
  take(profile: PoolProfile): WarmSandbox | null {
    if (this.suspended) return null;
    const list = this.ready.get(poolKey(profile));
    while (list && list.length > 0) {
      const w = list.shift()!;
      if (!w.gone) {
        w.gone = true;
        w.unwatch.abort();
        this.tracker.handOver(w.key);
        this.onChange?.();
        this.fill();
        return { id: w.id, key: w.key };
      }
    }
    this.fill();
    return null;
  }

  counts(): { warm: number; target: number } {
    let warm = 0;
    let target = 0;
    if (!this.suspended) for (const list of this.ready.values()) warm += list.filter((w) => !w.gone).length;
    for (const t of this.targets.values()) target += t.size;
    return { warm, target };
  }

  /** The engine is unreachable: keep every sandbox tracked, hand none out. */
  suspend(): void {
    this.suspended = true;
    this.onChange?.();
  }

  /**
   * The engine is back: keeps the warm sandboxes that still run, removes the others, refills.
   * Throws if the engine fails again meanwhile (the pool stays suspended).
   */
  async resume(): Promise<void> {
    for (const [key, list] of [...this.ready]) {
      for (const w of [...list]) {
        const state = await this.engine.inspect(w.id);
        if (!state?.running) this.dropDead(key, w);
        else this.watch(key, w);
      }
    }
    this.suspended = false;
    this.onChange?.();
    this.fill();
  }

  async close(): Promise<void> {
    this.closed = true;
    // A sandbox being started right now is removed by the fill loop once it exists.
    await this.fillLoop;
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    for (const w of all) {
      w.gone = true;
      w.unwatch.abort();
    }
    await Promise.all(all.map((w) => this.tracker.remove(w.key)));
  }

  /** Tops every target up, one sandbox at a time (a cold start costs CPU; runs come first). */
  fill(): void {
    if (this.filling || this.closed || this.suspended) return;
    this.filling = true;
    this.fillLoop = (async () => {
      try {
        for (;;) {
          if (this.closed || this.suspended) break;
          const next = [...this.targets.entries()].find(([key, t]) => (this.ready.get(key)?.filter((w) => !w.gone).length ?? 0) < t.size);
          if (!next) break;
          const [key, t] = next;
          const warm = await this.startOne(key, t.profile);
          if (!warm) break;
          if (this.closed || !this.targets.has(key)) {
            await this.tracker.remove(warm.key);
            continue;
          }
          const list = this.ready.get(key) ?? [];
          list.push(warm);
          this.ready.set(key, list);
          this.watch(key, warm);
          this.onChange?.();
        }
      } catch (err) {
        this.log(`warm pool: ${engineErrorMessage(err)}`);
      } finally {
        this.filling = false;
      }
    })();
  }

  /** How long refilling one warm sandbox takes lately (create and start), in ms; 500 before any. */
  refillMs(): number {
    return this.refillEwmaMs ?? 500;
  }

  private async startOne(poolKeyText: string, profile: PoolProfile): Promise<Warm | null> {
    const key = this.tracker.begin();
    const t0 = Date.now();
    try {
      const id = await this.engine.create(
        hardenedCreateOptions({ ...profile, runId: null, poolKey: poolKeyText, sandboxKey: key, warmup: this.spareCpu() }),
      );
      this.tracker.created(key, id, 'pool');
      await this.engine.start(id);
      const took = Date.now() - t0;
      this.refillEwmaMs = this.refillEwmaMs === null ? took : 0.7 * this.refillEwmaMs + 0.3 * took;
      return { id, key, gone: false, unwatch: new AbortController() };
    } catch (err) {
      this.log(`warm pool: could not start a sandbox: ${engineErrorMessage(err)}`);
      this.tracker.abandon(key);
      await this.tracker.remove(key);
      return null;
    }
  }

  /** Drops a warm sandbox that dies while it waits (its wait is re-armed; every call has a deadline). */
  private watch(key: string, warm: Warm): void {
    if (warm.gone) return;
    this.engine.wait(warm.id, 'not-running', WAIT_REARM_MS, warm.unwatch.signal).then(
      () => this.dropDead(key, warm),
      (err: unknown) => {
        if (warm.gone || this.closed) return;
        if (err instanceof EngineTimeoutError) return this.watch(key, warm); // deadline: wait again
        if (isConnectionError(err)) return; // `resume` checks it when the engine is back
        this.dropDead(key, warm); // e.g. the engine no longer has it
      },
    );
  }

  private dropDead(key: string, warm: Warm): void {
    if (warm.gone) return; // handed out: its run owns it now
    warm.gone = true;
    warm.unwatch.abort();
    const list = this.ready.get(key);
    if (list)
      this.ready.set(
        key,
        list.filter((w) => w !== warm),
      );
    void this.tracker.remove(warm.key);
    this.onChange?.();
    this.fill();
  }

  /** A target made smaller (demand fell): the warm sandboxes past it are removed, the oldest first. */
  private trimKey(key: string, size: number): void {
    const list = (this.ready.get(key) ?? []).filter((w) => !w.gone);
    const extra = list.length - size;
    if (extra <= 0) return;
    for (const w of list.slice(0, extra)) {
      w.gone = true;
      w.unwatch.abort();
      void this.tracker.remove(w.key);
    }
    this.ready.set(key, list.slice(extra));
    this.onChange?.();
  }

  private drainKey(key: string): void {
    const list = this.ready.get(key) ?? [];
    this.ready.delete(key);
    for (const w of list) {
      if (w.gone) continue;
      w.gone = true;
      w.unwatch.abort();
      void this.tracker.remove(w.key);
    }
    this.onChange?.();
  }
}
