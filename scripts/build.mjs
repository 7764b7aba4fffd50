// `npm run build`: the renderer (Vite) into dist/renderer, the Electron main process and preload
// (esbuild) into dist/electron, and the `moat` command (esbuild) into dist/cli, which bin/moat.js
// runs (from source via tsx where it is missing or older than its sources), and the native `moat
// run` client (a C compiler) into dist/native, which bin/moat runs for `moat run`. The headless host
// runs inside the CLI and needs only dist/renderer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'electron');
const CLI_OUT = path.join(ROOT, 'dist', 'cli');
const NATIVE_OUT = path.join(ROOT, 'dist', 'native');

export async function buildRenderer() {
  const config = ['vite.config.ts', 'vite.config.mts', 'vite.config.js', 'vite.config.mjs']
    .map((f) => path.join(ROOT, f))
    .find((f) => existsSync(f));
  if (!config) {
    console.log('renderer: no vite.config.* at the repository root yet, skipping the renderer build');
    return;
  }
  const { build } = await import('vite');
  await build({ configFile: config, logLevel: 'warn' });
  console.log(`renderer: built with ${path.relative(ROOT, config)} -> dist/renderer`);
}

/** Lists what a bundle still requires at run time, so the build can refuse surprises. */
function externalImports(metafile, outfile) {
  const key = path.relative(ROOT, outfile).split(path.sep).join('/');
  const out = metafile.outputs[key];
  if (!out) throw new Error(`esbuild metafile has no entry for ${key}`);
  return [...new Set(out.imports.filter((i) => i.external).map((i) => i.path))].sort();
}

/**
 * The egress filter's scan worker (main/egress/scan-worker.ts) inside the bundle that starts it:
 * main/egress/scan-worker-source.ts, which from the sources starts the worker from its .ts file
 * through tsx, is replaced by a module holding the worker bundled into a string (CommonJS, Node's
 * built-ins only), started with `new Worker(code, { eval: true })`. So the worker needs no file
 * beside the bundle, which inside app.asar a worker could not load. The worker's sources are
 * added to `inputs` (for inputs.json).
 */
export function scanWorkerPlugin(inputs = new Set()) {
  return {
    name: 'moat-scan-worker',
    setup(build) {
      build.onLoad({ filter: /[\\/]main[\\/]egress[\\/]scan-worker-source\.ts$/ }, async () => {
        const worker = await esbuild.build({
          absWorkingDir: ROOT,
          entryPoints: [path.join(ROOT, 'main', 'egress', 'scan-worker.ts')],
          bundle: true,
          write: false,
          format: 'cjs',
          platform: 'node',
          target: 'node20',
          metafile: true,
          logLevel: 'warning',
          legalComments: 'none',
        });
        const requires = Object.values(worker.metafile.outputs)
          .flatMap((o) => o.imports)
          .filter((i) => i.external && !i.path.startsWith('node:'));
        if (requires.length > 0) {
          throw new Error(`the scan worker must need only Node's built-ins, but requires: ${requires.map((i) => i.path).join(', ')}`);
        }
        const files = Object.keys(worker.metafile.inputs);
        for (const f of files) inputs.add(f);
        return {
          loader: 'js',
          contents: [
            "import { Worker } from 'node:worker_threads';",
            `const CODE = ${JSON.stringify(worker.outputFiles[0].text)};`,
            'export async function startScanWorker(options) {',
            '  return new Worker(CODE, { ...options, eval: true });',
            '}',
          ].join('\n'),
          watchFiles: files.map((f) => path.join(ROOT, f)),
        };
      });
    },
  };
}

