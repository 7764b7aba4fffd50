// Knowing that the program ended without waiting for the sandbox to be torn down. The bootstrap
// runs the program as a child and, when it exits, writes a per-run random marker to stdout and the
// marker plus the exit status to stderr. Each stream is ordered, so once both markers are seen
// every byte the program wrote has arrived. This saves the ~70 ms that gVisor, containerd and
// dockerd take to report a container's exit. A program that forged the marker could only end its
// own run early, with an exit status of its choosing: nothing it could not do by exiting.
import type { StreamName } from '../../shared/types';

const STATUS_DIGITS = 3;

export class ExitMarker {
  private readonly needle: Buffer;
  private readonly held: Record<StreamName, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly seen: Record<StreamName, boolean> = { stdout: false, stderr: false };
  private status: number | null = null;
  /** stdout: the marker was seen and the trailer is still reading. */
  private trailing = false;

  /** `onExit(null)`: the marker came with a status that is not three digits 0-255. */
  constructor(
    nonce: string,
    private readonly onExit: (status: number | null) => void,
    private readonly trailer?: Trailer,
  ) {
    this.needle = Buffer.from(nonce, 'ascii');
  }

  /** Passes a chunk of one stream through; returns the program's bytes, without any marker. */
  filter(stream: StreamName, chunk: Buffer): Buffer {
    if (this.seen[stream]) return Buffer.alloc(0);
    if (stream === 'stdout' && this.trailing) {
      if (this.trailer!.push(chunk)) this.markSeen('stdout');
      return Buffer.alloc(0);
    }
    const data = this.held[stream].length ? Buffer.concat([this.held[stream], chunk]) : chunk;
    const at = data.indexOf(this.needle);
    if (at >= 0) {
      const tail = stream === 'stderr' ? STATUS_DIGITS : 0;
      const end = at + this.needle.length + tail;
      if (data.length < end) {
        // The status digits have not arrived yet.
        this.held[stream] = data.subarray(at);
        return data.subarray(0, at);
      }
      if (stream === 'stderr') this.status = parseStatus(data.subarray(at + this.needle.length, end).toString('latin1'));
      this.held[stream] = Buffer.alloc(0);
      if (stream === 'stdout' && this.trailer) {
        this.trailing = true;
        if (this.trailer.push(Buffer.from(data.subarray(end)))) this.markSeen('stdout');
        return data.subarray(0, at);
      }
      this.markSeen(stream);
      return data.subarray(0, at);
    }
    const keep = this.partialSuffix(data);
    this.held[stream] = Buffer.from(data.subarray(data.length - keep));
    return data.subarray(0, data.length - keep);
  }

  private markSeen(stream: StreamName): void {
    if (stream === 'stdout') this.trailing = false;
    this.seen[stream] = true;
    if (this.seen.stdout && this.seen.stderr) this.onExit(this.status);
  }

  /** Bytes held back as a possible marker start; they were output after all (sandbox ended). */
  drain(stream: StreamName): Buffer {
    const b = this.held[stream];
    this.held[stream] = Buffer.alloc(0);
    return b;
  }

  /** Length of the longest suffix of data that is a proper prefix of the marker. */
  private partialSuffix(data: Buffer): number {
    const max = Math.min(this.needle.length - 1, data.length);
    for (let n = max; n > 0; n--) {
      if (data.subarray(data.length - n).equals(this.needle.subarray(0, n))) return n;
    }
    return 0;
  }
}

/** Exactly three ASCII digits with a value 0-255 (what the bootstrap prints), else null. */
export function parseStatus(text: string): number | null {
  if (!/^[0-9]{3}$/.test(text)) return null;
  const n = Number(text);
  return n <= 255 ? n : null;
}

/**
 * The shell lines that run the program and report its exit (see ExitMarker). With a trailer
 * (artifacts.ts), everything else in the sandbox is killed first, so that what follows the stdout
 * marker is the script's alone, then the trailer is written after the stdout marker and before the
 * stderr one.
 */
export function exitMarkerLines(nonce: string, trailer?: string[]): string[] {
  if (!trailer) return ['s=$?', `printf '%s' '${nonce}'`, `printf '%s%0${STATUS_DIGITS}d' '${nonce}' "$s" >&2`, 'exit "$s"'];
  return [
    's=$?',
    // PID 1 (the bootstrap's shell) is spared by kill -1: the program's leftovers are not. Only
    // as PID 1, i.e. in the sandbox's own PID namespace (never anywhere it could reach others).
    '[ "$$" -eq 1 ] && kill -9 -1 2>/dev/null',
    `printf '%s' '${nonce}'`,
    ...trailer,
    `printf '%s%0${STATUS_DIGITS}d' '${nonce}' "$s" >&2`,
    'exit "$s"',
  ];
}

/** Takes the bytes that follow the stdout marker; true once it has all it expects. */
export interface Trailer {
  push(chunk: Buffer): boolean;
}
