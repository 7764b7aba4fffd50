// Writes bench/harness/programs/NNN-name.py from programs.txt: small Python exercises (strings,
// number theory, sorting, DP, parsing, recursion, graphs...), each checking itself with asserts and
// exiting 0 when correct. `node --import tsx bench/harness/make-programs.ts` (then run them with
// python3 to check: bench/harness.ts does, in every column).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const out = join(here, 'programs');
const text = readFileSync(join(here, 'programs.txt'), 'utf8');
const progs = text
  .split(/^#### /m)
  .filter((s) => s.trim())
  .map((s) => {
    const nl = s.indexOf('\n');
    return { name: s.slice(0, nl).trim(), code: s.slice(nl + 1).trimEnd() + '\n' };
  });
const names = new Set(progs.map((p) => p.name));
if (names.size !== progs.length) throw new Error('two programs have the same name');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.py')) rmSync(join(out, f));
progs.forEach((p, i) => writeFileSync(join(out, `${String(i + 1).padStart(3, '0')}-${p.name}.py`), `# ${p.name}\n${p.code}`));
process.stdout.write(`${progs.length} programs in ${out}\n`);
