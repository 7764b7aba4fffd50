// The desktop app's main process: one window showing the renderer from moat://app, one IPC
// channel into the services, and their events forwarded back; a tray with counts and OS
// notifications (tray-model.ts decides, tray.ts draws). The app owns its data directory like
// `moat serve` and `moat daemon` do, so `moat run` goes to its warm pool. All hardening is in
// ./security. Started as `<binary> --cli ARGS`, it is the `moat` command line instead (cli-mode.ts).
// Bundled by scripts/build.mjs to dist/electron/main.cjs, so __dirname is dist/electron.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, dialog, ipcMain, screen, session, type BrowserWindow } from 'electron';
import type { Envelope } from '../../shared/api';
import { EVENT_NAMES } from '../../shared/names';
import { dispatch } from '../../shared/dispatch';
import type { ViewId } from '../../shared/views';
import { fileLogger } from '../../main/log';
import { createServices, defaultDataDir, type Services } from '../../main/services';
import { liveOwner, type OwnerInfo } from '../daemon/owner';
import { startOwner, type OwnerHandle } from '../daemon/host';
import { IPC_CALL, IPC_EVENT } from './channels';
import { cliArguments, runCli } from './cli-mode';
import {
  APP_URL,
  createAppWindow,
  hardenAllWebContents,
  hardenSession,
  installAppMenu,
  isAppPage,
  isTrustedSender,
  registerAppScheme,
  serveAppProtocol,
} from './security';
import { createTray, type TrayHandle } from './tray';
import { TrayModel } from './tray-model';
import { loadWindowState, restoreBounds, saveWindowState, type Rect } from './window-state';

const RENDERER_DIR = path.join(__dirname, '..', 'renderer');
const PRELOAD = path.join(__dirname, 'preload.cjs');
const CLI_ENTRY = path.join(__dirname, '..', 'cli', 'moat.mjs');
const KNOWN_EVENTS: ReadonlySet<string> = new Set<string>(EVENT_NAMES);
/** Quitting never waits longer than this for the services to stop their sandboxes. */
const CLOSE_TIMEOUT_MS = 15_000;

const cliArgs = cliArguments(process.argv);
if (cliArgs) {
  // Before the lock, the data directory, the scheme: a CLI call is not a second app.
  app.dock?.hide();
  void runCli({ args: cliArgs, entry: CLI_ENTRY, load: (entry) => import(pathToFileURL(entry).href), exit: (code) => app.exit(code) });
} else {
  startDesktop();
}

function startDesktop(): void {
  // One state directory for the desktop app, the CLI and the headless host (run history, settings),
  // with Chromium's own profile kept in a folder of its own inside it.
  const dataDir = path.resolve(defaultDataDir());
  app.setPath('userData', path.join(dataDir, 'electron'));
  const log = fileLogger(dataDir, true);

  registerAppScheme();
  hardenAllWebContents();

  if (!app.requestSingleInstanceLock()) {
    // Another Moat window is open; it gets focused instead (its 'second-instance').
    app.quit();
  } else {
    start(dataDir, log);
  }
}

function ownerName(info: OwnerInfo): string {
  if (info.kind === 'daemon') return '`moat daemon`';
  if (info.kind === 'serve') return '`moat serve`';
  return 'another Moat app';
}

/** Two service sets on one directory would fight over its sandboxes and pool: say who has it, and quit. */
function refuseOwned(info: OwnerInfo, dataDir: string): void {
  const how =
    info.kind === 'daemon'
      ? 'Stop it with `moat daemon stop`, then open Moat again.'
      : info.kind === 'serve'
        ? 'Stop it (Ctrl-C where it runs), then open Moat again.'
        : 'Close it, then open Moat again.';
  dialog.showErrorBox(
    'Moat is already running',
    `${ownerName(info)} (pid ${info.pid}) owns the data directory ${dataDir} and runs its sandboxes. ` +
      `Two Moats on one directory would fight over them. ${how}`,
  );
}

