// `moat mcp`: a Model Context Protocol server over stdio, so that an MCP client (Claude Desktop, an
// IDE's agent, any client of the official SDK) can run code in Moat's sandboxes.
//
// Tools:
//   run_code        template, code, stdin?, env?, allowNet?, limits?, files?, artifacts?,
//                   artifactBytes? -> output, how the run ended, and the artifacts brought out
//   list_templates  the templates, with the image each one uses
//
// Files in and artifacts out mean what `moat run --file-in/--artifact` and the API's RunRequest
// files/artifacts mean: files are written under /work before the program starts (the request's
// size limits); artifacts are files the program wrote under /work, brought out after it ends through
// the egress filter (redacted; withheld under the block policy), a file past the cap reported
// `too-large` rather than brought out. Here the cap is lower (MCP_ARTIFACT_MAX_BYTES) because a
// tool result carries the bytes twice (text and structured) and must fit the client's message limit.
//
// Every call is a fresh hardened sandbox (gVisor; no runc opt-in here), and what comes back is the
// output the egress filter let through (redacted, or withheld under the block policy): the client
// cannot turn the filter off. A run that ends other than `exited 0` is still a successful call (its
// end reason is the answer); a request Moat refuses (no engine, no gVisor, bad limits) is an
// `isError` result with Moat's message and fix.
//
// stdout carries protocol messages and nothing else: Moat's diagnostics go to the data
// directory's log (moat.log), and console.log/info/debug are sent there too while serving.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUtf8 } from 'node:buffer';
import { format } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { AllowEntry, EnvVar } from '../../shared/egress';
import { MoatError } from '../../shared/errors';
import {
  ArtifactInfo,
  EndReason,
  FILES_MAX_BYTES,
  FILES_MAX_ITEMS,
  Limits,
  RunRequest,
  WorkPath,
  type RunDetail,
  type RunRecord,
  type Template,
} from '../../shared/types';
import { fileLogger, type Logger } from '../../main/log';
import { TEMPLATES } from '../../main/sandbox/templates';
import { connectOwner, type OwnerClient } from '../daemon/client';
import { createServices, defaultDataDir, type Services } from '../../main/services';

/** Moat's version, from the package.json above this file (app/cli in the sources, dist/cli/chunks in the bundle). */
function moatVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (createRequire(file)(file) as { version: string }).version;
  }
  return '0.0.0';
}
const version = moatVersion();

/** One finished run, as the MCP tools report it: the record, its (filtered) output and artifacts. */
export interface RunResult {
  record: RunRecord;
  stdout: string;
  stderr: string;
  /** The artifacts asked for (status saved: `base64` holds their bytes, as filtered). */
  artifacts?: RunDetail['artifacts'];
}

/**
 * What the MCP server runs code with: the calls through the socket of the Moat that owns the data
 * directory when one runs (ownerRunner), otherwise in-process services (connectRunner chooses).
 */
export interface McpRunner {
  /** Runs to the end (cancelled when `signal` aborts); throws MoatError when Moat refuses the request. */
  run(req: RunRequest, signal?: AbortSignal): Promise<RunResult>;
  templates(): Promise<Template[]>;
  /** Ends every run of this runner and removes its sandboxes (warm pool included). */
  close(): Promise<void>;
}

export interface RunnerOptions {
  dataDir: string;
  log: Logger;
  /** Keep warm sandboxes, so repeated calls start fast (default true). */
  pool?: boolean;
}

/** The owner's runner when a Moat owns the data directory, else one on in-process services. */
export async function connectRunner(opts: RunnerOptions): Promise<McpRunner> {
  // A running Moat that owns the data directory (daemon, serve, the app) runs the calls: its warm
  // pool, queue and limits. A socket open to others is refused (connectOwner throws).
  const owner = await connectOwner(opts.dataDir);
  if (owner) {
    opts.log(`mcp: runs go to the ${owner.info.kind} (pid ${owner.info.pid}) that owns ${opts.dataDir}`);
    return ownerRunner(owner);
  }
  const services: Services = await createServices({ dataDir: opts.dataDir, pool: opts.pool ?? true, log: opts.log });
  return {
    async run(req, signal) {
      if (signal?.aborted) throw new MoatError('INVALID_REQUEST', 'The request was cancelled before the run started.');
      const { runId } = await services.handlers['sandbox.run'](req);
      const cancel = (): void => void services.handlers['sandbox.cancel']({ runId }).catch(() => {});
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        await services.sandboxes.whenDone(runId);
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
      return finished(await services.handlers['runs.get']({ id: runId }));
    },
    templates: () => services.handlers['templates.list'](undefined),
    close: () => services.close(),
  };
}

