// The `moat` command line. Subcommands: start, serve, run, history, ps, reap, status, accounts, instances, firewall, hosts, images, scan, alerts, egress-test.
import { Command, Option } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServices, defaultDataDir } from '../../main/services';
import { DockerEngine } from '../../main/sandbox/docker-engine';
import { reapOrphans } from '../../main/sandbox/reaper';
import { ENGINE_FIX, GVISOR_FIX } from '../../main/sandbox/engine';
import { LABEL_OWNER, ownerAlive } from '../../main/sandbox/labels';
import { buildLocalImages } from '../../main/sandbox/images';
import { TEMPLATES } from '../../main/sandbox/templates';
import { registerAccounts } from './accounts';
import { registerFirewall } from './firewall';
import { registerInstances } from './instances';
import { listHistory, pruneCommand, type PruneFlags } from './history';
import { registerHosts } from './hosts';
import { runCommand, type RunFlags } from './run';
import { registerScan } from './scan';
import { registerAlerts } from './alerts';
import { registerEgressTest } from './egress-test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the Electron binary, or null where it was not downloaded (offline installs). */
export function electronBinary(): string | null {
  try {
    const p = createRequire(join(ROOT, 'package.json'))('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

async function serve(opts: { port: string; pool: boolean }): Promise<void> {
  const { startHost } = await import('../host/server');
  const { publicUrl, removeUrlFile, writeUrlFile } = await import('../host/url-file');
  const staticDir = join(ROOT, 'dist', 'renderer');
  const dataDir = defaultDataDir();
  const services = await createServices({ dataDir, pool: opts.pool });
  const host = await startHost({ services, staticDir, port: Number(opts.port) });
  const status = await services.handlers['system.status'](undefined);
  // The URL carries the access token. A terminal shows it to the user only; any other stdout is
  // likely a log file that others read and that outlives the process, so it only names the file.
  let urlFile: string | null = null;
  if (process.stdout.isTTY) {
    process.stdout.write(`Moat is running (headless host).\nOpen: ${host.url}\n`);
  } else {
    urlFile = writeUrlFile(dataDir, host.url);
    process.stdout.write(
      `Moat is running (headless host) on ${publicUrl(host.url)}\n` +
        `Open the URL with its access token, which is in ${urlFile} (readable only by you; not printed here because stdout is not a terminal).\n`,
    );
  }
  process.stdout.write(
    `Engine: ${status.engine.connected ? `Docker ${status.engine.version}` : `not connected (${status.engine.error})`}; `,
  );
  process.stdout.write(
    status.gvisor.available ? `gVisor runtime: ${status.gvisor.runtime}\n` : 'gVisor: NOT available, runs will be refused\n',
  );
  // Shutdown is bounded (the sandbox manager's close has deadlines); whatever fails in it is said,
  // and the process still exits.
  const stop = async (): Promise<void> => {
    let status = 0;
    try {
      await host.close();
      await services.close();
    } catch (err) {
      process.stderr.write(`moat: shutdown: ${err instanceof Error ? err.message : String(err)}\n`);
      status = 1;
    }
    if (urlFile) removeUrlFile(urlFile, host.url);
    process.exit(status);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** Commander: a repeatable option's values, in order. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// package.json's version, read at run time so `moat --version` can never drift from the package.
const { version } = createRequire(import.meta.url)(join(ROOT, 'package.json')) as { version: string };

const program = new Command();
program
  .name('moat')
  .description('Run untrusted code in gVisor sandboxes.')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('start')
  .description('start the desktop app, or the headless host where Electron is not installed')
  .option('--port <port>', 'port for the headless host (0 = random)', '0')
  .action(async (opts: { port: string }) => {
    const bin = electronBinary();
    if (bin && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== 'linux')) {
      const child = spawn(bin, [ROOT], { stdio: 'inherit' });
      child.on('exit', (code) => process.exit(code ?? 0));
      return;
    }
    process.stdout.write(
      bin
        ? 'No display found: starting the headless host instead of the window.\n'
        : 'Electron binary not installed (offline install?): starting the headless host.\n',
    );
    await serve({ port: opts.port, pool: true });
  });

program
  .command('serve')
  .description('serve the UI and API on 127.0.0.1 for a browser (prints the URL with its access token)')
  .option('--port <port>', 'port (0 = random)', '0')
  .option('--no-pool', 'do not keep warm sandboxes')
  .action(serve);

program
  .command('run')
  .description("run code or a command in a sandbox; exit status is the sandbox's")
  .argument('[command...]', 'command to run (after --), instead of --file/--code')
  .option('-t, --template <id>', `template: ${TEMPLATES.map((t) => t.id).join(', ')}`)
  .option('-f, --file <path>', 'file with the code to run (- for stdin)')
  .option('-c, --code <text>', 'code to run')
  .option('-i, --input <path>', "file given to the program on stdin (- for Moat's stdin); default: none")
  .option('--timeout <duration>', 'wall-clock limit, e.g. 30s, 2m')
  .option('--memory <size>', 'memory limit in MB or with a unit, e.g. 512, 1g')
  .option('--cpus <n>', 'CPU limit, e.g. 0.5, 2')
  .option('--processes <n>', 'process/thread limit')
  .option('--output-limit <size>', 'output Moat keeps, e.g. 1MiB')
  .addOption(
    new Option('--on-output-limit <policy>', 'at the output limit: stop the sandbox, or truncate and let it run').choices([
      'stop',
      'truncate',
    ]),
  )
  .option('--allow-runc', 'if the engine has no gVisor, run under runc with the same hardening (weaker isolation)')
  .option('--no-warm', 'do not use a warm sandbox')
  .option('--no-keep', 'do not keep the code, input or output: only the run summary is recorded')
  .option('--json', 'print the run record and output as JSON instead of passing output through')
  .option(
    '--on <target>',
    'run on a host added with `moat hosts add`, or an instance added with `moat hosts add-instance` (its ID, ID prefix or ACCOUNT/NAME); default: this machine',
  )
  .option('--env <K=V>', 'environment variable for the program (repeatable)', collect, [])
  .option(
    '--secret-env <K=V|K>',
    "secret environment variable (repeatable): never stored, looked for in the output; K alone takes the value from Moat's own environment",
    collect,
    [],
  )
  .addOption(
    new Option('--egress-policy <policy>', 'what a secret found in the output does (default: Settings)').choices([
      'redact',
      'block',
      'stop',
    ]),
  )
  .option('--no-egress-filter', 'do not scan the output for secrets (recorded with the run)')
  .option(
    '--allow-net <dest...>',
    'destinations the program may reach through the egress proxy: DOMAIN[:PORT], *.DOMAIN, CIDR[:PORT], @package-indexes',
  )
  .action(async (command: string[], flags: RunFlags) => {
    process.exitCode = await runCommand(flags, command);
  });

const history = program
  .command('history')
  .description('list past runs, newest first')
  .option('-n, --limit <n>', 'how many', '20')
  .option('--json', 'print the run records as JSON')
  .action((opts: { limit: string; json?: boolean }) => listHistory(opts, defaultDataDir()));

history
  .command('prune')
  .description('remove runs past the retention in Settings (or these limits), with their stored code, input and output')
  .option('--older-than <age>', 'remove runs older than this, e.g. 30d, 12h')
  .option('--keep <n>', 'keep at most this many runs (newest)')
  .option('--max-size <size>', 'keep at most this much stored code, input and output, e.g. 500MiB')
  .option('--dry-run', 'only say what would be removed')
  .option('--json', 'print the report as JSON')
  .action((opts: PruneFlags) => pruneCommand(opts, defaultDataDir()));

program
  .command('ps')
  .description("list Moat's sandboxes on the engine")
  .action(async () => {
    const engine = await connectedEngine();
    const rows = await engine.listManaged();
    process.stdout.write(pad(['CONTAINER', 'RUN', 'STATE', 'KIND', 'OWNER', 'IMAGE']) + '\n');
    for (const c of rows) {
      const owner = c.labels[LABEL_OWNER];
      const kind = c.labels['moat.pool'] ? 'warm' : 'run';
      const ownerText = `${owner?.split(':')[1] ?? '?'}${ownerAlive(owner) ? '' : ' (gone: orphan)'}`;
      process.stdout.write(pad([c.id.slice(0, 12), c.labels['moat.run'] ?? '-', c.state, kind, ownerText, c.image]) + '\n');
    }
  });

program
  .command('reap')
  .description('remove sandboxes left behind by Moat processes that are gone')
  .option('--all', 'remove every Moat sandbox, including those of running Moat processes')
  .action(async (opts: { all?: boolean }) => {
    const engine = await connectedEngine();
    const removed = await reapOrphans(engine, { all: Boolean(opts.all) });
    process.stdout.write(`removed ${removed.length} sandbox(es)\n`);
  });

program
  .command('status')
  .description('show whether the engine is reachable and sandboxes run under gVisor')
  .action(async () => {
    const s = (await connectedEngine()).current;
    process.stdout.write(`engine: Docker ${s.version}\n`);
    if (s.gvisorRuntime) process.stdout.write(`gvisor: yes (runtime "${s.gvisorRuntime}"): sandboxes run under gVisor\n`);
    else {
      process.stdout.write(`gvisor: NO: runs are refused unless you pass --allow-runc\nfix: ${GVISOR_FIX}\n`);
      process.exitCode = 3;
    }
  });

registerAccounts(program);
registerInstances(program);
registerFirewall(program);
registerHosts(program);
registerScan(program);
registerAlerts(program);
registerEgressTest(program);

const images = program.command('images').description('sandbox images');
images
  .command('build')
  .description("build the templates' images from Debian packages (for machines with no registry)")
  .option('--force', 'rebuild even if an image with the same recipe exists')
  .action(async (opts: { force?: boolean }) => {
    const engine = await connectedEngine();
    await buildLocalImages(engine.docker, TEMPLATES, { force: Boolean(opts.force), log: (l) => process.stdout.write(l + '\n') });
  });

/** The local engine, or exit 2 with the reason and the fix. */
async function connectedEngine(): Promise<DockerEngine> {
  const engine = new DockerEngine();
  const s = await engine.refresh();
  if (!s.connected) fail(`engine: not reachable: ${s.error}\nfix: ${ENGINE_FIX}`);
  return engine;
}

function pad(cols: string[], widths = [14, 24, 10, 6, 18, 30]): string {
  return cols
    .map((c, i) => c.padEnd(widths[i] ?? 10))
    .join(' ')
    .trimEnd();
}

function fail(msg: string): never {
  process.stderr.write(`moat: ${msg}\n`);
  process.exit(2);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`moat: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
