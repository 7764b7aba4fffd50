// Watches a local sandbox's PID cgroup faster than Docker's stats stream (one sample a second).
// Under gVisor a program's processes cost the sandbox host threads (measured: about 5 per process
// at rest, up to 25 while a shell fork bomb churns), all counted by the cgroup's PID limit, and
// reaching that limit kills the whole sandbox within milliseconds: gVisor's kernel cannot create a
// thread and exits with status 2. Its cgroup is gone by the time Docker reports the exit, so the
// evidence has to be read while the sandbox runs: `pids.events` counts refused forks ("max N"),
// `pids.current` the tasks. Where the cgroup is not on this machine (a remote or virtualised
// engine) nothing is found and the run falls back to the stats stream's samples.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { PidsWatch } from './engine';

const POLL_MS = 40;
/** How long to look for the cgroup after the sandbox was started before giving up. */
const FIND_FOR_MS = 3000;

const LAYOUTS: ((id: string) => string)[] = [
  (id) => `/sys/fs/cgroup/pids/docker/${id}`, // v1, cgroupfs driver
  (id) => `/sys/fs/cgroup/pids/system.slice/docker-${id}.scope`, // v1, systemd driver
  (id) => `/sys/fs/cgroup/system.slice/docker-${id}.scope`, // v2, systemd driver
  (id) => `/sys/fs/cgroup/docker/${id}`, // v2, cgroupfs driver
];
/** The layout this machine's engine used last: tried first (one engine, one layout). */
let lastLayout = 0;

/** The sandbox's cgroup directory, if it exists yet: a stat per layout, no exception on the way. */
function findDir(id: string): string | null {
  for (let k = 0; k < LAYOUTS.length; k++) {
    const i = (lastLayout + k) % LAYOUTS.length;
    const dir = LAYOUTS[i]!(id);
    if (existsSync(`${dir}/pids.current`)) {
      lastLayout = i;
      return dir;
    }
  }
  return null;
}

/**
 * A cgroup file kept open and read again from its start at each poll (a cgroup file is generated
 * afresh on every read at offset 0): one pread a poll instead of open, stat, read and close.
 * Null once the cgroup is gone (its files then fail with ENODEV) or could not be opened.
 */
class CgroupFile {
  private fd: number | null;
  private static readonly buf = Buffer.alloc(256);
  constructor(path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch {
      this.fd = null;
    }
  }
  read(): string | null {
    if (this.fd === null) return null;
    try {
      const n = readSync(this.fd, CgroupFile.buf, 0, CgroupFile.buf.length, 0);
      return CgroupFile.buf.toString('latin1', 0, n);
    } catch {
      this.close();
      return null;
    }
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export function watchCgroupPids(id: string): PidsWatch {
  const started = Date.now();
  let files: { current: CgroupFile; events: CgroupFile } | null = null;
  let peak = 0;
  let limitHit = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = (): void => {
    if (files === null) {
      const dir = findDir(id);
      if (dir !== null) files = { current: new CgroupFile(`${dir}/pids.current`), events: new CgroupFile(`${dir}/pids.events`) };
      else if (Date.now() - started > FIND_FOR_MS) return stop();
    }
    if (files !== null) {
      const current = files.current.read();
      if (current === null) return stop(); // the sandbox is gone
      peak = Math.max(peak, Number(current) || 0);
      const events = files.events.read();
      const max = events ? /^max (\d+)/m.exec(events) : null;
      if (max && Number(max[1]) > 0) limitHit = true;
    }
    timer = setTimeout(poll, POLL_MS);
    timer.unref();
  };
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    files?.current.close();
    files?.events.close();
  };
  poll();
  return {
    get peak() {
      return peak;
    },
    get limitHit() {
      return limitHit;
    },
    stop,
  };
}
