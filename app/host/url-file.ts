// Where `moat serve` puts its URL when stdout is not a terminal. The URL carries the access token,
// and a non-terminal stdout is usually a log file (systemd, nohup, CI) that others may read and
// that outlives the process; so the URL goes to an owner-only file in the data directory instead,
// and stdout only names that file.
import fs from 'node:fs';
import path from 'node:path';

export const URL_FILE_NAME = 'host-url';

/**
 * Writes `url` to DATA_DIR/host-url, readable by the owner only (0600), replacing any earlier one
 * atomically, so a reader never sees a partial URL or a moment where the file is more open.
 */
export function writeUrlFile(dataDir: string, url: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, URL_FILE_NAME);
  const tmp = `${file}.${process.pid}.tmp`;
  // 'wx': a new file, created 0600 (the umask can only narrow it); never a file or link left there.
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${url}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

/** Removes the file at exit if it still holds this process's URL (another host may have replaced it). */
export function removeUrlFile(file: string, url: string): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === url) fs.unlinkSync(file);
  } catch {
    // Already gone or unreadable: nothing to clean up.
  }
}

/** The URL without its token: safe to print anywhere. */
export function publicUrl(url: string): string {
  return url.split('#', 1)[0] ?? url;
}