/** A finished run's record, its (filtered) output per stream, and its artifacts. */
function finished(detail: RunDetail): RunResult {
  const text = (stream: 'stdout' | 'stderr'): string =>
    detail.output
      .filter((c) => c.stream === stream)
      .map((c) => c.data)
      .join('');
  return {
    record: detail.run,
    stdout: text('stdout'),
    stderr: text('stderr'),
    ...(detail.artifacts ? { artifacts: detail.artifacts } : {}),
  };
}

/** The calls through a running owner's socket (app/daemon). */
function ownerRunner(owner: OwnerClient): McpRunner {
  return {
    async run(req, signal) {
      if (signal?.aborted) throw new MoatError('INVALID_REQUEST', 'The request was cancelled before the run started.');
      const { runId } = await owner.call('sandbox.run', req);
      const cancel = (): void => void owner.call('sandbox.cancel', { runId }).catch(() => {});
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        await owner.wait(runId);
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
      return finished(await owner.call('runs.get', { id: runId }));
    },
    templates: () => owner.call('templates.list', undefined),
    close: async () => owner.close(),
  };
}

// --- Tool schemas -------------------------------------------------------------------------------

const TEMPLATE_IDS = TEMPLATES.map((t) => t.id) as [string, ...string[]];

/** The most bytes of all artifacts together a run_code call brings back (and its default). */
export const MCP_ARTIFACT_MAX_BYTES = 1024 * 1024;

const McpInputFile = z
  .object({
    path: WorkPath.describe('Where under /work the file is written, e.g. "data/input.csv" (no leading /, no ..).'),
    text: z.string().optional().describe('Its content as text (UTF-8). Give text or base64, not both.'),
    base64: z.string().optional().describe('Its content as base64 bytes, for binary files. Give text or base64, not both.'),
    executable: z.boolean().optional().describe('Mode 755 instead of 644.'),
  })
  .strict();

const RunCodeInput = {
  template: z
    .enum(TEMPLATE_IDS)
    .describe(
      `How the code is run: ${TEMPLATES.map((t) => `"${t.id}" (${t.label}, ${t.interpreter.join(' ')} ${t.codeFile})`).join(', ')}.`,
    ),
  code: z.string().describe('The program source, written to a file in the sandbox and run with the template’s interpreter.'),
  stdin: z.string().optional().describe('Text the program reads on standard input (default: none, stdin is /dev/null).'),
  env: z
    .array(EnvVar)
    .optional()
    .describe(
      'Environment variables for the program. With secret: true the value is never stored, and the egress filter redacts it wherever the output echoes it.',
    ),
  allowNet: z
    .array(AllowEntry)
    .optional()
    .describe(
      'Network destinations the program may reach through Moat’s egress proxy: DOMAIN[:PORT] (*.example.com for subdomains), an IPv4 CIDR, or [IPv6 CIDR], with an optional :PORT. Default: no network at all.',
    ),
  limits: z
    .object({
      timeoutMs: Limits.shape.timeoutMs.optional().describe('Wall-clock limit in milliseconds (100 to 86400000; default 30000).'),
      memoryMb: Limits.shape.memoryMb.optional().describe('Memory in MB, no swap (32 to 262144; default 1024).'),
      cpus: Limits.shape.cpus.optional().describe('CPU cores (0.1 to 256; default 1).'),
      processes: Limits.shape.processes.optional().describe('Processes and threads the program may have (8 to 256; default 128).'),
      outputBytes: Limits.shape.outputBytes
        .optional()
        .describe('Bytes of stdout+stderr kept; the run is stopped past it (1024 to 67108864).'),
    })
    .strict()
    .optional()
    .describe('Resource limits for this run; each one left out takes Moat’s default (from its settings).'),
  files: z
    .array(McpInputFile)
    .max(FILES_MAX_ITEMS)
    .optional()
    .describe(
      `Files written under /work (the program's working directory) before it starts: at most ${FILES_MAX_ITEMS}, ${FILES_MAX_BYTES / 1024 / 1024} MiB in all.`,
    ),
  artifacts: z
    .array(WorkPath)
    .optional()
    .describe(
      'Paths under /work of files the program writes, brought back after it ends (through the egress filter: secrets redacted). Text comes back as text, other bytes as base64.',
    ),
  artifactBytes: z
    .number()
    .int()
    .min(0)
    .max(MCP_ARTIFACT_MAX_BYTES)
    .optional()
    .describe(
      `The most bytes of all artifacts together (default and at most ${MCP_ARTIFACT_MAX_BYTES}); a file past it is reported too-large, not brought back.`,
    ),
};

