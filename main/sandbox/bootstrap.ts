// How a program gets into a sandbox. Every sandbox (cold or warm) starts a tiny POSIX sh bootstrap,
// `sh -s`, which reads the run's script from stdin: Moat writes it once the run starts. A warm
// sandbox is thus started long before its code is known, and one code path serves cold and warm
// runs. The template's preparation (interpreter set-up: builtins only) travels at the top of the
// script. The program's own stdin is /dev/null.
import { randomBytes } from 'node:crypto';
import { artifactLines } from './artifacts';
import { exitMarkerLines } from './exit-marker';
import type { TemplateDef } from './templates';

export function bootstrapArgv(template: TemplateDef, opts: { warm: boolean }): string[] {
  // The reading shell is the sandbox's first process: no `sh -c` handing over to it (an exec costs
  // ~10 ms of a sandbox's CPU under gVisor's ptrace platform). Only a warm sandbox's warm-up runs
  // before it, in the template's prepared environment; the script prepares again, which costs
  // builtins only. (The script cannot be read with `. /dev/stdin`: that fails where stdin is a
  // socket.)
  if (!opts.warm || !template.warmup) return ['/bin/sh', '-s'];
  return ['/bin/sh', '-c', [...(template.prepare ?? []), template.warmup, 'exec /bin/sh -s'].join('\n')];
}

/** Single-quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ProgramSpec {
  template: TemplateDef;
  code?: string;
  argv?: string[];
  /** With code: the program's arguments. */
  args?: string[];
  /** Text, or bytes (stdinBase64). */
  stdin?: string | Buffer;
  /** Files written under /work before the program starts (paths relative to /work, checked). */
  files?: { path: string; data: Buffer; executable?: boolean }[];
  /** Paths under /work brought out after the program exits (artifacts.ts), and their cap in bytes. */
  artifacts?: { paths: string[]; capBytes: number };
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
  // A compiled template runs what it built: its interpreter is the binary, not given the source.
  const source = p.template.compile ? [] : [`/work/${p.template.codeFile}`];
  return [...p.template.interpreter, ...source, ...(p.args ?? [])];
}

/**
 * Bytes as a printf format that prints exactly them: printable ASCII as is (but % and \\), every
 * other byte as a three-digit octal escape. printf is a shell builtin, so writing the code costs
 * no process start (each is ~10-20 ms under gVisor).
 */
export function printfFormat(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    // A format starting with '-' would be read as an option ("printf: Illegal option -1" for
    // Python code starting `-1`, or a 32 KiB slice that does): written as its octal escape.
    if (b === 0x2d && out === '') out += '\\055';
    else if (b === 0x25) out += '%%';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f && b !== 0x27) out += String.fromCharCode(b);
    else out += '\\' + b.toString(8).padStart(3, '0');
  }
  return out;
}

// Code is written in slices so that no single shell word gets very large.
const SLICE_BYTES = 32 * 1024;

/**
 * The script the bootstrap reads: prepares the template's interpreter (its `prepare` lines, before
 * the run's environment so that the run's variables win), writes the code file (and the run's
 * stdin) byte for byte, runs the program with that stdin or /dev/null, then reports its exit with
 * the run's marker (exit-marker.ts).
 *
 * With a deadline the program runs under coreutils' `timeout -s KILL`, which kills it and its
 * process group at the deadline; the bootstrap (PID 1) then reports and exits, and the sandbox
 * with it. Moat's own timer stops a run at its timeout, long before this; the backstop is for a
 * sandbox whose Moat is gone (crashed, or cut off from a remote host), which would otherwise run
 * until someone reaps it. It costs one process of the run's process limit and a process start
 * (~19 ms of the sandbox's CPU under gVisor's ptrace platform), and is skipped where an image has
 * no `timeout` (both templates' images have it). A long-lived local Moat gives no deadline: its
 * sentinel (sentinel.ts) removes its sandboxes if it dies.
 */
