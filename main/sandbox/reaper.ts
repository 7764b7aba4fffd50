// Containers left behind by Moat processes that are gone (kill -9, power loss) are removed at the
// next start or by `moat reap`; the live containers of other Moat processes are left alone. This
// process's own containers are the tracker's business (tracker.ts), never the reaper's.
import { type SandboxEngine } from './engine';
import { LABEL_OWNER, ownerAlive, ownerId } from './labels';

/** Removes orphans (all of Moat's containers with `all`, except this process's). Returns the ids removed. */
export async function reapOrphans(engine: SandboxEngine, opts: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const c of await engine.listManaged()) {
    const owner = c.labels[LABEL_OWNER];
    if (owner === ownerId()) continue;
    if (!opts.all && ownerAlive(owner)) continue;
    if ((await engine.remove(c.id)) === 'removed') removed.push(c.id);
  }
  return removed;
}
