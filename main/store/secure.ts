// Owner-only permissions for the data directory, enforced at every start rather than only when
// things are created: a directory restored from a backup, copied without -p, or loosened by a
// `chmod -R` must not stay readable by other users (it holds code, input and output of runs).
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Moat's own subfolders, whose files it tightens too. Others (electron/: Chromium's profile) only get 0700 on the folder. */
const OWN_FOLDERS = new Set(['output', 'inputs']);

export interface SecureResult {
  /** Paths whose mode was changed. */
  changed: string[];
  /** Paths that could not be changed (owned by another user), with the reason. */
  failed: string[];
}

/** Sets the data dir and its subfolders to 0700 and its files to 0600. */
export function secureDataDir(dir: string): SecureResult {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result: SecureResult = { changed: [], failed: [] };
  tighten(dir, 0o700, result);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Symlinks are left alone: chmod would follow them out of the data dir.
    if (entry.isFile()) tighten(path, 0o600, result);
    else if (entry.isDirectory()) {
      const wasLoose = tighten(path, 0o700, result);
      // Moat creates every file in them 0600, and a 0700 folder already keeps others out of its
      // files; so its (possibly tens of thousands of) files are only walked when the folder had
      // been loosened, most likely together with them.
      if (wasLoose && OWN_FOLDERS.has(entry.name)) {
        for (const f of readdirSync(path, { withFileTypes: true })) if (f.isFile()) tighten(join(path, f.name), 0o600, result);
      }
    }
  }
  return result;
}

/**
 * Sets the mode when it differs; true when it was loose. A file removed meanwhile is no error, and
 * one Moat may not change (another user's) is reported rather than stopping Moat from starting.
 */
function tighten(path: string, mode: number, result: SecureResult): boolean {
  let current: number;
  try {
    current = lstatSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (current === mode) return false;
  try {
    chmodSync(path, mode);
    result.changed.push(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EACCES') result.failed.push(`${path}: ${code}`);
    else if (code !== 'ENOENT') throw err;
  }
  return true;
}
