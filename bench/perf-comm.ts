// Where the machine's CPU goes while a column runs, by process, from Linux `perf` sampling every
// CPU (`perf record -a`) with the programs processes execute: the short-lived processes a
// sandbox's life starts (the `runsc` create/start/delete commands, the containerd shims, gVisor's
// sandbox and gofer, dockerd's re-executions of itself) are gone before /proc could be read, and
// several of them share one name (`exe`). Used by bench/harness.ts where
// `perf` can sample the whole machine; skipped with the reason elsewhere.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** The groups a sample falls into, in the order they are reported. */
export const PERF_GROUPS = [
  [
    'gvisorSandboxAndGofer',
    'gVisor’s sandbox (sentry) and gofer processes, the program running inside (runsc re-executes itself as them: /proc/self/exe, named `exe`)',
  ],
  ['runscCommands', '`runsc` commands the shims run (create, start, delete, kill) and the runtime’s wrapper script'],
  ['containerdShims', 'containerd-shim-runc-v2 processes (one per sandbox)'],
  ['dockerd', 'dockerd'],
  [
    'dockerdReexec',
    'dockerd re-executing itself (/proc/PID/exe): for a `docker run --network none` container, libnetwork’s prestart hook (libnetwork-setkey); Moat’s sandboxes have networking disabled and no such hook',
  ],
  ['containerd', 'containerd'],
  ['moat', 'Node processes (the Moat daemon, its scan worker, the Moat CLI; this harness) and the native `moat run` client'],
  ['dockerCli', 'the `docker` CLI'],
  ['kernelAndOther', 'kernel threads (kworker, ksoftirqd, …) and anything else'],
  ['profiler', '`perf` itself'],
] as const;
export type PerfGroup = (typeof PERF_GROUPS)[number][0];

/**
 * The group of a sample: by the program its process last executed when the recording saw that
 * (`binary`), else by its name (`comm`: processes started before the recording, threads).
 */
export function groupOf(binary: string | undefined, comm: string): PerfGroup {
  if (binary !== undefined) {
    if (binary === '/proc/self/exe') return 'gvisorSandboxAndGofer';
    if (/^\/proc\/\d+\/exe$/.test(binary)) return 'dockerdReexec';
    if (binary.endsWith('/runsc') || binary.includes('/docker/runtimes/')) return 'runscCommands';
    if (binary.includes('containerd-shim')) return 'containerdShims';
  }
  if (comm === 'exe') return 'gvisorSandboxAndGofer';
  if (comm === 'runsc') return 'runscCommands';
  if (comm.startsWith('containerd-shim')) return 'containerdShims';
  if (comm === 'dockerd') return 'dockerd';
  if (comm === 'containerd') return 'containerd';
  if (comm === 'node' || comm === 'moat-run' || comm === 'moat' || comm.startsWith('moat-')) return 'moat';
  if (comm === 'docker') return 'dockerCli';
  if (comm === 'perf' || comm.startsWith('perf-')) return 'profiler';
  return 'kernelAndOther';
}

/**
 * Sample counts by group from `perf script -F comm,pid,event,trace` of a recording of cpu-clock
 * samples and sched_process_exec events (in time order: an exec changes what its process's later
 * samples count as). Throws when no sample could be read: output that changed shape must not pass
 * as an empty recording.
 */
export function parsePerfScript(script: string): Record<PerfGroup, number> {
  const out = Object.fromEntries(PERF_GROUPS.map(([g]) => [g, 0])) as Record<PerfGroup, number>;
  const binaryOf = new Map<string, string>();
  let samples = 0;
  for (const line of script.split('\n')) {
    const m = /^\s*(.+?)\s+(\d+)\s+([\w:-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, comm, pid, event, trace] = m as unknown as [string, string, string, string, string];
    if (event.endsWith('sched_process_exec')) {
      const f = /filename=(\S+)/.exec(trace);
      if (f) binaryOf.set(pid, f[1]!);
    } else if (event === 'cpu-clock') {
      // A sample of the idle task (swapper, pid 0) is a CPU with nothing to run.
      if (pid === '0') continue;
      out[groupOf(binaryOf.get(pid), comm)]++;
      samples++;
    }
  }
  if (samples === 0) throw new Error(`no cpu-clock samples in the perf script output: ${script.slice(0, 200)}`);
  return out;
}

/** Why `perf` cannot sample the whole machine here, or null when it can. */
export function perfUnavailable(): string | null {
  const v = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return 'no `perf` (Debian: apt-get install linux-perf)';
  const probe = spawnSync(
    'perf',
    ['record', '-a', '-q', '-e', 'cpu-clock', '-e', 'sched:sched_process_exec', '-o', '/dev/null', '--', 'true'],
    {
      encoding: 'utf8',
    },
  );
  if (probe.status !== 0) return `perf cannot sample every CPU here: ${(probe.stderr || '').trim().split('\n')[0] ?? ''}`;
  return null;
}

/** Starts sampling every CPU into `file`; `stop()` ends it and returns the samples by group. */
export function startPerf(file: string, hz = 499): { stop(): Promise<Record<PerfGroup, number>> } {
  const child: ChildProcess = spawn(
    'perf',
    ['record', '-a', '-q', '-F', String(hz), '-e', 'cpu-clock', '-e', 'sched:sched_process_exec', '-o', file],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const rep = spawnSync('perf', ['script', '-i', file, '-F', 'comm,pid,event,trace'], { encoding: 'utf8', maxBuffer: 256 << 20 });
      if (rep.status !== 0) throw new Error(`perf script failed: ${rep.stderr || err}`);
      return parsePerfScript(rep.stdout);
    },
  };
}
