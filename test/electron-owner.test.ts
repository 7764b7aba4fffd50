// The desktop app and the data directory's owner: when `moat daemon` (or `moat serve`) already owns
// it, the built main.cjs says which process in a dialog and quits, before creating services or a
// window; two sets of services on one directory would fight over its sandboxes. Run in a child
// process against a recording stand-in for 'electron' (the claim is made by this test's process,
// which is alive, so the child sees a live owner).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { claimOwnership } from '../app/daemon/owner';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(ROOT, '.moat-test', `electron-owner-${crypto.randomBytes(4).toString('hex')}`);

after(() => fs.rmSync(work, { recursive: true, force: true }));

const CHILD = (main: string) => `
const Module = require('node:module');
const rec = { boxes: [], windows: 0, quit: 0, ipc: 0 };
const report = () => { process.stdout.write(JSON.stringify(rec)); process.exit(0); };
const fake = {
  app: {
    isPackaged: false,
    enableSandbox() {},
    setPath() {},
    getPath: () => ${JSON.stringify(work)},
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    on() {},
    quit() { rec.quit++; setTimeout(report, 200); },
    exit(code) { rec.exit = code; report(); },
  },
  BrowserWindow: class { constructor() { rec.windows++; } },
  dialog: { showErrorBox: (title, body) => rec.boxes.push(title + ': ' + body) },
  ipcMain: { handle() { rec.ipc++; } },
  protocol: { registerSchemesAsPrivileged() {} },
  session: { defaultSession: new Proxy({}, { get() { throw new Error('the session was set up'); } }) },
  Menu: { setApplicationMenu() {}, buildFromTemplate: (t) => t },
  screen: { getPrimaryDisplay: () => ({ id: 1, workArea: { x: 0, y: 0, width: 1280, height: 800 } }), getAllDisplays: () => [] },
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (req, ...rest) { return req === 'electron' ? 'fake:electron' : resolve.call(this, req, ...rest); };
require.cache['fake:electron'] = { id: 'fake:electron', filename: 'fake:electron', loaded: true, exports: fake };
require(${JSON.stringify(main)});
`;

test('a daemon owns the data directory: the app names it in a dialog and quits, with no services or window', async () => {
  const { buildElectron } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'build.mjs')).href)) as {
    buildElectron(o: { outDir: string; quiet: boolean }): Promise<{ main: string }>;
  };
  const { main } = await buildElectron({ outDir: path.join(work, 'dist', 'electron'), quiet: true });
  const dataDir = path.join(work, 'data');
  const claim = claimOwnership(dataDir, 'daemon');
  assert.ok(claim.owned);
  try {
    const script = path.join(work, 'child.cjs');
    fs.writeFileSync(script, CHILD(main));
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MOAT_DATA_DIR: dataDir } });
    assert.equal(r.status, 0, r.stderr);
    const rec = JSON.parse(r.stdout) as { boxes: string[]; windows: number; quit: number; exit?: number };
    assert.equal(rec.boxes.length, 1, r.stdout);
    assert.match(rec.boxes[0]!, /^Moat is already running: `moat daemon` \(pid \d+\) owns the data directory /);
    assert.match(rec.boxes[0]!, new RegExp(`pid ${process.pid}\\)`));
    assert.match(rec.boxes[0]!, /Stop it with `moat daemon stop`, then open Moat again\./);
    assert.equal(rec.windows, 0, 'no window');
    assert.equal(rec.quit, 1);
    assert.equal(rec.exit, undefined, 'a clean quit, not a start-up failure');
    // The daemon's claim is untouched, and no services wrote their state.
    assert.equal(JSON.parse(fs.readFileSync(path.join(dataDir, 'owner.lock'), 'utf8')).pid, process.pid);
    assert.equal(fs.existsSync(path.join(dataDir, 'runs.jsonl')), false);
    assert.equal(fs.existsSync(path.join(dataDir, 'settings.json')), false);
  } finally {
    claim.release();
  }
});
