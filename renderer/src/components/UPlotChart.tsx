// A uPlot chart that follows its container's width and takes new data without being rebuilt.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

interface Props {
  /** Options without width/height; a new object rebuilds the chart, so memoize it. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  className?: string;
}

export function UPlotChart({ options, data, height, className }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const plot = new uPlot({ ...options, width: Math.max(100, host.clientWidth), height }, dataRef.current, host);
    plotRef.current = plot;
    const resize = new ResizeObserver(() => {
      const width = Math.max(100, host.clientWidth);
      if (width !== plot.width) plot.setSize({ width, height });
    });
    resize.observe(host);
    return () => {
      resize.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    plotRef.current?.setData(data);
  }, [data]);

  return <div ref={hostRef} className={className} />;
}
