// Writes the harness corpus from its text files: bench/harness/programs/NNN-name.py from
// programs.txt (small Python exercises: strings, number theory, sorting, DP, parsing, recursion,
// graphs...) and bench/harness/rust/NNN-name.rs from rust.txt (the Rust subset, std only). Each
// program checks itself with asserts and exits 0 when correct.
// `node --import tsx bench/harness/make-programs.ts` (bench/harness.ts runs them in every column).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;

function write(source: string, dir: string, ext: string, comment: string): void {
  const out = join(here, dir);
  const progs = readFileSync(join(here, source), 'utf8')
    .split(/^#### /m)
    .filter((s) => s.trim())
    .map((s) => {
      const nl = s.indexOf('\n');
      return { name: s.slice(0, nl).trim(), code: s.slice(nl + 1).trimEnd() + '\n' };
    });
  const names = new Set(progs.map((p) => p.name));
  if (names.size !== progs.length) throw new Error(`${source}: two programs have the same name`);
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(out)) if (f.endsWith(ext)) rmSync(join(out, f));
  progs.forEach((p, i) => writeFileSync(join(out, `${String(i + 1).padStart(3, '0')}-${p.name}${ext}`), `${comment} ${p.name}\n${p.code}`));
  process.stdout.write(`${progs.length} programs in ${out}\n`);
}

write('programs.txt', 'programs', '.py', '#');
write('rust.txt', 'rust', '.rs', '//');
