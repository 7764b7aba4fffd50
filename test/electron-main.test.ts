// The built Electron main process and preload, run in Node against a recording stand-in for the
// 'electron' module. Where the Electron binary cannot be downloaded (offline machines, this CI),
// test/electron-app.test.ts is skipped and this is what exercises app/electron at run time: the
// exact webPreferences, the moat:// protocol handler, the session and navigation guards, the IPC
// sender check and the preload's bridge. The stand-in only records calls and hands back what the
// code registered; every decision tested is made by our bundle, with the real services behind it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_SETTINGS } from '../shared/types';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// ---------- the stand-in ----------

interface Frame {
  processId: number;
  routingId: number;
  parent: Frame | null;
  url: string;
}
type Prevented = { url?: string; preventDefault(): void };

class FakeWebContents extends EventEmitter {
  mainFrame: Frame = { processId: 7, routingId: 1, parent: null, url: 'moat://app/index.html' };
  sent: unknown[][] = [];
  url = 'moat://app/index.html';
  openHandler: ((d: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h;
  }
  send(...args: unknown[]): void {
    this.sent.push(args);
  }
  getURL(): string {
    return this.url;
  }
}

const rec = {
  sandboxEnabled: false,
  privileged: [] as Array<{ scheme: string; privileges: Record<string, boolean> }>,
  paths: new Map<string, string>(),
  windows: [] as FakeWindow[],
  loaded: [] as string[],
  protocolHandlers: new Map<string, (req: Request) => Promise<Response>>(),
  ipc: new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>(),
  permissionRequest: undefined as undefined | ((wc: unknown, perm: string, cb: (ok: boolean) => void) => void),
  permissionCheck: undefined as undefined | ((...a: unknown[]) => boolean),
  devicePermission: undefined as undefined | ((...a: unknown[]) => boolean),
  beforeRequest: undefined as undefined | ((d: { url: string }, cb: (r: { cancel?: boolean }) => void) => void),
  headersReceived: undefined as
    | undefined
    | ((
        d: { url: string; responseHeaders?: Record<string, string[]> },
        cb: (r: { responseHeaders?: Record<string, string[]> }) => void,
      ) => void),
  openedExternally: [] as string[],
  quitCalls: 0,
  exitCalls: [] as number[],
  errorBoxes: [] as string[],
  exposed: new Map<string, unknown>(),
  appMenus: [] as unknown[],
  trays: [] as FakeTray[],
  notifications: [] as Array<{ title: string; body: string }>,
};

type MenuTemplate = Array<{ label?: string; type?: string; click?: () => void }>;

class FakeTray extends EventEmitter {
  tooltip = '';
  menu: MenuTemplate = [];
  images = 0;
  destroyed = false;
  constructor(_image: unknown) {
    super();
    rec.trays.push(this);
  }
  setImage(): void {
    this.images++;
  }
  setToolTip(t: string): void {
    this.tooltip = t;
  }
  setTitle(): void {}
  setContextMenu(m: MenuTemplate): void {
    this.menu = m;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

class FakeNotification extends EventEmitter {
  static isSupported = () => true;
  constructor(readonly options: { title: string; body: string }) {
    super();
  }
  show(): void {
    rec.notifications.push(this.options);
  }
}

const fakeNativeImage = {
  createEmpty: () => ({ addRepresentation: () => {} }),
};

let resolveReady!: () => void;
const ready = new Promise<void>((r) => (resolveReady = r));

const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  enableSandbox: () => void (rec.sandboxEnabled = true),
  setPath: (name: string, value: string) => void rec.paths.set(name, value),
  getPath: (name: string) => rec.paths.get(name) ?? path.join(ROOT, '.moat-test', 'unexpected-default'),
  requestSingleInstanceLock: () => true,
  whenReady: () => ready,
  quit: () => void rec.quitCalls++,
  exit: (code: number) => void rec.exitCalls.push(code),
});

class FakeWindow extends EventEmitter {
  readonly webContents = new FakeWebContents();
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super();
    rec.windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string): Promise<void> {
    rec.loaded.push(url);
    return Promise.resolve();
  }
  isDestroyed = () => false;
  isMinimized = () => false;
  isMaximized = () => false;
  shown = 0;
  hidden = 0;
  show(): void {
    this.shown++;
  }
  hide(): void {
    this.hidden++;
  }
  focus(): void {}
  restore(): void {}
  maximize(): void {}
  getNormalBounds() {
    const o = this.options as { x?: number; y?: number; width?: number; height?: number };
    return { x: o.x ?? 0, y: o.y ?? 0, width: o.width ?? 0, height: o.height ?? 0 };
  }
}

