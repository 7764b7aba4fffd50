// Crash-safe file primitives. A kill -9 (or power loss) at any moment leaves every file either
// as it was or as it was meant to be: whole files are replaced by rename after fsync, and logs
// are appended line by line, a torn last line being ignored on read.
//
// Files written once per run (the run history's log, inputs and output) take `sync: 'background'`:
// written and renamed at once, so a killed process loses nothing, and flushed to the disk by an
// fsync in libuv's thread pool instead of on the main thread, where the eight fsyncs of one run
// held every other run and request for 10-30 ms (more on a slow disk). What power loss can then
// take is the last moments of history, never a torn file: readers skip what they cannot read.
import {
  close,
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  mkdirSync,
  open,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** fsync of a file, then of its directory, in the thread pool; failures are not the writer's. */
function syncInBackground(path: string, dir: string): void {
  pending++;
  const syncPath = (p: string, then: () => void): void =>
    open(p, 'r', (err, fd) => {
      if (err) return then();
      fsync(fd, () => close(fd, () => then()));
    });
  syncPath(path, () => syncPath(dir, syncFinished));
}

let pending = 0;
const idleWaiters: (() => void)[] = [];

/** One background fsync has ended: whoever waits for all of them is let go at the last. */
function syncFinished(): void {
  if (--pending === 0) for (const w of idleWaiters.splice(0)) w();
}

/** Resolves once every background fsync started so far has finished (tests, shutdown). */
export function backgroundSyncsDone(): Promise<void> {
  return pending === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
}

export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600, opts: { sync?: 'now' | 'background' } = {}): void {
  const background = opts.sync === 'background';
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (!background) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  if (background) syncInBackground(path, dir);
  else fsyncDir(dir);
}

/** Reads a file, or returns null when it does not exist. */
export function readFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * An append-only JSON-lines log, shared safely by several Moat processes (desktop app, headless
 * host, CLI runs): each append is one write(2) of one whole line with O_APPEND, then fsync; each
 * reader consumes only complete lines, from where it stopped, and starts over if the file was
 * replaced (compaction). Writers that also replace the file hold a FileLock around both (runs.ts).
 */
export class AppendLog {
  private fd: number | null = null;
  private fdIno = 0;
  // The reader keeps its file open: while it does, the file's inode cannot be freed and handed to
  // a later compaction's new file, so "same inode" reliably means "same file".
  private readFd: number | null = null;
  private readIno = 0;
  private readOffset = 0;
  /** A background fsync is running (sync: 'background'), and whether lines came after it started. */
  private syncing = false;
  private dirty = false;

  constructor(
    readonly path: string,
    private readonly opts: { sync?: 'now' | 'background' } = {},
  ) {}

  /**
   * Complete lines added since the last call (by any process); `reset` when the file was replaced
   * and `values` hold the whole log again. A torn or corrupt line is skipped, never fatal.
   */
  readNew(): { reset: boolean; values: unknown[] } {
    const current = statSync(this.path, { throwIfNoEntry: false });
    if (!current) return { reset: false, values: [] };
    let reset = false;
    if (this.readFd === null || current.ino !== this.readIno) {
      let fd: number;
      try {
        fd = openSync(this.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { reset: false, values: [] };
        throw err;
      }
      this.closeReader();
      reset = this.readIno !== 0;
      this.readFd = fd;
      this.readIno = fstatSync(fd).ino;
      this.readOffset = 0;
    }
    const fd = this.readFd;
    const size = fstatSync(fd).size;
    if (size < this.readOffset) {
      // Truncated in place (not something Moat does): read it all again.
      reset = true;
      this.readOffset = 0;
    }
    if (size === this.readOffset) return { reset, values: [] };
    const buf = Buffer.alloc(size - this.readOffset);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, this.readOffset + got);
      if (n === 0) break;
      got += n;
    }
    // Only whole lines: a line still being written by another process is read next time.
    const end = buf.lastIndexOf(0x0a, got - 1);
    if (end < 0) return { reset, values: [] };
    this.readOffset += end + 1;
    const values: unknown[] = [];
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        values.push(JSON.parse(line));
      } catch {
        // Torn write from a crash: the record before it is still the latest good one.
      }
    }
    return { reset, values };
  }

  /**
   * Appends one line. Returns true when this instance's own reader was at the end of the log and
   * has been moved past the line, so `readNew` will not hand it back (the caller has the value
   * already; parsing it again was most of what recording a run cost the history). Only exact when
   * no other process appends meanwhile: callers hold the log's lock.
   */
  append(value: unknown): boolean {
    // Another process may have compacted the log (a new file under the same name): follow it.
    // Our open fd keeps the old inode alive, so a different inode here always means a new file.
    const st = statSync(this.path, { throwIfNoEntry: false });
    const ino = st?.ino;
    if (this.fd !== null && ino !== this.fdIno) this.closeWriter();
    const readerAtEnd = this.fd !== null && st !== undefined && this.readFd !== null && this.readIno === ino && this.readOffset === st.size;
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, 'a', 0o600);
      this.fdIno = fstatSync(this.fd).ino;
      // A crash may have left a torn line without its newline: start ours on a fresh line.
      writeSync(this.fd, '\n');
    }
    const line = Buffer.from(JSON.stringify(value) + '\n', 'utf8');
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    if (readerAtEnd) this.readOffset += line.length;
    if (this.opts.sync === 'background') this.syncSoon();
    else fsyncSync(this.fd);
    return readerAtEnd;
  }

  /** One fsync at a time in the thread pool; lines appended meanwhile are covered by the next. */
  private syncSoon(): void {
    if (this.syncing) {
      this.dirty = true;
      return;
    }
    const fd = this.fd!;
    this.syncing = true;
    pending++;
    fsync(fd, () => {
      this.syncing = false;
      syncFinished();
      if (this.dirty && this.fd === fd) {
        this.dirty = false;
        this.syncSoon();
      }
    });
  }

  /**
   * Replaces the whole log with these values (atomically). The caller must have read everything
   * others appended (readNew) and must hold the log's lock, so that nobody appends meanwhile; the
   * reader then continues after the new file's end, having just written what it holds.
   */
  rewrite(values: unknown[]): void {
    this.closeWriter();
    writeFileAtomic(this.path, values.map((v) => JSON.stringify(v) + '\n').join(''));
    this.closeReader();
    this.readFd = openSync(this.path, 'r');
    this.readIno = fstatSync(this.readFd).ino;
    this.readOffset = fstatSync(this.readFd).size;
  }

  close(): void {
    this.closeWriter();
    this.closeReader();
  }

  private closeWriter(): void {
    if (this.fd !== null) {
      // Whatever a background fsync has not covered yet is flushed before the file is let go.
      if (this.syncing || this.dirty) fsyncSync(this.fd);
      this.dirty = false;
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private closeReader(): void {
    if (this.readFd !== null) {
      closeSync(this.readFd);
      this.readFd = null;
    }
  }
}