function start(dataDir: string, log: (msg: string) => void): void {
  let win: BrowserWindow | null = null;
  let servicesReady: Promise<Services> | null = null;
  // Settles once the claim is made (or refused, or failed); quitting waits for it, so a quit
  // during start-up still releases the directory.
  let ownerReady: Promise<OwnerHandle | null> = Promise.resolve(null);
  let tray: TrayHandle | null = null;
  let quitting = false;
  const model = new TrayModel();

  const showWindow = (): void => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };
  const openView = (view: ViewId): void => {
    showWindow();
    if (!win || win.isDestroyed() || !isAppPage(win.webContents.getURL())) return;
    win.webContents.send(IPC_EVENT, 'ui.open', { view });
  };

  app.on('second-instance', showWindow);
  // macOS: clicking the Dock icon while the window is hidden in the menu bar.
  app.on('activate', showWindow);

  const unauthorized: Envelope<unknown> = {
    ok: false,
    error: { code: 'UNAUTHORIZED', message: 'IPC call from an unexpected frame was refused.' },
  };

  ipcMain.handle(IPC_CALL, async (event, method: unknown, params: unknown): Promise<Envelope<unknown>> => {
    if (!isTrustedSender(event, win)) {
      log(`refused an IPC call from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      return unauthorized;
    }
    // Never throw from here: Electron would hand the page the error's text. Always an envelope.
    let services: Services;
    try {
      if (!servicesReady) throw new Error('services not created yet');
      services = await servicesReady;
    } catch {
      return { ok: false, error: { code: 'INTERNAL', message: 'Moat is not ready; see the log for details.' } };
    }
    return dispatch(services.handlers, method, params, (m, err) => log(`${m} failed: ${describe(err)}`));
  });

  app
    .whenReady()
    .then(async () => {
      const other = liveOwner(dataDir);
      if (other && other.pid !== process.pid) {
        refuseOwned(other, dataDir);
        app.quit();
        return;
      }

      installAppMenu();
      hardenSession(session.defaultSession);
      serveAppProtocol(session.defaultSession, RENDERER_DIR);

      servicesReady = createServices({ dataDir, log });
      servicesReady.catch(() => {});

      win = createAppWindow(PRELOAD, restoredBounds(dataDir));
      const created = win;
      if (loadWindowState(dataDir).maximized) created.maximize();
      created.once('ready-to-show', () => created.show());
      trackWindowState(created, dataDir, log);
      created.on('close', (event) => {
        // With a tray, closing the window leaves Moat running (serving `moat run`, watching for
        // alerts); the tray's Quit, the app menu's Quit or the OS's ends it.
        if (tray && !quitting) {
          event.preventDefault();
          created.hide();
        }
      });
      created.on('closed', () => {
        win = null;
      });
      const loading = created.loadURL(APP_URL);

      try {
        tray = createTray({ open: openView, quit: () => app.quit(), log });
      } catch (err) {
        log(`no tray: ${describe(err)}`);
      }
      const renderTray = (): void => tray?.render(model.view());
      renderTray();

      const services = await servicesReady;
      if (quitting) return;
      ownerReady = startOwner({ services, dataDir, kind: 'app', log }).catch((err: unknown) => {
        // As with `moat serve`: the window works without the socket; `moat run` then runs in-process.
        log(`not serving the CLI socket: ${describe(err)}`);
        return null;
      });
      const owner = await ownerReady;
      if (owner && !owned(owner, dataDir)) return;

      services.onEvent((name, payload) => {
        const update = model.onEvent(name, payload);
        if (update.changed) renderTray();
        for (const n of update.notify) tray?.notify(n);
        if (!KNOWN_EVENTS.has(name) || !win || win.isDestroyed()) return;
        if (!isAppPage(win.webContents.getURL())) return;
        win.webContents.send(IPC_EVENT, name, payload);
      });
      const [live, alerts] = await Promise.all([
        services.handlers['sandbox.live'](undefined),
        services.handlers['alerts.counts'](undefined),
      ]);
      model.seed({ live, alerts });
      renderTray();
      await loading;
    })
    .catch((err: unknown) => {
      log(`start-up failed: ${describe(err)}`);
      dialog.showErrorBox('Moat could not start', err instanceof Error ? err.message : String(err));
      app.exit(1);
    });

  /** false (and quitting) when a daemon or `moat serve` claimed the directory while we started. */
  function owned(h: OwnerHandle, dir: string): boolean {
    if (h.owned) return true;
    refuseOwned(h.info, dir);
    app.quit();
    return false;
  }

  // Without a tray (a desktop with no status area), the window is the whole UI: closing it stops
  // Moat and, through before-quit, its sandboxes, rather than leaving them running unseen.
  app.on('window-all-closed', () => app.quit());

  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    void closeAll(ownerReady, servicesReady, log).finally(() => {
      tray?.destroy();
      closed = true;
      app.quit();
    });
  });
}

function restoredBounds(dataDir: string): Rect {
  const primary = screen.getPrimaryDisplay();
  const displays = [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)].map((d) => d.workArea);
  return restoreBounds(loadWindowState(dataDir), displays);
}

/** Saves the window's normal bounds and maximized state, at most once a second and on close. */
function trackWindowState(win: BrowserWindow, dataDir: string, log: (msg: string) => void): void {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (win.isDestroyed()) return;
    try {
      saveWindowState(dataDir, { bounds: win.getNormalBounds(), maximized: win.isMaximized() });
    } catch (err) {
      log(`window state not saved: ${describe(err)}`);
    }
  };
  const later = (): void => {
    if (!timer) timer = setTimeout(save, 1000);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('maximize', later);
  win.on('unmaximize', later);
  win.on('close', save);
}

async function closeAll(owner: Promise<OwnerHandle | null>, ready: Promise<Services> | null, log: (msg: string) => void): Promise<void> {
  // The CLI socket first: a `moat run` arriving now goes in-process instead of to services that are stopping.
  try {
    await (await owner)?.close();
  } catch (err) {
    log(`releasing the data directory failed: ${describe(err)}`);
  }
  if (!ready) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    const services = await ready;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log(`services did not close within ${CLOSE_TIMEOUT_MS} ms; quitting anyway`);
        resolve();
      }, CLOSE_TIMEOUT_MS);
    });
    await Promise.race([services.close(), timeout]);
  } catch (err) {
    log(`closing services failed: ${describe(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
