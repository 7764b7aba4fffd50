// Every sandbox this Moat process creates is tracked from before the engine is asked to create it
// until its removal is confirmed, so none is ever lost: not when a create call times out but the
// engine creates the container anyway, not when a removal fails because the engine is gone, not
// when the warm pool is cut off from the engine for a while. Each container carries a label with a
// Moat-made key (`moat.sandbox`); `reconcile` lists this process's containers and removes every one
// whose key is not tracked, then retries the removals still owed.
import { randomBytes } from 'node:crypto';
import { engineErrorMessage, type SandboxEngine } from './engine';
import { LABEL_OWNER, ownerId } from './labels';

export const LABEL_SANDBOX = 'moat.sandbox';

export type TrackedRole = 'creating' | 'pool' | 'run' | 'removing';

interface Tracked {
  role: TrackedRole;
  /** The container id, once the engine has answered the create. */
  id?: string;
}

export class SandboxTracker {
  private readonly byKey = new Map<string, Tracked>();

  constructor(
    private readonly engine: SandboxEngine,
    private readonly log: (msg: string) => void,
  ) {}

  /** A new key, tracked as being created; put it on the container as LABEL_SANDBOX. */
  begin(): string {
    const key = randomBytes(12).toString('hex');
    this.byKey.set(key, { role: 'creating' });
    return key;
  }

  /** The create call answered with this container id. */
  created(key: string, id: string, role: 'pool' | 'run'): void {
    const t = this.byKey.get(key);
    if (t) Object.assign(t, { id, role: t.role === 'removing' ? 'removing' : role });
  }

  /** A warm sandbox handed to a run. */
  handOver(key: string): void {
    const t = this.byKey.get(key);
    if (t && t.role === 'pool') t.role = 'run';
  }

  /**
   * Removes a sandbox now if the engine answers, and keeps owing the removal (retried by
   * `reconcile`) if it does not. Resolves true when it is gone.
   */
  async remove(key: string): Promise<boolean> {
    const t = this.byKey.get(key);
    if (!t) return true;
    t.role = 'removing';
    if (!t.id) return false; // the create has not answered: reconcile finds it by its label
    try {
      await this.engine.remove(t.id);
      this.byKey.delete(key);
      return true;
    } catch (err) {
      this.log(`could not remove sandbox ${t.id.slice(0, 12)} yet: ${engineErrorMessage(err)}`);
      return false;
    }
  }

  /** A create that failed or timed out: whatever the engine made of it is to be removed. */
  abandon(key: string): void {
    const t = this.byKey.get(key);
    if (t) t.role = 'removing';
  }

  /** Sandboxes tracked and not yet confirmed removed, by role. */
  counts(): Record<TrackedRole, number> {
    const c: Record<TrackedRole, number> = { creating: 0, pool: 0, run: 0, removing: 0 };
    for (const t of this.byKey.values()) c[t.role]++;
    return c;
  }

  /** True when the container with this label key is tracked as alive (not owed a removal). */
  isTrackedAlive(key: string | undefined): boolean {
    const t = key ? this.byKey.get(key) : undefined;
    return t !== undefined && t.role !== 'removing';
  }

  /**
   * Brings the engine in line with what is tracked: removes this process's containers that are not
   * tracked alive (untracked, or owed a removal), and forgets removals of containers that are gone.
   * Throws when the engine cannot be listed. Returns the container ids removed.
   */
  async reconcile(): Promise<string[]> {
    const mine = (await this.engine.listManaged()).filter((c) => c.labels[LABEL_OWNER] === ownerId());
    const present = new Set<string>();
    const removed: string[] = [];
    for (const c of mine) {
      const key = c.labels[LABEL_SANDBOX];
      if (key) present.add(key);
      const t = key ? this.byKey.get(key) : undefined;
      if (t && t.role !== 'removing') continue;
      if (t && t.role === 'removing' && !t.id) t.id = c.id;
      await this.engine.remove(c.id);
      if (key) this.byKey.delete(key);
      removed.push(c.id);
    }
    // Owed removals whose container the engine no longer has (including creates that never made one).
    for (const [key, t] of [...this.byKey]) {
      if (t.role === 'removing' && !present.has(key)) this.byKey.delete(key);
    }
    return removed;
  }
}
