// The messages between the owner's main thread and the scan worker (scan-worker.ts), which runs
// each filtered run's RunFilter off the main thread. Runs are multiplexed by a numeric id; per run,
// messages arrive in the order they were posted, both ways. Bytes cross as transferred
// ArrayBuffers (moved, not copied), several chunks packed in one with their lengths beside them.
import type { EgressPolicy } from '../../shared/egress';
import type { StreamName } from '../../shared/types';
import type { Finding } from './stream';

export type StopWhy = 'secret-found' | 'output-limit';

/** The stream of each packed chunk: 0 stdout, 1 stderr. */
export type StreamCode = 0 | 1;
export const streamCode = (s: StreamName): StreamCode => (s === 'stdout' ? 0 : 1);
export const streamName = (c: StreamCode): StreamName => (c === 0 ? 'stdout' : 'stderr');

export interface OpenOptions {
  policy: EgressPolicy;
  secrets: string[];
  suppressed: string[];
  capBytes: number;
}

export type ToWorker =
  | ({ t: 'open'; id: number } & OpenOptions)
  /** Chunks pushed in this order: chunk i is `lens[i]` bytes of `buf`, of stream `streams[i]`. */
  | { t: 'push'; id: number; streams: StreamCode[]; lens: number[]; buf: ArrayBuffer }
  /** The run's output ended: flush, answer with `ended`, forget the run. */
  | { t: 'end'; id: number };

export interface Counters {
  findings: number;
  critical: number;
  blocked: boolean;
  firstCritical: Finding | null;
}

/** What a push, a timed release or the end produced, for one run. */
export interface Output {
  id: number;
  /** Released chunks, packed as in a push (absent when nothing was released). */
  streams?: StreamCode[];
  lens?: number[];
  buf?: ArrayBuffer;
  /** New findings since the last message: where, rule and masked preview, never the secret. */
  findings?: Finding[];
  stop?: StopWhy;
  /** Pushed bytes scanned by this step: the main thread's count of bytes in flight goes down by it. */
  scanned: number;
  counters: Counters;
}

export type FromWorker = ({ t: 'out' } & Output) | ({ t: 'ended' } & Output);

/** Packs chunks into one buffer to transfer. */
export function pack(chunks: { stream: StreamName; data: Uint8Array }[]): { streams: StreamCode[]; lens: number[]; buf: ArrayBuffer } {
  let total = 0;
  for (const c of chunks) total += c.data.length;
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const streams: StreamCode[] = [];
  const lens: number[] = [];
  let off = 0;
  for (const c of chunks) {
    bytes.set(c.data, off);
    off += c.data.length;
    streams.push(streamCode(c.stream));
    lens.push(c.data.length);
  }
  return { streams, lens, buf };
}

/** The packed chunks as Buffers over the one buffer (no copy). */
export function unpack(streams: StreamCode[], lens: number[], buf: ArrayBuffer): { stream: StreamName; data: Buffer }[] {
  const out: { stream: StreamName; data: Buffer }[] = [];
  let off = 0;
  for (let i = 0; i < lens.length; i++) {
    out.push({ stream: streamName(streams[i]!), data: Buffer.from(buf, off, lens[i]!) });
    off += lens[i]!;
  }
  return out;
}
