// The packaging configuration (electron-builder.yml) keeps its hardening: every fuse, asar with
// integrity, no updater, the hardened runtime with a short entitlement list, native modules unpacked
// and not rebuilt. The `files` allowlist is evaluated with electron-builder's own matcher against
// every file of the repository (and what the build writes into dist/): nothing from tests,
// fixtures, benchmarks, e2e, sources, scripts or source maps may go in. Each check also runs on a
// mutated copy of the configuration, which must fail it, so a check that cannot fail is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { iconPng } from '../scripts/icons';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

type Config = Record<string, unknown> & {
  files?: unknown;
  extraResources?: unknown;
  electronFuses?: Record<string, unknown>;
  mac?: Record<string, unknown>;
  linux?: Record<string, unknown>;
};

function loadConfig(): Config {
  return YAML.parse(fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Config;
}

const REQUIRED_FUSES: Record<string, boolean> = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableCookieEncryption: true,
  onlyLoadAppFromAsar: true,
  enableEmbeddedAsarIntegrityValidation: true,
  grantFileProtocolExtraPrivileges: false,
};

/** Entitlements that would undo what the hardened runtime gives. */
const FORBIDDEN_ENTITLEMENTS = [
  'com.apple.security.cs.disable-library-validation',
  'com.apple.security.cs.allow-dyld-environment-variables',
  'com.apple.security.get-task-allow',
  'com.apple.security.cs.allow-unsigned-executable-memory',
  'com.apple.security.cs.disable-executable-page-protection',
  'com.apple.security.cs.debugger',
];

/** The hardening settings, one problem per line (empty: all kept). */
function hardeningProblems(c: Config): string[] {
  const p: string[] = [];
  if (c.asar === false || c.asar === undefined || c.asar === null) p.push('asar is not on');
  if (c.disableAsarIntegrity === true) p.push('asar integrity is disabled');
  const fuses = c.electronFuses ?? {};
  for (const [name, want] of Object.entries(REQUIRED_FUSES)) {
    if (fuses[name] !== want) p.push(`fuse ${name} must be ${want}, is ${String(fuses[name])}`);
  }
  if (c.publish !== null) p.push('publish must be null (no updater, nowhere to publish to)');
  if (c.npmRebuild !== false || c.nodeGypRebuild !== false || c.buildDependenciesFromSource !== false) {
    p.push('native modules must not be rebuilt (prebuilt N-API binaries)');
  }
  const unpack = ([] as unknown[]).concat(c.asarUnpack ?? []);
  if (!unpack.includes('**/*.node')) p.push('asarUnpack must include **/*.node');
  const mac = c.mac ?? {};
  if (mac.hardenedRuntime !== true) p.push('mac.hardenedRuntime must be true');
  if (mac.identity !== undefined || mac.notarize === true) p.push('mac signing/notarization must come from the environment only');
  for (const key of ['entitlements', 'entitlementsInherit'] as const) {
    const file = mac[key];
    if (typeof file !== 'string' || !fs.existsSync(path.join(ROOT, file))) {
      p.push(`mac.${key} must name an existing file`);
      continue;
    }
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const bad of FORBIDDEN_ENTITLEMENTS) if (text.includes(bad)) p.push(`${file} grants ${bad}`);
  }
  return p;
}

// ---------- the files allowlist, through electron-builder's own matcher ----------

interface Matcher {
  from: string;
  to: string;
  createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean;
}

const fileMatcher = require('app-builder-lib/out/fileMatcher') as {
  getMainFileMatchers(
    appDir: string,
    destination: string,
    macroExpander: (s: string) => string,
    platformSpecificBuildOptions: Record<string, unknown>,
    platformPackager: unknown,
    outDir: string,
    isElectronCompile: boolean,
  ): Matcher[];
  getFileMatchers(
    config: Config,
    name: 'extraResources',
    defaultDestination: string,
    options: {
      macroExpander: (s: string) => string;
      customBuildOptions: Record<string, unknown>;
      globalOutDir: string;
      defaultSrc: string;
    },
  ): Matcher[] | null;
};

const DIR = { isDirectory: () => true };
const FILE = { isDirectory: () => false };

