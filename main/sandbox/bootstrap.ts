// How a program gets into a sandbox. Every sandbox (cold or warm) starts the same tiny POSIX sh
// bootstrap that waits on stdin for a length-prefixed script, writes it to /tmp and execs it. This
// lets a warm sandbox be started long before the code is known, and one code path serves both.
import { randomBytes } from 'node:crypto';
import type { TemplateDef } from './templates';

// `read` in sh consumes its pipe byte by byte, so exactly the header line is taken; `head -c`
// then reads exactly the script. The program's own stdin is /dev/null.
const BOOT =
  'IFS= read -r n || exit 125; head -c "$n" > /tmp/.moat-run.sh || exit 125; exec /bin/sh /tmp/.moat-run.sh </dev/null';

export const BOOTSTRAP_ARGV = ['/bin/sh', '-c', BOOT] as const;

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
    const b64 = Buffer.from(p.code, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\n');
    lines.push(`base64 -d > ${shQuote(`/work/${p.template.codeFile}`)} <<'${delim}' || exit 125`);
    lines.push(b64 + delim);
  }
  if (p.code !== undefined) lines.push(...(p.template.prelude ?? []));
  lines.push(`exec ${programArgv(p).map(shQuote).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The bytes written to the sandbox's stdin: "<length>\n<script>". */
export function bootstrapPayload(script: string): Buffer {
  const body = Buffer.from(script, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}
