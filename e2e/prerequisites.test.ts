// The end-to-end suite's prerequisites (Docker engine, gVisor, Chromium, the built UI): locally a
// missing one skips the suite and says why; with CI set it fails the suite instead, so a broken CI
// machine cannot pass by running nothing. Chromium is made "missing" by pointing MOAT_CHROMIUM at
// a path that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const NO_CHROMIUM = '/nonexistent/moat-test/chromium';

function runE2e(ci: string | undefined): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MOAT_CHROMIUM: NO_CHROMIUM };
  // Run as a plain script, not as a child of this test runner.
  delete env.NODE_TEST_CONTEXT;
  if (ci === undefined) delete env.CI;
  else env.CI = ci;
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/sandboxes.e2e.test.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

test('locally, a missing prerequisite skips the end-to-end suite and prints why', async () => {
  const { code, output } = await runE2e(undefined);
  assert.equal(code, 0, output);
  assert.match(output, /# skipping end-to-end tests: (Chromium not found at \/nonexistent\/moat-test\/chromium|Docker|.*gVisor)/);
  assert.doesNotMatch(output, /^not ok/m);
});

test('with CI set, a missing prerequisite fails the end-to-end suite, saying what is missing', async () => {
  for (const ci of ['true', '1']) {
    const { code, output } = await runE2e(ci);
    assert.notEqual(code, 0, `CI=${ci} must fail:\n${output}`);
    assert.match(
      output,
      /end-to-end tests must run, not skip, but cannot: (Chromium not found at \/nonexistent\/moat-test\/chromium|Docker|.*gVisor)/,
    );
  }
  // CI=false is how some set-ups say "not CI": that still skips.
  assert.equal((await runE2e('false')).code, 0);
});