const EgressSummary = z.object({
  filter: z.boolean(),
  policy: z.string(),
  findings: z.number(),
  critical: z.number(),
  blocked: z.boolean(),
  refused: z.number(),
});

const ArtifactOutput = ArtifactInfo.extend({
  /** Its content (as filtered) when it is UTF-8 text. */
  text: z.string().optional(),
  /** Its bytes (as filtered), base64, when they are not UTF-8 text. */
  base64: z.string().optional(),
});

const RunCodeOutput = {
  runId: z.string(),
  template: z.string(),
  endReason: EndReason,
  exitCode: z.number().nullable(),
  /** The end in words: "exited 0", "timeout after 1000 ms", ... */
  ended: z.string(),
  durationMs: z.number().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  /** Output past the limit was dropped. */
  truncated: z.boolean(),
  /** A stream longer than RETURN_MAX_CHARS was cut in this result (the history keeps it whole). */
  clipped: z.boolean(),
  error: z.string().optional(),
  egress: EgressSummary.nullable(),
  runtime: z.string(),
  /** The artifacts asked for, what became of each, and the content of those brought out. */
  artifacts: z.array(ArtifactOutput).optional(),
};
type RunCodeOutput = z.infer<z.ZodObject<typeof RunCodeOutput>>;

const TemplateOutput = z.object({
  id: z.string(),
  label: z.string(),
  language: z.string(),
  image: z.string().nullable(),
  imageSource: z.string(),
});

// --- Results ------------------------------------------------------------------------------------

/** How a run ended, in words. */
export function endedText(r: RunRecord): string {
  switch (r.endReason) {
    case 'exited':
      return `exited ${r.exitCode ?? '?'}`;
    case 'timeout':
      return `timeout after ${r.limits.timeoutMs} ms`;
    case 'oom':
      return `oom: killed, out of memory (limit ${r.limits.memoryMb} MB)`;
    case 'cancelled':
      return 'cancelled';
    case 'output-limit':
      return `output-limit: stopped, output passed ${r.limits.outputBytes} bytes`;
    case 'process-limit':
      return `process-limit: ${r.error ?? `killed, its processes and threads reached the limit (${r.limits.processes})`}`;
    case 'secret-found':
      return `secret-found: ${r.error ?? 'stopped, the egress filter found a critical secret in its output'}`;
    default:
      return `failed: ${r.error ?? 'unknown error'}`;
  }
}

/**
 * Characters of each stream a result carries. A run may keep up to 64 MiB of output, and the result
 * holds it twice (text and structured): past this the rest stays in Moat's history, so that a
 * result fits the SDK client's 10 MB message limit.
 */
export const RETURN_MAX_CHARS = 1024 * 1024;

function clip(text: string): { text: string; clipped: boolean } {
  if (text.length <= RETURN_MAX_CHARS) return { text, clipped: false };
  const more = text.length - RETURN_MAX_CHARS;
  return { text: `${text.slice(0, RETURN_MAX_CHARS)}\n[... ${more} more characters, in Moat's history]`, clipped: true };
}

