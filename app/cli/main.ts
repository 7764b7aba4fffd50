// The `moat` command line. Subcommands: start, serve, run, history, ps, reap, status, accounts, instances, firewall, hosts, images, scan, alerts, egress-test.
//
// Startup is lazy, so that `moat --version` and `moat --help` answer at once: this module imports
// only commander and Node built-ins, every action imports what it needs when it runs (`await
// import()`), and the subcommands defined in their own modules (COMMANDS below) are loaded only
// when the command line names them, or all of them where commander must list them (help, an
// unknown command). `npm run build` bundles this file to dist/cli/moat.mjs, which bin/moat.js runs.
import { Command, Option } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerEngine } from '../../main/sandbox/docker-engine';
import { BUILTIN_TEMPLATE_IDS } from '../../main/sandbox/template-ids';
import type { PruneFlags } from './history';
import type { RunFlags } from './run';

// Two levels up from app/cli/main.ts, and from its bundle dist/cli/moat.mjs.
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
  const { createServices, defaultDataDir } = await import('../../main/services');
  const staticDir = join(ROOT, 'dist', 'renderer');
  const dataDir = defaultDataDir();
  const services = await createServices({ dataDir, pool: opts.pool });
  const host = await startHost({ services, staticDir, port: Number(opts.port) });
  // The host also owns the data directory and serves `moat run` over its socket (app/daemon).
  const { startOwnerSocket } = await import('../daemon/host');
  const owner = await startOwnerSocket(services, dataDir, 'serve');
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
      await owner.close();
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

/** start, serve, run, history, ps, reap, status: registering them is cheap, their actions import what they use. */
function registerCore(program: Command): void {
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
    .argument('[command...]', "command to run (after --), instead of --file/--code; with code, the program's arguments")
    .option('-t, --template <id>', `template: ${BUILTIN_TEMPLATE_IDS.join(', ')}`)
    .option(
      '--image <name>',
      "run in this local image instead of the template's (never pulled; it needs a POSIX /bin/sh and must work as user 65534)",
    )
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
    .option('--file-in <local[:dest]>', 'a file given to the program under /work (repeatable); DEST default: its name', collect, [])
    .option('--artifact <path>', 'a file under /work brought back out after the program exits (repeatable)', collect, [])
    .option('--artifacts-dir <dir>', 'where artifacts are written (default: the current directory); never outside it')
    .option('--artifacts-limit <size>', 'most bytes of all artifacts together, e.g. 16MiB (default), at most 64MiB')
    .action(async (command: string[], flags: RunFlags) => {
      const { runCommand } = await import('./run');
      process.exitCode = await runCommand(flags, command);
    });

  const history = program
    .command('history')
    .description('list past runs, newest first')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print the run records as JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const [{ listHistory }, { defaultDataDir }] = await Promise.all([import('./history'), import('../../main/services')]);
      listHistory(opts, defaultDataDir());
    });

  history
    .command('prune')
    .description('remove runs past the retention in Settings (or these limits), with their stored code, input and output')
    .option('--older-than <age>', 'remove runs older than this, e.g. 30d, 12h')
    .option('--keep <n>', 'keep at most this many runs (newest)')
    .option('--max-size <size>', 'keep at most this much stored code, input and output, e.g. 500MiB')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print the report as JSON')
    .action(async (opts: PruneFlags) => {
      const [{ pruneCommand }, { defaultDataDir }] = await Promise.all([import('./history'), import('../../main/services')]);
      pruneCommand(opts, defaultDataDir());
    });

  program
    .command('ps')
    .description("list Moat's sandboxes on the engine")
    .action(async () => {
      const engine = await connectedEngine();
      const { LABEL_OWNER, ownerAlive } = await import('../../main/sandbox/labels');
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
      const { reapOrphans } = await import('../../main/sandbox/reaper');
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
        const { GVISOR_FIX } = await import('../../main/sandbox/engine');
        process.stdout.write(`gvisor: NO: runs are refused unless you pass --allow-runc\nfix: ${GVISOR_FIX}\n`);
        process.exitCode = 3;
      }
    });
}

