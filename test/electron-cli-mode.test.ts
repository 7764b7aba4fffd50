// `<app binary> --cli ARGS`: the packaged app as the `moat` command line (app/electron/cli-mode.ts).
// The argument split and the "command finished" rule are unit-tested; then the real CLI bundle is
// run through runCli in a child process whose event loop, like Electron's, never empties by itself
// (a ref'd interval started first stands for Chromium's loop), and the built main.cjs is started
// with `--cli` against a stand-in 'electron' whose lock, paths and scheme registration throw: the
// CLI must run without touching any of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beyondBaseline, cliArguments, waitForDrain } from '../app/electron/cli-mode';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('cliArguments: everything after --cli is the CLI\'s; no --cli (or one after "--") is the desktop app', () => {
  assert.deepEqual(cliArguments(['/opt/Moat/moat-desktop', '--cli', 'run', '-f', 'x.py']), ['run', '-f', 'x.py']);
  assert.deepEqual(cliArguments(['electron', '.', '--cli', '--version']), ['--version']);
  assert.deepEqual(cliArguments(['/opt/Moat/moat-desktop', '--ozone-platform=headless', '--cli']), []);
  assert.deepEqual(cliArguments(['moat-desktop', '--cli', 'run', '--', 'prog', '--cli']), ['run', '--', 'prog', '--cli']);
  assert.equal(cliArguments(['/opt/Moat/moat-desktop']), null);
  assert.equal(cliArguments(['electron', '.', '--', 'x', '--cli']), null);
  assert.equal(cliArguments(['moat-desktop', '--client']), null);
});

test('beyondBaseline counts resources type by type against what was there before the CLI', () => {
  const base = ['Timeout', 'TTYWrap', 'TTYWrap'];
  assert.equal(beyondBaseline(base, base), false);
  assert.equal(beyondBaseline(base, ['TTYWrap']), false, 'fewer than before: done');
  assert.equal(beyondBaseline(base, [...base, 'TCPSocketWrap']), true, 'a socket the CLI opened');
  assert.equal(beyondBaseline(base, [...base, 'Timeout']), true, 'a second timer');
  assert.equal(beyondBaseline([], ['FSReqCallback']), true);
});

test('waitForDrain returns only after consecutive quiet polls', async () => {
  const base = ['Timeout'];
  const script = [
    ['Timeout', 'TCPSocketWrap'],
    ['Timeout'],
    ['Timeout', 'FSReqCallback'],
    ['Timeout'],
    ['Timeout'],
    ['Timeout', 'TCPSocketWrap'],
  ];
  let polls = 0;
  await waitForDrain({
    baseline: base,
    resources: () => script[polls++] ?? ['Timeout', 'TCPSocketWrap'],
    sleep: () => Promise.resolve(),
    settle: 2,
  });
  assert.equal(polls, 5, 'the quiet poll between two busy ones did not count; two in a row did');
});

// ---------- the real CLI, as Electron runs it ----------

let work: string;
let built: { main: string; cli: string };

before(async () => {
  work = path.join(ROOT, '.moat-test', `cli-mode-${crypto.randomBytes(4).toString('hex')}`);
  const build = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'build.mjs')).href)) as {
    buildElectron(o: { outDir: string; quiet: boolean }): Promise<{ main: string }>;
    buildCli(o: { outDir: string; quiet: boolean }): Promise<{ entry: string }>;
  };
  // Laid out as the app is (app.asar or a checkout): main.cjs finds the CLI at ../cli/moat.mjs,
  // and the CLI its package.json two folders up.
  const electron = await build.buildElectron({ outDir: path.join(work, 'dist', 'electron'), quiet: true });
  const cli = await build.buildCli({ outDir: path.join(work, 'dist', 'cli'), quiet: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(work, 'package.json'));
  built = { main: electron.main, cli: cli.entry };
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function child(script: string, input = '') {
  const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
  const file = path.join(work, `child-${crypto.randomBytes(4).toString('hex')}.mts`);
  fs.writeFileSync(file, script);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MOAT_DATA_DIR: dataDir },
  });
  return { ...r, dataDir };
}

