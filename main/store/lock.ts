// An inter-process lock for the files several Moat processes rewrite (the run history): a lock
// file created with O_EXCL that names its owner. Node has no flock(2), and a native module would
// need a rebuild for Electron, so a holder killed with -9 is detected instead: its lock names a
// process that is gone (pid and start time), and the next waiter removes it.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ownerAlive, ownerId } from '../sandbox/labels';

/** A lock is held for one append or one compaction: milliseconds. Past this, something is wrong. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** A lock file without its owner line: its creator died between create and write, or is writing. */
const EMPTY_STALE_MS = 2_000;
/** Another machine's lock (data dir on a network share): its pid cannot be checked here. */
const FOREIGN_STALE_MS = 60_000;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** A process killed but not yet reaped by its parent still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

interface Holder {
  ino: number;
  owner: string;
  ageMs: number;
}

export class FileLock {
  constructor(
    readonly path: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** Runs fn while holding the lock (synchronously: callers never await inside it). */
  withLock<T>(fn: () => T): T {
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  /**
   * Runs an async fn while holding the lock, for work that awaits (keychain calls, provider
   * requests). Waiters sleep without blocking the event loop; the timeout covers the wait only.
   */
  async withLockAsync<T>(fn: () => Promise<T>, waitMs = this.timeoutMs): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (let wait = 5; !this.tryAcquire(deadline, waitMs); wait = Math.min(wait * 2, 100)) {
      await new Promise((r) => setTimeout(r, wait));
    }
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): void {
    const deadline = Date.now() + this.timeoutMs;
    for (let wait = 1; !this.tryAcquire(deadline, this.timeoutMs); wait = Math.min(wait * 2, 25)) sleepSync(wait);
  }

  /** One attempt: true when the lock is now ours; false to wait and try again; throws past the deadline. */
  private tryAcquire(deadline: number, timeoutMs: number): boolean {
    let fd: number | null = null;
    try {
      fd = openSync(this.path, 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      else if (code !== 'EEXIST') throw err;
    }
    if (fd !== null) {
      try {
        writeSync(fd, `${ownerId()}\n`);
      } finally {
        closeSync(fd);
      }
      return true;
    }
    const holder = this.holder();
    if (holder && this.isStale(holder)) {
      this.breakStale(holder);
      return false;
    }
    if (Date.now() > deadline) {
      throw new Error(`${this.path} has been held by ${holder?.owner || 'another process'} for over ${timeoutMs} ms`);
    }
    return false;
  }

  private release(): void {
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  private holder(): Holder | null {
    try {
      const st = statSync(this.path);
      return { ino: st.ino, owner: readFileSync(this.path, 'utf8').trim(), ageMs: Date.now() - st.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  private isStale(h: Holder): boolean {
    if (!h.owner) return h.ageMs > EMPTY_STALE_MS;
    const [host, pid] = h.owner.split(':');
    if (host !== hostname()) return h.ageMs > FOREIGN_STALE_MS;
    return isZombie(Number(pid)) || !ownerAlive(h.owner);
  }

  /**
   * Removes a dead holder's lock. Done under a second lock, re-checking that the file is still
   * that same stale lock: two waiters that both saw it stale would otherwise race, and the slower
   * one could remove the lock the faster one has just taken.
   */
  private breakStale(stale: Holder): void {
    const breaker = `${this.path}.break`;
    let fd: number;
    try {
      fd = openSync(breaker, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Held for microseconds; one that is old was left by a process killed while breaking.
      const age = Date.now() - (statSync(breaker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > EMPTY_STALE_MS) this.unlinkQuietly(breaker);
      else sleepSync(1);
      return;
    }
    closeSync(fd);
    try {
      const again = this.holder();
      if (again && again.ino === stale.ino && this.isStale(again)) this.unlinkQuietly(this.path);
    } finally {
      this.unlinkQuietly(breaker);
    }
  }

  private unlinkQuietly(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
