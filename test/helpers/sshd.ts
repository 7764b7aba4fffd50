// A real OpenSSH server on 127.0.0.1 for the remote-engine tests: its own config, host key and
// authorized_keys in a temp dir, in front of this machine's real Docker (the "remote" host is this
// one). It can be restarted with a new host key (a changed host) and can drop its live connections
// (a network cut) while it keeps listening.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './engine';

export const SSHD = '/usr/sbin/sshd';

/** Why a test sshd cannot run here, or null. */
export function sshdUnavailableReason(): string | null {
  if (!existsSync(SSHD)) return 'openssh-server is not installed (/usr/sbin/sshd); run `bash scripts/setup.sh --test`';
  if (process.getuid?.() !== 0) return 'the test sshd logs in as root and must be started by root';
  return null;
}

export interface TestSshd {
  port: number;
  user: string;
  /** The client's key (unencrypted), and the same key's file path. */
  privateKey: string;
  keyFile: string;
  /** A second authorized key, protected by `passphrase`. */
  lockedKeyFile: string;
  passphrase: string;
  /** The host key's fingerprint as `ssh-keygen -l` shows it. */
  fingerprint(): string;
  /** The host's public key line (`ssh-ed25519 AAAA…`), for a known_hosts file. */
  hostPublicKey(): string;
  /** Lets another key log in (as a provider puts the account's key on a new instance). */
  authorize(publicKey: string): void;
  url: string;
  /** Stops and starts again on the same port, with a newly made host key. */
  rotateHostKey(): Promise<void>;
  /** Kills the per-connection processes: every live SSH connection drops, the listener stays. */
  dropConnections(): number;
  /** Live per-connection processes. */
  connections(): number[];
  /** sshd's recent log (stderr). */
  log(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves when something on the port sends an SSH banner. */
async function waitForBanner(port: number, host = '127.0.0.1', ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host, port });
      sock.setTimeout(1000);
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('SSH-2.0'));
      });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not come up on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function keygen(path: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'moat-test', '-f', path], { stdio: 'ignore' });
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((c) => [c, ...descendantsOf(c)]);
}

/** `extraConfig`: sshd_config lines put first (sshd takes the first value it reads). */
export async function startSshd(
  opts: {
    extraConfig?: string[];
    /** Listen here instead of 127.0.0.1 and a free port (e.g. 127.0.0.2:22, where an instance's SSH is). */
    address?: string;
    port?: number;
  } = {},
): Promise<TestSshd> {
  const dir = tempDir('moat-sshd-');
  const d = dir.path;
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  const hostKey = join(d, 'host_ed25519');
  const keyFile = join(d, 'id_ed25519');
  const lockedKeyFile = join(d, 'id_locked');
  const passphrase = 'correct horse battery';
  keygen(hostKey);
  keygen(keyFile);
  keygen(lockedKeyFile, passphrase);
  writeFileSync(join(d, 'authorized_keys'), readFileSync(`${keyFile}.pub`, 'utf8') + readFileSync(`${lockedKeyFile}.pub`, 'utf8'), {
    mode: 0o600,
  });
  const port = opts.port ?? (await freePort());
  const address = opts.address ?? '127.0.0.1';
  const config = join(d, 'sshd_config');
  writeFileSync(
    config,
    [
      ...(opts.extraConfig ?? []),
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(d, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'AllowStreamLocalForwarding local',
      // OpenSSH lets streamlocal channels through only where TCP forwarding is allowed too.
      'AllowTcpForwarding local',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | null = null;
  let log = '';
  const start = async (): Promise<void> => {
    const p = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
    proc = p;
    try {
      await waitForBanner(port, address);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    for (const c of descendantsOf(p.pid!)) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    port,
    user: 'root',
    privateKey: readFileSync(keyFile, 'utf8'),
    keyFile,
    lockedKeyFile,
    passphrase,
    url: `ssh://root@${address}:${port}`,
    fingerprint: () => execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!,
    hostPublicKey: () => readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    authorize(publicKey: string) {
      appendFileSync(join(d, 'authorized_keys'), `${publicKey.trim()}\n`);
    },
    async rotateHostKey() {
      await stop();
      execFileSync('rm', ['-f', hostKey, `${hostKey}.pub`]);
      keygen(hostKey);
      await start();
    },
    log: () => log,
    connections: () => (proc?.pid ? childrenOf(proc.pid) : []),
    dropConnections() {
      const kids = proc?.pid ? childrenOf(proc.pid) : [];
      // The per-connection monitor and its unprivileged child both hold the socket.
      const all = kids.flatMap((k) => [k, ...descendantsOf(k)]);
      for (const c of all) {
        try {
          process.kill(c, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return kids.length;
    },
    async close() {
      await stop();
      dir.cleanup();
    },
  };
}