const ipcRenderer = Object.assign(new EventEmitter(), {
  invoked: [] as unknown[][],
  invoke(...args: unknown[]) {
    ipcRenderer.invoked.push(args);
    return Promise.resolve({ ok: true, result: 'from-main' });
  },
});

const fakeElectron = {
  app,
  BrowserWindow: FakeWindow,
  protocol: { registerSchemesAsPrivileged: (p: typeof rec.privileged) => void rec.privileged.push(...p) },
  session: {
    defaultSession: {
      protocol: { handle: (scheme: string, h: (req: Request) => Promise<Response>) => void rec.protocolHandlers.set(scheme, h) },
      setPermissionRequestHandler: (h: typeof rec.permissionRequest) => void (rec.permissionRequest = h),
      setPermissionCheckHandler: (h: typeof rec.permissionCheck) => void (rec.permissionCheck = h),
      setDevicePermissionHandler: (h: typeof rec.devicePermission) => void (rec.devicePermission = h),
      webRequest: {
        onBeforeRequest: (h: typeof rec.beforeRequest) => void (rec.beforeRequest = h),
        onHeadersReceived: (h: typeof rec.headersReceived) => void (rec.headersReceived = h),
      },
    },
  },
  ipcMain: { handle: (channel: string, h: (event: unknown, ...args: unknown[]) => Promise<unknown>) => void rec.ipc.set(channel, h) },
  dialog: { showErrorBox: (title: string, body: string) => void rec.errorBoxes.push(`${title}: ${body}`) },
  shell: { openExternal: (url: string) => (rec.openedExternally.push(url), Promise.resolve()) },
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => void rec.exposed.set(key, value) },
  Menu: {
    buildFromTemplate: (t: MenuTemplate) => t,
    setApplicationMenu: (m: unknown) => void rec.appMenus.push(m),
  },
  Tray: FakeTray,
  Notification: FakeNotification,
  nativeImage: fakeNativeImage,
  screen: {
    getPrimaryDisplay: () => ({ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
    getAllDisplays: () => [{ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
  },
  ipcRenderer,
};

function installFakeElectron(): void {
  const M = Module as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  M._resolveFilename = function (req: string, ...rest: unknown[]) {
    return req === 'electron' ? 'moat-test:electron' : original.call(this, req, ...rest);
  };
  require.cache['moat-test:electron'] = {
    id: 'moat-test:electron',
    filename: 'moat-test:electron',
    loaded: true,
    exports: fakeElectron,
  } as unknown as NodeJS.Module;
}

// ---------- set-up: build into .moat-test, with a fixture renderer next to it ----------

let work: string;
let win: FakeWindow;
const SECRET = 'SECRET-NEXT-TO-THE-RENDERER';
const APP_JS = 'console.log("fixture bundle");\n';

before(async () => {
  work = path.join(ROOT, '.moat-test', `electron-main-${crypto.randomBytes(4).toString('hex')}`);
  const { buildElectron } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'build.mjs')).href)) as {
    buildElectron(o: { outDir: string; quiet: boolean }): Promise<{ main: string; preload: string }>;
  };
  const built = await buildElectron({ outDir: path.join(work, 'electron'), quiet: true });
  fs.mkdirSync(path.join(work, 'renderer', 'assets'), { recursive: true });
  fs.writeFileSync(path.join(work, 'renderer', 'index.html'), '<!doctype html><title>fixture</title>\n');
  fs.writeFileSync(path.join(work, 'renderer', 'assets', 'app.js'), APP_JS);
  fs.writeFileSync(path.join(work, 'secret.txt'), SECRET);
  // No warm pool: this test must not start sandboxes on a machine that has Docker.
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, warmPoolSize: 0 }));
  // Last saved on a monitor that is gone, larger than the one there is now.
  fs.writeFileSync(
    path.join(dataDir, 'window.json'),
    JSON.stringify({ bounds: { x: 5000, y: 3000, width: 3000, height: 2000 }, maximized: false }),
  );
  process.env.MOAT_DATA_DIR = dataDir;

  installFakeElectron();
  require(built.main);
  resolveReady();
  const deadline = Date.now() + 20_000;
  while (rec.windows.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  win = rec.windows[0]!;
  assert.ok(win, 'main.ts created no window');
  require(built.preload);
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function trusted(): { sender: FakeWebContents; senderFrame: Frame } {
  return { sender: win.webContents, senderFrame: win.webContents.mainFrame };
}

async function call(event: unknown, method: unknown, params?: unknown) {
  const handler = rec.ipc.get('moat:call');
  assert.ok(handler, "no ipcMain.handle('moat:call')");
  return (await handler(event, method, params)) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
}

// ---------- main process ----------

test('before ready: sandbox for all renderers, moat: registered as a secure standard scheme, nothing more', () => {
  assert.equal(rec.sandboxEnabled, true);
  assert.deepEqual(rec.privileged, [
    { scheme: 'moat', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
  assert.equal(rec.paths.get('userData'), path.join(process.env.MOAT_DATA_DIR!, 'electron'));
});

test('one window, with every webPreferences hardening, loading moat://app/index.html', () => {
  assert.equal(rec.windows.length, 1);
  assert.deepEqual(win.options.webPreferences, {
    preload: path.join(work, 'electron', 'preload.cjs'),
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    disableBlinkFeatures: 'Auxclick',
    spellcheck: false,
    safeDialogs: true,
    devTools: true,
  });
  assert.deepEqual(rec.loaded, ['moat://app/index.html']);
  assert.deepEqual([...rec.ipc.keys()], ['moat:call'], 'exactly one IPC channel');
});

test('moat://app serves the renderer with the CSP, and nothing outside it', async () => {
  const handle = rec.protocolHandlers.get('moat');
  assert.ok(handle, 'no moat: protocol handler');
  const index = await handle(new Request('moat://app/index.html'));
  assert.equal(index.status, 200);
  assert.match(await index.text(), /fixture/);
  const csp = index.headers.get('content-security-policy') ?? '';
  for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(d), `CSP lacks ${d}`);
  }
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal((await handle(new Request('moat://app/'))).status, 200);

  const js = await handle(new Request('moat://app/assets/app.js'));
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await js.text(), APP_JS);

  for (const u of [
    'moat://app/%2e%2e/secret.txt',
    'moat://app/..%2fsecret.txt',
    'moat://app/assets/..%2f..%2fsecret.txt',
    'moat://app/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    'moat://app/..%5csecret.txt',
    'moat://other/index.html',
    'moat://app:8080/index.html',
  ]) {
    const res = await handle(new Request(u));
    assert.ok([400, 404].includes(res.status), `${u}: ${res.status}`);
    assert.ok(!(await res.text()).includes(SECRET), `${u} leaked a file`);
  }
  assert.equal((await handle(new Request('moat://app/index.html', { method: 'POST', body: 'x' }))).status, 405);
});

test('the session denies every permission and every network request, and forces the CSP', () => {
  let granted: boolean | undefined;
  rec.permissionRequest?.(win.webContents, 'media', (ok) => (granted = ok));
  assert.equal(granted, false);
  assert.equal(rec.permissionCheck?.(win.webContents, 'notifications', 'moat://app', {}), false);
  assert.equal(rec.devicePermission?.({}), false);

  const decide = (url: string) => {
    let cancel: boolean | undefined;
    rec.beforeRequest?.({ url }, (r) => (cancel = r.cancel));
    return cancel;
  };
  for (const u of ['https://example.com/', 'http://127.0.0.1:8080/', 'ws://127.0.0.1:1/', 'wss://x.example/', 'file:///etc/passwd']) {
    assert.equal(decide(u), true, u);
  }
  assert.equal(decide('moat://app/assets/app.js'), false);

  let headers: Record<string, string[]> | undefined;
  rec.headersReceived?.(
    {
      url: 'moat://app/index.html',
      responseHeaders: { 'content-security-policy': ["default-src *; script-src 'unsafe-eval'"], 'X-Other': ['1'] },
    },
    (r) => (headers = r.responseHeaders),
  );
  assert.ok(headers);
  assert.deepEqual(Object.keys(headers).sort(), ['Content-Security-Policy', 'X-Other']);
  assert.match(headers['Content-Security-Policy']?.[0] ?? '', /^default-src 'self'/);
});

test('navigation, redirects, new windows and webviews are denied; only allowlisted https docs open externally', () => {
  const wc = win.webContents;
  const fire = (event: string, url: string): boolean => {
    let prevented = false;
    const e: Prevented = { url, preventDefault: () => (prevented = true) };
    wc.emit(event, e);
    return prevented;
  };
  assert.equal(fire('will-navigate', 'https://example.com/'), true);
  assert.equal(fire('will-navigate', 'file:///etc/passwd'), true);
  assert.equal(fire('will-navigate', 'moat://app/assets/app.js'), true);
  assert.equal(fire('will-navigate', 'moat://app/index.html'), false, 'reloading our own page is fine');
  assert.equal(fire('will-redirect', 'https://example.com/'), true);
  assert.equal(fire('will-frame-navigate', 'https://example.com/'), true);

  let webviewPrevented = false;
  wc.emit('will-attach-webview', { preventDefault: () => (webviewPrevented = true) }, {}, {});
  assert.equal(webviewPrevented, true);

  rec.openedExternally.length = 0;
  assert.deepEqual(wc.openHandler?.({ url: 'https://example.com/' }), { action: 'deny' });
  assert.deepEqual(wc.openHandler?.({ url: 'https://gvisor.dev/docs/' }), { action: 'deny' });
  assert.equal(fire('will-navigate', 'https://docs.docker.com/engine/install/'), true);
  assert.deepEqual(rec.openedExternally, ['https://gvisor.dev/docs/', 'https://docs.docker.com/engine/install/']);

  // Any other webContents (one we did not create) gets the same treatment.
  const stray = new FakeWebContents();
  app.emit('web-contents-created', {}, stray);
  assert.deepEqual(stray.openHandler?.({ url: 'https://example.com/' }), { action: 'deny' });
});

test('IPC: answered for our main frame on our page, refused for anything else', async () => {
  const ok = await call(trusted(), 'system.status', undefined);
  assert.equal(ok.ok, true, JSON.stringify(ok));

  assert.equal((await call(trusted(), 'system.rm_rf', {})).error?.code, 'UNKNOWN_METHOD');
  assert.equal((await call(trusted(), 'runs.get', { id: 5 })).error?.code, 'INVALID_REQUEST');

  const main = win.webContents.mainFrame;
  const refused = [
    { sender: win.webContents, senderFrame: { processId: 7, routingId: 2, parent: main, url: 'moat://app/index.html' } },
    { sender: win.webContents, senderFrame: { ...main, url: 'https://evil.example/' } },
    { sender: win.webContents, senderFrame: { ...main, routingId: 99 } },
    { sender: new FakeWebContents(), senderFrame: main },
    { sender: win.webContents, senderFrame: null },
  ];
  for (const event of refused) {
    assert.equal((await call(event, 'system.status', undefined)).error?.code, 'UNAUTHORIZED');
  }
});

test('the window opens where it was, fitted onto the displays there are now; no menu change unpackaged', () => {
  const o = win.options as unknown as { x: number; y: number; width: number; height: number };
  assert.deepEqual({ x: o.x, y: o.y, width: o.width, height: o.height }, { x: 0, y: 0, width: 1920, height: 1080 });
  // Not packaged: Electron's default menu (with DevTools) stays; installAppMenu only acts when packaged.
  assert.deepEqual(rec.appMenus, []);
});

async function until<T>(what: string, probe: () => T | undefined | null | false): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the app owns its data directory (like moat serve and moat daemon): owner.lock names it, its socket is there', async () => {
  const dataDir = process.env.MOAT_DATA_DIR!;
  const info = await until('owner.lock', () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dataDir, 'owner.lock'), 'utf8')) as { kind: string; pid: number; socket: string };
    } catch {
      return null;
    }
  });
  assert.equal(info.kind, 'app');
  assert.equal(info.pid, process.pid);
  await until('the CLI socket', () => fs.existsSync(info.socket));
});