/** Whether copying `from` would take `rel`: every folder on the way and the file itself must pass. */
function takes(filter: ReturnType<Matcher['createFilter']>, from: string, rel: string): boolean {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) if (!filter(path.join(from, ...parts.slice(0, i)), DIR)) return false;
  return filter(path.join(from, ...parts), FILE);
}

/** What of `files` (repository-relative) goes into app.asar under this configuration. */
function packagedAppFiles(c: Config, files: string[]): string[] {
  const packager = {
    info: {
      isPrepackedAppAsar: false,
      config: c,
      projectDir: ROOT,
      buildResourcesDir: path.join(ROOT, 'build'),
      debugLogger: { isEnabled: false, add() {} },
    },
  };
  const matchers = fileMatcher.getMainFileMatchers(ROOT, '/app', (s) => s, c.linux ?? {}, packager, path.join(ROOT, 'release'), false);
  const out = new Set<string>();
  for (const m of matchers) {
    const filter = m.createFilter();
    for (const f of files) {
      const abs = path.join(ROOT, f);
      if (!abs.startsWith(m.from + path.sep)) continue;
      if (takes(filter, m.from, path.relative(m.from, abs).split(path.sep).join('/'))) out.add(f);
    }
  }
  return [...out].sort();
}

/** What of `files` (relative to each extraResources source) goes into resources/. */
function packagedResources(c: Config, files: Record<string, string[]>): string[] {
  const matchers =
    fileMatcher.getFileMatchers(c, 'extraResources', '/resources', {
      macroExpander: (s) => s,
      customBuildOptions: c.linux ?? {},
      globalOutDir: path.join(ROOT, 'release'),
      defaultSrc: ROOT,
    }) ?? [];
  const out: string[] = [];
  for (const m of matchers) {
    const rel = path.relative(ROOT, m.from).split(path.sep).join('/');
    const filter = m.createFilter();
    for (const f of files[rel] ?? []) if (takes(filter, m.from, f)) out.push(`${rel}/${f}`);
  }
  return out.sort();
}

/** Every file of the repository, plus what `npm run build` writes (whether or not it was run here). */
function repositoryFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  const built = [
    'dist/electron/main.cjs',
    'dist/electron/main.cjs.map',
    'dist/electron/preload.cjs',
    'dist/electron/preload.cjs.map',
    'dist/cli/moat.mjs',
    'dist/cli/moat.mjs.map',
    'dist/cli/inputs.json',
    'dist/cli/chunks/run-ABC123.mjs',
    'dist/cli/chunks/run-ABC123.mjs.map',
    'dist/renderer/index.html',
    'dist/renderer/assets/index-XYZ.js',
    'dist/renderer/assets/index-XYZ.js.map',
    'dist/renderer/assets/index-XYZ.css',
    'test-results/trace.zip',
    '.moat-test/electron-main-1/secret.txt',
    'release/linux-unpacked/moat-desktop',
  ];
  const walk = (dir: string): string[] =>
    fs.existsSync(path.join(ROOT, dir))
      ? fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
          const rel = `${dir}/${e.name}`;
          return e.isDirectory() ? walk(rel) : [rel];
        })
      : [];
  return [...new Set([...tracked, ...built, ...walk('dist')])].sort();
}

/** Files that must never be packaged, with the reason. */
function forbidden(f: string): string | null {
  if (/\.map$/.test(f)) return 'source map';
  if (/(^|\/)fixtures?(\/|$)/.test(f)) return 'fixture';
  for (const dir of [
    'test',
    'e2e',
    'bench',
    'scripts',
    'build',
    'sandbox',
    'app',
    'main',
    'shared',
    'renderer',
    'bin',
    '.moat-test',
    'test-results',
    'release',
    '.ci',
  ]) {
    if (f.startsWith(`${dir}/`)) return `${dir}/ (tests, benchmarks, sources or build inputs)`;
  }
  if (/\.(ts|tsx|mts|cts)$/.test(f)) return 'TypeScript source';
  if (/^dist\/cli\/inputs\.json$/.test(f)) return 'the list of CLI sources';
  return null;
}

function allowlistProblems(c: Config, files: string[]): string[] {
  const packaged = packagedAppFiles(c, files);
  const p = packaged.flatMap((f) => {
    const why = forbidden(f);
    return why ? [`${f} would be packaged (${why})`] : [];
  });
  for (const need of [
    'package.json',
    'dist/electron/main.cjs',
    'dist/electron/preload.cjs',
    'dist/cli/moat.mjs',
    'dist/renderer/index.html',
  ]) {
    if (!packaged.includes(need)) p.push(`${need} would be missing from the package`);
  }
  return p;
}

