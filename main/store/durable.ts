// Crash-safe file primitives. A kill -9 (or power loss) at any moment leaves every file either
// as it was or as it was meant to be: whole files are replaced by rename after fsync, and logs
// are appended line by line, a torn last line being ignored on read.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  fsyncDir(dir);
}

/** Reads a file, or returns null when it does not exist. */
export function readFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** An append-only JSON-lines log. Each append is one write(2) of one whole line, then fsync. */
export class AppendLog {
  private fd: number | null = null;

  constructor(readonly path: string) {}

  /** Every complete, parseable line; a torn or corrupt line is skipped, never fatal. */
  readAll(): unknown[] {
    const text = readFileOrNull(this.path);
    if (text === null) return [];
    const out: unknown[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // Torn write from a crash: the record before it is still the latest good one.
      }
    }
    return out;
  }

  append(value: unknown): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, 'a', 0o600);
      // A crash may have left a torn line without its newline: start ours on a fresh line.
      writeSync(this.fd, '\n');
    }
    const line = Buffer.from(JSON.stringify(value) + '\n', 'utf8');
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    fsyncSync(this.fd);
  }

  /** Replaces the whole log with these values (atomically). */
  rewrite(values: unknown[]): void {
    this.close();
    writeFileAtomic(this.path, values.map((v) => JSON.stringify(v) + '\n').join(''));
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
