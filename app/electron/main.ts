// The desktop app's main process: one window showing the renderer from moat://app, one IPC
// channel into the services, and their events forwarded back. All hardening is in ./security.
// Bundled by scripts/build.mjs to dist/electron/main.cjs, so __dirname is dist/electron.
import path from 'node:path';
import { app, dialog, ipcMain, session, type BrowserWindow } from 'electron';
import type { Envelope } from '../../shared/api';
import { EVENT_NAMES } from '../../shared/names';
import { dispatch } from '../../shared/dispatch';
import { fileLogger } from '../../main/log';
import { createServices, defaultDataDir, type Services } from '../../main/services';
import { IPC_CALL, IPC_EVENT } from './channels';
import {
  APP_URL,
  createAppWindow,
  hardenAllWebContents,
  hardenSession,
  isAppPage,
  isTrustedSender,
  registerAppScheme,
  serveAppProtocol,
} from './security';

const RENDERER_DIR = path.join(__dirname, '..', 'renderer');
const PRELOAD = path.join(__dirname, 'preload.cjs');
const KNOWN_EVENTS: ReadonlySet<string> = new Set<string>(EVENT_NAMES);
/** Quitting never waits longer than this for the services to stop their sandboxes. */
const CLOSE_TIMEOUT_MS = 15_000;

// One state directory for the desktop app, the CLI and the headless host (run history, settings),
// with Chromium's own profile kept in a folder of its own inside it.
const DATA_DIR = path.resolve(defaultDataDir());
app.setPath('userData', path.join(DATA_DIR, 'electron'));
const log = fileLogger(DATA_DIR, true);

registerAppScheme();
hardenAllWebContents();

if (!app.requestSingleInstanceLock()) {
  // Another Moat owns the data directory and the sandboxes; it gets focused instead.
  app.quit();
} else {
  start();
}

function start(): void {
  let win: BrowserWindow | null = null;
  let servicesReady: Promise<Services> | null = null;

  app.on('second-instance', () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

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
      hardenSession(session.defaultSession);
      serveAppProtocol(session.defaultSession, RENDERER_DIR);

      servicesReady = createServices({ dataDir: DATA_DIR, log });
      servicesReady.catch(() => {});

      win = createAppWindow(PRELOAD);
      win.once('ready-to-show', () => win?.show());
      win.on('closed', () => {
        win = null;
      });
      const loading = win.loadURL(APP_URL);

      const services = await servicesReady;
      services.onEvent((name, payload) => {
        if (!KNOWN_EVENTS.has(name) || !win || win.isDestroyed()) return;
        if (!isAppPage(win.webContents.getURL())) return;
        win.webContents.send(IPC_EVENT, name, payload);
      });
      await loading;
    })
    .catch((err: unknown) => {
      log(`start-up failed: ${describe(err)}`);
      dialog.showErrorBox('Moat could not start', err instanceof Error ? err.message : String(err));
      app.exit(1);
    });

  // One window is the whole UI, on every platform (macOS included): closing it stops Moat and,
  // through before-quit, its sandboxes, rather than leaving them running with nothing on screen.
  app.on('window-all-closed', () => app.quit());

  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    void closeServices(servicesReady).finally(() => {
      closed = true;
      app.quit();
    });
  });
}

async function closeServices(ready: Promise<Services> | null): Promise<void> {
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
