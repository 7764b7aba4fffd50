// A run's output as the UI holds it, capped at ~2 MB of text per run. Consecutive chunks of the
// same stream merge into segments (so a chatty program is not a million DOM nodes), and segments
// are grouped into blocks that end at a newline: a block that is complete never changes again, so
// appending re-renders and re-lays-out only the last block, not the whole output.
import type { StreamName } from '../../../shared/types';

/** Characters of output the view keeps per run; the rest is dropped with a visible marker. */
export const VIEW_CAP_CHARS = 2 * 1024 * 1024;
/** A block is closed at the first line end past this size. */
const BLOCK_CHARS = 16 * 1024;

export interface OutputSegment {
  stream: StreamName;
  data: string;
}

export interface OutputBlock {
  segments: readonly OutputSegment[];
  chars: number;
  /** The first segment carries on the stream the previous block ended with. */
  continues: boolean;
}

export interface RunOutput {
  blocks: readonly OutputBlock[];
  chars: number;
  /** Output past VIEW_CAP_CHARS arrived and is not shown. */
  truncatedInView: boolean;
}

export const EMPTY_OUTPUT: RunOutput = { blocks: [], chars: 0, truncatedInView: false };

function closed(block: OutputBlock): boolean {
  const last = block.segments[block.segments.length - 1];
  return block.chars >= BLOCK_CHARS && last !== undefined && last.data.endsWith('\n');
}

function appendToBlock(block: OutputBlock, seg: OutputSegment): OutputBlock {
  const segments = block.segments.slice();
  const last = segments[segments.length - 1];
  if (last && last.stream === seg.stream) segments[segments.length - 1] = { stream: last.stream, data: last.data + seg.data };
  else segments.push(seg);
  return { segments, chars: block.chars + seg.data.length, continues: block.continues };
}

export function appendOutput(out: RunOutput, chunks: readonly OutputSegment[], cap = VIEW_CAP_CHARS): RunOutput {
  if (out.truncatedInView || chunks.length === 0) return out;
  const blocks = out.blocks.slice();
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
      const seg = { stream: chunk.stream, data };
      const last = blocks[blocks.length - 1];
      if (last && !closed(last)) blocks[blocks.length - 1] = appendToBlock(last, seg);
      else blocks.push({ segments: [seg], chars: data.length, continues: last?.segments[last.segments.length - 1]?.stream === seg.stream });
      chars += data.length;
    }
    if (truncated) break;
  }
  return { blocks, chars, truncatedInView: truncated };
}

export function outputFrom(chunks: readonly OutputSegment[]): RunOutput {
  return appendOutput(EMPTY_OUTPUT, chunks);
}
