// Runs a test fixture in a D-Bus session of its own with gnome-keyring unlocked: the real Secret
// Service, with a fresh HOME and XDG directories, so that no keyring of an earlier run (with
// another password) is in the way. The fixture reads its secrets from stdin (never arguments,
// which /proc/<pid>/cmdline shows) and prints its result as JSON on its last line.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyringSessionRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The fixture's last stdout line, parsed. */
  result: Record<string, unknown>;
}

/**
 * Starts gnome-keyring unlocked with $KEYRING_PW, then waits (up to 5 s) until it owns the Secret
 * Service name on the bus. Without the wait, a first request can come before the daemon has
 * claimed the name; D-Bus then activates a second daemon whose keyring is locked, and requests
 * after it fail as "locked".
 */
export const UNLOCK_KEYRING_SH =
  'printf %s "$KEYRING_PW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && ' +
  'i=0; until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus ' +
  'org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do ' +
  'i=$((i+1)); if [ $i -gt 100 ]; then break; fi; sleep 0.05; done';

export async function runInKeyringSession(o: {
  /** The repository root (the child's working directory). */
  root: string;
  /** An empty directory that becomes HOME and holds the XDG directories. */
  home: string;
  fixture: string;
  dataDir: string;
  /** Written to the child's stdin, then closed. */
  input: string;
  timeoutMs?: number;
}): Promise<KeyringSessionRun> {
  const dirs = Object.fromEntries(
    ['HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k) => {
      const p = join(o.home, k.toLowerCase());
      mkdirSync(p, { mode: 0o700 });
      return [k, p];
    }),
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...dirs, MOAT_DATA_DIR: o.dataDir, KEYRING_PW: randomBytes(8).toString('hex') };
  const node = `exec "${process.execPath}" --import tsx "${o.fixture}"`;
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', `${UNLOCK_KEYRING_SH} && ${node}`], {
    env,
    cwd: o.root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(o.input);
  const status = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`${o.fixture} failed (status ${status}):\n${stdout}\n${stderr}`);
  }
  return { status, stdout, stderr, result };
}

/** Why a keyring session cannot be made here (a tool is missing), or null. */
export function keyringToolsMissing(): string | null {
  for (const tool of ['dbus-run-session', 'gnome-keyring-daemon', 'dbus-send']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (bash scripts/setup.sh --test installs it)`;
  }
  return null;
}