// ---------- tests ----------

test('electron-builder accepts the configuration (its own schema), and rejects a wrong key (control)', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(c: unknown, logger: unknown): Promise<void>;
  };
  const logger = { isEnabled: false, add() {} };
  await validateConfiguration(loadConfig(), logger);
  const typo = loadConfig();
  typo.electronFuses = { ...typo.electronFuses, runAsNod: true };
  await assert.rejects(validateConfiguration(typo, logger), /electronFuses/);
});

test('hardening: fuses, asar integrity, no updater, no rebuilds, hardened runtime with a short entitlement list', () => {
  assert.deepEqual(hardeningProblems(loadConfig()), []);
});

test('hardening check fails on each mutation (control)', () => {
  const mutations: Array<[string, (c: Config) => void, RegExp]> = [
    ['RunAsNode on', (c) => (c.electronFuses!.runAsNode = true), /runAsNode/],
    ['NODE_OPTIONS on', (c) => (c.electronFuses!.enableNodeOptionsEnvironmentVariable = true), /NodeOptions/],
    ['inspect flags on', (c) => delete c.electronFuses!.enableNodeCliInspectArguments, /NodeCliInspect/],
    ['cookie encryption off', (c) => (c.electronFuses!.enableCookieEncryption = false), /CookieEncryption/],
    ['app outside asar allowed', (c) => (c.electronFuses!.onlyLoadAppFromAsar = false), /onlyLoadAppFromAsar/],
    ['asar integrity fuse off', (c) => (c.electronFuses!.enableEmbeddedAsarIntegrityValidation = false), /AsarIntegrity/],
    ['fuses gone', (c) => delete c.electronFuses, /fuse runAsNode/],
    ['asar off', (c) => (c.asar = false), /asar is not on/],
    ['asar integrity off', (c) => (c.disableAsarIntegrity = true), /integrity is disabled/],
    ['an updater', (c) => (c.publish = { provider: 'github' }), /publish/],
    ['rebuild', (c) => (c.npmRebuild = true), /rebuilt/],
    ['native module packed', (c) => (c.asarUnpack = []), /\.node/],
    ['no hardened runtime', (c) => (c.mac!.hardenedRuntime = false), /hardenedRuntime/],
    ['signing identity in the file', (c) => (c.mac!.identity = 'Someone (TEAMID)'), /environment/],
  ];
  for (const [name, mutate, expected] of mutations) {
    const c = loadConfig();
    mutate(c);
    const problems = hardeningProblems(c);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${name}: not caught (${problems.join('; ') || 'no problems'})`,
    );
  }
  // An entitlements file that grants too much.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-entitlements-'));
  try {
    const loose = path.join(dir, 'loose.plist');
    fs.writeFileSync(loose, '<plist><dict><key>com.apple.security.cs.disable-library-validation</key><true/></dict></plist>');
    const c = loadConfig();
    c.mac!.entitlements = path.relative(ROOT, loose);
    assert.ok(hardeningProblems(c).some((p) => /disable-library-validation/.test(p)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("files: the allowlist, run through electron-builder's matcher over every repository file, takes only the built app", () => {
  const files = repositoryFiles();
  assert.ok(
    files.filter((f) => f.startsWith('test/')).length > 50,
    'the file list includes the tests (so their exclusion means something)',
  );
  assert.deepEqual(allowlistProblems(loadConfig(), files), []);
});

test('files: production node_modules go in (electron-builder applies only the exclusions to them), without source maps', () => {
  const fm = require('app-builder-lib/out/fileMatcher') as {
    getNodeModuleFileMatcher(appDir: string, dest: string, expand: (s: string) => string, opts: unknown, packager: unknown): Matcher;
  };
  const m = fm.getNodeModuleFileMatcher(ROOT, '/app', (s) => s, {}, { config: loadConfig(), debugLogger: { isEnabled: false } });
  const filter = m.createFilter() as (file: string, stat: { isDirectory(): boolean; moduleFullFilePath: string }) => boolean;
  // As NodeModuleCopyHelper calls it: each file with its path inside the app (node_modules/NAME/...).
  const takesModuleFile = (rel: string) => filter(path.join(ROOT, rel), { isDirectory: () => false, moduleFullFilePath: rel });
  assert.equal(takesModuleFile('node_modules/dockerode/lib/docker.js'), true);
  assert.equal(takesModuleFile('node_modules/@napi-rs/keyring/index.js'), true);
  assert.equal(takesModuleFile('node_modules/ssh2/lib/client.js.map'), false);
  // Control: without the exclusion the map would go in.
  const c = loadConfig();
  c.files = (c.files as string[]).filter((p) => p !== '!**/*.map');
  const loose = fm.getNodeModuleFileMatcher(ROOT, '/app', (s) => s, {}, { config: c, debugLogger: { isEnabled: false } }).createFilter();
  assert.equal(
    loose(path.join(ROOT, 'x'), { isDirectory: () => false, moduleFullFilePath: 'node_modules/ssh2/lib/client.js.map' } as never),
    true,
  );
});

test('files check fails when the allowlist is widened (control)', () => {
  const files = repositoryFiles();
  const widened: Array<[string, unknown[], RegExp]> = [
    ['everything', ['**/*'], /test\/.* would be packaged/],
    ['source maps kept', ['dist/electron/**', 'dist/renderer/**', 'dist/cli/**', 'package.json'], /\.map would be packaged \(source map\)/],
    ['tests added', [...(loadConfig().files as string[]), 'test/**'], /^test\/.* would be packaged/],
    ['fixtures added', [...(loadConfig().files as string[]), 'e2e/**'], /^e2e\/.* would be packaged/],
    ['bench added', [...(loadConfig().files as string[]), 'bench/**'], /^bench\/.* would be packaged/],
    ['sources added', [...(loadConfig().files as string[]), 'app/**'], /^app\/.*\.ts would be packaged/],
    ['the app left out', ['package.json'], /main\.cjs would be missing/],
  ];
  for (const [name, list, expected] of widened) {
    const c = loadConfig();
    c.files = list;
    const problems = allowlistProblems(c, files);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${name}: not caught (${problems.slice(0, 3).join('; ') || 'no problems'})`,
    );
  }
});

