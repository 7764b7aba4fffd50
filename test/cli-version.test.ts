// `moat --version` / `moat -V`: package.json's version, nothing else, exit 0. Needs no engine.
// Both ways bin/moat.js starts: the bundle of `npm run build` (where it is current; else the
// sources) and the sources through tsx (MOAT_CLI_SOURCE=1). test/cli-bundle.test.ts checks which.
//   node --import tsx --test test/cli-version.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

for (const source of ['', '1']) {
  for (const flag of ['--version', '-V']) {
    test(`moat ${flag} prints package.json's version${source ? ' (MOAT_CLI_SOURCE=1)' : ''}`, () => {
      const r = spawnSync(process.execPath, ['bin/moat.js', flag], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, MOAT_CLI_SOURCE: source },
      });
      assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, '');
    });
  }
}
