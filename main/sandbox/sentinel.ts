// The backstop for a long-lived local Moat (the app, `moat serve`, `moat daemon`) that dies with
// sandboxes running: a crash, kill -9, the OOM killer. Once per Moat process a tiny detached shell
// is started that reads a pipe from Moat. Moat's end closes the pipe however it ends; if Moat did
// not first write "done" (its own shutdown, after removing its sandboxes), the shell starts the
// runtime once to remove every container labelled with that Moat's owner id, as the next Moat's
// reaper would (reaper.ts), only at once rather than at the next start.
//
// It replaces the in-sandbox deadline (coreutils `timeout` around each program, bootstrap.ts) for
// these processes: that cost one more process start in every run, ~19 ms of the sandbox's CPU under
// gVisor's ptrace platform (measured: 69 → 50 ms for a small Python program), where the sentinel
// costs one idle shell per Moat process. Runs end sooner than the deadline would have ended them
// (at once, and the sandbox is removed rather than left exited). Where the sentinel cannot stand
// in, the deadline stays: remote engines (an SSH connection that drops is not a dead Moat, and the
// host is out of this shell's reach), one-shot CLI runs (no long-lived process to guard), Moat
// running inside Electron (the packaged binary has the RunAsNode fuse off: it cannot serve as
// Node, and would start the app instead), and a sentinel that is gone (SandboxManager checks
// `alive` for each run).
import { spawn } from 'node:child_process';

export interface Sentinel {
  /** False once the sentinel process has ended (it cannot act any more). */
  readonly alive: boolean;
  /** Moat's own orderly end: the sentinel exits without touching anything. */
  stop(): void;
}

// Run by the runtime that started Moat, only after Moat died: lists the owner's containers on the
// engine's socket and removes them (force: running ones are killed), each request with a deadline.
const REMOVER = `
const http = require('node:http');
const [socketPath, owner] = process.argv.slice(1);
const call = (method, path) => new Promise((resolve) => {
  const req = http.request({ socketPath, method, path, timeout: 15000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve(body));
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => resolve(''));
  req.end();
});
(async () => {
  const filters = encodeURIComponent(JSON.stringify({ label: ['moat.owner=' + owner] }));
  let list = [];
  try { list = JSON.parse(await call('GET', '/containers/json?all=1&filters=' + filters)); } catch {}
  for (const c of Array.isArray(list) ? list : []) await call('DELETE', '/containers/' + c.Id + '?force=1&v=1');
})();
`;

/**
 * Starts the sentinel for `owner` (labels.ts ownerId) on the Docker engine at `socketPath`. It
 * outlives this process on purpose: its own session, no terminal, not waited for. Null under
 * Electron (see above).
 */
export function startSentinel(socketPath: string, owner: string): Sentinel | null {
  if (process.versions.electron) return null;
  let alive = true;
  const child = spawn(
    '/bin/sh',
    // `read` returns at "done" or at end of file: the write end closes when Moat's process ends.
    ['-c', 'IFS= read -r word; [ "$word" = done ] && exit 0; exec "$0" -e "$1" "$2" "$3"', process.execPath, REMOVER, socketPath, owner],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  child.on('error', () => (alive = false));
  child.on('exit', () => (alive = false));
  child.stdin!.on('error', () => {});
  // Neither keeps this process running.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    get alive() {
      return alive;
    },
    stop() {
      if (alive) child.stdin!.end('done\n');
    },
  };
}