function registerImages(program: Command): void {
  const images = program.command('images').description('sandbox images');
  images
    .command('build')
    .description("build the templates' images from Debian packages (for machines with no registry)")
    .option('--force', 'rebuild even if an image with the same recipe exists')
    .action(async (opts: { force?: boolean }) => {
      const engine = await connectedEngine();
      const { buildLocalImages } = await import('../../main/sandbox/images');
      const { TEMPLATES } = await import('../../main/sandbox/templates');
      await buildLocalImages(engine.docker, TEMPLATES, { force: Boolean(opts.force), log: (l) => process.stdout.write(l + '\n') });
    });
}

type Register = (program: Command) => void;

/**
 * The top-level commands, in the order help lists them: a register function of this file, or the
 * name of a command defined in its own module and how to load that module's register function.
 * Those modules import what their actions use (services, SSH, Docker, schemas...) at their top, so
 * one is imported only when the command line needs it (see `needed`). A new command in its own
 * module goes here the same way:
 *   ['mcp', async () => (await import('./mcp')).registerMcp],
 * its name being the one it gives `program.command()`.
 */
const COMMANDS: (Register | [name: string, load: () => Promise<Register>])[] = [
  registerCore,
  ['accounts', async () => (await import('./accounts')).registerAccounts],
  ['instances', async () => (await import('./instances')).registerInstances],
  ['firewall', async () => (await import('./firewall')).registerFirewall],
  ['hosts', async () => (await import('./hosts')).registerHosts],
  ['scan', async () => (await import('./scan')).registerScan],
  ['alerts', async () => (await import('./alerts')).registerAlerts],
  ['egress-test', async () => (await import('./egress-test')).registerEgressTest],
  ['daemon', async () => (await import('./daemon')).registerDaemon],
  ['mcp', async () => (await import('./mcp')).registerMcp],
  ['batch', async () => (await import('./batch')).registerBatch],
  registerImages,
];

/**
 * Which of the lazily loaded commands `args` needs: the one it names (`moat NAME ...`, `moat help
 * NAME`); none for `--version` (commander prints it before it looks for a command) or a command of
 * this file; all of them otherwise (`--help`, no command, an unknown one, an option first), so that
 * commander lists them or suggests one exactly as if every command were loaded.
 */
function needed(args: string[]): (name: string) => boolean {
  const [first, second] = args;
  const isLazy = (n: string | undefined): boolean => COMMANDS.some((c) => typeof c !== 'function' && c[0] === n);
  const probe = new Command();
  for (const c of COMMANDS) if (typeof c === 'function') c(probe);
  const isEager = (n: string | undefined): boolean => probe.commands.some((c) => c.name() === n || c.aliases().includes(n ?? ''));
  if (isLazy(first)) return (n) => n === first;
  if (first === 'help' && isLazy(second)) return (n) => n === second;
  if (first === '-V' || first === '--version' || isEager(first) || (first === 'help' && isEager(second))) return () => false;
  return () => true;
}

/** The local engine, or exit 2 with the reason and the fix. */
async function connectedEngine(): Promise<DockerEngine> {
  const [{ DockerEngine }, { ENGINE_FIX }] = await Promise.all([
    import('../../main/sandbox/docker-engine'),
    import('../../main/sandbox/engine'),
  ]);
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

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('moat')
    .description('Run untrusted code in gVisor sandboxes.')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError()
    // Commander exits 1 on a usage error (unknown command or option, a bad choice, a missing
    // argument); Moat's contract is 2 for bad usage (README), 1 being a command's own answer (moat
    // scan found something). Subcommands inherit this when they are added below.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  const wanted = needed(argv.slice(2));
  const registers = await Promise.all(COMMANDS.map((c) => (typeof c === 'function' ? c : wanted(c[0]) ? c[1]() : null)));
  for (const register of registers) register?.(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`moat: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