function viaRunCli(args: string[], input = '') {
  return child(
    [
      `import { runCli } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'app', 'electron', 'cli-mode.ts')).href)};`,
      "import { pathToFileURL } from 'node:url';",
      // Electron's loop: never empties by itself. Only runCli's exit ends this process.
      'setInterval(() => {}, 1000);',
      `await runCli({ args: ${JSON.stringify(args)}, entry: ${JSON.stringify(built.cli)},`,
      '  load: (e) => import(pathToFileURL(e).href),',
      '  exit: (code) => { process.stderr.write(`[exit ${code}]`); process.exit(code); } });',
    ].join('\n'),
    input,
  );
}

test('runCli: moat --version, history --json, scan (exit 1 on a finding) and a usage error, with their output and status', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = viaRunCli(['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), version);

  const h = viaRunCli(['history', '--json']);
  assert.equal(h.status, 0, h.stderr);
  assert.deepEqual(JSON.parse(h.stdout), []);
  // commander ends --version itself (process.exit); history ends when its work is done, which only
  // runCli notices here: the interval standing for Electron's loop would keep the process up.
  assert.match(h.stderr, /\[exit 0\]/, 'ended by runCli');

  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzq3v9xBtE2';
  const s = viaRunCli(['scan'], `secret: ${secret}\n`);
  assert.equal(s.status, 1, s.stderr);
  assert.match(s.stdout, /generic-secret/);
  assert.ok(!s.stdout.includes(secret) && !s.stderr.includes(secret), 'the secret is masked');
  assert.match(s.stderr, /\[exit 1\]/, "the CLI's exit status, passed on by runCli");

  const bad = viaRunCli(['run', '--no-such-flag']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown option '--no-such-flag'/);
});

test('runCli: a CLI that cannot be loaded exits 2 with the reason', () => {
  const r = child(
    [
      `import { runCli } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'app', 'electron', 'cli-mode.ts')).href)};`,
      'setInterval(() => {}, 1000);',
      "await runCli({ args: [], entry: '/nonexistent/moat.mjs', load: (e) => import(e), exit: (c) => process.exit(c) });",
    ].join('\n'),
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /could not load the command line \(\/nonexistent\/moat\.mjs\)/);
});

test('main.cjs --cli runs the CLI before the single-instance lock, the data directory and the window', () => {
  const r = child(
    [
      "import Module, { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'const refuse = (what) => () => { throw new Error(`CLI mode touched ${what}`); };',
      'const fake = {',
      '  app: {',
      '    dock: undefined,',
      '    exit: (code) => { process.stderr.write(`[app.exit ${code}]`); process.exit(code); },',
      "    requestSingleInstanceLock: refuse('the single-instance lock'),",
      "    setPath: refuse('app.setPath'),",
      "    enableSandbox: refuse('enableSandbox'),",
      "    whenReady: refuse('whenReady'),",
      "    on: refuse('app events'),",
      '  },',
      "  protocol: { registerSchemesAsPrivileged: refuse('the scheme') },",
      "  ipcMain: { handle: refuse('IPC') },",
      '};',
      'const M = Module;',
      'const resolve = M._resolveFilename;',
      "M._resolveFilename = function (req, ...rest) { return req === 'electron' ? 'fake:electron' : resolve.call(this, req, ...rest); };",
      "require.cache['fake:electron'] = { id: 'fake:electron', filename: 'fake:electron', loaded: true, exports: fake };",
      'setInterval(() => {}, 1000);',
      `process.argv = [process.execPath, ${JSON.stringify(built.main)}, '--cli', 'history', '--json'];`,
      `require(${JSON.stringify(built.main)});`,
    ].join('\n'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
  assert.match(r.stderr, /\[app\.exit 0\]/);
  assert.ok(!r.stderr.includes('CLI mode touched'), r.stderr);
  assert.equal(fs.existsSync(path.join(r.dataDir, 'owner.lock')), false, 'no data-directory claim in CLI mode');
});
