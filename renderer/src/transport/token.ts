// The headless host hands out its per-launch access token in the URL fragment
// (http://127.0.0.1:PORT/#token=...). The fragment never reaches the server's logs; we move it to
// sessionStorage so a reload keeps working, and take it out of the address bar.
const STORAGE_KEY = 'moat.token';

export function takeAccessToken(loc: Location = window.location): string | null {
  const fromHash = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    try {
      sessionStorage.setItem(STORAGE_KEY, fromHash);
    } catch {
      // Storage can be disabled; the token still works for this page load.
    }
    history.replaceState(null, '', loc.pathname + loc.search);
    return fromHash;
  }
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * Pasting a new URL that differs only in its fragment does not reload the page. When that
 * fragment carries a token (a restarted `moat serve`), start over with it.
 */
export function reloadOnNewToken(): void {
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token')) window.location.reload();
  });
}
