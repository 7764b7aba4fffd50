// Shown when the page was opened without the headless host's access token.
export function NoTokenScreen() {
  return (
    <div className="no-token" role="alert">
      <div className="no-token-card">
        <div className="brand brand-large">Moat</div>
        <h1>This page needs its access token</h1>
        <p>
          Open the URL printed by <code>moat serve</code> (it contains the access token).
        </p>
        <p className="muted">
          It looks like <code>http://127.0.0.1:PORT/#token=…</code>. The token changes every time <code>moat serve</code> starts, so an old
          link or bookmark will not work.
        </p>
      </div>
    </div>
  );
}
