// Opening a run's network egress: the filtering proxy on a unix socket in a per-run directory,
// the mounts that put that directory and the forwarder binary into the sandbox, and the shell
// lines that start the forwarder inside and point programs at it. See types.ts for the contract.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoatError } from '../../../shared/errors';
import { defaultCacheDir } from '../../sandbox/images/recipe';
import { startEgressProxy } from './proxy';
import type { EgressNet, EgressNetOptions } from './types';

/** Where the socket's directory is mounted inside the sandbox. */
export const SANDBOX_NET_DIR = '/run/moat-net';
/** The socket's name in that directory. */
export const SOCKET_NAME = 'proxy.sock';
/** Where the forwarder binary is mounted inside the sandbox. */
export const SANDBOX_NETFWD = '/usr/local/bin/moat-netfwd';
/** The loopback port inside the sandbox where the forwarder offers the proxy (HTTP and SOCKS5 alike). */
export const SANDBOX_PROXY_PORT = 3128;

export const NETFWD_FIX =
  'Build the egress forwarder: `bash scripts/build-netfwd.sh` (needs gcc and libc6-dev), or set MOAT_NETFWD to its path.';

/**
 * The forwarder binary (sandbox/netfwd/moat-netfwd.c, built by scripts/build-netfwd.sh): MOAT_NETFWD
 * if set, else <cache>/netfwd/moat-netfwd (MOAT_CACHE_DIR, else /var/cache/moat as root or
 * ~/.cache/moat). Throws RUN_FAILED with the fix when it is not there.
 */
export function findNetfwd(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.MOAT_NETFWD || join(env.MOAT_CACHE_DIR || defaultCacheDir(env), 'netfwd', 'moat-netfwd');
  let ok = false;
  try {
    const st = statSync(path);
    ok = st.isFile() && (st.mode & 0o005) === 0o005;
  } catch {
    ok = false;
  }
  if (!ok)
    throw new MoatError('RUN_FAILED', `The egress forwarder is not at ${path} (or not readable and executable by everyone).`, NETFWD_FIX);
  return path;
}

/** Whether the cached forwarder was built from the source in this checkout (false when unknown). */
export function netfwdUpToDate(sourcePath: string, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    const bin = findNetfwd(env);
    const stamp = readFileSync(`${bin}.sha256`, 'utf8').trim();
    return stamp === createHash('sha256').update(readFileSync(sourcePath)).digest('hex');
  } catch {
    return false;
  }
}

/** The shell lines a run's script starts with (POSIX sh; they exit 125 when the forwarder cannot start). */
export function egressPrelude(port = SANDBOX_PROXY_PORT): string[] {
  const http = `http://127.0.0.1:${port}`;
  const socks = `socks5h://127.0.0.1:${port}`;
  return [
    `${SANDBOX_NETFWD} 127.0.0.1:${port} ${SANDBOX_NET_DIR}/${SOCKET_NAME} </dev/null || { echo 'moat: the network forwarder did not start' >&2; exit 125; }`,
    `HTTP_PROXY=${http}; HTTPS_PROXY=${http}; http_proxy=${http}; https_proxy=${http}; ALL_PROXY=${socks}; all_proxy=${socks}`,
    // The sandbox's own loopback stays direct (the proxy would refuse it anyway).
    'NO_PROXY=localhost,127.0.0.1,::1; no_proxy=localhost,127.0.0.1,::1',
    'export HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy',
  ];
}

/**
 * Starts the proxy for one run. The socket lives in a fresh directory (mode 0711) under
 * `baseDir` (default os.tmpdir()); the socket itself is mode 0666 so that the sandbox's user
 * (65534) can connect: the directory's name is random and it holds nothing else.
 */
export async function openEgressNet(o: EgressNetOptions & { baseDir?: string; netfwdPath?: string }): Promise<EgressNet> {
  if (o.allow.length === 0) throw new Error('openEgressNet: an empty allowlist means no network; do not open one');
  const netfwd = o.netfwdPath ?? findNetfwd();
  const dir = mkdtempSync(join(o.baseDir ?? tmpdir(), 'moat-net-'));
  chmodSync(dir, 0o711);
  const socketPath = join(dir, SOCKET_NAME);
  let proxy;
  try {
    proxy = await startEgressProxy({
      socketPath,
      rules: o.allow,
      ...(o.dnsServers ? { dnsServers: o.dnsServers } : {}),
      ...(o.protectedPorts ? { protectedPorts: o.protectedPorts } : {}),
      onRefused: o.onRefused,
      ...(o.log ? { log: o.log } : {}),
    });
    chmodSync(socketPath, 0o666);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  o.log?.(`egress: run ${o.runId}: proxy on ${socketPath} for ${o.allow.map((r) => r.text).join(', ')}`);
  let closing: Promise<void> | null = null;
  return {
    socketPath,
    mounts: [
      { Type: 'bind', Source: dir, Target: SANDBOX_NET_DIR, ReadOnly: true },
      { Type: 'bind', Source: netfwd, Target: SANDBOX_NETFWD, ReadOnly: true },
    ],
    prelude: egressPrelude(),
    refused: () => proxy.refused(),
    close: () =>
      (closing ??= (async () => {
        await proxy.close();
        if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
