// uPlot options for the three small resource charts, styled for the dark theme.
import type uPlot from 'uplot';

const AXIS = {
  stroke: '#8b98a8',
  grid: { stroke: '#1f2733', width: 1 },
  ticks: { stroke: '#1f2733', width: 1 },
  font: '11px system-ui, sans-serif',
};

function base(yLabel: string, yRange: uPlot.Scale['range']): Omit<uPlot.Options, 'width' | 'height' | 'series'> {
  return {
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
    scales: { x: { time: false }, y: { range: yRange } },
    axes: [
      { ...AXIS, values: (_u, splits) => splits.map((v) => `${v}s`), size: 28 },
      { ...AXIS, label: yLabel, labelSize: 14, labelFont: '11px system-ui, sans-serif', size: 48, space: 18 },
    ],
  };
}

const nonNegative: uPlot.Scale['range'] = (_u, _min, max) => [0, Math.max(1, max * 1.15)];

export const cpuOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  ...base('CPU %', nonNegative),
  series: [{}, { label: 'CPU %', stroke: '#7cc4ff', fill: 'rgba(124,196,255,0.12)', width: 1.5, points: { show: false } }],
};

export const memoryOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  ...base('MB', nonNegative),
  series: [
    {},
    { label: 'Memory MB', stroke: '#c792ea', fill: 'rgba(199,146,234,0.12)', width: 1.5, points: { show: false } },
    { label: 'Limit MB', stroke: '#ff6b6b', dash: [4, 4], width: 1, points: { show: false } },
  ],
};

export const pidsOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  ...base('tasks', nonNegative),
  series: [{}, { label: 'Processes', stroke: '#f7b267', width: 1.5, points: { show: false } }],
};