test("extraResources: the node CLI without source maps, and the .deb's /usr/bin/moat script", () => {
  const files = {
    'dist/node-cli': [
      'package.json',
      'dist/cli/moat.mjs',
      'dist/cli/moat.mjs.map',
      'dist/node_modules/@napi-rs/keyring/index.js',
      'dist/node_modules/dockerode/node_modules/tar-fs/index.js',
      // electron-builder never copies a node_modules at the top of an extraResources folder:
      // which is why the bundle keeps its packages in dist/node_modules.
      'node_modules/ignored/index.js',
    ],
    'build/linux/moat.sh': [],
  };
  const res = packagedResources(loadConfig(), files);
  assert.deepEqual(res, [
    'dist/node-cli/dist/cli/moat.mjs',
    'dist/node-cli/dist/node_modules/@napi-rs/keyring/index.js',
    'dist/node-cli/dist/node_modules/dockerode/node_modules/tar-fs/index.js',
    'dist/node-cli/package.json',
  ]);
  const c = loadConfig();
  (c.extraResources as Array<{ filter: string[] }>)[0]!.filter = ['**/*'];
  assert.ok(packagedResources(c, files).includes('dist/node-cli/dist/cli/moat.mjs.map'), 'control: without the filter the map goes in');
  const linux = (loadConfig().linux?.extraResources ?? []) as Array<{ from: string; to: string }>;
  assert.deepEqual(linux, [
    { from: 'build/linux/moat.sh', to: 'cli/moat.sh' },
    { from: 'dist/native/moat-run', to: 'cli/moat-run' },
  ]);
  assert.equal(fs.statSync(path.join(ROOT, 'build/linux/moat.sh')).mode & 0o111, 0o111, 'moat.sh is executable');
});

