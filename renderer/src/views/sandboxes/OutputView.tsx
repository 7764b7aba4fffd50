// The streamed output: stdout and stderr as distinct spans, following the tail unless the user
// scrolled up to read.
import { memo, useLayoutEffect, useRef } from 'react';
import type { RunStatus } from '../../../../shared/types';
import { useRunOutput } from '../../stores/runs';
import { VIEW_CAP_CHARS, type OutputBlock } from '../../stores/outputBuffer';
import { formatBytes } from '../../lib/format';
import { redactionTitle, splitRedactions } from '../../lib/egress';

const STICK_PX = 32;

/** A segment's text with each `[REDACTED:rule]` marked in place (the text itself is unchanged). */
function SegmentText({ data }: { data: string }) {
  const parts = splitRedactions(data);
  if (parts.length === 1 && parts[0]!.kind === 'text') return data;
  return parts.map((p, i) =>
    p.kind === 'text' ? (
      p.text
    ) : (
      <mark key={i} className="redaction" data-testid="redaction" data-rule={p.rule} title={redactionTitle(p.rule)}>
        {p.text}
      </mark>
    ),
  );
}

/** Closed blocks never change, so memo skips them and only the growing last block re-renders. */
const Block = memo(function Block({ block }: { block: OutputBlock }) {
  return (
    <div className="output-block">
      {block.segments.map((seg, i) => (
        <span key={i} className={i === 0 && block.continues ? `${seg.stream} cont` : seg.stream}>
          <SegmentText data={seg.data} />
        </span>
      ))}
    </div>
  );
});

export function OutputView({ runId, status }: { runId: string; status: RunStatus }) {
  const output = useRunOutput(runId);
  const ref = useRef<HTMLDivElement>(null);
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

  const empty = output.blocks.length === 0;
  return (
    <div className="output-wrap">
      <div className="output" data-testid="output" ref={ref} onScroll={onScroll} tabIndex={0}>
        {output.blocks.map((block, i) => (
          <Block key={i} block={block} />
        ))}
        {output.truncatedInView && (
          <div className="output-marker" data-testid="output-truncated">
            [output truncated in view: only the first {formatBytes(VIEW_CAP_CHARS)} are shown]
          </div>
        )}
      </div>
      {/* Outside the output element so the output's text is only ever what the run wrote. */}
      {empty && <div className="output-placeholder">{status === 'finished' ? '(no output)' : 'Waiting for output…'}</div>}
    </div>
  );
}
