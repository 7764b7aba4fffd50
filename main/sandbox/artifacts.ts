// Artifacts: files the program wrote under /work, brought out through the sandbox's own stdout
// (not the engine's archive API, which cannot see gVisor's tmpfs). After the program exits the
// script kills whatever the program left running (exit-marker.ts), prints the run's stdout marker,
// then for each requested path, in order, a header line and its bytes as one base64 line:
//
//   A<index> <size> D\n<base64>\n     brought out
//   A<index> <size> T\n               too large for what is left of the run's artifact cap
//   A<index> -1 M\n                   no such regular file (or not readable)
//   Z\n                               the end
//
// and only then the stderr marker with the exit status. The marker's nonce is random per run and
// sent only in the script; once the program and its leftovers are killed nothing but the script
// writes to stdout, so the program cannot inject a frame (it could only print the marker if it
// learned the nonce, and then only bring out bytes it could have written to the file anyway: the
// paths, the cap and the egress filter apply to whatever arrives). The parser here is strict and
// bounded: a frame it does not expect ends the trailer, and what was not brought out is
// `incomplete`.
import { shQuote } from './bootstrap';
import type { Trailer } from './exit-marker';

export interface CollectedArtifact {
  path: string;
  /** Bytes in the sandbox; -1 when missing. */
  size: number;
  status: 'saved' | 'too-large' | 'missing' | 'incomplete';
  data?: Buffer;
}

/** The script lines that print the trailer (see the top of this file). */
export function artifactLines(paths: string[], capBytes: number): string[] {
  const lines = [
    `moat_left=${Math.max(0, Math.floor(capBytes))}`,
    'moat_art() {',
    '  if [ -f "$2" ] && [ -r "$2" ]; then',
    '    moat_n=$(wc -c < "$2" 2>/dev/null); moat_n=${moat_n##* }',
    `    case $moat_n in ''|*[!0-9]*) printf 'A%s -1 M\\n' "$1"; return;; esac`,
    '    if [ "$moat_n" -gt "$moat_left" ]; then',
    `      printf 'A%s %s T\\n' "$1" "$moat_n"`,
    '    else',
    '      moat_left=$((moat_left - moat_n))',
    `      printf 'A%s %s D\\n' "$1" "$moat_n"`,
    '      base64 -w0 < "$2" 2>/dev/null',
    `      printf '\\n'`,
    '    fi',
    '  else',
    `    printf 'A%s -1 M\\n' "$1"`,
    '  fi',
    '}',
  ];
  paths.forEach((p, i) => lines.push(`moat_art ${i} ${shQuote(`/work/${p}`)}`));
  lines.push(`printf 'Z\\n'`);
  return lines;
}

const HEADER = /^A(\d{1,3}) (-1|\d{1,12}) ([DTM])$/;
const MAX_HEADER = 40;

/** Reads the trailer as it arrives; `result()` says what became of every requested path. */
export class ArtifactTrailer implements Trailer {
  private readonly out: CollectedArtifact[];
  private next = 0;
  private left: number;
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** Reading the base64 line of artifact `next` of `size` bytes. */
  private reading: { size: number; expect: number } | null = null;
  private done = false;

  constructor(
    paths: string[],
    private readonly capBytes: number,
  ) {
    this.out = paths.map((path) => ({ path, size: -1, status: 'incomplete' }));
    this.left = capBytes;
  }

  push(chunk: Buffer): boolean {
    let off = 0;
    while (!this.done && off < chunk.length) {
      const nl = chunk.indexOf(0x0a, off);
      const end = nl === -1 ? chunk.length : nl;
      const limit = this.reading ? this.reading.expect : MAX_HEADER;
      if (this.lineBytes + (end - off) > limit) {
        this.done = true; // longer than any frame we expect: not ours
        break;
      }
      this.line.push(chunk.subarray(off, end));
      this.lineBytes += end - off;
      if (nl === -1) break;
      off = nl + 1;
      const text = Buffer.concat(this.line);
      this.line = [];
      this.lineBytes = 0;
      this.take(text);
    }
    return this.done;
  }

  /** One whole line of the trailer. */
  private take(line: Buffer): void {
    if (this.reading) {
      const { size } = this.reading;
      this.reading = null;
      const data = Buffer.from(line.toString('latin1'), 'base64');
      const a = this.out[this.next]!;
      a.size = size;
      if (data.length === size && line.length === this.expectFor(size)) {
        a.status = 'saved';
        a.data = data;
      }
      this.next++;
      return;
    }
    const text = line.toString('latin1');
    if (text === 'Z') {
      this.done = true;
      return;
    }
    const m = HEADER.exec(text);
    if (!m || Number(m[1]) !== this.next || this.next >= this.out.length) {
      this.done = true;
      return;
    }
    const size = Number(m[2]);
    const a = this.out[this.next]!;
    if (m[3] === 'M') {
      a.status = 'missing';
      this.next++;
    } else if (m[3] === 'T' && size >= 0) {
      a.size = size;
      a.status = 'too-large';
      this.next++;
    } else if (m[3] === 'D' && size >= 0 && size <= this.left) {
      this.left -= size;
      this.reading = { size, expect: this.expectFor(size) };
    } else {
      this.done = true;
    }
  }

  private expectFor(size: number): number {
    return 4 * Math.ceil(size / 3);
  }

  /** What became of each path (those the trailer never reached: incomplete). */
  result(): CollectedArtifact[] {
    return this.out.map((a) => ({ ...a }));
  }

  get cap(): number {
    return this.capBytes;
  }
}
