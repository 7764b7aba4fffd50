// The warm pool: sandboxes created and started ahead of time, each waiting in its bootstrap for a
// program. A warm sandbox is handed out once and never returns to the pool: every run gets a
// fresh sandbox, warm only means "started before it was needed".
import type Dockerode from 'dockerode';
import type { Limits } from '../../shared/types';
import { hardenedCreateOptions } from './profile';
import { removeContainer } from './runner';
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

interface Warm {
  container: Dockerode.Container;
  /** Resolves if the sandbox dies while it waits (then it is dropped, not handed out). */
  dead: boolean;
}

export class WarmPool {
  private readonly ready = new Map<string, Warm[]>();
  private readonly targets = new Map<string, { profile: PoolProfile; size: number }>();
  private filling = false;
  private closed = false;

  constructor(
    private readonly docker: () => Dockerode,
    private readonly log: (msg: string) => void,
  ) {}

  /** Declares which profiles to keep warm and how many of each; others are drained. */
  setTargets(list: { profile: PoolProfile; size: number }[]): void {
    this.targets.clear();
    for (const t of list) if (t.size > 0) this.targets.set(poolKey(t.profile), t);
    for (const key of [...this.ready.keys()]) {
      if (!this.targets.has(key)) this.drainKey(key);
    }
    this.fill();
  }

  /** Takes a warm sandbox for this profile, if one is ready. The caller owns it from now on. */
  take(profile: PoolProfile): Dockerode.Container | null {
    const list = this.ready.get(poolKey(profile));
    while (list && list.length > 0) {
      const w = list.shift()!;
      if (!w.dead) {
        this.fill();
        return w.container;
      }
    }
    this.fill();
    return null;
  }

  counts(): { warm: number; target: number } {
    let warm = 0;
    let target = 0;
    for (const list of this.ready.values()) warm += list.filter((w) => !w.dead).length;
    for (const t of this.targets.values()) target += t.size;
    return { warm, target };
  }

  /** Ids of the containers the pool holds (so the orphan reaper leaves them alone). */
  ids(): Set<string> {
    const ids = new Set<string>();
    for (const list of this.ready.values()) for (const w of list) ids.add(w.container.id);
    return ids;
  }

  /** Forgets every warm sandbox without touching the engine (after the engine was lost). */
  forget(): void {
    this.ready.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    // A sandbox being started right now is removed by the fill loop once it exists.
    await this.fillLoop;
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.all(all.map((w) => removeContainer(w.container)));
  }

  /** Tops every target up, one sandbox at a time (a cold start costs CPU; runs come first). */
  fill(): void {
    if (this.filling || this.closed) return;
    this.filling = true;
    this.fillLoop = (async () => {
      try {
        for (;;) {
          const next = [...this.targets.entries()].find(([key, t]) => (this.ready.get(key)?.filter((w) => !w.dead).length ?? 0) < t.size);
          if (!next || this.closed) break;
          const [key, t] = next;
          const warm = await this.startOne(key, t.profile);
          if (!warm) break;
          if (this.closed || !this.targets.has(key)) {
            await removeContainer(warm.container);
            continue;
          }
          const list = this.ready.get(key) ?? [];
          list.push(warm);
          this.ready.set(key, list);
          this.onChange?.();
        }
      } finally {
        this.filling = false;
      }
    })();
  }

  private fillLoop: Promise<void> = Promise.resolve();

  /** Called whenever the number of warm sandboxes changes. */
  onChange: (() => void) | null = null;

  private async startOne(key: string, profile: PoolProfile): Promise<Warm | null> {
    const docker = this.docker();
    let container: Dockerode.Container | null = null;
    try {
      container = await docker.createContainer(hardenedCreateOptions({ ...profile, runId: null, poolKey: key }));
      await container.start();
      const warm: Warm = { container, dead: false };
      container.wait().then(
        () => this.markDead(key, warm),
        () => this.markDead(key, warm),
      );
      return warm;
    } catch (err) {
      this.log(`warm pool: could not start a sandbox: ${(err as Error).message?.split('\n')[0]}`);
      if (container) await removeContainer(container);
      return null;
    }
  }

  private markDead(key: string, warm: Warm): void {
    if (warm.dead) return;
    const list = this.ready.get(key);
    if (!list || !list.includes(warm)) return; // Handed out: its run owns it now.
    warm.dead = true;
    this.ready.set(
      key,
      list.filter((w) => w !== warm),
    );
    void removeContainer(warm.container);
    this.onChange?.();
    this.fill();
  }

  private drainKey(key: string): void {
    const list = this.ready.get(key) ?? [];
    this.ready.delete(key);
    for (const w of list) void removeContainer(w.container);
    this.onChange?.();
  }
}
