// How a program gets into a sandbox. Every sandbox (cold or warm) starts a tiny POSIX sh bootstrap:
// it prepares the template's interpreter, then `sh -s` reads the run's script from stdin, which
// Moat writes and closes once the run starts. A warm sandbox is thus started long before its code
// is known, and one code path serves cold and warm runs. The program's own stdin is /dev/null.
import { randomBytes } from 'node:crypto';
import { exitMarkerLines } from './exit-marker';
import type { TemplateDef } from './templates';

export function bootstrapArgv(template: TemplateDef, opts: { warm: boolean }): string[] {
  const lines = [...(template.prepare ?? [])];
  if (opts.warm && template.warmup) lines.push(template.warmup);
  lines.push('exec /bin/sh -s');
  return ['/bin/sh', '-c', lines.join('\n')];
}

/** Single-quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ProgramSpec {
  template: TemplateDef;
  code?: string;
  argv?: string[];
  stdin?: string;
  /**
   * The backstop deadline, enforced inside the sandbox on its host: past it the program is killed
   * even if no Moat is left to do it (see programScript).
   */
  deadlineMs?: number;
  /** Environment variables for the program (sent in the script over stdin, never in the container's config). */
  env?: { name: string; value: string }[];
  /** Shell lines run before the program (the egress forwarder, when the run has network). */
  prelude?: string[];
}

/** Where the run's standard input is kept inside the sandbox (tmpfs). */
const STDIN_FILE = '/tmp/.moat-stdin';

/** The argv the program runs as (stored in the run record). */
export function programArgv(p: ProgramSpec): string[] {
  if (p.argv) return p.argv;
  return [...p.template.interpreter, `/work/${p.template.codeFile}`];
}

/**
 * Bytes as a printf format that prints exactly them: printable ASCII as is (but % and \\), every
 * other byte as a three-digit octal escape. printf is a shell builtin, so writing the code costs
 * no process start (each is ~10-20 ms under gVisor).
 */
export function printfFormat(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x25) out += '%%';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f && b !== 0x27) out += String.fromCharCode(b);
    else out += '\\' + b.toString(8).padStart(3, '0');
  }
  return out;
}

// Code is written in slices so that no single shell word gets very large.
const SLICE_BYTES = 32 * 1024;

/**
 * The script the bootstrap reads: writes the code file (and the run's stdin) byte for byte, runs
 * the program with that stdin or /dev/null, then reports its exit with the run's marker
 * (exit-marker.ts).
 *
 * With a deadline the program runs under coreutils' `timeout -s KILL`, which kills it and its
 * process group at the deadline; the bootstrap (PID 1) then reports and exits, and the sandbox
 * with it. Moat's own timer stops a run at its timeout, long before this; the backstop is for a
 * sandbox whose Moat is gone (crashed, or cut off from a remote host), which would otherwise run
 * until someone reaps it. It costs one process of the run's process limit and one exec, and is
 * skipped where an image has no `timeout` (both templates' images have it).
 */
export function programScript(p: ProgramSpec, exitNonce: string): string {
  const lines = ['cd /work || exit 125'];
  for (const v of p.env ?? []) lines.push(`${v.name}=${shQuote(v.value)}; export ${v.name}`);
  lines.push(...(p.prelude ?? []));
  if (p.code !== undefined) lines.push(...writeFileLines(`/work/${p.template.codeFile}`, p.code));
  if (p.stdin !== undefined) lines.push(...writeFileLines(STDIN_FILE, p.stdin));
  let wrap = '';
  if (p.deadlineMs !== undefined) {
    lines.push(`moat_deadline=; command -v timeout >/dev/null 2>&1 && moat_deadline='timeout -s KILL ${Math.ceil(p.deadlineMs / 1000)}'`);
    wrap = '$moat_deadline ';
  }
  lines.push(`${wrap}${programArgv(p).map(shQuote).join(' ')} <${p.stdin !== undefined ? STDIN_FILE : '/dev/null'}`);
  lines.push(...exitMarkerLines(exitNonce));
  // One brace group: the shell parses all of it before running any of it, so no part of the
  // script is left in the pipe (for the program to read or disturb) while the program runs.
  return `{\n${lines.join('\n')}\n}\n`;
}

/** Shell lines that write text to a file byte for byte, with builtins only. */
function writeFileLines(path: string, text: string): string[] {
  const file = shQuote(path);
  const bytes = Buffer.from(text, 'utf8');
  const lines = [`: > ${file} || exit 125`];
  for (let off = 0; off < bytes.length; off += SLICE_BYTES) {
    lines.push(`printf '${printfFormat(bytes.subarray(off, off + SLICE_BYTES))}' >> ${file} || exit 125`);
  }
  return lines;
}

export function newExitNonce(): string {
  return `MOAT${randomBytes(16).toString('hex')}`;
}
