// `moat serve` as a user runs it, with provider accounts: the real CLI in a D-Bus session of its
// own with gnome-keyring unlocked (the real Secret Service), a fresh HOME and XDG directories, and
// the provider APIs pointed at the fakes through MOAT_LAMBDA_API_URL / MOAT_LINODE_API_URL.
// stdout is a pipe, so serve writes its URL (with the token) to the owner-only host-url file.
//
// Used by e2e/providers.e2e.test.ts. Run directly to try the UI by hand:
//   node --import tsx e2e/provider-host.ts
// which starts both fakes, prints keys they accept and the URL, and runs until Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyringSessionArgv } from '../test/helpers/keyring-session';
import { startAddressFake } from './fakes/address';
import { startLambdaFake } from './fakes/lambda';
import { startLinodeFake } from './fakes/linode';

const ROOT = join(import.meta.dirname, '..');

export interface ProviderHost {
  url: string;
  /** The `moat serve` process itself (for /proc/PID/cmdline). */
  pid: number;
  home: string;
  dataDir: string;
  /** Everything serve printed. */
  output(): string;
  stop(): Promise<void>;
}

/** The node process running bin/moat.js under `root` (dbus-run-session → sh → exec node). */
function findServePid(): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const env = readFileSync(`/proc/${d}/environ`, 'utf8');
      if (cmd.some((a) => a.endsWith('bin/moat.js')) && cmd.includes('serve') && env.includes(`MOAT_E2E_TAG=`)) return Number(d);
    } catch {
      // gone, or not ours
    }
  }
  return null;
}

export async function startProviderHost(o: {
  lambdaUrl: string;
  linodeUrl: string;
  /** Default: a new temporary directory. */
  home?: string;
  dockerHost?: string;
  /** Public-address endpoints (MOAT_ADDRESS_URL, MOAT_ADDRESS6_URL), e.g. e2e/fakes/address.ts. */
  addressUrls?: { ipv4: string; ipv6: string };
}): Promise<ProviderHost> {
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'moat-provider-host-'));
  const dirs = Object.fromEntries(
    ['XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k) => {
      const p = join(home, k.toLowerCase());
      mkdirSync(p, { recursive: true, mode: 0o700 });
      return [k, p];
    }),
  );
  const dataDir = join(home, 'moat-data');
  const tag = randomBytes(6).toString('hex');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ...dirs,
    MOAT_DATA_DIR: dataDir,
    MOAT_LAMBDA_API_URL: o.lambdaUrl,
    MOAT_LINODE_API_URL: o.linodeUrl,
    MOAT_E2E_TAG: tag,
    ...(o.addressUrls ? { MOAT_ADDRESS_URL: o.addressUrls.ipv4, MOAT_ADDRESS6_URL: o.addressUrls.ipv6 } : {}),
    KEYRING_PW: randomBytes(8).toString('hex'),
    ...((o.dockerHost ?? process.env.DOCKER_HOST) ? { DOCKER_HOST: o.dockerHost ?? process.env.DOCKER_HOST } : {}),
  };
  const serve = `exec "${process.execPath}" "${join(ROOT, 'bin', 'moat.js')}" serve --port 0 --no-pool`;
  const [cmd, ...args] = keyringSessionArgv(home, serve);
  const child: ChildProcess = spawn(cmd!, args, {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const urlFile = join(dataDir, 'host-url');
  const deadline = Date.now() + 60_000;
  while (!existsSync(urlFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moat serve did not start (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = readFileSync(urlFile, 'utf8').trim();
  const pid = findServePid();
  if (pid === null) throw new Error('moat serve is running but its process was not found in /proc');
  return {
    url,
    pid,
    home,
    dataDir,
    output: () => out,
    async stop() {
      // SIGTERM to serve: it closes its services and removes the URL file; dbus-run-session then ends.
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lambdaKey = `secret_moat-demo_${randomBytes(16).toString('hex')}`;
  const linodeToken = randomBytes(32).toString('hex');
  const lambda = await startLambdaFake({ keys: [lambdaKey], bootMs: 8000 });
  const linode = await startLinodeFake({ tokens: { [linodeToken]: '*' }, provisioningMs: 5000, bootingMs: 5000 });
  const address = await startAddressFake({ ipv4: '203.0.113.7', ipv6: null });
  const host = await startProviderHost({
    lambdaUrl: lambda.url,
    linodeUrl: linode.url,
    addressUrls: { ipv4: address.url4, ipv6: address.url6 },
  });
  process.stdout.write(
    `Lambda Cloud key: ${lambdaKey}\nLinode token:     ${linodeToken}\nYour address (fake): 203.0.113.7\nURL: ${host.url}\ndata: ${host.dataDir}\n(Ctrl-C to stop)\n`,
  );
  const stop = async () => {
    await host.stop();
    await lambda.close();
    await linode.close();
    await address.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
