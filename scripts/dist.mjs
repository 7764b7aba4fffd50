// `npm run dist`: the desktop packages for this platform (electron-builder.yml): Linux AppImage
// and .deb, macOS .dmg, Windows NSIS installer, into release/. `npm run dist -- --dir` builds only
// the unpacked app (release/<platform>-unpacked), which is what test/electron-packaged.test.ts runs.
//
// electron-builder needs the Electron binary for this platform (from node_modules/electron/dist, or
// the zip in Electron's download cache) and, for installers, its packaging tools (downloaded from
// GitHub on first use). Rather than hang on network timeouts where they cannot be had, this checks
// first and stops with one line saying what is missing.
//
// Exit status: 0 packages built; 1 the build or electron-builder failed; 3 this machine cannot
// build packages (no Electron binary, no network for the tools, no keychain binary for this
// platform, no project homepage for the .deb): build them on a machine with internet (README,
// "Packages").
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
export const CANNOT_BUILD_HERE = 3;

/** Where @electron/get keeps downloads: ELECTRON_CACHE, else the OS cache folder. */
export function electronCacheDir(env = process.env, platform = process.platform, home = os.homedir()) {
  if (env.ELECTRON_CACHE) return env.ELECTRON_CACHE;
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'electron');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'electron', 'Cache');
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'electron');
}

/** A file named `name` in `dir` or one level below (the cache keeps each download in a hashed folder). */
function findInCache(dir, name) {
  if (!existsSync(dir)) return null;
  if (existsSync(path.join(dir, name))) return path.join(dir, name);
  for (const sub of readdirSync(dir)) {
    const p = path.join(dir, sub, name);
    if (existsSync(p) && statSync(p).size > 0) return p;
  }
  return null;
}

/**
 * How electron-builder can get Electron here without the network: node_modules/electron/dist
 * (installed by electron's postinstall; passed as electronDist), or the release zip already in
 * the cache. null, with the reason, when neither is there.
 */
export function electronSource({ root = ROOT, env = process.env } = {}) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'));
  // Node's platform and arch names are Electron's release names too (linux-x64, darwin-arm64, win32-x64).
  const { platform, arch } = process;
  const dist = path.join(root, 'node_modules', 'electron', 'dist');
  const pathTxt = path.join(root, 'node_modules', 'electron', 'path.txt');
  if (existsSync(pathTxt) && existsSync(path.join(dist, readFileSync(pathTxt, 'utf8').trim()))) {
    return { version: pkg.version, electronDist: dist };
  }
  const zip = `electron-v${pkg.version}-${platform}-${arch}.zip`;
  const cache = electronCacheDir(env);
  const cached = findInCache(cache, zip);
  if (cached) return { version: pkg.version, zip: cached };
  return {
    version: pkg.version,
    missing: `the Electron ${pkg.version} binary for ${platform}-${arch} is not here (no node_modules/electron/dist, no ${zip} in ${cache})`,
  };
}

/** The keychain library's prebuilt binary for this platform, which the package must carry. */
export function keyringBinary() {
  const dir = path.dirname(require.resolve('@napi-rs/keyring/package.json'));
  const scope = path.dirname(dir);
  const found = readdirSync(scope)
    .filter((n) => n.startsWith('keyring-') && n.includes(`${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch}`))
    .flatMap((n) =>
      readdirSync(path.join(scope, n))
        .filter((f) => f.endsWith('.node'))
        .map((f) => path.join(scope, n, f)),
    );
  return found[0] ?? null;
}

