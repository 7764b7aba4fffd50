import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapArgv, programScript, shQuote } from '../main/sandbox/bootstrap';
import { findTemplate } from '../main/sandbox/templates';

test('shQuote survives quotes, spaces, newlines and $ through a real sh', () => {
  const words = ["it's", 'a b', '$HOME', 'line\nbreak', '', '`id`', "'"];
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shQuote).join(' ')}`]);
  assert.deepEqual(out.toString().split('\0').slice(0, -1), words);
});

test('the program script writes the code byte for byte and execs the interpreter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-boot-'));
  try {
    const code = "print('MOAT_EOF')\n\r\n\u00e9 no trailing newline";
    const script = programScript({ template: findTemplate('shell')!, code }).replaceAll('/work', dir);
    // Run it with a harmless interpreter in place of the template's: `cat` the code file back.
    const out = execFileSync('sh', ['-c', script.replace(/^exec .*$/m, `cat '${dir}/main.sh'`)]);
    assert.equal(out.toString('utf8'), code);
    assert.equal(readFileSync(join(dir, 'main.sh'), 'utf8'), code);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bootstrap prepares the interpreter, then runs the script it reads from stdin', () => {
  const template = { ...findTemplate('shell')!, prepare: ['export GREETING=prepared'], warmup: 'echo warming >&2' };
  const cold = bootstrapArgv(template, { warm: false });
  const out = execFileSync(cold[0]!, cold.slice(1), { input: 'echo "$GREETING"\nexec echo second\n' }).toString();
  assert.equal(out, 'prepared\nsecond\n');
  assert.doesNotMatch(cold.join(' '), /warming/, 'cold sandboxes skip the warm-up');
  assert.match(bootstrapArgv(template, { warm: true }).join(' '), /warming/);
});
