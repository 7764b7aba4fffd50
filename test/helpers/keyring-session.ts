// Runs a test fixture in a D-Bus session of its own with gnome-keyring unlocked: the real Secret
// Service, with a fresh HOME and XDG directories, so that no keyring of an earlier run (with
// another password) is in the way. The fixture reads its secrets from stdin (never arguments,
// which /proc/<pid>/cmdline shows) and prints its result as JSON on its last line.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyringSessionRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The fixture's last stdout line, parsed. */
  result: Record<string, unknown>;
}

/**
 * A session bus on which nothing is started on demand. On Debian's default session bus, a request
 * for the Secret Service that comes while no daemon owns the name activates a second
 * gnome-keyring-daemon whose keyring is locked (and which wants a prompt no one can see); every
 * request after that fails as "locked", far from the cause. On this bus such a request fails at
 * once with "no Secret Service", and the start script below makes sure that cannot happen.
 */
export const BARE_BUS_CONFIG = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

/**
 * Starts gnome-keyring in the foreground (a child of this shell, so its death is seen), unlocked
 * with $KEYRING_PW, and waits until it owns the Secret Service name on the bus. A daemon that dies
 * or does not claim the name within 15 s is started again (three tries); after that the script
 * says why on stderr and exits 97, so that a test fails with the real reason.
 */
export const UNLOCK_KEYRING_SH = [
  'moat_keyring_up() { dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; }',
  'moat_try=0',
  'until moat_keyring_up; do',
  '  moat_try=$((moat_try+1))',
  '  if [ $moat_try -gt 3 ]; then echo "keyring-session: gnome-keyring-daemon did not take the Secret Service name after 3 starts" >&2; exit 97; fi',
  '  printf %s "$KEYRING_PW" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &',
  '  moat_pid=$!; moat_i=0',
  '  until moat_keyring_up; do',
  '    moat_i=$((moat_i+1))',
  '    if ! kill -0 $moat_pid 2>/dev/null; then echo "keyring-session: gnome-keyring-daemon exited (try $moat_try)" >&2; break; fi',
  '    if [ $moat_i -gt 300 ]; then echo "keyring-session: no Secret Service after 15 s (try $moat_try)" >&2; kill $moat_pid 2>/dev/null; break; fi',
  '    sleep 0.05',
  '  done',
  'done',
].join('\n');

/**
 * The command line that runs `command` (a shell command) in a D-Bus session of its own (the bus
 * above; its config is written under `home`) with gnome-keyring started and unlocked first.
 */
export function keyringSessionArgv(home: string, command: string): string[] {
  const config = join(home, 'session-bus.conf');
  writeFileSync(config, BARE_BUS_CONFIG);
  return ['dbus-run-session', `--config-file=${config}`, '--', 'sh', '-c', `${UNLOCK_KEYRING_SH}\n${command}`];
}

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
  const [cmd, ...args] = keyringSessionArgv(o.home, node);
  const child = spawn(cmd!, args, {
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
