// `moat run`: one sandboxed run from a terminal or a CI script. Output is passed through as it
// comes, and Moat's exit status is the sandbox's (or a documented code for how it ended).
import { isUtf8 } from 'node:buffer';
import { lstatSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { MoatError } from '../../shared/errors';
import type { EgressPolicy } from '../../shared/egress';
import type { EndReason, Limits, RunDetail, RunRecord, RunRequest } from '../../shared/types';
import type { SandboxEngine } from '../../main/sandbox/engine';
import type { Services } from '../../main/services';
import { connectOwner, type OwnerClient } from '../daemon/client';
import { defaultDataDir } from '../../main/store/data-dir';
import { parseDuration, parseMemoryMb, parseNumber, parseSize } from './parse';

export interface RunFlags {
  template?: string;
  file?: string;
  code?: string;
  input?: string;
  timeout?: string;
  memory?: string;
  cpus?: string;
  processes?: string;
  outputLimit?: string;
  onOutputLimit?: string;
  allowRunc?: boolean;
  warm?: boolean;
  keep?: boolean;
  json?: boolean;
  /** A host added with `moat hosts add`: the sandbox runs there, over SSH. */
  on?: string;
  env?: string[];
  secretEnv?: string[];
  egressPolicy?: string;
  /** false with --no-egress-filter. */
  egressFilter?: boolean;
  allowNet?: string[];
  /** `--file-in LOCAL[:DEST]` (repeatable). */
  fileIn?: string[];
  /** `--artifact PATH` (repeatable), written under `artifactsDir` (default: the current directory). */
  artifact?: string[];
  artifactsDir?: string;
  artifactsLimit?: string;
  /** A local image to run in instead of the template's (it needs a POSIX /bin/sh, run as user 65534). */
  image?: string;
}

/** Exit status for runs that did not end by themselves (documented in the README). */
export const EXIT_CODES: Record<Exclude<EndReason, 'exited'>, number> = {
  timeout: 124,
  failed: 125,
  cancelled: 130,
  oom: 137,
  'output-limit': 141,
  'process-limit': 135,
  'secret-found': 133,
  // The compiler's own status is the run's exitCode in the record (moat run --json).
  'compile-error': 131,
};

export function exitStatusOf(run: RunRecord): number {
  if (run.endReason === 'exited') return run.exitCode ?? EXIT_CODES.failed;
  return EXIT_CODES[run.endReason ?? 'failed'];
}

/** The template `moat run --file` picks by the file's extension (python otherwise). */
const TEMPLATE_BY_EXT: Record<string, string> = {
  '.sh': 'shell',
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.c': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.cxx': 'cpp',
  '.rs': 'rust',
  '.go': 'go',
};

function templateFor(flags: RunFlags, argv: string[]): string {
  if (flags.template) return flags.template;
  // A command (no code) runs in the shell template; with code, the words after -- are its arguments.
  if (argv.length > 0 && flags.file === undefined && flags.code === undefined) return 'shell';
  const ext = flags.file ? extname(flags.file).toLowerCase() : '';
  return TEMPLATE_BY_EXT[ext] ?? 'python';
}

/** What `moat run` read from its files and stdin: the code (decoded as UTF-8) and the input bytes. */
export interface ReadParts {
  code?: string;
  input?: Buffer;
}

/**
 * The run's request from the command line. With `validate` (a run in this process) it is checked
 * against the API's schema here; sent to a running Moat it is checked there, against the same
 * schema (runThroughOwner reports that the same way), so that the common `moat run -f FILE` loads
 * no schema library at all: about a fifth of the CLI's start-up CPU. Flags that need a check of
 * their own (files in, environment, allowlist, policies, artifacts) load the checks either way.
 */
export async function buildRequest(flags: RunFlags, argv: string[], opts: { validate: boolean } = { validate: true }): Promise<RunRequest> {
  let code: string | undefined = flags.code;
  if (flags.file) code = readFileSync(flags.file === '-' ? 0 : flags.file, 'utf8');
  checkSources(flags, argv, code);
  // Read as bytes: text goes as stdin, anything else as stdinBase64, byte for byte.
  const input = flags.input !== undefined ? readFileSync(flags.input === '-' ? 0 : flags.input) : undefined;
  return assembleRequest(flags, argv, { code, input }, opts);
}

function checkSources(flags: RunFlags, argv: string[], code: string | undefined): void {
  if (code === undefined && argv.length === 0) throw new Error('nothing to run: give --file FILE, --code TEXT, or a command after --');
  if (flags.input === '-' && flags.file === '-') throw new Error('stdin cannot be both the code (--file -) and the input (--input -)');
}

/**
 * The request from the flags and what was read for them (by this process, or by the native `moat
 * run` client, which sends the bytes to the owner: app/daemon/exec.ts). Throws Error (a usage
 * error, exit 2) for a flag that does not parse.
 */
export async function assembleRequest(
  flags: RunFlags,
  argv: string[],
  parts: ReadParts,
  opts: { validate: boolean } = { validate: true },
): Promise<RunRequest> {
  const checked =
    opts.validate ||
    Boolean(
      flags.fileIn?.length ||
      flags.env?.length ||
      flags.secretEnv?.length ||
      flags.allowNet?.length ||
      flags.artifact?.length ||
      flags.egressPolicy ||
      flags.onOutputLimit,
    );
  const S = checked ? await import('./run-request') : null;
  const limits: Partial<Limits> = {};
  if (flags.timeout) limits.timeoutMs = parseDuration(flags.timeout);
  if (flags.memory) limits.memoryMb = parseMemoryMb(flags.memory);
  if (flags.cpus) limits.cpus = parseNumber(flags.cpus, 'CPU count');
  if (flags.processes) limits.processes = parseNumber(flags.processes, 'process limit');
  if (flags.outputLimit) limits.outputBytes = parseSize(flags.outputLimit);
  if (flags.onOutputLimit) limits.onOutputLimit = S!.parseOutputPolicy(flags.onOutputLimit);
  const { code, input } = parts;
  checkSources(flags, argv, code);
  const stdin = input === undefined ? {} : isUtf8(input) ? { stdin: input.toString('utf8') } : { stdinBase64: input.toString('base64') };
  const files = S ? (flags.fileIn ?? []).map(S.parseFileIn) : [];
  const artifacts = flags.artifact ?? [];
  const env = S ? S.parseEnvFlags(flags.env ?? [], flags.secretEnv ?? []) : [];
  const allowNet = S ? S.parseAllowNet(flags.allowNet ?? []) : [];
  const req = {
    template: templateFor(flags, argv),
    // With code, the words after -- are the program's arguments; without, they are the command.
    ...(code !== undefined ? { code, ...(argv.length ? { args: argv } : {}) } : { argv }),
    ...stdin,
    ...(files.length ? { files } : {}),
    ...(artifacts.length ? { artifacts } : {}),
    ...(flags.artifactsLimit ? { artifactBytes: parseSize(flags.artifactsLimit) } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(flags.allowRunc ? { allowRunc: true } : {}),
    ...(flags.warm === false ? { warm: false } : {}),
    ...(flags.keep === false ? { keep: false } : {}),
    ...(env.length ? { env } : {}),
    ...(flags.egressPolicy ? { egressPolicy: S!.parseEgressPolicy(flags.egressPolicy) as EgressPolicy } : {}),
    ...(flags.egressFilter === false ? { egressFilter: false } : {}),
    ...(allowNet.length ? { allowNet } : {}),
    ...(flags.image ? { image: flags.image } : {}),
  };
  return S ? S.checkRequest(req) : (req as RunRequest);
}

export async function runCommand(flags: RunFlags, argv: string[]): Promise<number> {
  const dataDir = defaultDataDir();
  // A running Moat (daemon, serve, app) that owns the data directory takes the run: its warm
  // pool, its queue and its maxConcurrentRuns. A socket that is not safe to use is refused
  // (thrown), one left by an owner that was killed is not answered: then the run is in-process.
  const owner = await connectOwner(dataDir);
  try {
    const req = await buildRequest(flags, argv, { validate: owner === null });
    // Ctrl-C (or SIGTERM) at any moment ends the command. Until our run exists nothing of ours is
    // on the engine (the CLI keeps no warm pool), so it exits at once, however long the engine
    // checks take; from then on it cancels the run, which removes its sandbox before it is done.
    let interrupt = (): void => {
      process.stderr.write('moat: cancelled before the run started\n');
      process.exit(EXIT_CODES.cancelled);
    };
    const onSignal = (): void => interrupt();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (owner) return await runThroughOwner(owner, req, flags, (fn) => (interrupt = fn));
      return await runInProcess(dataDir, req, flags, (fn) => (interrupt = fn));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    owner?.close();
  }
}

/** Prefix of the owner's answer to a request its schema refused (shared/dispatch.ts). */
const REFUSED_RUN = 'Invalid sandbox.run request: ';

async function runThroughOwner(
  owner: OwnerClient,
  req: RunRequest,
  flags: RunFlags,
  onInterrupt: (fn: () => void) => void,
): Promise<number> {
  let runId: string | null = null;
  let cancelWhenKnown = false;
  const cancel = (id: string): void => void owner.call('sandbox.cancel', { runId: id }).catch(() => {});
  onInterrupt(() => {
    if (runId) cancel(runId);
    else cancelWhenKnown = true;
  });
  // The owner sends only this connection's run's events.
  owner.onEvent((event, payload) => {
    if (event !== 'run.output' || flags.json) return;
    const p = payload as { runId: string; stream: 'stdout' | 'stderr'; data: string };
    (p.stream === 'stdout' ? process.stdout : process.stderr).write(p.data);
  });
  try {
    const target = flags.on && flags.on !== 'local' ? { target: flags.on } : {};
    runId = (await owner.call('sandbox.run', { ...req, ...target })).runId;
    if (cancelWhenKnown) cancel(runId);
    const done = await owner.wait(runId);
    const detail = flags.json || req.artifacts ? await owner.call('runs.get', { id: done.id }) : null;
    return await report(done, flags, detail);
  } catch (err) {
    const said = ownerFailure(err, runId);
    if (said instanceof Error) throw said;
    process.stderr.write(said.stderr);
    return said.status;
  }
}

/**
 * How `moat run` reports an error from the owner: an Error to throw (a usage error: the request
 * was checked there rather than here, and is said as it would be here), or what to print and the
 * exit status. Also used by the owner for the native client (app/daemon/exec.ts).
 */
export function ownerFailure(err: unknown, runId: string | null): Error | { stderr: string; status: number } {
  if (err instanceof MoatError && err.code === 'INVALID_REQUEST' && runId === null && err.message.startsWith(REFUSED_RUN))
    return new Error(err.message.slice(REFUSED_RUN.length));
  if (err instanceof MoatError) {
    const lost = err.code === 'ENGINE_UNAVAILABLE' && / went away$/.test(err.message);
    return {
      stderr: `moat: ${err.message}${lost && runId ? ` during run ${runId}; see \`moat history\`` : ''}\n${err.fix ? `fix: ${err.fix}\n` : ''}`,
      status: EXIT_CODES.failed,
    };
  }
  return err instanceof Error ? err : new Error(String(err));
}

async function runInProcess(dataDir: string, req: RunRequest, flags: RunFlags, onInterrupt: (fn: () => void) => void): Promise<number> {
  let services: Services | null = null;
  let engine: SandboxEngine | null = null;
  let runId: string | null = null;
  let off = (): void => {};
  try {
    // Loaded here, not at the top: a run sent to an owner needs none of it (about 0.7 s to load).
    const [
      { KeychainVault },
      { fileLogger },
      { InstancesService },
      { HostsService },
      { resolveTarget },
      { createServices },
      { accountsService },
    ] = await Promise.all([
      import('../../main/credentials/keychain'),
      import('../../main/log'),
      import('../../main/instances/instances'),
      import('../../main/remote/service'),
      import('../../main/targets/service'),
      import('../../main/services'),
      import('./provider-exit'),
    ]);
    // Moat's own diagnostics go to its log file: stderr belongs to the program.
    const vault = new KeychainVault();
    const log = fileLogger(dataDir);
    if (flags.on && flags.on !== 'local') {
      const hosts = new HostsService({ dataDir, vault, ssh: { log } });
      // A host's name, or an instance reference (ID, prefix, ACCOUNT/NAME) that was added as a host.
      let name = flags.on;
      if (!hosts.list().some((h) => h.name === name)) {
        const accounts = accountsService(dataDir, vault);
        const instances = new InstancesService({ dataDir, vault, accounts });
        try {
          name = await resolveTarget(hosts, instances, flags.on);
        } finally {
          instances.close();
          accounts.close();
        }
      }
      engine = hosts.engineFor(name);
    }
    services = await createServices({ dataDir, pool: false, log, vault, ...(engine ? { engine } : {}) });
    const svc = services;
    off = services.onEvent((event, payload) => {
      // Our run's first update is sent from inside run(), before its sandbox is asked for (the
      // CLI's services run nothing else): from here on a signal must cancel, not exit.
      if (event === 'run.updated' && !runId) {
        const id = (payload as RunRecord).id;
        runId = id;
        onInterrupt(() => svc.sandboxes.cancel(id));
      }
      if (event !== 'run.output' || flags.json) return;
      const p = payload as { runId: string; stream: 'stdout' | 'stderr'; data: string };
      if (p.runId === runId) (p.stream === 'stdout' ? process.stdout : process.stderr).write(p.data);
    });
    const record = await services.sandboxes.run(req);
    const done = (await services.sandboxes.whenDone(record.id))!;
    const detail = flags.json || req.artifacts ? await services.handlers['runs.get']({ id: done.id }) : null;
    return await report(done, flags, detail);
  } catch (err) {
    if (err instanceof MoatError) {
      process.stderr.write(`moat: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
      return EXIT_CODES.failed;
    }
    throw err;
  } finally {
    off();
    await services?.close();
    engine?.close?.();
  }
}

/** What follows a run's output, the same in process and through an owner; returns the exit status. */
async function report(done: RunRecord, flags: RunFlags, detail: RunDetail | null): Promise<number> {
  const written = detail?.artifacts
    ? writeArtifacts(detail.artifacts, flags.artifactsDir ?? '.', flags.json === true, (await import('./run-request')).isWorkPath)
    : [];
  if (flags.json) process.stdout.write(JSON.stringify(detail ? jsonDetail(detail, written) : detail) + '\n');
  const end = endOfRun(done, flags.json === true);
  if (end.stderr) process.stderr.write(end.stderr);
  return end.status;
}

/**
 * What `moat run` prints on stderr after a run's output (how it ended, what the egress filter did,
 * a runc opt-in) and its exit status. Also used by the owner for the native client (app/daemon/exec.ts).
 */
export function endOfRun(done: RunRecord, json: boolean): { stderr: string; status: number } {
  let text = '';
  if (!json && done.endReason !== 'exited') {
    const why = done.endReason === 'failed' ? `failed: ${done.error ?? 'unknown error'}` : describeEnd(done);
    text += `moat: run ${done.id} ${why}\n`;
  }
  if (!json && done.egress) {
    const e = done.egress;
    if (e.blocked)
      text += `moat: output withheld (egress policy block): ${e.findings} secret finding(s); see \`moat alerts\` or the Alerts view\n`;
    else if (e.findings > 0) text += `moat: the egress filter redacted ${e.findings} finding(s) (${e.critical} critical) in the output\n`;
  }
  if (!done.runtime.gvisor && !json) text += 'moat: note: this run used runc (opted in), not gVisor\n';
  return { stderr: text, status: exitStatusOf(done) };
}

/**
 * `--json`: output chunks and artifacts as `{..., data}` (UTF-8 text) when their bytes are text,
 * `{..., base64}` (the exact bytes) when they are not; artifacts say where they were written.
 */
export function jsonDetail(detail: RunDetail, written: { path: string; file: string }[] = []): unknown {
  return {
    ...detail,
    output: detail.output.map((c) =>
      c.base64 !== undefined ? { stream: c.stream, base64: c.base64 } : { stream: c.stream, data: c.data },
    ),
    ...(detail.artifacts
      ? {
          artifacts: detail.artifacts.map(({ base64, ...a }) => {
            const file = written.find((w) => w.path === a.path)?.file;
            if (base64 === undefined) return a;
            const bytes = Buffer.from(base64, 'base64');
            return { ...a, ...(file ? { file } : {}), ...(isUtf8(bytes) ? { data: bytes.toString('utf8') } : { base64 }) };
          }),
        }
      : {}),
  };
}

/**
 * Writes the saved artifacts under `dir`, each at its path under /work; refuses any that would
 * land outside it (through a symbolic link on the way). Says on stderr what became of each.
 */
export function writeArtifacts(
  artifacts: NonNullable<RunDetail['artifacts']>,
  dir: string,
  quiet: boolean,
  isWorkPath: (path: string) => boolean,
): { path: string; file: string }[] {
  const say = (s: string): void => void (quiet || process.stderr.write(`moat: artifact ${s}\n`));
  const written: { path: string; file: string }[] = [];
  mkdirSync(dir, { recursive: true });
  const root = realpathSync(dir);
  for (const a of artifacts) {
    if (a.status !== 'saved' || a.base64 === undefined) {
      const why = {
        'too-large': `too large (${a.size} bytes, past the run's artifact limit); not brought out`,
        missing: 'missing: no such file under /work when the program ended',
        withheld: `withheld: the egress filter found ${a.findings ?? 0} secret(s) (policy block)`,
        incomplete: 'not brought out: the run ended before it was',
        saved: 'not kept',
      }[a.status];
      say(`${a.path}: ${why}`);
      continue;
    }
    if (!isWorkPath(a.path)) {
      say(`${a.path}: refused (not a plain path under the artifacts directory)`);
      continue;
    }
    const file = resolve(root, a.path);
    try {
      mkdirSync(dirname(file), { recursive: true });
      const parent = realpathSync(dirname(file));
      if (parent !== root && !parent.startsWith(root + sep)) throw new Error('it would be written outside the artifacts directory');
      if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) throw new Error('a symbolic link is in its place');
      writeFileSync(join(parent, basename(file)), Buffer.from(a.base64, 'base64'));
      written.push({ path: a.path, file });
      const marks = [a.redacted ? 'secrets redacted' : '', a.findings && !a.redacted ? `${a.findings} finding(s), alerted` : '']
        .filter(Boolean)
        .join(', ');
      say(`${a.path}: ${a.size} bytes -> ${file}${marks ? ` (${marks})` : ''}`);
    } catch (err) {
      say(`${a.path}: not written: ${(err as Error).message}`);
    }
  }
  return written;
}

function describeEnd(r: RunRecord): string {
  switch (r.endReason) {
    case 'timeout':
      return `timed out after ${r.limits.timeoutMs} ms`;
    case 'oom':
      return `was killed: out of memory (limit ${r.limits.memoryMb} MB)`;
    case 'cancelled':
      return 'was cancelled';
    case 'output-limit':
      return `was stopped: output passed ${r.limits.outputBytes} bytes`;
    case 'process-limit':
      return `was killed: ${r.error ?? `its processes and threads reached the sandbox's limit (${r.limits.processes})`}`;
    case 'compile-error':
      return `did not compile (${r.error?.replace(/^compile error: /, '') ?? `the compiler exited with status ${r.exitCode ?? '?'}`})`;
    case 'secret-found':
      return `was stopped: ${r.error ?? 'the egress filter found a critical secret in its output'}`;
    default:
      return `ended: ${r.endReason}`;
  }
}
