// Every Electron hardening Moat relies on, in one file (Electron's security checklist, item by item).
// The page is our own React bundle, but it displays output of untrusted programs; if anything ever
// lets that output run script in the page, these settings decide what the script can reach:
// nothing but the two methods of `window.moat`, and no Node, no navigation, no new windows, no
// permissions, no network.
//
// The UI is served from a custom protocol, moat://app/, rather than file:// (checklist item 18):
// a file:// page has an opaque origin and can name any file on disk, so CSP 'self' means little
// and module scripts are not covered by the spec; moat://app is a real, secure, standard origin
// whose handler only ever returns files of dist/renderer, and it sets our own response headers.
import fs from 'node:fs/promises';
import { app, BrowserWindow, Menu, protocol, shell, type IpcMainInvokeEvent, type Session, type WebContents } from 'electron';
import { contentSecurityPolicy, securityHeaders } from '../common/csp';
import { contentTypeFor, lookupStaticFile } from '../common/static-files';
import { allowedExternalUrl, APP_ORIGIN, APP_SCHEME, isAppOriginUrl, isAppPage } from './url-policy';

export { APP_URL, isAppPage } from './url-policy';

/** The renderer talks to main over IPC only; no request of its session ever needs the network. */
const BLOCKED_REQUEST_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

const CSP = contentSecurityPolicy();

/** Must run before the app's `ready` event. */
export function registerAppScheme(): void {
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // Not bypassCSP, not corsEnabled, no service workers.
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ]);
}

/** Serves dist/renderer on moat://app/ with the CSP and companion headers on every response. */
export function serveAppProtocol(ses: Session, rendererDir: string): void {
  const headers = securityHeaders(CSP);
  const text = (status: number, body: string, type = 'text/plain; charset=utf-8'): Response =>
    new Response(body, { status, headers: { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store' } });

  ses.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (!isAppOriginUrl(url)) return text(404, 'Not found.\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'Method not allowed.\n');
    const found = await lookupStaticFile(rendererDir, url.pathname);
    if (found.kind === 'bad-request') return text(400, 'Bad request.\n');
    if (found.kind === 'not-found') {
      if (isAppPage(url.href)) {
        return text(
          200,
          '<!doctype html><meta charset="utf-8"><title>Moat</title>' +
            '<h1>The Moat UI is not built</h1><p>Run <code>npm run build</code>, then restart Moat.</p>\n',
          'text/html; charset=utf-8',
        );
      }
      return text(404, 'Not found.\n');
    }
    const body = request.method === 'HEAD' ? null : new Uint8Array(await fs.readFile(found.file));
    return new Response(body, {
      status: 200,
      headers: { ...headers, 'Content-Type': contentTypeFor(found.file), 'Cache-Control': 'no-store' },
    });
  });
}

/** Session-wide: no permissions, no network, CSP on the app's responses. */
export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);

  ses.webRequest.onBeforeRequest((details, callback) => {
    let scheme = '';
    try {
      scheme = new URL(details.url).protocol;
    } catch {
      return callback({ cancel: true });
    }
    callback({ cancel: BLOCKED_REQUEST_SCHEMES.has(scheme) });
  });

  // The protocol handler already sets the CSP; this also covers any response of our origin that
  // reaches the page some other way, and replaces whatever CSP such a response carried.
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (!details.url.startsWith(`${APP_ORIGIN}/`)) return callback({});
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') responseHeaders[name] = value;
    }
    responseHeaders['Content-Security-Policy'] = [CSP];
    callback({ responseHeaders });
  });
}

/**
 * The main window. Every webPreferences value is spelled out, even where it is the default.
 * `bounds`: where it was last (app/electron/window-state.ts), already fitted to the displays.
 */
export function createAppWindow(preloadPath: string, bounds?: { x: number; y: number; width: number; height: number }): BrowserWindow {
  return new BrowserWindow({
    width: bounds?.width ?? 1280,
    height: bounds?.height ?? 820,
    ...(bounds ? { x: bounds.x, y: bounds.y } : {}),
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Moat',
    backgroundColor: '#0f1115',
    webPreferences: {
      preload: preloadPath,
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
      // Middle-click would open a new window; new windows are denied anyway.
      disableBlinkFeatures: 'Auxclick',
      // The spellchecker downloads dictionaries from Google; Moat's page has no prose to check.
      spellcheck: false,
      safeDialogs: true,
      // A packaged Moat has no DevTools: no way to script the page that shows untrusted output
      // from outside it. (installAppMenu removes their menu item and shortcut too.)
      devTools: !app.isPackaged,
    },
  });
}

/**
 * Packaged: no "Toggle Developer Tools"/"Reload" items or their shortcuts. macOS keeps the app,
 * Edit (copy and paste in the editor go through it there) and Window menus; elsewhere the window
 * has no menu bar. Development keeps Electron's default menu, DevTools included.
 */
export function installAppMenu(): void {
  if (!app.isPackaged) return;
  if (process.platform !== 'darwin') {
    Menu.setApplicationMenu(null);
    return;
  }
  Menu.setApplicationMenu(Menu.buildFromTemplate([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]));
}

/** Applies to every webContents the app ever creates, including any we did not expect. */
export function hardenAllWebContents(): void {
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
}

function hardenWebContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());

  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfAllowed(url);
    return { action: 'deny' };
  });

  contents.on('will-navigate', (event) => {
    if (isAppPage(event.url)) return;
    event.preventDefault();
    openExternalIfAllowed(event.url);
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppPage(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppPage(event.url)) event.preventDefault();
  });
}

/** Opens documentation links in the user's browser; everything else is dropped. */
export function openExternalIfAllowed(url: string): boolean {
  const allowed = allowedExternalUrl(url);
  if (allowed === null) return false;
  void shell.openExternal(allowed);
  return true;
}

/**
 * An IPC call is honoured only from the main frame of our window, showing our page. A subframe,
 * another window, or our window after it somehow left moat://app gets nothing.
 */
export function isTrustedSender(event: IpcMainInvokeEvent, win: BrowserWindow | null): boolean {
  if (!win || win.isDestroyed()) return false;
  if (event.sender !== win.webContents) return false;
  const frame = event.senderFrame;
  const main = win.webContents.mainFrame;
  if (!frame || frame.parent !== null) return false;
  if (frame.processId !== main.processId || frame.routingId !== main.routingId) return false;
  return isAppPage(frame.url);
}