test('tray: counts in the tooltip, each menu item opens its view in the window, Quit is there', async () => {
  const tray = await until('a tray', () => rec.trays[0]);
  assert.equal(tray.tooltip, 'Moat: nothing running, no alerts');
  const labels = tray.menu.map((i) => i.label ?? i.type);
  assert.deepEqual(labels, [
    'Open Moat',
    'separator',
    'Live runs: 0',
    'Unacknowledged alerts: 0',
    'Exposed instances: 0',
    'separator',
    'Quit Moat',
  ]);
  win.webContents.sent.length = 0;
  const shownBefore = win.shown;
  tray.menu.find((i) => i.label?.startsWith('Unacknowledged alerts'))!.click!();
  tray.menu.find((i) => i.label?.startsWith('Exposed instances'))!.click!();
  assert.deepEqual(win.webContents.sent, [
    ['moat:event', 'ui.open', { view: 'alerts' }],
    ['moat:event', 'ui.open', { view: 'firewall' }],
  ]);
  assert.equal(win.shown, shownBefore + 2, 'opening a view shows the window');

  // With the tray there, closing the window hides it (Moat keeps serving `moat run`) and saves its place.
  let prevented = false;
  win.emit('close', { preventDefault: () => (prevented = true) });
  assert.equal(prevented, true);
  assert.equal(win.hidden, 1);
  const saved = JSON.parse(fs.readFileSync(path.join(process.env.MOAT_DATA_DIR!, 'window.json'), 'utf8')) as unknown;
  assert.deepEqual(saved, { bounds: { x: 0, y: 0, width: 1920, height: 1080 }, maximized: false });
});

