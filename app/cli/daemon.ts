// `moat daemon start|run|stop|status`: Moat's services without a UI, owning the data directory and
// serving `moat run` over its socket (warm pool, queue, maxConcurrentRuns), like the app and
// `moat serve` do.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectOwner, UnsafeSocketError, type OwnerClient } from '../daemon/client';
import { claimOwnership, liveOwner, readOwner, ownerRunning, socketPathFor, type OwnerInfo } from '../daemon/owner';
import { startSocketServer } from '../daemon/socket-server';
import { fileLogger } from '../../main/log';
import type { Services } from '../../main/services';
import { defaultDataDir } from '../../main/store/data-dir';

/** How long `daemon start` waits for the socket to answer (engine checks and image lookups first). */
const START_WAIT_MS = 90_000;
const STOP_WAIT_MS = 60_000;

export function daemonLogPath(dataDir: string): string {
  return join(dataDir, 'daemon.log');
}

function alreadyRunning(info: OwnerInfo): string {
  const who = info.kind === 'daemon' ? 'moat daemon is' : `Moat (${info.kind === 'serve' ? 'moat serve' : 'the app'}) is`;
  return `${who} already running for this data directory (pid ${info.pid}, socket ${info.socket})\n`;
}

/** Connects, or says why a socket is refused (exit 2). */
async function connectOrFail(dataDir: string): Promise<OwnerClient | null> {
  try {
    return await connectOwner(dataDir);
  } catch (err) {
    if (err instanceof UnsafeSocketError) {
      process.stderr.write(`moat: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function runDaemon(opts: { pool: boolean }): Promise<void> {
  const dataDir = defaultDataDir();
  const claim = claimOwnership(dataDir, 'daemon');
  if (!claim.owned) {
    process.stdout.write(alreadyRunning(claim.info));
    process.exitCode = 1;
    return;
  }
  const log = fileLogger(dataDir);
  let services: Services;
  let server: Awaited<ReturnType<typeof startSocketServer>>;
  try {
    const { createServices } = await import('../../main/services');
    services = await createServices({ dataDir, pool: opts.pool, log });
  } catch (err) {
    claim.release();
    throw err;
  }
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`daemon stopping (${why})`);
    let status = 0;
    try {
      await server?.close();
      await services.close();
    } catch (err) {
      process.stderr.write(`moat: shutdown: ${err instanceof Error ? err.message : String(err)}\n`);
      status = 1;
    }
    claim.release();
    process.stdout.write(`moat daemon stopped (pid ${process.pid})\n`);
    process.exit(status);
  };
  try {
    server = await startSocketServer({
      services,
      socketPath: socketPathFor(dataDir),
      info: claim.info,
      onShutdown: () => void stop('moat daemon stop'),
      log,
    });
  } catch (err) {
    await services.close().catch(() => {});
    claim.release();
    throw err;
  }
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  const status = await services.handlers['system.status'](undefined);
  log(`daemon running, socket ${claim.info.socket}`);
  process.stdout.write(
    `moat daemon running (pid ${process.pid})\nsocket: ${claim.info.socket}\n` +
      `engine: ${status.engine.connected ? `Docker ${status.engine.version}` : `not connected (${status.engine.error})`}; ` +
      `${status.gvisor.available ? `gVisor runtime: ${status.gvisor.runtime}` : 'gVisor: NOT available, runs will be refused'}\n` +
      `pool: ${status.pool.enabled ? `${status.pool.warm} warm (target ${status.pool.target})` : 'off'}\n`,
  );
}

async function startDaemon(opts: { pool: boolean }): Promise<void> {
  const dataDir = defaultDataDir();
  const running = liveOwner(dataDir);
  if (running) {
    process.stdout.write(alreadyRunning(running));
    return;
  }
  const logPath = daemonLogPath(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fd = openSync(logPath, 'a', 0o600);
  const args = [...process.execArgv, process.argv[1]!, 'daemon', 'run', ...(opts.pool ? [] : ['--no-pool'])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: process.env });
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) break;
    const client = await connectOrFail(dataDir);
    if (client) {
      const info = client.info;
      client.close();
      if (info.pid !== child.pid) {
        // Another start won the race: that one is the daemon.
        process.stdout.write(alreadyRunning(info));
        return;
      }
      process.stdout.write(`moat daemon started (pid ${info.pid})\nsocket: ${info.socket}\nlog: ${logPath}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
  if (exited !== null) {
    const other = liveOwner(dataDir);
    if (other && other.pid !== child.pid) {
      process.stdout.write(alreadyRunning(other));
      return;
    }
    process.stderr.write(`moat: the daemon exited (status ${exited}) before it was ready; its log (${logPath}) ends:\n${tail}\n`);
  } else {
    process.stderr.write(
      `moat: the daemon (pid ${child.pid}) did not answer within ${START_WAIT_MS / 1000} s; its log (${logPath}) ends:\n${tail}\n`,
    );
  }
  process.exitCode = 1;
}

async function waitGone(info: OwnerInfo, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!ownerRunning(info)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !ownerRunning(info);
}

async function stopDaemon(): Promise<void> {
  const dataDir = defaultDataDir();
  const client = await connectOrFail(dataDir);
  let info: OwnerInfo | null = client?.info ?? liveOwner(dataDir);
  if (!info) {
    client?.close();
    process.stdout.write('moat daemon is not running\n');
    return;
  }
  if (info.kind !== 'daemon') {
    client?.close();
    process.stderr.write(
      `moat: this data directory is owned by ${info.kind === 'serve' ? 'moat serve' : 'the app'} (pid ${info.pid}), not a daemon: stop it there\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (client) {
    try {
      await client.shutdown();
    } catch {
      // It went away while answering: that is what was asked.
    }
    client.close();
  } else {
    // Its socket does not answer (still starting, or wedged): the claim names its pid.
    process.kill(info.pid, 'SIGTERM');
  }
  if (await waitGone(info, STOP_WAIT_MS)) {
    process.stdout.write(`moat daemon stopped (pid ${info.pid})\n`);
    return;
  }
  info = readOwner(dataDir);
  process.stderr.write(`moat: the daemon (pid ${info?.pid}) has not stopped within ${STOP_WAIT_MS / 1000} s\n`);
  process.exitCode = 1;
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : m ? `${m}m${s % 60}s` : `${s}s`;
}

async function statusDaemon(opts: { json?: boolean }): Promise<void> {
  const dataDir = defaultDataDir();
  const client = await connectOrFail(dataDir);
  if (!client) {
    const live = liveOwner(dataDir);
    const stale = readOwner(dataDir);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ running: false, ...(live ? { owner: live } : {}) }) + '\n');
    } else if (live) {
      process.stdout.write(
        `moat daemon: not serving: ${live.kind === 'daemon' ? 'a daemon' : live.kind === 'serve' ? 'moat serve' : 'the app'} (pid ${live.pid}) owns this data directory but its socket does not answer (starting?)\n`,
      );
    } else {
      process.stdout.write(
        `moat daemon: not running${stale ? ` (a claim left by pid ${stale.pid}, which is gone: the next start takes over)` : ''}\n`,
      );
    }
    process.exitCode = 3;
    return;
  }
  try {
    const [status, live] = await Promise.all([client.call('system.status', undefined), client.call('sandbox.live', undefined)]);
    const info = client.info;
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({ running: true, owner: info, uptimeMs: Date.now() - info.startedAt, pool: status.pool, liveRuns: live.length }) +
          '\n',
      );
      return;
    }
    process.stdout.write(
      `moat daemon: running (${info.kind === 'daemon' ? 'daemon' : info.kind === 'serve' ? 'moat serve' : 'the app'}, pid ${info.pid}, up ${uptime(Date.now() - info.startedAt)})\n` +
        `socket: ${info.socket}\n` +
        `engine: ${status.engine.connected ? `Docker ${status.engine.version}` : `not connected (${status.engine.error})`}; gVisor: ${status.gvisor.available ? status.gvisor.runtime : 'NOT available'}\n` +
        `pool: ${status.pool.enabled ? `${status.pool.warm} warm (target ${status.pool.target})` : 'off'}\n` +
        `live runs: ${live.length}\n`,
    );
  } finally {
    client.close();
  }
}

export function registerDaemon(program: Command): void {
  const daemon = program
    .command('daemon')
    .description("run Moat's services without a UI; `moat run` then uses its warm sandboxes, queue and limits");
  daemon
    .command('start')
    .description('start the daemon in the background (prints its pid and socket)')
    .option('--no-pool', 'do not keep warm sandboxes')
    .action((opts: { pool: boolean }) => startDaemon(opts));
  daemon
    .command('run')
    .description('run the daemon in the foreground (until Ctrl-C or `moat daemon stop`)')
    .option('--no-pool', 'do not keep warm sandboxes')
    .action((opts: { pool: boolean }) => runDaemon(opts));
  daemon
    .command('stop')
    .description('stop the daemon (its live runs are cancelled, its sandboxes removed)')
    .action(() => stopDaemon());
  daemon
    .command('status')
    .description('whether a daemon (or serve, or the app) serves this data directory; exit 3 when none does')
    .option('--json', 'print the status as JSON')
    .action((opts: { json?: boolean }) => statusDaemon(opts));
}
