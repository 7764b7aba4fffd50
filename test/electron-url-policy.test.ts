// The navigation and external-link policy of the desktop app, without Electron: which URLs count
// as the app's own page (navigation allowed, IPC honoured) and which may be opened in the browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedExternalUrl, isAppPage } from '../app/electron/url-policy';

test('only moat://app/ and moat://app/index.html are the app page', () => {
  for (const ok of ['moat://app/', 'moat://app/index.html', 'moat://app/index.html#runs', 'moat://app/?x=1']) {
    assert.equal(isAppPage(ok), true, ok);
  }
  for (const bad of [
    'moat://app/assets/index.js',
    'moat://app/other.html',
    'moat://evil/index.html',
    'moat://app.evil/index.html',
    'moat://app:1/index.html',
    'moat://user@app/index.html',
    'moat://:pw@app/index.html',
    'moat://APP/index.html',
    'moat:app/index.html',
    'file:///work/main/dist/renderer/index.html',
    'http://127.0.0.1:5173/',
    'https://app/index.html',
    'javascript:alert(1)',
    'data:text/html,<script>1</script>',
    'about:blank',
    'not a url',
    '',
  ]) {
    assert.equal(isAppPage(bad), false, bad);
  }
});

test('only https documentation pages may be opened externally', () => {
  assert.equal(allowedExternalUrl('https://gvisor.dev/docs/user_guide/install/'), 'https://gvisor.dev/docs/user_guide/install/');
  assert.equal(allowedExternalUrl('https://docs.docker.com/engine/install/'), 'https://docs.docker.com/engine/install/');
  for (const bad of [
    'http://gvisor.dev/',
    'https://gvisor.dev.evil.example/',
    'https://evil.example/?https://gvisor.dev/',
    'https://user:pass@gvisor.dev/',
    'https://gvisor.dev:8443/',
    'file:///etc/passwd',
    'smb://gvisor.dev/share',
    'javascript:alert(1)',
    'moat://app/index.html',
    'https://example.com/',
    'not a url',
  ]) {
    assert.equal(allowedExternalUrl(bad), null, bad);
  }
});