// ---------- preload ----------

type Bridge = {
  call(method: unknown, params?: unknown): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }>;
  on(listener: unknown): () => void;
};

test('preload: window.moat is exactly {call, on}, frozen; ipcRenderer is not exposed', () => {
  assert.deepEqual([...rec.exposed.keys()], ['moat']);
  const moat = rec.exposed.get('moat') as Bridge;
  assert.deepEqual(Object.keys(moat).sort(), ['call', 'on']);
  assert.ok(Object.isFrozen(moat));
  assert.ok(![...rec.exposed.values()].includes(ipcRenderer));
});

test('preload: call refuses undeclared methods before sending', async () => {
  const moat = rec.exposed.get('moat') as Bridge;
  ipcRenderer.invoked.length = 0;
  assert.deepEqual(await moat.call('system.status', undefined), { ok: true, result: 'from-main' });
  assert.deepEqual(ipcRenderer.invoked, [['moat:call', 'system.status', undefined]]);
  for (const bad of ['nope', 'constructor', '__proto__', 'toString', 42, null]) {
    assert.equal((await moat.call(bad, {})).error?.code, 'UNKNOWN_METHOD', String(bad));
  }
  assert.equal(ipcRenderer.invoked.length, 1, 'nothing else was sent to main');
});

test('preload: on passes declared events only, never the IPC event object, and unsubscribes', () => {
  const moat = rec.exposed.get('moat') as Bridge;
  const got: unknown[][] = [];
  const off = moat.on((...args: unknown[]) => got.push(args));
  const ipcEvent = { sender: ipcRenderer };
  ipcRenderer.emit('moat:event', ipcEvent, 'run.output', { runId: 'r', stream: 'stdout', data: 'hi' });
  ipcRenderer.emit('moat:event', ipcEvent, 'internal.secret', { key: 'x' });
  ipcRenderer.emit('moat:event', ipcEvent, { toString: () => 'run.output' }, {});
  assert.deepEqual(got, [['run.output', { runId: 'r', stream: 'stdout', data: 'hi' }]]);
  off();
  ipcRenderer.emit('moat:event', ipcEvent, 'run.stats', {});
  assert.equal(got.length, 1);
  assert.equal(ipcRenderer.listenerCount('moat:event'), 0);
  assert.throws(() => moat.on('not a function'), TypeError);
});

// ---------- quit (last: it closes the services) ----------

test('quitting closes the services first, then quits', async () => {
  let prevented = false;
  const quitsBefore = rec.quitCalls;
  app.emit('before-quit', { preventDefault: () => (prevented = true) });
  assert.equal(prevented, true, 'the first quit waits for the services');
  const deadline = Date.now() + 20_000;
  while (rec.quitCalls === quitsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(rec.quitCalls, quitsBefore + 1);
  let preventedAgain = false;
  app.emit('before-quit', { preventDefault: () => (preventedAgain = true) });
  assert.equal(preventedAgain, false, 'the second quit goes through');
  assert.deepEqual(rec.errorBoxes, []);
  assert.deepEqual(rec.exitCalls, []);
  assert.equal(fs.existsSync(path.join(process.env.MOAT_DATA_DIR!, 'owner.lock')), false, 'the data directory is released on quit');
  assert.equal(rec.trays[0]?.destroyed, true);
});
