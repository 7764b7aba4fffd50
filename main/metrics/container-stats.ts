// Live resource usage of one sandbox from Docker's stats stream (about one sample a second).
import type { SandboxEngine } from '../sandbox/engine';
import type { StatsSample } from '../../shared/types';

export interface RawStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number };
}

/** Converts one raw Docker stats document to a sample; null when it carries no usable delta yet. */
export function toSample(runId: string, raw: RawStats, now = Date.now()): StatsSample | null {
  const cpu = raw.cpu_stats;
  const pre = raw.precpu_stats;
  const mem = raw.memory_stats;
  if (!cpu?.cpu_usage || !mem || mem.usage === undefined) return null;
  let cpuPercent = 0;
  const cpuDelta = (cpu.cpu_usage.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  if (pre?.system_cpu_usage && sysDelta > 0 && cpuDelta >= 0) {
    cpuPercent = (cpuDelta / sysDelta) * (cpu.online_cpus ?? 1) * 100;
  }
  // Same as the docker CLI: page cache that can be dropped is not the program's memory.
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
  return {
    runId,
    t: now,
    cpuPercent: Math.round(cpuPercent * 10) / 10,
    memoryBytes: Math.max(0, mem.usage - inactive),
    memoryLimitBytes: mem.limit ?? 0,
    pids: raw.pids_stats?.current ?? 0,
  };
}

/**
 * How long into a run the stats stream starts. Docker samples every open stream about once a
 * second (the first at once when no other stream is open), and each sample costs the engine ~8 ms
 * of CPU (dockerd, containerd and the shim reading the sandbox's cgroups) and Moat ~3 ms: measured
 * on a 2-core machine with runsc under the runc shim. Most runs of a harness's small programs are
 * over before this and cost none. What stays correct without a sample: the task peak and the PID
 * limit come from the cgroup watch (pids-watch.ts); the UI's live usage starts a second later; a
 * run that short has no peak memory recorded; the engine's silence is judged from when the stream
 * starts (a hung engine is noticed at most this much later).
 */
export const STATS_AFTER_MS = 1000;

/**
 * Streams samples until stopped, from `afterMs` into the run; `onSilence` when the engine sends
 * none for its silence deadline once the stream is open.
 */
export function sampleSandbox(
  engine: SandboxEngine,
  id: string,
  runId: string,
  onSample: (s: StatsSample) => void,
  onSilence: () => void,
  afterMs = STATS_AFTER_MS,
): () => void {
  let watch: { stop(): void } | null = null;
  let stopped = false;
  const open = (): void => {
    if (stopped) return;
    watch = engine.stats(
      id,
      (raw) => {
        const sample = toSample(runId, raw as RawStats);
        if (sample) onSample(sample);
      },
      onSilence,
    );
  };
  const timer = afterMs > 0 ? setTimeout(open, afterMs) : null;
  if (!timer) open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watch?.stop();
  };
}
