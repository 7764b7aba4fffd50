// Pure pieces of host usage: uPlot columns from a target's samples (x in epoch seconds), and the
// current values as text. CPU is shown as a share of all cores, so a full host reads 100%.
import type uPlot from 'uplot';
import type { HostUsage } from '../../../shared/remote';
import { formatBytes } from './format';

const GIB = 1024 ** 3;
const KIB = 1024;

export interface UsageSeries {
  cpu: uPlot.AlignedData;
  memory: uPlot.AlignedData;
  net: uPlot.AlignedData;
  disk: uPlot.AlignedData;
  /** One series per GPU in each; empty arrays when there are no GPUs. */
  gpuUtil: uPlot.AlignedData;
  gpuMemory: uPlot.AlignedData;
  gpuTemp: uPlot.AlignedData;
  gpuPower: uPlot.AlignedData;
}

/** 100 = every core busy; null when main could not tell yet (the first sample). */
export function cpuOfAllCores(s: Pick<HostUsage, 'cpuPercent' | 'cpuCount'>): number | null {
  if (s.cpuPercent === null) return null;
  return s.cpuPercent / Math.max(1, s.cpuCount);
}

/** The GPU indexes seen in any sample, in order: a chart has one series each. */
export function gpuIndexes(samples: readonly HostUsage[]): number[] {
  const seen = new Set<number>();
  for (const s of samples) for (const g of s.gpus) seen.add(g.index);
  return [...seen].sort((a, b) => a - b);
}

function gpuColumns(samples: readonly HostUsage[], indexes: readonly number[], pick: (g: HostUsage['gpus'][number]) => number | null) {
  return indexes.map((index) =>
    samples.map((s) => {
      const g = s.gpus.find((x) => x.index === index);
      return g ? pick(g) : null;
    }),
  );
}

export function toUsageSeries(samples: readonly HostUsage[]): UsageSeries {
  const x = samples.map((s) => s.at / 1000);
  const gpus = gpuIndexes(samples);
  return {
    cpu: [x, samples.map(cpuOfAllCores)],
    memory: [x, samples.map((s) => (s.mem ? s.mem.usedBytes / GIB : null)), samples.map((s) => (s.mem ? s.mem.totalBytes / GIB : null))],
    net: [
      x,
      samples.map((s) => (s.net ? s.net.rxBytesPerSec / KIB : null)),
      samples.map((s) => (s.net ? s.net.txBytesPerSec / KIB : null)),
    ],
    disk: [
      x,
      samples.map((s) => (s.disk ? s.disk.usedBytes / GIB : null)),
      samples.map((s) => (s.dockerDisk ? s.dockerDisk.usedBytes / GIB : null)),
    ],
    gpuUtil: [x, ...gpuColumns(samples, gpus, (g) => g.utilPercent)],
    gpuMemory: [x, ...gpuColumns(samples, gpus, (g) => (g.memUsedMiB === null ? null : g.memUsedMiB / 1024))],
    gpuTemp: [x, ...gpuColumns(samples, gpus, (g) => g.tempC)],
    gpuPower: [x, ...gpuColumns(samples, gpus, (g) => g.powerW)],
  };
}

export function formatRateBytes(bytesPerSec: number): string {
  return `${formatBytes(Math.round(bytesPerSec))}/s`;
}

export function percentText(used: number, total: number): string {
  return total > 0 ? ` (${((used / total) * 100).toFixed(0)}%)` : '';
}

export interface UsageNow {
  cpu: string;
  mem: string;
  disk: string;
  net: string;
  gpus: { index: number; text: string }[];
}

const n = (v: number | null, unit: string, digits = 0) => (v === null ? '-' : `${v.toFixed(digits)}${unit}`);

export function usageNow(s: HostUsage): UsageNow {
  const cpu = cpuOfAllCores(s);
  return {
    cpu:
      `CPU ${cpu === null ? 'measuring…' : `${cpu.toFixed(1)}%`} of ${s.cpuCount} ${s.cpuCount === 1 ? 'core' : 'cores'}` +
      (s.load1 === null ? '' : ` · load ${s.load1.toFixed(2)}`),
    mem: s.mem
      ? `Memory ${formatBytes(s.mem.usedBytes)} / ${formatBytes(s.mem.totalBytes)}${percentText(s.mem.usedBytes, s.mem.totalBytes)}`
      : 'Memory -',
    disk:
      (s.disk
        ? `Disk ${formatBytes(s.disk.usedBytes)} / ${formatBytes(s.disk.totalBytes)}${percentText(s.disk.usedBytes, s.disk.totalBytes)}`
        : 'Disk -') + (s.dockerDisk ? ` · Docker ${formatBytes(s.dockerDisk.usedBytes)} / ${formatBytes(s.dockerDisk.totalBytes)}` : ''),
    net: s.net ? `Network ↓ ${formatRateBytes(s.net.rxBytesPerSec)} ↑ ${formatRateBytes(s.net.txBytesPerSec)}` : 'Network measuring…',
    gpus: s.gpus.map((g) => ({
      index: g.index,
      text:
        `GPU ${g.index} ${g.name}: ${n(g.utilPercent, '%')} busy · ` +
        `${g.memUsedMiB === null ? '-' : formatBytes(g.memUsedMiB * 1024 * 1024)} / ${g.memTotalMiB === null ? '-' : formatBytes(g.memTotalMiB * 1024 * 1024)} · ` +
        `${n(g.tempC, ' °C')} · ${n(g.powerW, ' W')}${g.powerLimitW === null ? '' : ` of ${g.powerLimitW.toFixed(0)} W`}`,
    })),
  };
}

export const USAGE_INTERVALS: readonly { ms: number; label: string }[] = [
  { ms: 2000, label: '2 s' },
  { ms: 5000, label: '5 s' },
  { ms: 15_000, label: '15 s' },
  { ms: 60_000, label: '60 s' },
];
