// The streamed output: stdout and stderr as distinct spans, following the tail unless the user
// scrolled up to read.
import { useLayoutEffect, useRef } from 'react';
import type { RunStatus } from '../../../../shared/types';
import { useRunOutput } from '../../stores/runs';
import { VIEW_CAP_CHARS } from '../../stores/outputBuffer';
import { formatBytes } from '../../lib/format';

const STICK_PX = 32;

export function OutputView({ runId, status }: { runId: string; status: RunStatus }) {
  const output = useRunOutput(runId);
  const ref = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useLayoutEffect(() => {
    stick.current = true;
  }, [runId]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [output, runId]);

  const onScroll = () => {
    const el = ref.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
  };

  const empty = output.segments.length === 0;
  return (
    <div className="output-wrap">
      <pre className="output" data-testid="output" ref={ref} onScroll={onScroll} tabIndex={0}>
        {output.segments.map((seg, i) => (
          <span key={i} className={seg.stream}>
            {seg.data}
          </span>
        ))}
        {output.truncatedInView && (
          <span className="output-marker" data-testid="output-truncated">
            {`\n[output truncated in view: only the first ${formatBytes(VIEW_CAP_CHARS)} are shown]\n`}
          </span>
        )}
      </pre>
      {/* Outside the <pre> so the output's text is only ever what the run wrote. */}
      {empty && <div className="output-placeholder">{status === 'finished' ? '(no output)' : 'Waiting for output…'}</div>}
    </div>
  );
}