export function programScript(p: ProgramSpec, exitNonce: string): string {
  const lines = ['cd /work || exit 125', ...(p.template.prepare ?? [])];
  for (const v of p.env ?? []) lines.push(`${v.name}=${shQuote(v.value)}; export ${v.name}`);
  lines.push(...(p.prelude ?? []));
  for (const f of p.files ?? []) {
    const dest = `/work/${f.path}`;
    const dir = dest.slice(0, dest.lastIndexOf('/'));
    if (dir !== '/work') lines.push(`mkdir -p ${shQuote(dir)} || exit 125`);
    lines.push(...writeFileLines(dest, f.data));
    if (f.executable) lines.push(`chmod 755 ${shQuote(dest)} || exit 125`);
  }
  if (p.code !== undefined) lines.push(...writeFileLines(`/work/${p.template.codeFile}`, p.code));
  if (p.stdin !== undefined) lines.push(...writeFileLines(STDIN_FILE, p.stdin));
  let wrap = '';
  if (p.deadlineMs !== undefined) {
    lines.push(`moat_deadline=; command -v timeout >/dev/null 2>&1 && moat_deadline='timeout -s KILL ${Math.ceil(p.deadlineMs / 1000)}'`);
    wrap = '$moat_deadline ';
  }
  const run = `${wrap}${programArgv(p).map(shQuote).join(' ')} <${p.stdin !== undefined ? STDIN_FILE : '/dev/null'}`;
  lines.push(...(p.template.compile && p.code !== undefined && !p.argv ? compileThen(p.template.compile, run) : [run]));
  lines.push(...exitMarkerLines(exitNonce, p.artifacts ? artifactLines(p.artifacts.paths, p.artifacts.capBytes) : undefined));
  // One brace group: the shell parses all of it before running any of it, so no part of the
  // script is left in the pipe (for the program to read or disturb) while the program runs.
  return `{\n${lines.join('\n')}\n}\n`;
}

/** What the script prints on stderr, last before its exit marker, when the compile step fails. */
export const COMPILE_ERROR_PREFIX = 'moat: compile error: ';

/**
 * Compiles, then runs the program only when that worked. The compiler runs under its own time limit
 * (coreutils `timeout`, TERM then KILL a second later; status 124 when it passes the limit) with
 * stdin /dev/null. When it fails, the last stderr line before the exit marker is
 * COMPILE_ERROR_PREFIX + why, and the marker reports the compiler's status (manager.ts ends such a
 * run `compile-error`). $? after the `if` is the program's status or the compiler's.
 */
export function compileThen(c: { argv: string[]; timeoutMs: number }, run: string): string[] {
  const secs = Math.max(1, Math.ceil(c.timeoutMs / 1000));
  const name = shQuote(c.argv[0]!.split('/').pop()!);
  return [
    `moat_ct=; command -v timeout >/dev/null 2>&1 && moat_ct='timeout -k 1 ${secs}'`,
    `if $moat_ct ${c.argv.map(shQuote).join(' ')} </dev/null; then`,
    run,
    'else',
    'moat_s=$?',
    `if [ "$moat_s" -eq 124 ]; then printf '%s%s passed its time limit (${secs} s)\\n' '${COMPILE_ERROR_PREFIX}' ${name} >&2;`,
    `else printf '%s%s exited with status %d\\n' '${COMPILE_ERROR_PREFIX}' ${name} "$moat_s" >&2; fi`,
    '(exit "$moat_s")',
    'fi',
  ];
}

/** Shell lines that write text or bytes to a file byte for byte, with builtins only. */
function writeFileLines(path: string, content: string | Buffer): string[] {
  const file = shQuote(path);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const lines = [`: > ${file} || exit 125`];
  for (let off = 0; off < bytes.length; off += SLICE_BYTES) {
    lines.push(`printf '${printfFormat(bytes.subarray(off, off + SLICE_BYTES))}' >> ${file} || exit 125`);
  }
  return lines;
}

export function newExitNonce(): string {
  return `MOAT${randomBytes(16).toString('hex')}`;
}
