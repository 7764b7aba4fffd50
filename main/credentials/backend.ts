// Which keychain would really hold the keys, checked before every use. On Linux the keyring
// library, left to itself, falls back to the kernel keyring (gone at reboot) when no Secret
// Service answers, and reports a locked keyring as "no such key" (measured with
// @napi-rs/keyring 2.1.2 and gnome-keyring 42). So Moat asks the Secret Service itself, over the
// session bus, with a short deadline: a property read never prompts, so nothing here can wait on
// an unlock dialog no one sees.
import { execFile } from 'node:child_process';
import type { VaultErrorCode } from './errors';

export type BackendName = 'secret-service' | 'macos-keychain' | 'windows-credential-manager' | 'none';

export interface BackendStatus {
  available: boolean;
  backend: BackendName;
  /** Set when not available: which VaultError the vault would raise. */
  code?: Extract<VaultErrorCode, 'NO_KEYCHAIN' | 'LOCKED' | 'TIMEOUT'>;
  problem?: string;
  fix?: string;
}

export const PROBE_TIMEOUT_MS = 3000;

const START_FIX =
  'Start a Secret Service on your session bus: gnome-keyring-daemon (`gnome-keyring-daemon --start --components=secrets`, or log in to a desktop session), or KeePassXC with its Secret Service integration enabled. On a server without a desktop, run Moat inside `dbus-run-session` with gnome-keyring unlocked (`echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets`), or opt in to the passphrase-protected encrypted file instead.';

export const NO_BUS: BackendStatus = {
  available: false,
  backend: 'none',
  code: 'NO_KEYCHAIN',
  problem:
    'No keychain is available: DBUS_SESSION_BUS_ADDRESS is not set, so there is no session bus on which a Secret Service could answer. Moat does not keep keys in plaintext or in the kernel keyring instead.',
  fix: START_FIX,
};

export const NO_SERVICE: BackendStatus = {
  available: false,
  backend: 'none',
  code: 'NO_KEYCHAIN',
  problem:
    'No Secret Service answers on the session bus (nothing owns org.freedesktop.secrets). Moat does not keep keys in plaintext or in the kernel keyring instead.',
  fix: START_FIX,
};

export const NO_DEFAULT: BackendStatus = {
  available: false,
  backend: 'secret-service',
  code: 'NO_KEYCHAIN',
  problem: 'The Secret Service answers but has no default keyring to keep keys in.',
  fix: 'Create a default keyring: log in to a desktop session once, use Seahorse ("Passwords and Keys"), or on a server start gnome-keyring with a password (`echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets`), which creates and unlocks the login keyring.',
};

export const LOCKED: BackendStatus = {
  available: false,
  backend: 'secret-service',
  code: 'LOCKED',
  problem: 'The keyring is locked, and Moat will not wait on an unlock prompt that may not be visible.',
  fix: 'Unlock it: in a desktop session, open Seahorse ("Passwords and Keys") and unlock the default keyring, or log out and in again; on a server, `echo -n PASSWORD | gnome-keyring-daemon --replace --unlock --components=secrets` in the same D-Bus session. Then try again.',
};

export const NO_TOOL: BackendStatus = {
  available: false,
  backend: 'none',
  code: 'NO_KEYCHAIN',
  problem:
    'Moat cannot check the Secret Service: neither `dbus-send` nor `gdbus` is installed, and without that check a locked keyring would look empty.',
  fix: 'Install dbus-send (Debian/Ubuntu: `apt install dbus-bin`; Fedora: `dnf install dbus-tools`) or gdbus (`libglib2.0-bin` / `glib2`).',
};

export function timedOut(what: string): BackendStatus {
  return {
    available: false,
    backend: 'secret-service',
    code: 'TIMEOUT',
    problem: `The Secret Service did not answer ${what} within ${PROBE_TIMEOUT_MS / 1000} s.`,
    fix: 'Check that the keyring daemon is running and not stuck (restart gnome-keyring-daemon or KeePassXC), then try again.',
  };
}

interface Run {
  ok: boolean;
  out: string;
  notFound: boolean;
  killed: boolean;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: PROBE_TIMEOUT_MS + 500, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      resolve({
        ok: !e,
        out: `${stdout}\n${stderr}`,
        notFound: e?.code === 'ENOENT',
        killed: Boolean(e?.killed),
      });
    });
  });
}

/** Reads the default collection's Locked property; dbus-send first, gdbus where it is missing. */
async function readLocked(env: NodeJS.ProcessEnv): Promise<Run | null> {
  const sec = Math.ceil(PROBE_TIMEOUT_MS / 1000);
  const viaDbusSend = await run(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      `--reply-timeout=${PROBE_TIMEOUT_MS}`,
      '--dest=org.freedesktop.secrets',
      '/org/freedesktop/secrets/aliases/default',
      'org.freedesktop.DBus.Properties.Get',
      'string:org.freedesktop.Secret.Collection',
      'string:Locked',
    ],
    env,
  );
  if (!viaDbusSend.notFound) return viaDbusSend;
  const viaGdbus = await run(
    'gdbus',
    [
      'call',
      '--session',
      '--timeout',
      String(sec),
      '--dest',
      'org.freedesktop.secrets',
      '--object-path',
      '/org/freedesktop/secrets/aliases/default',
      '--method',
      'org.freedesktop.DBus.Properties.Get',
      'org.freedesktop.Secret.Collection',
      'Locked',
    ],
    env,
  );
  return viaGdbus.notFound ? null : viaGdbus;
}

/** Interprets the reply of a Locked property read (exported for unit tests). */
export function interpretLocked(r: Run): BackendStatus {
  const out = r.out;
  if (r.killed || /NoReply|Timeout|timed out/i.test(out)) return timedOut('a status request');
  if (r.ok) {
    if (/boolean true|<true>/.test(out)) return LOCKED;
    if (/boolean false|<false>/.test(out)) return { available: true, backend: 'secret-service' };
  }
  if (/ServiceUnknown|NameHasNoOwner|was not provided by any \.service/i.test(out)) return NO_SERVICE;
  if (/UnknownObject|UnknownMethod|Object does not exist|No such object|NoSuchObject/i.test(out)) return NO_DEFAULT;
  if (/Unable to autolaunch|Failed to connect|Could not connect|No such file or directory/i.test(out)) return NO_SERVICE;
  return {
    ...NO_SERVICE,
    problem: `The Secret Service gave an answer Moat does not understand: ${out.trim().slice(0, 200)}`,
  };
}

export async function detectBackend(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BackendStatus> {
  // The macOS and Windows stores are part of the system and always present for a logged-in user.
  if (platform === 'darwin') return { available: true, backend: 'macos-keychain' };
  if (platform === 'win32') return { available: true, backend: 'windows-credential-manager' };
  if (!env.DBUS_SESSION_BUS_ADDRESS) return NO_BUS;
  const r = await readLocked(env);
  return r ? interpretLocked(r) : NO_TOOL;
}
