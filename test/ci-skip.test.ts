// Tests cannot pass by skipping under CI: with CI set, a test whose engine is missing fails (so
// does the whole file); without it, the test is skipped and the reason printed. Each case runs a
// test file in a child `node --test` with DOCKER_HOST at a socket that does not exist.
//   node --import tsx --test test/ci-skip.test.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempDir } from './helpers/engine';

const NO_ENGINE = 'unix:///nonexistent/moat-ci-skip/docker.sock';

interface Outcome {
  status: number | null;
  output: string;
}

/** `node --test FILE` with no reachable engine, with or without CI set. */
function nodeTest(file: string, ci: boolean): Promise<Outcome> {
  // Without NODE_TEST_CONTEXT, which would make the child a part of this run instead of its own.
  const { CI: _ci, NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--test', file],
      { env: { ...env, DOCKER_HOST: NO_ENGINE, ...(ci ? { CI: 'true' } : {}) }, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        done({ status, output: stdout + stderr });
      },
    );
  });
}

describe('a test that needs the engine', () => {
  let dir: ReturnType<typeof tempDir>;
  let file = '';
  before(() => {
    dir = tempDir('moat-ci-skip-');
    // .mts: an ES module (for its top-level await) outside the package's "type": "module".
    file = join(dir.path, 'needs-engine.test.mts');
    const helpers = pathToFileURL(resolve('test/helpers/engine.ts')).href;
    writeFileSync(
      file,
      [
        "import { test } from 'node:test';",
        `import { engineUnavailableReason, skipUnlessReady } from '${helpers}';`,
        "const skip = skipUnlessReady(await engineUnavailableReason(), 'the tiny engine test');",
        "test('talks to the engine', { skip }, () => {});",
        '',
      ].join('\n'),
    );
  });
  after(() => dir.cleanup());

  test('fails under CI=true, saying what is missing', async () => {
    const r = await nodeTest(file, true);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /the tiny engine test must run, not skip, but cannot: Docker engine not reachable/);
  });

  test('is skipped without CI, and says why', async () => {
    const r = await nodeTest(file, false);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /# skipping the tiny engine test: Docker engine not reachable/);
    assert.match(r.output, /# skipped 1\b/);
    assert.match(r.output, /# fail 0\b/);
  });
});

// The same for the test files that skip for a missing engine (the engine-loss test is left out:
// past its skip it stops the machine's Docker daemon).
describe('the engine test files', () => {
  const files = [
    'test/cli.integration.test.ts',
    'test/images.test.ts',
    'test/sandbox.integration.test.ts',
    'test/sandbox-policy.integration.test.ts',
  ];
  for (const f of files) {
    test(`${f}: fails under CI=true, skips with the reason without`, async () => {
      const [ci, local] = await Promise.all([nodeTest(f, true), nodeTest(f, false)]);
      assert.notEqual(ci.status, 0, ci.output);
      assert.match(ci.output, /must run, not skip, but cannot: Docker engine (not reachable|did not answer)/);
      assert.equal(local.status, 0, local.output);
      assert.match(local.output, /# skipping .+: Docker engine (not reachable|did not answer)/);
    });
  }
});
