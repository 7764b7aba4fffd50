// The real desktop app, driven by Playwright's _electron: the window loads our page from
// moat://app, the page sees `window.moat` and nothing of Node, and it cannot navigate away, open
// windows or reach the network. Skipped, with the reason printed, where Electron cannot run: no
// binary (its download fails offline) or, on Linux, no display.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The Electron binary, or why there is none. */
function electronBinary(): { path: string } | { reason: string } {
  try {
    const p = require('electron') as unknown;
    if (typeof p !== 'string') return { reason: `require('electron') returned ${typeof p}, not a path` };
    if (!fs.existsSync(p)) return { reason: `${p} does not exist` };
    return { path: p };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

/** The page's view of the bridge; typed here because the test has no renderer globals. */
type PageWindow = typeof globalThis & {
  moat?: { call(method: string, params: unknown): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> };
};

test('the Electron app loads hardened, with window.moat and nothing else', async (t) => {
  const bin = electronBinary();
  if (!('path' in bin)) {
    t.skip(`Electron binary not installed (download failed/offline): ${bin.reason}`);
    return;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    t.skip('no display: run this test under xvfb-run (or with DISPLAY set)');
    return;
  }

  const mainBundle = path.join(ROOT, 'dist', 'electron', 'main.cjs');
  const preloadBundle = path.join(ROOT, 'dist', 'electron', 'preload.cjs');
  if (!fs.existsSync(mainBundle) || !fs.existsSync(preloadBundle)) {
    // A broken renderer build still leaves the Electron bundles (and the "run npm run build" page).
    const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    t.diagnostic(`npm run build exited ${build.status}`);
  }
  assert.ok(fs.existsSync(mainBundle) && fs.existsSync(preloadBundle), 'dist/electron bundles missing after build');

  const { _electron } = await import('playwright-core');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-electron-test-'));
  const args = [ROOT];
  // Chromium refuses to start as root with its sandbox; the renderer's Electron sandbox (what
  // this test checks) is unaffected by this switch.
  if (process.getuid?.() === 0) {
    args.push('--no-sandbox');
    t.diagnostic('running as root: launched with --no-sandbox');
  }
  const env = Object.fromEntries(
    Object.entries({ ...process.env, MOAT_DATA_DIR: dataDir }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const app = await _electron.launch({ executablePath: bin.path, args, env, cwd: ROOT, timeout: 60_000 });
  try {
    const page = await app.firstWindow({ timeout: 60_000 });
    await page.waitForLoadState('domcontentloaded');
    const appUrl = page.url();
    assert.match(appUrl, /^moat:\/\/app\/(index\.html)?/, 'the page comes from the app protocol');

    const globals = await page.evaluate(() => {
      const g = globalThis as Record<string, unknown>;
      const moat = g.moat as Record<string, unknown> | undefined;
      return {
        moatKeys: moat ? Object.keys(moat).sort() : null,
        call: typeof moat?.call,
        on: typeof moat?.on,
        frozen: moat ? Object.isFrozen(moat) : null,
        require: typeof g.require,
        process: typeof g.process,
        module: typeof g.module,
        buffer: typeof g.Buffer,
        ipcRenderer: typeof g.ipcRenderer,
        electron: typeof g.electron,
      };
    });
    assert.deepEqual(globals.moatKeys, ['call', 'on']);
    assert.equal(globals.call, 'function');
    assert.equal(globals.on, 'function');
    assert.equal(globals.require, 'undefined', 'require must not be reachable from the page');
    assert.equal(globals.process, 'undefined', 'process must not be reachable from the page');
    assert.equal(globals.module, 'undefined');
    assert.equal(globals.buffer, 'undefined');
    assert.equal(globals.ipcRenderer, 'undefined');
    assert.equal(globals.electron, 'undefined');

    const status = await page.evaluate(() => (globalThis as PageWindow).moat!.call('system.status', undefined));
    assert.equal(status.ok, true, `system.status over IPC: ${JSON.stringify(status)}`);
    const unknown = await page.evaluate(() => (globalThis as PageWindow).moat!.call('nope.nope', {}));
    assert.equal(unknown.error?.code, 'UNKNOWN_METHOD');

    const csp = await page.evaluate(async () => (await fetch(location.href)).headers.get('content-security-policy'));
    assert.match(csp ?? '', /default-src 'self'/);
    assert.match(csp ?? '', /object-src 'none'/);

    const external = await page.evaluate(() =>
      fetch('https://example.com/').then(
        () => 'reached',
        () => 'blocked',
      ),
    );
    assert.equal(external, 'blocked', 'the renderer must not reach the network');

    await page
      .evaluate(() => {
        location.href = 'https://example.com/';
      })
      .catch(() => {});
    await page.waitForTimeout(1500);
    assert.equal(page.url(), appUrl, 'navigation to an external URL must be blocked');
    assert.equal(await page.evaluate(() => typeof (globalThis as PageWindow).moat), 'object');

    const opened = await page.evaluate(() => window.open('https://example.com/') === null);
    assert.equal(opened, true, 'window.open must be denied');
    await page.waitForTimeout(500);
    assert.equal(app.windows().length, 1, 'no second window');
  } finally {
    await app.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