/** Whether GitHub (where electron-builder fetches fpm, appimagetool, NSIS) answers within a few seconds. */
async function toolsReachable(timeoutMs = 5000) {
  try {
    await fetch('https://github.com/', { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Left out of the node CLI bundle and copied as installed: the keychain library (a native binary
 * per platform), ssh2's optional native crypto, and dockerode, which reads .proto files from its
 * own folder at run time.
 */
const NODE_CLI_EXTERNAL = ['@napi-rs/keyring', 'cpu-features', 'dockerode', 'ssh2'];

/** The package folders `names` need (dependencies and installed optional dependencies), resolved as Node would. */
export function dependencyClosure(names, root = ROOT) {
  const seen = new Set();
  const locate = (from, name) => {
    for (let d = from; ; d = path.dirname(d)) {
      const p = path.join(d, 'node_modules', name);
      if (existsSync(path.join(p, 'package.json'))) return p;
      if (d === root || d === path.dirname(d)) return null;
    }
  };
  const visit = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pj = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) {
      const found = locate(dir, dep);
      if (found) visit(found);
    }
  };
  for (const name of names) {
    const top = locate(root, name);
    if (top) visit(top);
  }
  return [...seen].sort();
}

/**
 * The `moat` CLI for a plain Node, outside app.asar (which only Electron can read): app/cli/main.ts
 * bundled with its npm packages, except the keychain library (a native binary, copied beside it)
 * and optional native speed-ups its packages fall back from. Laid out as the repository is
 * (package.json, dist/cli, dist/renderer for `moat serve`), so the CLI finds everything where it
 * does in a checkout.
 */
export async function buildNodeCli({ outDir = path.join(ROOT, 'dist', 'node-cli'), quiet = false } = {}) {
  const esbuild = await import('esbuild');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const { cliBundleOptions } = await import('./build.mjs');
  await esbuild.build({
    ...cliBundleOptions(path.join(outDir, 'dist', 'cli')),
    external: [...NODE_CLI_EXTERNAL, '*.node', 'electron'],
    // The CommonJS packages bundled into ESM call require() for Node's built-ins, and some name
    // their own folder (for files they never need here, such as ssh2's Windows Pageant helper).
    banner: {
      js: [
        "import { createRequire as __moatCreateRequire } from 'node:module';",
        "import { fileURLToPath as __moatFileURLToPath } from 'node:url';",
        "import { dirname as __moatDirname } from 'node:path';",
        'const require = __moatCreateRequire(import.meta.url);',
        'const __filename = __moatFileURLToPath(import.meta.url);',
        'const __dirname = __moatDirname(__filename);',
      ].join(' '),
    },
    logLevel: 'warning',
    legalComments: 'none',
  });
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(
    path.join(outDir, 'package.json'),
    JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module', engines: pkg.engines }, null, 2) + '\n',
  );
  const renderer = path.join(ROOT, 'dist', 'renderer');
  if (existsSync(renderer)) cpSync(renderer, path.join(outDir, 'dist', 'renderer'), { recursive: true });
  // The packages left out of the bundle, with everything they depend on, as npm installed them,
  // in dist/node_modules: electron-builder never copies a node_modules at the top of an
  // extraResources folder, and Node finds this one from dist/cli as well.
  for (const dir of dependencyClosure(NODE_CLI_EXTERNAL)) {
    cpSync(dir, path.join(outDir, 'dist', path.relative(ROOT, dir)), {
      recursive: true,
      // Nested node_modules are copied as packages of their own (when they are in the closure).
      // Source maps stay out, as from the package.
      filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules') && !src.endsWith('.map'),
    });
  }
  if (!quiet) console.log(`dist: ${path.relative(ROOT, outDir)} (the CLI for a plain Node)`);
  return { entry: path.join(outDir, 'dist', 'cli', 'moat.mjs') };
}

/**
 * The project's homepage, which the .deb must carry: MOAT_HOMEPAGE, else package.json's, else
 * the GitHub repository this checkout came from (electron-builder derives it from the remote).
 */
export function debHomepage(env = process.env) {
  if (env.MOAT_HOMEPAGE) return env.MOAT_HOMEPAGE;
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  if (pkg.homepage) return pkg.homepage;
  const remote = spawnSync('git', ['remote', 'get-url', 'origin'], { cwd: ROOT, encoding: 'utf8' });
  const m = /github\.com[:/]([^/]+)\/([^/\s]+?)(\.git)?\s*$/.exec(remote.stdout ?? '');
  return m ? `https://github.com/${m[1]}/${m[2]}` : null;
}

function stop(code, line) {
  process.stderr.write(`npm run dist: ${line}\n`);
  process.exit(code);
}

async function main(argv) {
  const dirOnly = argv.includes('--dir');
  const source = electronSource();
  if (source.missing) {
    stop(CANNOT_BUILD_HERE, `${source.missing}; build packages on a machine with internet (README: Packages).`);
  }
  if (!keyringBinary()) {
    stop(
      CANNOT_BUILD_HERE,
      `no @napi-rs/keyring binary for ${process.platform}-${process.arch} in node_modules; run npm ci on this platform.`,
    );
  }
  const homepage = process.platform === 'linux' && !dirOnly ? debHomepage() : null;
  if (process.platform === 'linux' && !dirOnly && !homepage) {
    stop(CANNOT_BUILD_HERE, 'the .deb needs the project homepage: set MOAT_HOMEPAGE=https://... (or build from a GitHub clone).');
  }
  if (!dirOnly && !(await toolsReachable())) {
    stop(
      CANNOT_BUILD_HERE,
      'github.com is not reachable: electron-builder fetches its packaging tools (fpm, appimagetool, NSIS) from there; ' +
        'build packages on a machine with internet, or run `npm run dist -- --dir` for the unpacked app only.',
    );
  }

  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) stop(1, `npm run build failed (exit ${build.status}).`);
  await buildNodeCli();
  // The .deb's and AppImage's `moat run` client (electron-builder.yml, linux.extraResources).
  if (process.platform === 'linux' && !existsSync(path.join(ROOT, 'dist', 'native', 'moat-run')))
    stop(1, 'the native `moat run` client was not built (npm run build needs a C compiler): install gcc, then run npm run dist again.');

  const cli = path.join(path.dirname(require.resolve('electron-builder/package.json')), 'cli.js');
  const args = [cli, '--config', path.join(ROOT, 'electron-builder.yml'), '--publish', 'never'];
  if (source.electronDist) args.push(`-c.electronDist=${source.electronDist}`);
  if (dirOnly) args.push('--dir');
  if (process.env.MOAT_HOMEPAGE) args.push(`-c.extraMetadata.homepage=${process.env.MOAT_HOMEPAGE}`);
  // A zip found in the cache needs nothing more: electron-builder looks there itself.
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) stop(1, `electron-builder failed (exit ${r.status ?? r.signal}).`);
  console.log(`dist: packages in ${path.relative(ROOT, path.join(ROOT, 'release')) || 'release'}/`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main(process.argv.slice(2));