/** `outDir` other than dist/electron is for tests; main.cjs finds the renderer at outDir/../renderer. */
export async function buildElectron({ outDir = OUT, quiet = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  };

  // Main: our own code bundled, npm packages (dockerode, ssh2, ws, zod...) left to node_modules,
  // which keeps native modules and their .node files out of the bundle.
  const mainOut = path.join(outDir, 'main.cjs');
  const main = await esbuild.build({
    ...common,
    entryPoints: [path.join(ROOT, 'app', 'electron', 'main.ts')],
    outfile: mainOut,
    packages: 'external',
    external: ['electron'],
    plugins: [scanWorkerPlugin()],
  });

  // Preload: runs in a sandboxed renderer, whose `require` knows only 'electron' (and a few
  // polyfilled built-ins we do not use): everything else must be inside the one file.
  const preloadOut = path.join(outDir, 'preload.cjs');
  const preload = await esbuild.build({
    ...common,
    entryPoints: [path.join(ROOT, 'app', 'electron', 'preload.ts')],
    outfile: preloadOut,
    external: ['electron'],
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const preloadRequires = externalImports(preload.metafile, preloadOut);
  if (preloadRequires.join(',') !== 'electron') {
    throw new Error(`preload must require only 'electron', but requires: ${preloadRequires.join(', ')}`);
  }

  const mainRequires = externalImports(main.metafile, mainOut).filter((p) => !p.startsWith('node:'));
  if (!quiet) {
    console.log(`electron: ${path.relative(ROOT, mainOut)} (requires ${mainRequires.join(', ')})`);
    console.log(`electron: ${path.relative(ROOT, preloadOut)} (requires electron only)`);
  }
  return { main: mainOut, preload: preloadOut };
}

/** Packages bundled into the CLI; every other dependency is left to Node to load from node_modules. */
const BUNDLED_IN_CLI = new Set(['zod', 'commander']);
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXTERNAL_FOR_CLI = Object.keys({ ...PKG.dependencies, ...PKG.devDependencies })
  .filter((name) => !BUNDLED_IN_CLI.has(name))
  .flatMap((name) => [name, `${name}/*`]);

/**
 * What every bundle of the CLI shares (this checkout's, and the packages' self-contained one in
 * scripts/dist.mjs): app/cli/main.ts as ESM for Node 20, a chunk per lazily imported module.
 */
export function cliBundleOptions(outdir, workerInputs = new Set()) {
  return {
    absWorkingDir: ROOT,
    entryPoints: { moat: path.join(ROOT, 'app', 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [scanWorkerPlugin(workerInputs)],
  };
}

/**
 * The CLI: app/cli/main.ts as ESM in outDir/moat.mjs, with a chunk per module it imports lazily
 * (`await import()`) in outDir/chunks, so `moat --version` parses only the entry. npm packages stay
 * in node_modules, loaded by Node as from source. outDir/inputs.json lists the source files (from
 * the repository root) for bin/moat.js, which runs the sources instead when one is newer than
 * moat.mjs. `outDir` other than dist/cli is for tests.
 */
export async function buildCli({ outDir = CLI_OUT, quiet = false } = {}) {
  // Chunks are named by content: a rebuild must not leave the last build's beside the new ones.
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const workerInputs = new Set();
  const result = await esbuild.build({
    ...cliBundleOptions(outDir, workerInputs),
    // Every npm package stays in node_modules except the ones on every command's path (argument
    // parsing, request schemas): Node loads a package as one module per file (zod: about 60), which
    // cost `moat run` ~60 ms of CPU at each start; bundled, they parse as part of a chunk.
    external: EXTERNAL_FOR_CLI,
    // commander is CommonJS: its require() of Node built-ins needs a real require in ESM chunks.
    banner: {
      js: "import { createRequire as __moatCreateRequire } from 'node:module'; const require = __moatCreateRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const entry = path.join(outDir, 'moat.mjs');
  // Only the repository's own sources: bin/moat.js compares their times with the bundle's, and an
  // npm install is not an edit (it rebuilds through `npm run build` anyway).
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...workerInputs])]
    .filter((f) => !f.startsWith('node_modules/'))
    .sort();
  writeFileSync(path.join(outDir, 'inputs.json'), JSON.stringify(inputs) + '\n');
  if (!quiet) {
    const chunks = Object.keys(result.metafile.outputs).filter((o) => o.endsWith('.mjs')).length - 1;
    console.log(`cli: ${path.relative(ROOT, entry)} (+${chunks} chunks loaded on demand, from ${inputs.length} sources)`);
  }
  return { entry };
}

/**
 * The native `moat run` client (native/moat-run.c) into dist/native/moat-run, where a C compiler
 * exists (`$CC`, else `cc`); bin/moat starts it for `moat run`. Without a compiler (or on Windows)
 * nothing is built and `moat run` is the Node CLI's, as everything else is: that is said, not an
 * error.
 */
export function buildNative({ outDir = NATIVE_OUT, quiet = false } = {}) {
  const say = (msg) => quiet || console.log(msg);
  if (process.platform === 'win32') return say('native: skipped on Windows (`moat run` is the Node CLI there)');
  const cc = process.env.CC || 'cc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0)
    return say(`native: no C compiler (${cc}): \`moat run\` uses the Node CLI (install gcc for its faster client)`);
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'moat-run');
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-O2', '-std=c11', '-Wall', '-Wextra', '-o', tmp, path.join(ROOT, 'native', 'moat-run.c')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`${cc} failed:\n${r.stderr}`);
  }
  renameSync(tmp, out);
  say(`native: ${path.relative(ROOT, out)} (the \`moat run\` client)`);
  return { out };
}

async function main() {
  // Every part is attempted, so one broken part still shows whether the others build.
  let failed = false;
  for (const [name, step] of [
    ['renderer', buildRenderer],
    ['electron', () => buildElectron()],
    ['cli', () => buildCli()],
    ['native', () => buildNative()],
  ]) {
    try {
      await step();
    } catch (err) {
      failed = true;
      console.error(`${name}: build failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
