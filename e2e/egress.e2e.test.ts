// End to end, as a user: Chromium (Playwright) against the headless host with the real services
// (Docker + gVisor). A run prints a fake AWS access key and a GitHub token: the output shows them
// redacted in place (a badge naming the rule), the alert counter rises, the Alerts view shows the
// alert with its masked preview and opens its run; acknowledging drops the counter; suppressing
// the rule lets a second key through unredacted and unalerted, until it is un-suppressed. A
// secret environment variable echoed back is redacted too and shown as NAME=••••. A connection the
// egress proxy refused is a network alert whose destination one click allows for the template.
// Settings edit the default policy and template allowlists. The keys that were redacted never
// reach the page: not its DOM, not a WebSocket frame, not a file of the host.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, runInView, setCode, watchForErrors } from './browser';
import { startHost } from '../app/host/server';
import { engineUnavailableReason, skipUnlessReady, startServices } from '../test/helpers/engine';
import { filesContaining } from '../test/helpers/leaks';

const STATIC = join(process.cwd(), 'dist', 'renderer');
const SHOTS = process.env.MOAT_E2E_SHOTS ?? join(process.cwd(), 'test-results');

const skip = skipUnlessReady(
  (await engineUnavailableReason()) ??
    (existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM}; run \`bash scripts/setup.sh --test\``) ??
    (existsSync(join(STATIC, 'index.html')) ? null : 'the UI is not built; run `npm run build`'),
  'egress end-to-end tests',
);

// Realistic shapes the format rules take (not documentation examples, no repeats or sequences).
// The programs build them from pieces, so the code shown in the editor never holds them whole.
const AWS = ['AKIA', 'Q3EGRT7L', 'MN4PWXZB'] as const;
const AWS_2 = ['AKIA', 'T5KWJ2RX', 'BN7YHD3C'] as const;
const GITHUB = ['ghp_', 'x7Rk2QmW9vLp4TzN8bYc', 'H3fJ6sDa1GuE5oKi'] as const;
const TOKEN = ['moat-e2e-', 'q8Zr3VwK1pXm7TfL', '2hNc9YbD'] as const;
const whole = (parts: readonly string[]) => parts.join('');

const pyParts = (parts: readonly string[]) => parts.map((p) => JSON.stringify(p)).join(' + ');

async function counter(page: Page): Promise<number> {
  return Number(await page.getByTestId('status-alerts').getAttribute('data-count'));
}

async function waitForCounter(page: Page, test: (n: number) => boolean, what: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const n = await counter(page);
    if (test(n)) return n;
    if (Date.now() > deadline) assert.fail(`the alert counter stayed at ${n}; expected ${what}`);
    await page.waitForTimeout(100);
  }
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function outputText(page: Page): Promise<string> {
  return (await page.getByTestId('output').textContent()) ?? '';
}

