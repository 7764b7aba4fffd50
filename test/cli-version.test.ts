// `moat --version` / `moat -V`: package.json's version, nothing else, exit 0. Needs no engine.
//   node --import tsx --test test/cli-version.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

for (const flag of ['--version', '-V']) {
  test(`moat ${flag} prints package.json's version`, () => {
    const r = spawnSync(process.execPath, ['bin/moat.js', flag], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  });
}
