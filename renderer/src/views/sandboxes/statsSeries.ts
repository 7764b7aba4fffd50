// Turns a run's samples into uPlot's column arrays, with x in seconds since the run started.
import type uPlot from 'uplot';
import type { StatsSample } from '../../../../shared/types';

const MB = 1024 * 1024;

export interface StatsSeries {
  cpu: uPlot.AlignedData;
  memory: uPlot.AlignedData;
  pids: uPlot.AlignedData;
}

/** The limit line is drawn once usage passes this share of it; below, it would flatten the curve. */
const SHOW_LIMIT_FROM = 0.4;

export function toSeries(samples: readonly StatsSample[], startedAt?: number): StatsSeries {
  const t0 = startedAt ?? samples[0]?.t ?? 0;
  const x = samples.map((s) => Math.max(0, (s.t - t0) / 1000));
  const nearLimit = samples.some((s) => s.memoryLimitBytes > 0 && s.memoryBytes >= s.memoryLimitBytes * SHOW_LIMIT_FROM);
  return {
    cpu: [x, samples.map((s) => s.cpuPercent)],
    memory: [
      x,
      samples.map((s) => s.memoryBytes / MB),
      samples.map((s) => (nearLimit && s.memoryLimitBytes > 0 ? s.memoryLimitBytes / MB : null)),
    ],
    pids: [x, samples.map((s) => s.pids)],
  };
}
