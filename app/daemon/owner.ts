// Which process owns a data directory: the desktop app, `moat serve` or `moat daemon`. One at a
// time; the owner serves the CLI socket, and `moat run` sends its runs there. The claim is a file
// created with O_EXCL that names its owner (pid and start time, like main/store/lock.ts): Node has
// no flock(2), so an owner killed with -9 is detected instead (its pid is gone or reused) and the
// next claimant takes over. Claims and takeovers happen under a short FileLock, so two starting
// owners cannot both decide the old one is stale and both win.
import { createHash } from 'node:crypto';
import { openSync, readFileSync, statSync, unlinkSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileLock } from '../../main/store/lock';
import { ownerAlive, ownerId } from '../../main/sandbox/labels';

export type OwnerKind = 'daemon' | 'serve' | 'app';

export interface OwnerInfo {
  /** host:pid:start-time, as in container labels (main/sandbox/labels.ts). */
  owner: string;
  pid: number;
  kind: OwnerKind;
  /** The CLI socket (or named pipe) it serves. */
  socket: string;
  startedAt: number;
}

export function ownerLockPath(dataDir: string): string {
  return join(dataDir, 'owner.lock');
}

/**
 * The CLI socket: `<dataDir>/moat.sock` (the data dir is 0700, the socket 0600). Windows has no
 * unix sockets with file modes: a named pipe per data directory (its default ACL admits the
 * creating user, SYSTEM and administrators only).
 */
export function socketPathFor(dataDir: string): string {
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\moat-${createHash('sha256').update(dataDir.toLowerCase()).digest('hex').slice(0, 24)}`;
  }
  return join(dataDir, 'moat.sock');
}

/** The current claim, whether its owner is alive or not; null when there is none (or it is unreadable). */
export function readOwner(dataDir: string): OwnerInfo | null {
  try {
    const info = JSON.parse(readFileSync(ownerLockPath(dataDir), 'utf8')) as OwnerInfo;
    return typeof info.pid === 'number' && typeof info.owner === 'string' ? info : null;
  } catch {
    return null;
  }
}

/** True when the process named by the claim still runs (and is not a zombie awaiting its reaper). */
export function ownerRunning(info: OwnerInfo): boolean {
  if (!ownerAlive(info.owner)) return false;
  try {
    const stat = readFileSync(`/proc/${info.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // No /proc (macOS): kill(pid, 0) in ownerAlive is all there is.
  }
}

/** The live owner, or null (no claim, or a claim left by a process that is gone). */
export function liveOwner(dataDir: string): OwnerInfo | null {
  const info = readOwner(dataDir);
  return info && ownerRunning(info) ? info : null;
}

export type Claim = { owned: true; info: OwnerInfo; release(): void } | { owned: false; info: OwnerInfo };

/**
 * Claims the data directory for this process, taking over a claim whose owner is gone. When a
 * live process holds it, says who (owned: false).
 */
export function claimOwnership(dataDir: string, kind: OwnerKind): Claim {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = ownerLockPath(dataDir);
  const guard = new FileLock(`${path}.guard`, 5_000);
  return guard.withLock((): Claim => {
    const existing = readRaw(path);
    if (existing) {
      const info = parse(existing.text);
      // A claim being written (empty) is only stale once old: the guard makes that a crash.
      if (info && ownerRunning(info)) return { owned: false, info };
      if (!info && existing.ageMs < 2_000) {
        return { owned: false, info: { owner: '?', pid: 0, kind: 'daemon', socket: socketPathFor(dataDir), startedAt: 0 } };
      }
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const info: OwnerInfo = { owner: ownerId(), pid: process.pid, kind, socket: socketPathFor(dataDir), startedAt: Date.now() };
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(info) + '\n');
    } finally {
      closeSync(fd);
    }
    return {
      owned: true,
      info,
      release: () => {
        // Only our own claim: one taken over after we were judged gone is not ours to remove.
        guard.withLock(() => {
          if (readOwner(dataDir)?.owner === info.owner) {
            try {
              unlinkSync(path);
            } catch {
              // Already gone.
            }
          }
        });
      },
    };
  });
}

function readRaw(path: string): { text: string; ageMs: number } | null {
  try {
    const st = statSync(path);
    return { text: readFileSync(path, 'utf8'), ageMs: Date.now() - st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function parse(text: string): OwnerInfo | null {
  try {
    const info = JSON.parse(text) as OwnerInfo;
    return typeof info.pid === 'number' && typeof info.owner === 'string' ? info : null;
  } catch {
    return null;
  }
}
