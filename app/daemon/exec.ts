// The owner's side of the native `moat run` client (native/moat-run.c). That client starts in a
// millisecond where Node.js takes about 100 ms of CPU, so a run from a script or harness costs
// what the run costs. It parses no JSON and shares no code with the Node CLI, so the owner does
// the CLI's work for it, with the Node CLI's own functions (app/cli/run.ts): it turns the flags and
// the bytes the client read (code, input) into the run's request, and says at the end what `moat
// run` would print after the output and its exit status. Output is identical either way.
//
// Protocol, on the owner's socket (app/daemon/socket-server.ts), after the usual hello:
//   client → owner: one line {type:'exec', flags, argv, codeBase64?, inputBase64?}; later, at most
//                   lines {type:'cancel'} (Ctrl-C)
//   owner → client: binary frames from then on: [kind u8][length u32 big-endian][payload]
//     0 accepted   payload: who serves the run ("the Moat daemon (pid 123)"), for a lost-owner message
//     1 stdout     payload: output bytes (as the Node CLI writes them: UTF-8, the filter's redactions)
//     2 stderr
//     3 run id     payload: the run's id
//     4 end        payload: the exit status (one byte), then the text to print on stderr; the owner
//                  then closes the connection
import type { RunFlags } from '../cli/run';
import { assembleRequest, ownerFailure } from '../cli/run';
import type { RunRequest } from '../../shared/types';

export const FRAME = { accepted: 0, stdout: 1, stderr: 2, runId: 3, end: 4 } as const;

export function frame(kind: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.allocUnsafe(5);
  head[0] = kind;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export function endFrame(end: { stderr: string; status: number }): Buffer {
  return frame(FRAME.end, Buffer.concat([Buffer.from([end.status & 0xff]), Buffer.from(end.stderr, 'utf8')]));
}

/** What the client may send as flags: the `moat run` options it handles itself (others it leaves to Node). */
const STRING_FLAGS = [
  'template',
  'file',
  'code',
  'input',
  'timeout',
  'memory',
  'cpus',
  'processes',
  'outputLimit',
  'onOutputLimit',
  'on',
  'image',
  'egressPolicy',
] as const;
const LIST_FLAGS = ['env', 'secretEnv'] as const;
const BOOLEAN_FLAGS = ['allowRunc', 'warm', 'keep', 'egressFilter'] as const;

export interface ExecMessage {
  flags?: unknown;
  argv?: unknown;
  codeBase64?: unknown;
  inputBase64?: unknown;
}

/** A usage error, said as the Node CLI says it (exit 2). */
function usage(message: string): { stderr: string; status: number } {
  return { stderr: `moat: ${message}\n`, status: 2 };
}

/**
 * The run's request (and where it runs) from an exec message, or how the command ends instead: a
 * flag that does not parse, or a message the client should never send.
 */
export async function execRequest(
  msg: ExecMessage,
): Promise<{ req: RunRequest & { target?: string } } | { end: { stderr: string; status: number } }> {
  const bad = (what: string): { end: { stderr: string; status: number } } => ({ end: usage(`the native client sent ${what}`) });
  const raw = msg.flags;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('no flags');
  const flags: RunFlags = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if ((STRING_FLAGS as readonly string[]).includes(k) && typeof v === 'string') (flags as Record<string, unknown>)[k] = v;
    else if ((LIST_FLAGS as readonly string[]).includes(k) && Array.isArray(v) && v.every((x) => typeof x === 'string'))
      (flags as Record<string, unknown>)[k] = v;
    else if ((BOOLEAN_FLAGS as readonly string[]).includes(k) && typeof v === 'boolean') (flags as Record<string, unknown>)[k] = v;
    else return bad(`a flag it does not handle (${k})`);
  }
  // `--secret-env K` takes the value from the CLI's own environment, which only Node's CLI has.
  if (flags.secretEnv?.some((e) => !e.includes('='))) return bad('--secret-env without a value');
  const argv = msg.argv ?? [];
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return bad('bad arguments');
  const bytes = (v: unknown): Buffer | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64') : undefined);
  const codeBytes = bytes(msg.codeBase64);
  const code = flags.file !== undefined ? codeBytes?.toString('utf8') : flags.code;
  if (flags.file !== undefined && code === undefined) return bad('no code for --file');
  try {
    const req = await assembleRequest(flags, argv as string[], { code, input: bytes(msg.inputBase64) }, { validate: false });
    return { req: { ...req, ...(flags.on && flags.on !== 'local' ? { target: flags.on } : {}) } };
  } catch (err) {
    return { end: usage((err as Error).message) };
  }
}

/** How the command ends when the owner refused the run (as runThroughOwner says it). */
export function refusedEnd(err: unknown, runId: string | null): { stderr: string; status: number } {
  const said = ownerFailure(err, runId);
  return said instanceof Error ? usage(said.message) : said;
}
