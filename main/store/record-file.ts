// A small owner-only JSON file holding one map of records, shared by every Moat process (CLI,
// host, app): read without a lock (it is only ever replaced whole, atomically), updated
// read-modify-write under a lock file, so a kill -9 at any moment leaves the old or the new map.
// An unreadable or invalid file reads as empty: what these files hold can be rebuilt or lost
// without harm (launch times, what Moat last wrote to a firewall).
import * as z from 'zod';
import { readFileOrNull, writeFileAtomic } from './durable';
import { FileLock } from './lock';

export class RecordFile<R> {
  private readonly lock: FileLock;
  private readonly file: z.ZodType<{ version: 1 } & Record<string, unknown>>;

  /** `field` names the map inside the file: `{"version": 1, "<field>": {...}}`. */
  constructor(
    readonly path: string,
    private readonly field: string,
    record: z.ZodType<R>,
  ) {
    this.lock = new FileLock(`${path}.lock`);
    this.file = z.object({ version: z.literal(1), [field]: z.record(z.string(), record) }) as unknown as z.ZodType<
      { version: 1 } & Record<string, unknown>
    >;
  }

  all(): Record<string, R> {
    const text = readFileOrNull(this.path);
    if (text === null) return {};
    try {
      const r = this.file.safeParse(JSON.parse(text));
      return r.success ? (r.data[this.field] as Record<string, R>) : {};
    } catch {
      return {};
    }
  }

  /** Read-modify-write under the lock; returns the new map. */
  update(f: (all: Record<string, R>) => void): Record<string, R> {
    return this.lock.withLock(() => {
      const all = this.all();
      f(all);
      writeFileAtomic(this.path, JSON.stringify({ version: 1, [this.field]: all }, null, 2) + '\n', 0o600);
      return all;
    });
  }
}
