// Moat's own diagnostic log: one file in the data directory, rotated at a size cap. It never
// receives secrets or program output; user-facing errors travel as MoatError instead.
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_BYTES = 5 * 1024 * 1024;

export type Logger = (msg: string) => void;

export function fileLogger(dataDir: string, alsoStderr = false): Logger {
  const path = join(dataDir, 'moat.log');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return (msg) => {
    const line = `${new Date().toISOString()} [${process.pid}] ${msg}\n`;
    if (alsoStderr) process.stderr.write(`[moat] ${msg}\n`);
    try {
      if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > MAX_BYTES) renameSync(path, `${path}.1`);
      appendFileSync(path, line, { mode: 0o600 });
    } catch {
      // Logging must never break a run.
    }
  };
}
