// A host's live usage: CPU (of all cores), memory, network, disk and, when it has GPUs, one chart
// per GPU metric; the current values as text; and the sandboxes running there. Main samples for
// two minutes after each usage.watch, so the panel asks again every minute while it is shown.
import { useEffect, useMemo } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { ProviderStats } from './ProviderStats';
import { UPlotChart } from '../../components/UPlotChart';
import { gpuIndexes, toUsageSeries, USAGE_INTERVALS, usageNow } from '../../lib/usage';
import { useNavStore } from '../../stores/nav';
import { useRunsStore } from '../../stores/runs';
import { DEFAULT_USAGE_INTERVAL_MS, useTargetRuns, useTargetSamples, useUsageStore } from '../../stores/usage';
import { gpuOptions, hostCpuOptions, hostDiskOptions, hostMemoryOptions, hostNetOptions } from './usageChartOptions';

const CHART_HEIGHT = 110;
const REWATCH_MS = 60_000;

function Chart({
  metric,
  options,
  data,
}: {
  metric: string;
  options: Parameters<typeof UPlotChart>[0]['options'];
  data: Parameters<typeof UPlotChart>[0]['data'];
}) {
  return (
    <div className="usage-chart" data-testid="usage-chart" data-metric={metric}>
      <UPlotChart options={options} data={data} height={CHART_HEIGHT} />
    </div>
  );
}

export function UsagePanel({ target, instance }: { target: string; instance?: boolean }) {
  const samples = useTargetSamples(target);
  const runs = useTargetRuns(target);
  const intervalMs = useUsageStore((s) => s.intervalMs[target] ?? DEFAULT_USAGE_INTERVAL_MS);
  const error = useUsageStore((s) => s.errors[target] ?? null);
  const watch = useUsageStore((s) => s.watch);
  const setInterval_ = useUsageStore((s) => s.setInterval);
  const selectRun = useRunsStore((s) => s.select);
  const show = useNavStore((s) => s.show);

  useEffect(() => {
    void watch(target);
    const timer = setInterval(() => void watch(target), REWATCH_MS);
    return () => clearInterval(timer);
  }, [target, intervalMs, watch]);

  const series = useMemo(() => toUsageSeries(samples), [samples]);
  const gpuKey = gpuIndexes(samples).join(',');
  const gpuCharts = useMemo(() => {
    const indexes = gpuKey === '' ? [] : gpuKey.split(',').map(Number);
    return indexes.length === 0
      ? null
      : {
          util: gpuOptions('util', indexes),
          memory: gpuOptions('memory', indexes),
          temp: gpuOptions('temp', indexes),
          power: gpuOptions('power', indexes),
        };
  }, [gpuKey]);
  const last = samples[samples.length - 1];
  const now = last ? usageNow(last) : null;

  const openRun = (id: string) => {
    void selectRun(id);
    show('sandboxes');
  };

  return (
    <div className="host-section" data-testid="host-usage" data-samples={samples.length}>
      <div className="section-head">
        <h3 className="subhead">Usage</h3>
        <label className="inline-field">
          <span>Every</span>
          <select data-testid="usage-interval" value={intervalMs} onChange={(e) => setInterval_(target, Number(e.target.value))}>
            {USAGE_INTERVALS.map((i) => (
              <option key={i.ms} value={i.ms}>
                {i.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <ErrorNotice error={error} testId="usage-error" />}
      {instance && <ProviderStats target={target} />}
      {now && last ? (
        <div className="usage-now">
          <span className="cpu" data-testid="usage-cpu">
            {now.cpu}
          </span>
          <span className="mem" data-testid="usage-mem">
            {now.mem}
          </span>
          <span data-testid="usage-disk">{now.disk}</span>
          <span data-testid="usage-net">{now.net}</span>
          {now.gpus.map((g) => (
            <span key={g.index} data-testid="usage-gpu" data-index={g.index}>
              {g.text}
            </span>
          ))}
          {last.gpuError && (
            <span className="warn-text" data-testid="usage-gpu-error">
              GPUs: {last.gpuError}
            </span>
          )}
        </div>
      ) : (
        !error && <div className="empty-state">Waiting for the first sample…</div>
      )}
      {samples.length > 0 && (
        <div className="charts usage-charts">
          <Chart metric="cpu" options={hostCpuOptions} data={series.cpu} />
          <Chart metric="memory" options={hostMemoryOptions} data={series.memory} />
          <Chart metric="net" options={hostNetOptions} data={series.net} />
          <Chart metric="disk" options={hostDiskOptions} data={series.disk} />
          {gpuCharts && (
            <>
              <Chart metric="gpu-util" options={gpuCharts.util} data={series.gpuUtil} />
              <Chart metric="gpu-memory" options={gpuCharts.memory} data={series.gpuMemory} />
              <Chart metric="gpu-temp" options={gpuCharts.temp} data={series.gpuTemp} />
              <Chart metric="gpu-power" options={gpuCharts.power} data={series.gpuPower} />
            </>
          )}
        </div>
      )}
      <div className="usage-runs" data-testid="usage-runs" data-count={runs.length}>
        <span className="muted small">Sandboxes running here: </span>
        {runs.length === 0 ? (
          <span className="muted small">none</span>
        ) : (
          runs.map((id) => (
            <button
              key={id}
              type="button"
              className="link-button mono"
              data-testid="usage-run"
              data-run-id={id}
              onClick={() => openRun(id)}
            >
              {id.slice(0, 12)}
            </button>
          ))
        )}
      </div>
    </div>
  );
}