function runResult(result: RunResult): CallToolResult {
  const r = result.record;
  const out1 = clip(result.stdout);
  const out2 = clip(result.stderr);
  const [stdout, stderr] = [out1.text, out2.text];
  const e = r.egress;
  const out: RunCodeOutput = {
    runId: r.id,
    template: r.template,
    endReason: r.endReason ?? 'failed',
    exitCode: r.exitCode,
    ended: endedText(r),
    durationMs: r.durationMs ?? null,
    stdout,
    stderr,
    truncated: r.truncated,
    clipped: out1.clipped || out2.clipped,
    ...(r.error ? { error: r.error } : {}),
    egress: e
      ? { filter: e.filter, policy: e.policy, findings: e.findings, critical: e.critical, blocked: e.blocked, refused: e.refused }
      : null,
    runtime: r.runtime.name,
    ...(result.artifacts ? { artifacts: result.artifacts.map(artifactOutput) } : {}),
  };
  const lines = [`Run ${r.id} (${r.template}) ended: ${out.ended}${r.durationMs !== undefined ? ` in ${r.durationMs} ms` : ''}.`];
  if (e?.blocked) lines.push(`Egress filter: output withheld (policy block): ${e.findings} secret finding(s).`);
  else if (e && e.findings > 0) lines.push(`Egress filter: ${e.findings} finding(s) redacted (${e.critical} critical).`);
  if (e && e.refused > 0) lines.push(`Egress proxy: ${e.refused} connection(s) refused (destination not allowed).`);
  if (r.truncated) lines.push(`Output past ${r.limits.outputBytes} bytes was dropped.`);
  if (out.clipped)
    lines.push(`Output longer than ${RETURN_MAX_CHARS} characters per stream is cut here; Moat's history has run ${r.id} whole.`);
  lines.push('--- stdout ---', stdout, '--- stderr ---', stderr);
  for (const a of out.artifacts ?? [])
    lines.push(`--- artifact ${a.path}: ${artifactText(a)} ---`, ...(a.text !== undefined ? [a.text] : []));
  return { content: [{ type: 'text', text: lines.join('\n') }], structuredContent: out, isError: false };
}

function artifactOutput(a: NonNullable<RunDetail['artifacts']>[number]): z.infer<typeof ArtifactOutput> {
  const { base64, ...info } = a;
  if (base64 === undefined) return info;
  const bytes = Buffer.from(base64, 'base64');
  return { ...info, ...(isUtf8(bytes) ? { text: bytes.toString('utf8') } : { base64 }) };
}

/** What became of an artifact, in words. */
function artifactText(a: z.infer<typeof ArtifactOutput>): string {
  switch (a.status) {
    case 'saved':
      return `${a.size} bytes${a.redacted ? `, ${a.findings ?? 0} secret(s) redacted by the egress filter` : ''}${a.base64 !== undefined ? ', binary: base64 in the structured result' : ''}`;
    case 'too-large':
      return `too large (${a.size} bytes, past the artifact limit); not brought back`;
    case 'missing':
      return 'missing: no such file when the program ended';
    case 'withheld':
      return `withheld by the egress filter (policy block): ${a.findings ?? 0} finding(s)`;
    default:
      return 'incomplete: the run ended before it was brought back';
  }
}

/** run_code's files: text or base64 content, as the request's base64 data. */
function inputFiles(files: z.infer<typeof McpInputFile>[]): { files: RunRequest['files'] } | { error: string } {
  const out: NonNullable<RunRequest['files']> = [];
  for (const f of files) {
    if ((f.text === undefined) === (f.base64 === undefined)) return { error: `files: ${f.path}: give text or base64 (one of them)` };
    out.push({
      path: f.path,
      data: f.text !== undefined ? Buffer.from(f.text, 'utf8').toString('base64') : f.base64!,
      ...(f.executable ? { executable: true } : {}),
    });
  }
  return { files: out };
}

