// Watches a local sandbox's PID cgroup faster than Docker's stats stream (one sample a second).
// Under gVisor a program's processes cost the sandbox host threads (measured: about 5 per process
// at rest, up to 25 while a shell fork bomb churns), all counted by the cgroup's PID limit, and
// reaching that limit kills the whole sandbox within milliseconds: gVisor's kernel cannot create a
// thread and exits with status 2. Its cgroup is gone by the time Docker reports the exit, so the
// evidence has to be read while the sandbox runs: `pids.events` counts refused forks ("max N"),
// `pids.current` the tasks. Where the cgroup is not on this machine (a remote or virtualised
// engine) nothing is found and the run falls back to the stats stream's samples.
import { readFileSync } from 'node:fs';
import type { PidsWatch } from './engine';

const POLL_MS = 40;
/** How long to look for the cgroup after the sandbox was started before giving up. */
const FIND_FOR_MS = 3000;

function candidates(id: string): string[] {
  return [
    `/sys/fs/cgroup/pids/docker/${id}`, // v1, cgroupfs driver
    `/sys/fs/cgroup/pids/system.slice/docker-${id}.scope`, // v1, systemd driver
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`, // v2, systemd driver
    `/sys/fs/cgroup/docker/${id}`, // v2, cgroupfs driver
  ];
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function watchCgroupPids(id: string): PidsWatch {
  const started = Date.now();
  let dir: string | null = null;
  let peak = 0;
  let limitHit = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = (): void => {
    if (dir === null) {
      dir = candidates(id).find((d) => readOrNull(`${d}/pids.current`) !== null) ?? null;
      if (dir === null && Date.now() - started > FIND_FOR_MS) return stop();
    }
    if (dir !== null) {
      const current = readOrNull(`${dir}/pids.current`);
      if (current === null) return stop(); // the sandbox is gone
      peak = Math.max(peak, Number(current) || 0);
      const events = readOrNull(`${dir}/pids.events`);
      const max = events ? /^max (\d+)/m.exec(events) : null;
      if (max && Number(max[1]) > 0) limitHit = true;
    }
    timer = setTimeout(poll, POLL_MS);
    timer.unref();
  };
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
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
