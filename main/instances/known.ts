// What Moat knows about instances that the providers do not say: whether Moat launched one and
// when (Lambda reports no creation time), or when Moat first saw it. One small owner-only JSON
// file, replaced atomically under a lock, so the CLI, the host and the app can all update it and
// a kill -9 leaves it whole.
import { join } from 'node:path';
import * as z from 'zod';
import { RecordFile } from '../store/record-file';

export const KnownRecord = z.object({
  account: z.string(),
  provider: z.enum(['lambda', 'linode']),
  launchedByMoat: z.boolean(),
  /** When Moat sent the launch request (billing cannot have started earlier). */
  launchedAt: z.number().optional(),
  firstSeenAt: z.number().optional(),
  terminatedAt: z.number().optional(),
});
export type KnownRecord = z.infer<typeof KnownRecord>;

/** Provider IDs are unique per provider, not across them. */
export function knownKey(provider: string, id: string): string {
  return `${provider}:${id}`;
}

export class KnownInstances {
  private readonly file: RecordFile<KnownRecord>;

  constructor(dataDir: string) {
    this.file = new RecordFile(join(dataDir, 'instances.json'), 'instances', KnownRecord);
  }

  get path(): string {
    return this.file.path;
  }

  /** An unreadable file only costs the launch times: cost falls back to "since first seen". */
  all(): Record<string, KnownRecord> {
    return this.file.all();
  }

  /** Read-modify-write under the lock; returns the new map. */
  update(f: (all: Record<string, KnownRecord>) => void): Record<string, KnownRecord> {
    return this.file.update(f);
  }

  recordLaunch(provider: string, id: string, account: string, launchedAt: number): void {
    this.update((all) => {
      all[knownKey(provider, id)] = { account, provider: provider as KnownRecord['provider'], launchedByMoat: true, launchedAt };
    });
  }

  markTerminated(provider: string, id: string, at: number): void {
    this.update((all) => {
      const r = all[knownKey(provider, id)];
      if (r) r.terminatedAt = at;
    });
  }

  /**
   * After a successful listing of one account: instances never seen before get firstSeenAt = now;
   * records of this account's instances that the listing no longer shows are dropped, unless they
   * were written after the listing started (a launch racing the listing in another process).
   */
  observe(
    account: string,
    provider: KnownRecord['provider'],
    ids: string[],
    listedSince: number,
    now = Date.now(),
  ): Record<string, KnownRecord> {
    const current = this.all();
    const seen = new Set(ids.map((id) => knownKey(provider, id)));
    const stale = Object.entries(current).some(
      ([k, r]) => r.account === account && r.provider === provider && !seen.has(k) && (r.launchedAt ?? r.firstSeenAt ?? 0) < listedSince,
    );
    // Most listings change nothing: no write, no lock.
    if (!stale && [...seen].every((k) => current[k])) return current;
    return this.update((all) => {
      for (const k of seen) all[k] ??= { account, provider, launchedByMoat: false, firstSeenAt: now };
      for (const [k, r] of Object.entries(all)) {
        if (r.account === account && r.provider === provider && !seen.has(k) && (r.launchedAt ?? r.firstSeenAt ?? 0) < listedSince)
          delete all[k];
      }
    });
  }
}
