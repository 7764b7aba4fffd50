// The provider's own figures for an instance target, beside Moat's samples: Linode's 5-minute
// averages of CPU and network (the last point, and the last 24 h's peak); Lambda has no metrics
// API, which the note says. Read when the panel opens and every five minutes while it is shown.
import { useEffect, useState } from 'react';
import type { ErrorPayload } from '../../../../shared/errors';
import type { ProviderStats as Stats } from '../../../../shared/remote';
import { ErrorNotice } from '../../components/ErrorNotice';
import { toDisplayError } from '../../lib/errors';
import { api } from '../../transport/client';

const REFRESH_MS = 5 * 60_000;

function lastAndPeak(points: [number, number][] | undefined): { last: number; peak: number; at: number } | null {
  if (!points || points.length === 0) return null;
  const [at, last] = points[points.length - 1]!;
  return { last, peak: Math.max(...points.map((p) => p[1])), at };
}

function bits(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)} Gbit/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} Mbit/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kbit/s`;
  return `${Math.round(v)} bit/s`;
}

export function ProviderStats({ target }: { target: string }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<ErrorPayload | null>(null);

  useEffect(() => {
    let live = true;
    const read = async () => {
      try {
        const s = await api()['usage.providerStats']({ target });
        if (live) {
          setStats(s);
          setError(null);
        }
      } catch (err) {
        if (live) setError(toDisplayError(err));
      }
    };
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [target]);

  if (error) return <ErrorNotice error={error} testId="provider-stats-error" />;
  if (!stats) return null;
  const cpu = lastAndPeak(stats.cpuPercent);
  const rx = lastAndPeak(stats.netInBitsPerSec);
  const tx = lastAndPeak(stats.netOutBitsPerSec);
  return (
    <div className="provider-stats" data-testid="provider-stats" data-available={stats.available}>
      <span className="muted small">{stats.note}</span>
      {stats.available && cpu && (
        <span className="small" data-testid="provider-stats-values">
          {' '}
          CPU {cpu.last.toFixed(1)}% (peak {cpu.peak.toFixed(1)}%)
          {rx && tx && ` · in ${bits(rx.last)} · out ${bits(tx.last)}`} · as of {new Date(cpu.at).toLocaleTimeString()}
        </span>
      )}
    </div>
  );
}
