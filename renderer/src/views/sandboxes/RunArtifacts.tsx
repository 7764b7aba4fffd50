// The artifacts a run asked for: size, what became of each, egress-filter marks, and a download
// (the bytes are read with runs.get when asked for, as a data URL).
import { useState } from 'react';
import type { RunRecord } from '../../../../shared/types';
import { formatBytes } from '../../lib/format';
import { api } from '../../transport/client';

export function RunArtifacts({ run }: { run: RunRecord }) {
  const [links, setLinks] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  if (!run.artifacts?.length) return null;
  const load = async (): Promise<void> => {
    try {
      const detail = await api()['runs.get']({ id: run.id });
      const next: Record<string, string> = {};
      for (const a of detail.artifacts ?? []) if (a.base64 !== undefined) next[a.path] = `data:application/octet-stream;base64,${a.base64}`;
      setLinks(next);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="run-artifacts" data-testid="run-artifacts">
      <strong className="small">Artifacts</strong>
      <ul>
        {run.artifacts.map((a) => (
          <li key={a.path} data-testid="run-artifact" data-status={a.status}>
            <code>{a.path}</code> <span className="muted small">{a.size >= 0 ? formatBytes(a.size) : ''}</span>{' '}
            <span className={`badge tone-${a.status === 'saved' ? 'neutral' : 'warn'}`}>{a.status}</span>
            {a.redacted && <span className="badge tone-alarm">secrets redacted</span>}
            {!a.redacted && (a.findings ?? 0) > 0 && <span className="badge tone-alarm">{a.findings} finding(s)</span>}
            {a.binary && <span className="badge tone-neutral">binary</span>}{' '}
            {a.status === 'saved' &&
              (links[a.path] ? (
                <a href={links[a.path]} download={a.path.split('/').pop()}>
                  download
                </a>
              ) : (
                run.keep !== false && (
                  <button type="button" className="link" onClick={() => void load()}>
                    get
                  </button>
                )
              ))}
          </li>
        ))}
      </ul>
      {error && <div className="end-detail tone-warn">{error}</div>}
    </div>
  );
}
