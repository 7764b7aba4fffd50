// Which URLs the app's window may show and which it may hand to the user's browser. Pure
// functions, free of any 'electron' import, so they are unit-tested without Electron
// (test/electron-url-policy.test.ts); ./security applies them.

export const APP_SCHEME = 'moat';
export const APP_ORIGIN = 'moat://app';
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** Hosts whose https pages a link in the UI may open in the user's browser (documentation only). */
export const EXTERNAL_HOSTS: ReadonlySet<string> = new Set(['gvisor.dev', 'docs.docker.com']);

/**
 * True for any URL of the app's origin. Spelled out rather than compared with `URL.origin`:
 * Node's URL does not know that Chromium treats `moat:` as a standard scheme and reports the
 * origin of every moat:// URL as "null". `host` includes any port, so moat://app:1 is refused.
 */
export function isAppOriginUrl(u: URL): boolean {
  return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && u.username === '' && u.password === '';
}

/** True for the app's own page (any fragment or query), and nothing else. */
export function isAppPage(url: string): boolean {
  const u = parse(url);
  return u !== null && isAppOriginUrl(u) && (u.pathname === '/' || u.pathname === '/index.html');
}

/** The URL to open in the user's browser, or null when it is not an allowed https documentation page. */
export function allowedExternalUrl(url: string): string | null {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username || u.password || u.port) return null;
  return EXTERNAL_HOSTS.has(u.hostname) ? u.href : null;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
