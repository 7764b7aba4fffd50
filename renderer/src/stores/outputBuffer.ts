// A run's output as the UI holds it: consecutive chunks of the same stream merged into segments
// (so a chatty program does not become a million DOM nodes), capped at ~2 MB of text per run.
import type { StreamName } from '../../../shared/types';

/** Characters of output the view keeps per run; the rest is dropped with a visible marker. */
export const VIEW_CAP_CHARS = 2 * 1024 * 1024;
/** Segments stop growing past this so a re-render never copies one giant string. */
const SEGMENT_CHARS = 64 * 1024;

export interface OutputSegment {
  stream: StreamName;
  data: string;
}

export interface RunOutput {
  segments: readonly OutputSegment[];
  chars: number;
  /** Output past VIEW_CAP_CHARS arrived and is not shown. */
  truncatedInView: boolean;
}

export const EMPTY_OUTPUT: RunOutput = { segments: [], chars: 0, truncatedInView: false };

export function appendOutput(out: RunOutput, chunks: readonly OutputSegment[], cap = VIEW_CAP_CHARS): RunOutput {
  if (out.truncatedInView || chunks.length === 0) return out;
  const segments = out.segments.slice();
  let chars = out.chars;
  let truncated = false;
  for (const chunk of chunks) {
    let data = chunk.data;
    const room = cap - chars;
    if (data.length > room) {
      data = data.slice(0, Math.max(0, room));
      truncated = true;
    }
    if (data.length > 0) {
      const last = segments[segments.length - 1];
      if (last && last.stream === chunk.stream && last.data.length + data.length <= SEGMENT_CHARS) {
        segments[segments.length - 1] = { stream: last.stream, data: last.data + data };
      } else {
        segments.push({ stream: chunk.stream, data });
      }
      chars += data.length;
    }
    if (truncated) break;
  }
  return { segments, chars, truncatedInView: truncated };
}

export function outputFrom(chunks: readonly OutputSegment[]): RunOutput {
  return appendOutput(EMPTY_OUTPUT, chunks);
}
