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
}

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
 * The script the bootstrap reads: writes the code file byte for byte, runs the program with stdin
 * at /dev/null, then reports its exit with the run's marker (exit-marker.ts).
 */
export function programScript(p: ProgramSpec, exitNonce: string): string {
  const lines = ['cd /work || exit 125'];
  if (p.code !== undefined) {
    const file = shQuote(`/work/${p.template.codeFile}`);
    const bytes = Buffer.from(p.code, 'utf8');
    lines.push(`: > ${file} || exit 125`);
    for (let off = 0; off < bytes.length; off += SLICE_BYTES) {
      lines.push(`printf '${printfFormat(bytes.subarray(off, off + SLICE_BYTES))}' >> ${file} || exit 125`);
    }
  }
  lines.push(`${programArgv(p).map(shQuote).join(' ')} </dev/null`);
  lines.push(...exitMarkerLines(exitNonce));
  return lines.join('\n') + '\n';
}

export function newExitNonce(): string {
  return `MOAT${randomBytes(16).toString('hex')}`;
}
