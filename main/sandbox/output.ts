// Output handling for one run: split Docker's multiplexed attach stream into stdout/stderr,
// decode UTF-8 across chunk boundaries, keep at most `capBytes` and coalesce what is emitted so a
// flood costs Moat bounded memory and a bounded number of events.
import type { StreamName } from '../../shared/types';

/**
 * Parses Docker's stream framing (non-TTY attach): an 8-byte header [stream, 0, 0, 0, size(u32 BE)]
 * then `size` bytes. Holds at most one partial frame header; payload bytes are passed on as they
 * arrive, so memory stays bounded whatever the frame size.
 */
export class DockerDemuxer {
  private header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private current: StreamName = 'stdout';

  constructor(private readonly onData: (stream: StreamName, chunk: Buffer) => void) {}

  push(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerFill, buf.length - off);
        buf.copy(this.header, this.headerFill, off, off + take);
        this.headerFill += take;
        off += take;
        if (this.headerFill < 8) return;
        this.headerFill = 0;
        // 1 = stdout, 2 = stderr; 0 (stdin) is never sent back; treat unknown as stdout.
        this.current = this.header[0] === 2 ? 'stderr' : 'stdout';
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, buf.length - off);
      this.onData(this.current, buf.subarray(off, off + take));
      this.remaining -= take;
      off += take;
    }
  }
}

export interface CapturedOutput {
  /** Text; `base64` (set at close) where the text is not exactly the bytes the program wrote. */
  chunks: { stream: StreamName; data: string; base64?: string }[];
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
}

export interface OutputSinkOptions {
  capBytes: number;
  /** Called with coalesced text, at most every `flushMs`. */
  emit: (stream: StreamName, data: string) => void;
  /** Called once, when the cap is first exceeded. */
  onCap: () => void;
  flushMs?: number;
}

/** Keeps the first `capBytes` of output (both streams together) and emits it in batches. */
export class OutputSink {
  private kept = 0;
  private readonly decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };
  private pending: { stream: StreamName; data: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  /** The kept bytes of each captured chunk, to tell at close whether its text is exact. */
  private raw: Buffer[][] = [];
  readonly captured: CapturedOutput = { chunks: [], stdoutBytes: 0, stderrBytes: 0, truncated: false };

  constructor(private readonly opts: OutputSinkOptions) {}

  write(stream: StreamName, chunk: Buffer): void {
    if (stream === 'stdout') this.captured.stdoutBytes += chunk.length;
    else this.captured.stderrBytes += chunk.length;
    if (this.captured.truncated) return;
    const room = this.opts.capBytes - this.kept;
    let part = chunk;
    if (chunk.length > room) {
      part = chunk.subarray(0, Math.max(0, room));
      this.captured.truncated = true;
    }
    this.kept += part.length;
    if (part.length > 0) {
      this.lastChunk(stream);
      this.raw[this.raw.length - 1]!.push(Buffer.from(part));
      const text = this.decoders[stream].decode(part, { stream: !this.captured.truncated });
      if (text.length > 0) this.append(stream, text);
    }
    if (this.captured.truncated) {
      // Flush what the decoder holds of the stream that was cut; the other one is flushed at close.
      this.flush();
      this.opts.onCap();
    } else if (this.timer === null) {
      // Leading edge: output after a quiet spell goes out at once; a stream of it is batched.
      const wait = this.lastFlush + (this.opts.flushMs ?? 40) - Date.now();
      if (wait <= 0) this.flush();
      else this.timer = setTimeout(() => this.flush(), wait);
    }
  }

  /** Flushes decoders and pending output; call once when the run's streams have ended. */
  close(): CapturedOutput {
    if (!this.captured.truncated) {
      for (const s of ['stdout', 'stderr'] as const) {
        const tail = this.decoders[s].decode();
        if (tail.length > 0) this.append(s, tail);
      }
    }
    this.flush();
    this.captured.chunks.forEach((c, i) => {
      const bytes = Buffer.concat(this.raw[i] ?? []);
      if (!Buffer.from(c.data, 'utf8').equals(bytes)) c.base64 = bytes.toString('base64');
    });
    this.raw = [];
    return this.captured;
  }

  /** The captured chunk of this stream that output goes to (a new one after the other stream's). */
  private lastChunk(stream: StreamName): { stream: StreamName; data: string } {
    const last = this.captured.chunks[this.captured.chunks.length - 1];
    if (last && last.stream === stream) return last;
    const c = { stream, data: '' };
    this.captured.chunks.push(c);
    this.raw.push([]);
    return c;
  }

  private append(stream: StreamName, data: string): void {
    this.lastChunk(stream).data += data;
    const lastPending = this.pending[this.pending.length - 1];
    if (lastPending && lastPending.stream === stream) lastPending.data += data;
    else this.pending.push({ stream, data });
  }

  private flush(): void {
    this.lastFlush = Date.now();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const out = this.pending;
    this.pending = [];
    for (const p of out) this.opts.emit(p.stream, p.data);
  }
}
