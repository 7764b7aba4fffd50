// The scan worker from the built bundles (scripts/build.mjs, scanWorkerPlugin): the worker is
// bundled into a string and started with `eval: true`, so it runs from the Electron main bundle
// (CommonJS, later inside app.asar) and from the CLI bundle (ESM, which the daemon and `moat serve`
// run) without tsx and without any file beside the bundle. Checked by running a filtered scan
// through a bundle of each format in a plain Node, and `moat run` from the real CLI bundle (built
// into a checkout of its own, as test/cli-bundle.test.ts does) against the engine.
//   node --import tsx --test test/egress-worker-bundle.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { engineUnavailableReason, skipUnlessReady } from './helpers/engine';

const ROOT = path.join(import.meta.dirname, '..');
const build = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'build.mjs')).href)) as {
  scanWorkerPlugin: () => esbuild.Plugin;
  buildCli: (o: { outDir: string; quiet: boolean }) => Promise<{ entry: string }>;
  buildElectron: (o: { outDir: string; quiet: boolean }) => Promise<{ main: string }>;
};

// Not AWS's documented example key, which the rules may treat as a placeholder.
const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';
const REDACTED = '[REDACTED:aws-access-key-id]';

const dir = mkdtempSync(path.join(tmpdir(), 'moat-worker-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A scan through the worker, as the runner does it; prints what came out.
const PROBE = `
import { WorkerRunFilter } from './main/egress/filter-worker';
async function main(): Promise<void> {
  const f = new WorkerRunFilter({ policy: 'redact', secrets: [], suppressed: new Set(), capBytes: 1 << 20, onFinding: () => {} });
  const out: Buffer[] = [];
  f.onRelease((_s, d) => out.push(Buffer.from(d)));
  f.push('stdout', Buffer.from('key ' + process.argv[2] + ' end\\n'));
  await f.end();
  process.stdout.write(JSON.stringify({ out: Buffer.concat(out).toString(), findings: f.findings }));
}
void main();
`;

for (const format of ['cjs', 'esm'] as const) {
  test(`${format === 'cjs' ? 'a CommonJS' : 'an ESM'} bundle runs the worker in a plain Node (no tsx, no worker file beside it), which scans and redacts`, async () => {
    const outfile = path.join(dir, format, `probe.${format === 'cjs' ? 'cjs' : 'mjs'}`);
    await esbuild.build({
      absWorkingDir: ROOT,
      stdin: { contents: PROBE, resolveDir: ROOT, sourcefile: 'probe.ts', loader: 'ts' },
      outfile,
      bundle: true,
      format,
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
      plugins: [build.scanWorkerPlugin()],
    });
    assert.deepEqual(readdirSync(path.dirname(outfile)), [path.basename(outfile)], 'one file, nothing beside it');
    const text = readFileSync(outfile, 'utf8');
    assert.ok(!text.includes('tsx/esm/api') && !text.includes('scan-worker.ts"'), 'the source-mode start is not in the bundle');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [outfile, KEY], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { out: `key ${REDACTED} end\n`, findings: 1 });
    // Positive control: the same probe says what it got, so a clean line comes back as it was.
    const c = spawnSync(process.execPath, [outfile, 'nothing'], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual(JSON.parse(c.stdout), { out: 'key nothing end\n', findings: 0 });
  });
}

test('the Electron main bundle carries the worker as a string, not a path to it', async () => {
  const { main } = await build.buildElectron({ outDir: path.join(dir, 'electron'), quiet: true });
  const text = readFileSync(main, 'utf8');
  assert.match(text, /new (import_node_worker_threads\.)?Worker\(CODE, \{ \.\.\.options, eval: true \}\)/);
  assert.ok(text.includes('// main/egress/scan-worker.ts'), 'the worker code is in the bundle');
  assert.ok(!text.includes('tsx/esm/api'));
});

const skip = skipUnlessReady(await engineUnavailableReason(), 'moat run from the CLI bundle');

describe('the CLI bundle', { skip: skip ?? false }, () => {
  test('moat run from the built CLI (in-process, as the daemon runs it) redacts a key through the worker, without tsx', async () => {
    const checkout = path.join(dir, 'checkout');
    const cliDir = path.join(checkout, 'dist', 'cli');
    await build.buildCli({ outDir: cliDir, quiet: true });
    const inputs = JSON.parse(readFileSync(path.join(cliDir, 'inputs.json'), 'utf8')) as string[];
    assert.ok(inputs.includes('main/egress/scan-worker.ts'), 'the worker is among the sources the bundle is checked against');
    for (const f of readdirSync(path.join(cliDir, 'chunks')).filter((f) => f.endsWith('.mjs'))) {
      assert.ok(!readFileSync(path.join(cliDir, 'chunks', f), 'utf8').includes('tsx/esm/api'), `${f} would start the worker through tsx`);
    }
    for (const e of [...new Set(inputs.map((f) => f.split('/')[0]!)), 'node_modules', 'package.json']) {
      if (!existsSync(path.join(checkout, e))) symlinkSync(path.join(ROOT, e), path.join(checkout, e));
    }
    const data = path.join(dir, 'data');
    mkdirSync(data);
    const env: NodeJS.ProcessEnv = { ...process.env, MOAT_DATA_DIR: data };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [path.join(cliDir, 'moat.mjs'), 'run', '-c', `print("key ${KEY} end")`], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `key ${REDACTED} end\n`);
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
  });
});