describe('Egress filter in Chromium', { skip }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  let host: Awaited<ReturnType<typeof startHost>>;
  let browser: Browser;
  let page: Page;
  let errors: { assertNone(): void } | undefined;
  /** Every WebSocket frame the page received from the host. */
  const received: string[] = [];
  let firstRun = '';

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    services = await startServices({ pool: true });
    host = await startHost({ services, staticDir: STATIC, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    errors = watchForErrors(page);
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => received.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8'))),
    );
    await page.goto(host.url);
    await page.waitForSelector('[data-testid="gvisor-status"][data-available="true"]', { timeout: 30_000 });
    await page.getByTestId('template-select').selectOption('python');
  });
  afterEach(() => errors?.assertNone());
  after(async () => {
    await browser?.close();
    await host?.close();
    await services?.dispose();
  });

  test('a key printed by a run is redacted in place with a badge, and the alert counter rises', async () => {
    await page.getByTestId('status-alerts').waitFor({ timeout: 10_000 });
    const start = await counter(page);
    assert.equal(start, 0, 'a new data directory has no alerts');
    assert.equal(await page.getByTestId('nav-alert-count').count(), 0, 'no count on the nav rail at zero');

    firstRun = await runInView(page, `print("aws id", ${pyParts(AWS)})\nprint("gh", ${pyParts(GITHUB)})\nprint("done")`);

    const aws = page.locator('[data-testid="output"] [data-testid="redaction"][data-rule="aws-access-key-id"]');
    await aws.waitFor({ timeout: 10_000 });
    assert.equal(await aws.getAttribute('title'), 'redacted: aws-access-key-id');
    assert.equal((await aws.textContent())?.trim(), '[REDACTED:aws-access-key-id]');
    assert.equal(await page.locator('[data-testid="output"] [data-testid="redaction"][data-rule="github-pat"]').count(), 1);
    const text = await outputText(page);
    assert.match(text, /aws id \[REDACTED:aws-access-key-id\]/);
    assert.match(text, /done/);
    assert.ok(!text.includes(whole(AWS)) && !text.includes(whole(GITHUB)), 'the keys are not in the output');
    // The badge is styled apart from the text around it.
    const bg = await aws.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)');

    const n = await waitForCounter(page, (x) => x >= start + 2, 'one alert per key at least');
    assert.equal(Number(await page.getByTestId('nav-alert-count').getAttribute('data-count')), n, 'the nav rail agrees');
    assert.match((await page.getByTestId('egress-filter').textContent()) ?? '', /on · redact/);
    assert.match((await page.getByTestId('egress-findings').textContent()) ?? '', /critical/);
    await page.locator('.view').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'egress-run-redacted.png') });
  });

  test('the Alerts view shows the alert with its masked preview and rule, and opens its run', async () => {
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alerts-view').waitFor();
    const row = page.locator(`[data-testid="alert-row"][data-rule="aws-access-key-id"][data-run-id="${firstRun}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.ok((await page.getByTestId('alert-row').count()) >= 2);
    await row.click();
    const detail = page.getByTestId('alert-detail');
    await detail.waitFor();
    const preview = (await page.getByTestId('alert-preview').textContent()) ?? '';
    assert.match(preview, /^AKIA\S*\*/, 'a masked preview');
    assert.ok(!preview.includes(whole(AWS)));
    assert.match((await page.getByTestId('alert-rule').textContent()) ?? '', /aws-access-key-id/);
    assert.match((await page.getByTestId('alert-severity').textContent()) ?? '', /critical/);
    assert.match((await page.getByTestId('alert-position').textContent()) ?? '', /stdout @ byte \d+/);
    await page.screenshot({ path: join(SHOTS, 'egress-alerts-view.png') });

    await page.getByTestId('alert-open-run').click();
    await page.locator('[data-testid="nav-sandboxes"][aria-current="page"]').waitFor();
    await page.locator(`[data-testid="history-row"][data-run-id="${firstRun}"].selected`).waitFor();
    await page.locator('[data-testid="output"] [data-testid="redaction"][data-rule="aws-access-key-id"]').waitFor();
  });

  test('acknowledging the alert drops the counter', async () => {
    const before = await counter(page);
    await page.getByTestId('nav-alerts').click();
    const row = page.locator(`[data-testid="alert-row"][data-rule="aws-access-key-id"][data-run-id="${firstRun}"]`);
    await row.click();
    await page.getByTestId('alert-ack').click();
    await waitForCounter(page, (x) => x === before - 1, `${before - 1}`);
    assert.equal(await row.getAttribute('data-acknowledged'), 'true');
    await page.getByTestId('alert-ack').waitFor({ state: 'detached' });
  });

  test('a suppressed rule is neither alerted nor redacted; un-suppressed, it is again', async () => {
    await page.locator(`[data-testid="alert-row"][data-rule="aws-access-key-id"][data-run-id="${firstRun}"]`).click();
    await page.getByTestId('suppress-reason').fill('e2e: this fixture prints fake keys');
    await page.getByTestId('alert-suppress').click();
    const suppression = page.locator('[data-testid="suppression"][data-rule="aws-access-key-id"]');
    await suppression.waitFor();
    assert.match((await suppression.textContent()) ?? '', /e2e: this fixture prints fake keys/);
    await page.getByTestId('alert-rule-suppressed').waitFor();

    const before = await counter(page);
    await page.getByTestId('nav-sandboxes').click();
    await runInView(page, `print("second", ${pyParts(AWS_2)})`);
    const text = await outputText(page);
    assert.ok(text.includes(`second ${whole(AWS_2)}`), `the key is shown as printed: ${text}`);
    assert.equal(await page.locator('[data-testid="output"] [data-testid="redaction"]').count(), 0);
    await page.waitForTimeout(1000);
    assert.equal(await counter(page), before, 'no alert for a suppressed rule');

    await page.getByTestId('nav-alerts').click();
    await suppression.getByTestId('unsuppress').click();
    await suppression.waitFor({ state: 'detached' });
    const entries = await services.handlers['audit.list']({ limit: 50 });
    assert.ok(entries.some((e) => e.action === 'alerts.suppress'));
    assert.ok(entries.some((e) => e.action === 'alerts.unsuppress'));

    await page.getByTestId('nav-sandboxes').click();
    await runInView(page, `print("third", ${pyParts(AWS)})`);
    await page.locator('[data-testid="output"] [data-testid="redaction"][data-rule="aws-access-key-id"]').waitFor();
    await waitForCounter(page, (x) => x >= before + 1, 'an alert again');
  });

  test('a secret environment variable: typed in a password box, redacted when echoed, shown as NAME=••••', async () => {
    await page.getByTestId('env-add').click();
    await page.getByTestId('env-name').fill('1BAD');
    await page.getByTestId('env-error').waitFor();
    await page.getByTestId('env-name').fill('API_TOKEN');
    await page.getByTestId('env-secret').check();
    assert.equal(await page.getByTestId('env-value').getAttribute('type'), 'password');
    await page.getByTestId('env-value').fill(whole(TOKEN));
    await page.getByTestId('allow-input').fill('https://example.com/x');
    await page.getByTestId('allow-add').click();
    assert.match((await page.getByTestId('allow-error').textContent()) ?? '', /not a URL/);
    await page.getByTestId('allow-input').fill('');

    await runInView(page, 'import os\nprint("token", os.environ["API_TOKEN"])');
    await page.locator('[data-testid="output"] [data-testid="redaction"]').first().waitFor();
    assert.ok(!(await outputText(page)).includes(whole(TOKEN)));
    assert.equal((await page.getByTestId('run-env-var').textContent())?.trim(), 'API_TOKEN=••••');
    await page.getByTestId('env-remove').click();
  });

  test('a refused connection is a network alert; one click allows its destination for the template', async () => {
    await page.getByTestId('allow-input').fill('allowed.example:443');
    await page.getByTestId('allow-add').click();
    await page.locator('[data-testid="allow-entry"][data-entry="allowed.example:443"]').waitFor();
    assert.equal(await page.getByTestId('allow-preset').inputValue(), 'custom');
    await setCode(
      page,
      [
        'import os, socket, urllib.parse',
        'u = urllib.parse.urlparse(os.environ["HTTPS_PROXY"])',
        's = socket.create_connection((u.hostname, u.port), timeout=10)',
        's.sendall(b"CONNECT blocked.example:443 HTTP/1.1\\r\\nHost: blocked.example:443\\r\\n\\r\\n")',
        'print("proxy said", s.recv(200).split(b"\\r\\n")[0].decode())',
      ].join('\n'),
    );
    const before = await page.getByTestId('history-row').count();
    await page.getByTestId('run-button').click();
    // A run with network needs the egress runtime; without it the run is refused, and says why.
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid="run-error"]') !== null ||
        (document.querySelectorAll('[data-testid="history-row"]').length > n &&
          document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished' &&
          document.querySelector('[data-testid="history-row"]')?.getAttribute('data-end-reason') !== ''),
      before,
      { timeout: 90_000 },
    );
    // The run went through the real egress proxy (setup.sh registers the runsc-egress runtime).
    const refused = page.getByTestId('run-error');
    if ((await refused.count()) > 0) assert.fail(`the run with an allowlist was refused: ${(await refused.textContent()) ?? ''}`);
    const runId = (await page.locator('[data-testid="history-row"]').first().getAttribute('data-run-id'))!;
    assert.match(await outputText(page), /proxy said HTTP\/1\.1 403/);
    assert.match((await page.getByTestId('egress-allow-net').textContent()) ?? '', /allowed\.example:443/);
    assert.match((await page.getByTestId('egress-refused').textContent()) ?? '', /1/);
    await page.getByTestId('allow-preset').selectOption('none');

    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alert-filter-kind').selectOption('network');
    const row = page.locator(`[data-testid="alert-row"][data-rule="net-refused"][data-run-id="${runId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    assert.match((await page.getByTestId('alert-destination').textContent()) ?? '', /blocked\.example:443/);
    const allow = page.getByTestId('alert-allow');
    assert.equal((await allow.textContent())?.trim(), 'Allow blocked.example:443 for template python');
    await allow.click();
    await page.getByTestId('alerts-notice').waitFor();
    await waitFor(
      async () => ((await services.handlers['settings.get'](undefined)).templateAllowNet.python ?? []).includes('blocked.example:443'),
      'the destination allowed for python',
    );
    await page.getByTestId('nav-sandboxes').click();
    assert.match((await page.getByTestId('template-allow').textContent()) ?? '', /blocked\.example:443/);
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alert-filter-kind').selectOption('');
    // Leave the template as it was.
    await services.handlers['settings.update']({ templateAllowNet: {} });
  });

  test('acknowledge all shown clears the counter', async () => {
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alert-row').first().waitFor();
    await page.getByTestId('alerts-ack-shown').click();
    await waitForCounter(page, (x) => x === 0, '0');
    assert.equal(await page.getByTestId('nav-alert-count').count(), 0);
  });

  test('Settings: the default policy and a template allowlist, as the run form shows them', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-egress-policy').selectOption('block');
    const python = page.locator('[data-testid="settings-template-allow"][data-template="python"]');
    await python.getByTestId('settings-allow-input').fill('pypi.org:99999');
    await python.getByTestId('settings-allow-add').click();
    assert.match((await python.getByTestId('settings-allow-error').textContent()) ?? '', /port 99999/);
    await python.getByTestId('settings-allow-input').fill('pypi.org:443');
    await python.getByTestId('settings-allow-add').click();
    await python.locator('[data-testid="settings-allow-entry"][data-entry="pypi.org:443"]').waitFor();
    await waitFor(async () => (await services.handlers['settings.get'](undefined)).egressPolicy === 'block', 'the policy saved');
    assert.deepEqual((await services.handlers['settings.get'](undefined)).templateAllowNet.python, ['pypi.org:443']);

    await page.getByTestId('nav-sandboxes').click();
    assert.match((await page.getByTestId('egress-policy').locator('option[value=""]').textContent()) ?? '', /Default \(block\)/);
    assert.equal((await page.getByTestId('template-allow-entry').allTextContents()).join(','), 'pypi.org:443');

    await page.getByTestId('nav-settings').click();
    await python.getByTestId('settings-allow-remove').click();
    await python.getByTestId('settings-allow-entry').waitFor({ state: 'detached' });
    await page.getByTestId('settings-egress-policy').selectOption('redact');
    await waitFor(async () => {
      const s = await services.handlers['settings.get'](undefined);
      return s.egressPolicy === 'redact' && (s.templateAllowNet.python ?? []).length === 0;
    }, 'the settings restored');
  });

  test('the redacted keys never reached the page, a frame or a file', async () => {
    const frames = await Promise.all(page.frames().map((f) => f.content()));
    const html = frames.join('\n');
    const sentToPage = received.join('\n');
    assert.ok(received.length > 10, `frames were captured (${received.length})`);
    for (const [name, parts] of Object.entries({ AWS, GITHUB, TOKEN })) {
      const key = whole(parts);
      assert.ok(!html.includes(key), `${name} in the page`);
      assert.ok(!sentToPage.includes(key), `${name} in a frame sent to the page`);
      assert.deepEqual(filesContaining(services.dataDir, key), [], `${name} in a file`);
    }
    // Control: the key printed while its rule was suppressed went through, and the search finds it.
    assert.ok(sentToPage.includes(whole(AWS_2)), 'the unredacted key is found in the frames');
  });
});