test("the .deb scripts and /usr/bin/moat pass shellcheck (with electron-builder's names filled in)", (t) => {
  if (spawnSync('shellcheck', ['--version']).status !== 0) {
    t.skip('shellcheck is not installed (bash scripts/setup.sh --test installs it)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-deb-scripts-'));
  try {
    for (const [file, shell] of [
      ['build/linux/after-install.sh', 'bash'],
      ['build/linux/after-remove.sh', 'bash'],
      ['build/linux/moat.sh', 'sh'],
    ] as const) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      // electron-builder refuses a ${name} it does not know: only these two may appear.
      const macros = [...text.matchAll(/\$\{([a-zA-Z]+)\}/g)].map((m) => m[1]);
      assert.deepEqual(
        [...new Set(macros)].filter((m) => m !== 'executable' && m !== 'sanitizedProductName'),
        [],
        file,
      );
      const filled = path.join(dir, path.basename(file));
      fs.writeFileSync(filled, text.replaceAll('${executable}', 'moat-desktop').replaceAll('${sanitizedProductName}', 'Moat'));
      const r = spawnSync('shellcheck', ['-s', shell, filled], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file}:\n${r.stdout}${r.stderr}`);
    }
    const after = fs.readFileSync(path.join(ROOT, 'build/linux/after-install.sh'), 'utf8');
    assert.match(after, /ln -sf '\/opt\/\$\{sanitizedProductName\}\/resources\/cli\/moat\.sh' '\/usr\/bin\/moat'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build/icon.png is what the drawing gives (scripts/icons.ts), 512 x 512', () => {
  const committed = fs.readFileSync(path.join(ROOT, 'build', 'icon.png'));
  assert.equal(committed.readUInt32BE(16), 512);
  assert.equal(committed.readUInt32BE(20), 512);
  assert.ok(committed.equals(iconPng()), 'build/icon.png is stale: run node --import tsx scripts/icons.ts');
});

test('the node CLI bundle (resources/cli in the packages) runs on a plain Node, with no source maps', async () => {
  const { buildNodeCli } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'dist.mjs')).href)) as {
    buildNodeCli(o: { outDir: string; quiet: boolean }): Promise<{ entry: string }>;
  };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-node-cli-'));
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-node-cli-data-'));
  try {
    const { entry } = await buildNodeCli({ outDir: out, quiet: true });
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // Run from elsewhere, with no node_modules above it: only what the bundle carries.
    const run = (args: string[]) =>
      spawnSync(process.execPath, [entry, ...args], {
        cwd: os.tmpdir(),
        encoding: 'utf8',
        env: { ...process.env, MOAT_DATA_DIR: data },
        timeout: 60_000,
      });
    const v = run(['--version']);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);
    const h = run(['history', '--json']);
    assert.equal(h.status, 0, h.stderr);
    assert.deepEqual(JSON.parse(h.stdout), []);
    const all = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? all(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const files = all(out).map((f) => path.relative(out, f));
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map')),
      [],
    );
    assert.ok(
      files.some((f) => /^dist\/node_modules\/@napi-rs\/keyring-.*\.node$/.test(f)),
      'the keychain binary for this platform is carried',
    );
    assert.ok(!files.some((f) => f.startsWith('node_modules/')), 'no top-level node_modules (electron-builder would leave it out)');
    assert.ok(!files.some((f) => /node_modules\/(tsx|electron|esbuild)\//.test(f)), 'no dev tools carried');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test('the .deb homepage comes from MOAT_HOMEPAGE first', async () => {
  const { debHomepage } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'dist.mjs')).href)) as {
    debHomepage(env: Record<string, string>): string | null;
  };
  assert.equal(debHomepage({ MOAT_HOMEPAGE: 'https://moat.example/' }), 'https://moat.example/');
  const derived = debHomepage({});
  assert.ok(derived === null || /^https:\/\//.test(derived), `package.json or the GitHub remote: ${derived}`);
});

test('npm run dist without the Electron binary: one line saying so, exit 3, no waiting on the network', async (t) => {
  const { electronSource } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'dist.mjs')).href)) as {
    electronSource(): { missing?: string };
  };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-dist-home-'));
  try {
    // An empty cache, so a zip downloaded on this machine does not count.
    const env = { ...process.env, ELECTRON_CACHE: path.join(home, 'cache') };
    if (!electronSource().missing) {
      t.skip('the Electron binary is installed here: npm run dist would build real packages (run it by hand)');
      return;
    }
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'dist.mjs')], { cwd: ROOT, encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^npm run dist: the Electron [\d.]+ binary for \S+ is not here .*build packages on a machine with internet/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
