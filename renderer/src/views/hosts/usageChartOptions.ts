// uPlot options for a host's usage charts: time on x (epoch seconds), styled like the sandbox
// charts. GPU charts get one series per GPU, so their options depend on how many there are.
import type uPlot from 'uplot';

type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

const AXIS = {
  stroke: '#8b98a8',
  grid: { stroke: '#1f2733', width: 1 },
  ticks: { stroke: '#1f2733', width: 1 },
  font: '11px system-ui, sans-serif',
};

const nonNegative: uPlot.Scale['range'] = (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)];
const percent: uPlot.Scale['range'] = (_u, _min, max) => [0, Math.max(100, max ?? 0)];

function base(yLabel: string, range: uPlot.Scale['range']): Omit<ChartOptions, 'series'> {
  return {
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
    scales: { x: { time: true }, y: { range } },
    axes: [
      { ...AXIS, size: 28 },
      { ...AXIS, label: yLabel, labelSize: 14, labelFont: '11px system-ui, sans-serif', size: 52, space: 18 },
    ],
  };
}

const line = (label: string, stroke: string, fill?: string): uPlot.Series => ({
  label,
  stroke,
  ...(fill ? { fill } : {}),
  width: 1.5,
  points: { show: false },
});

export const hostCpuOptions: ChartOptions = {
  ...base('CPU % (all cores)', percent),
  series: [{}, line('CPU %', '#7cc4ff', 'rgba(124,196,255,0.12)')],
};

export const hostMemoryOptions: ChartOptions = {
  ...base('memory GiB', nonNegative),
  series: [{}, line('Used GiB', '#c792ea', 'rgba(199,146,234,0.12)'), { ...line('Total GiB', '#ff6b6b'), dash: [4, 4], width: 1 }],
};

export const hostNetOptions: ChartOptions = {
  ...base('network KiB/s', nonNegative),
  series: [{}, line('Received KiB/s', '#4ade80'), line('Sent KiB/s', '#f7b267')],
};

export const hostDiskOptions: ChartOptions = {
  ...base('disk GiB', nonNegative),
  series: [{}, line('Disk used GiB', '#7cc4ff', 'rgba(124,196,255,0.12)'), line('Docker GiB', '#c792ea')],
};

const GPU_COLOURS = ['#7cc4ff', '#c792ea', '#4ade80', '#f7b267', '#ff6b6b', '#ffd166', '#5eead4', '#f0abfc'];

export type GpuMetric = 'util' | 'memory' | 'temp' | 'power';

const GPU_AXES: Record<GpuMetric, { label: string; range: uPlot.Scale['range'] }> = {
  util: { label: 'GPU busy %', range: percent },
  memory: { label: 'GPU mem GiB', range: nonNegative },
  temp: { label: 'GPU °C', range: nonNegative },
  power: { label: 'GPU W', range: nonNegative },
};

export function gpuOptions(metric: GpuMetric, indexes: readonly number[]): ChartOptions {
  const { label, range } = GPU_AXES[metric];
  return {
    ...base(label, range),
    series: [{}, ...indexes.map((index, n) => line(`GPU ${index}`, GPU_COLOURS[n % GPU_COLOURS.length]!))],
  };
}
