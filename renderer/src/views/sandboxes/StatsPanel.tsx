// Live CPU, memory and process count of the selected run. The samples stay after the run ends.
import { useMemo } from 'react';
import { UPlotChart } from '../../components/UPlotChart';
import { formatBytes } from '../../lib/format';
import { useRunsStore, useSelectedRun } from '../../stores/runs';
import { useRunSamples } from '../../stores/stats';
import { cpuOptions, memoryOptions, pidsOptions } from './chartOptions';
import { toSeries } from './statsSeries';

const CHART_HEIGHT = 110;

export function StatsPanel() {
  const selectedId = useRunsStore((s) => s.selectedId);
  const run = useSelectedRun();
  const samples = useRunSamples(selectedId);
  const series = useMemo(() => toSeries(samples, run?.startedAt), [samples, run?.startedAt]);
  const last = samples[samples.length - 1];

  return (
    <div className="stats" data-testid="stats-chart" data-samples={samples.length}>
      <div className="panel-header">
        <h2>Resources</h2>
        {last && (
          <span className="stats-now" data-testid="stats-now">
            <span className="cpu">CPU {last.cpuPercent.toFixed(1)}%</span>
            <span className="mem">
              Mem {formatBytes(last.memoryBytes)}
              {last.memoryLimitBytes > 0 ? ` / ${formatBytes(last.memoryLimitBytes)}` : ''}
            </span>
            <span
              className="pids"
              title="Tasks in the sandbox's cgroup. Under gVisor this counts the sandbox's own host threads (about 40 when idle), not the program's processes."
            >
              {last.pids} tasks
            </span>
          </span>
        )}
      </div>
      {samples.length === 0 ? (
        <div className="empty-state">
          {selectedId
            ? 'No samples for this run (they arrive about once a second while it runs).'
            : 'Resource usage of the selected run appears here.'}
        </div>
      ) : (
        <div className="charts">
          <UPlotChart options={cpuOptions} data={series.cpu} height={CHART_HEIGHT} />
          <UPlotChart options={memoryOptions} data={series.memory} height={CHART_HEIGHT} />
          <UPlotChart options={pidsOptions} data={series.pids} height={CHART_HEIGHT} />
        </div>
      )}
    </div>
  );
}
