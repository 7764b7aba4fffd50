// How a program gets into a sandbox. Every sandbox (cold or warm) starts a tiny POSIX sh bootstrap:
// it prepares the template's interpreter, then `sh -s` reads the run's script from stdin, which
// Moat writes and closes once the run starts. A warm sandbox is thus started long before its code
// is known, and one code path serves cold and warm runs. The program's own stdin is /dev/null.
import { randomBytes } from 'node:crypto';
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

/** The script sent to the bootstrap: writes the code file (base64, so any bytes survive) and execs. */
export function programScript(p: ProgramSpec): string {
  const lines = ['cd /work || exit 125'];
  if (p.code !== undefined) {
    const delim = `MOAT_EOF_${randomBytes(16).toString('hex')}`;
    const b64 = Buffer.from(p.code, 'utf8')
      .toString('base64')
      .replace(/.{1,76}/g, '$&\n');
    lines.push(`base64 -d > ${shQuote(`/work/${p.template.codeFile}`)} <<'${delim}' || exit 125`);
    lines.push(b64 + delim);
  }
  lines.push(`exec ${programArgv(p).map(shQuote).join(' ')} </dev/null`);
  return lines.join('\n') + '\n';
}