/** A refused request: Moat's message and what to do about it; anything else stays in the log. */
function errorResult(err: unknown, log: Logger): CallToolResult {
  let text: string;
  if (err instanceof MoatError) text = `${err.code}: ${err.message}${err.fix ? `\nFix: ${err.fix}` : ''}`;
  else {
    log(`mcp: tool call failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    text = 'INTERNAL: Internal error in Moat; see moat.log in its data directory for details.';
  }
  return { content: [{ type: 'text', text }], isError: true };
}

// --- Server ---------------------------------------------------------------------------------------

/** The MCP server with Moat's tools on `runner` (not connected to a transport yet). */
export function createMcpServer(runner: McpRunner, log: Logger = () => {}): McpServer {
  const server = new McpServer(
    { name: 'moat', title: 'Moat', version },
    {
      instructions:
        'Moat runs untrusted code in hardened gVisor sandboxes: no network unless allowNet names a destination, limits on time, memory, CPU and processes, and output scanned for secrets (redacted) before it is returned. Use run_code for each program; every call is a fresh sandbox.',
    },
  );

  server.registerTool(
    'run_code',
    {
      title: 'Run code in a sandbox',
      description:
        'Runs a program in a fresh, isolated gVisor sandbox and returns its stdout, stderr, how it ended (exited N, timeout, oom, output-limit, process-limit, secret-found, failed), the exit code and the duration. No network unless allowNet is given. Input files can be written under /work first (files), and files the program writes under /work brought back (artifacts). Secrets in the output and artifacts are redacted by Moat’s egress filter. A program that fails or times out is not an error of the tool: read `ended`.',
      inputSchema: RunCodeInput,
      outputSchema: RunCodeOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const files = args.files?.length ? inputFiles(args.files) : { files: undefined };
      if ('error' in files) return errorResult(new MoatError('INVALID_REQUEST', `Invalid run_code request: ${files.error}`), log);
      const parsed = RunRequest.safeParse({
        template: args.template,
        code: args.code,
        ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
        ...(args.env?.length ? { env: args.env } : {}),
        ...(args.allowNet?.length ? { allowNet: args.allowNet } : {}),
        ...(args.limits && Object.keys(args.limits).length ? { limits: args.limits } : {}),
        ...(files.files ? { files: files.files } : {}),
        ...(args.artifacts?.length ? { artifacts: args.artifacts, artifactBytes: args.artifactBytes ?? MCP_ARTIFACT_MAX_BYTES } : {}),
      });
      if (!parsed.success) {
        const detail = parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || 'request'}: ${i.message}`)
          .join('; ');
        return errorResult(new MoatError('INVALID_REQUEST', `Invalid run_code request: ${detail}`), log);
      }
      try {
        return runResult(await runner.run(parsed.data, extra.signal));
      } catch (err) {
        return errorResult(err, log);
      }
    },
  );

  server.registerTool(
    'list_templates',
    {
      title: 'List sandbox templates',
      description:
        'The templates run_code accepts: id, label, language, and the image it runs in (null when the image is not on this machine yet).',
      inputSchema: {},
      outputSchema: { templates: z.array(TemplateOutput) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const templates = (await runner.templates()).map((t) => ({
          id: t.id,
          label: t.label,
          language: t.language,
          image: t.image,
          imageSource: t.imageSource,
        }));
        const text = templates
          .map((t) => `${t.id}: ${t.label} (${t.language}), image ${t.image ?? `missing (${t.imageSource})`}`)
          .join('\n');
        return { content: [{ type: 'text', text }], structuredContent: { templates } };
      } catch (err) {
        return errorResult(err, log);
      }
    },
  );
  return server;
}

/** `moat mcp`: serves until stdin closes or a signal, then removes its sandboxes and exits. */
export async function serveMcp(opts: { pool: boolean }): Promise<void> {
  const dataDir = defaultDataDir();
  const log = fileLogger(dataDir);
  // Anything printed by accident would corrupt the protocol stream: it goes to the log instead.
  for (const k of ['log', 'info', 'debug'] as const) console[k] = (...a: unknown[]) => log(`console.${k}: ${format(...a)}`);

  let runner: McpRunner | null = null;
  let stopping: Promise<never> | null = null;
  const stop = (why: string): Promise<never> =>
    (stopping ??= (async () => {
      log(`mcp: stopping (${why})`);
      let status = 0;
      try {
        await runner?.close();
      } catch (err) {
        log(`mcp: shutdown: ${err instanceof Error ? err.message : String(err)}`);
        status = 1;
      }
      process.exit(status);
    })());
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.stdin.once('end', () => void stop('stdin closed'));
  process.stdin.once('close', () => void stop('stdin closed'));

  try {
    runner = await connectRunner({ dataDir, log, pool: opts.pool });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(`mcp: could not start: ${msg}`);
    process.stderr.write(`moat mcp: could not start: ${msg}\n`);
    process.exit(1);
  }
  const server = createMcpServer(runner, log);
  const transport = new StdioServerTransport();
  transport.onerror = (err) => log(`mcp: transport: ${err.message}`);
  server.server.onclose = () => void stop('transport closed');
  await server.connect(transport);
  log(`mcp: serving on stdio (data dir ${dataDir}, pid ${process.pid})`);
}

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve the Model Context Protocol on stdio: tools to run code in sandboxes (run_code) and to list templates')
    .option('--no-pool', 'do not keep warm sandboxes')
    .action((opts: { pool: boolean }) => serveMcp(opts));
}
