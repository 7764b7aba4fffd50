// End to end, as a user: Chromium (Playwright) against the headless host, with the real services
// (Docker + gVisor). Write code, run it, watch output stream and the chart move, find the run in
// the history; a timed-out run is marked as such; a running one can be cancelled.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHost } from '../app/host/server';
import { engineUnavailableReason, startServices } from '../test/helpers/engine';

const CHROMIUM = process.env.MOAT_CHROMIUM ?? '/usr/bin/chromium';
const STATIC = join(process.cwd(), 'dist', 'renderer');
const SHOTS = join(process.cwd(), 'test-results');

const skip =
  (await engineUnavailableReason()) ??
  (existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM}; run \`bash scripts/setup.sh --test\``) ??
  (existsSync(join(STATIC, 'index.html')) ? null : 'the UI is not built; run `npm run build`');
if (skip) console.log(`# skipping end-to-end tests: ${skip}`);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

async function setCode(page: Page, code: string): Promise<void> {
  await page.locator('[data-testid="editor"] .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // insertText is one input event: no auto-indent or bracket closing gets in the way.
  await page.keyboard.insertText(code);
}

async function runAndWait(page: Page, code: string): Promise<string> {
  await setCode(page, code);
  const before = await page.getByTestId('history-row').count();
  await page.getByTestId('run-button').click();
  // The new run is in the history and is the one shown, finished (not the previous run's status).
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('[data-testid="history-row"]').length > n &&
      document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished' &&
      document.querySelector('[data-testid="history-row"]')?.getAttribute('data-end-reason') !== '',
    before,
    { timeout: 60_000 },
  );
  return (await page.getByTestId('run-end-reason').textContent())!.trim();
}

describe('Sandboxes view in Chromium', { skip: skip ?? false }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  let host: Awaited<ReturnType<typeof startHost>>;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    services = await startServices({ pool: true });
    host = await startHost({ services, staticDir: STATIC, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => console.log(`# page error: ${err.message}`));
    await page.goto(host.url);
    await page.waitForSelector('[data-testid="gvisor-status"][data-available="true"]', { timeout: 30_000 });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await services?.dispose();
  });

  test('shows that sandboxes run under gVisor and the engine is connected', async () => {
    assert.match((await page.getByTestId('gvisor-status').textContent()) ?? '', /gVisor/);
    assert.match((await page.getByTestId('engine-status').textContent()) ?? '', /20\.10|Docker|connected/i);
    assert.equal(new URL(page.url()).hash, '', 'the token is removed from the visible URL');
  });

  test('write code, run, see output stream in, the chart move, the exit code and the history', async () => {
    await page.getByTestId('template-select').selectOption('python');
    await setCode(
      page,
      [
        'import sys, time',
        'print("e2e-start")',
        't = time.time()',
        'n = 0',
        'while time.time() - t < 5:',
        '    n += 1',
        'print("e2e-done", n > 0)',
        'print("e2e-stderr", file=sys.stderr)',
        'sys.exit(3)',
      ].join('\n'),
    );
    await page.getByTestId('run-button').click();
    // Streamed: the first line is on screen while the run is still going.
    await page.waitForFunction(() => document.querySelector('[data-testid="output"]')?.textContent?.includes('e2e-start'), null, {
      timeout: 30_000,
    });
    assert.equal((await page.getByTestId('run-status').textContent())?.trim(), 'running');
    const samples = async () => Number(await page.getByTestId('stats-chart').getAttribute('data-samples'));
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="stats-chart"]')?.getAttribute('data-samples')) >= 1,
      null,
      { timeout: 15_000 },
    );
    const early = await samples();
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="stats-chart"]')?.getAttribute('data-samples')) > n,
      early,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: join(SHOTS, 'e2e-running.png') });

    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished', null, {
      timeout: 60_000,
    });
    assert.equal((await page.getByTestId('run-end-reason').textContent())?.trim(), 'exited');
    assert.equal((await page.getByTestId('run-exit-code').textContent())?.trim(), '3');
    assert.match((await page.getByTestId('run-duration').textContent()) ?? '', /\d/);
    assert.match((await page.locator('[data-testid="output"] .stdout').allTextContents()).join(''), /e2e-done True/);
    assert.match((await page.locator('[data-testid="output"] .stderr').allTextContents()).join(''), /e2e-stderr/);
    assert.ok((await samples()) >= 2, 'the chart got samples');

    const last = (await services.handlers['runs.list']({ limit: 1 }))[0]!;
    const row = page.locator(`[data-testid="history-row"][data-run-id="${last.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getAttribute('data-end-reason'), 'exited');
    await page.screenshot({ path: join(SHOTS, 'e2e-finished.png') });
  });

  test('text typed as standard input reaches the program', async () => {
    await page.locator('.stdin-input summary').click();
    await page.getByTestId('stdin-input').fill('21\n');
    const reason = await runAndWait(page, 'print(int(input()) * 2)\n');
    assert.equal(reason, 'exited');
    assert.equal((await page.locator('[data-testid="output"] .stdout').allTextContents()).join(''), '42\n');
    await page.getByTestId('stdin-input').fill('');
  });

  test('a run past its timeout is marked as timed out', async () => {
    await page.getByTestId('limit-timeout').fill('2');
    const reason = await runAndWait(page, 'while True:\n    pass\n');
    assert.equal(reason, 'timeout');
    const last = (await services.handlers['runs.list']({ limit: 1 }))[0]!;
    assert.equal(last.endReason, 'timeout');
    assert.equal(last.limits.timeoutMs, 2000, 'the limit set in the form reached the run');
    await page.locator(`[data-testid="history-row"][data-run-id="${last.id}"][data-end-reason="timeout"]`).waitFor({ timeout: 10_000 });
    await page.getByTestId('limit-timeout').fill('30');
  });

  test('a running sandbox can be cancelled', async () => {
    await setCode(page, 'import time\nprint("waiting", flush=True)\ntime.sleep(60)\n');
    await page.getByTestId('run-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="output"]')?.textContent?.includes('waiting'), null, {
      timeout: 30_000,
    });
    await page.getByTestId('cancel-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished', null, {
      timeout: 30_000,
    });
    assert.equal((await page.getByTestId('run-end-reason').textContent())?.trim(), 'cancelled');
  });

  test('opening a past run from the history shows its output', async () => {
    const runs = await services.handlers['runs.list'](undefined);
    const first = runs.find((r) => r.exitCode === 3)!;
    await page.locator(`[data-testid="history-row"][data-run-id="${first.id}"]`).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="output"]')?.textContent?.includes('e2e-done'), null, {
      timeout: 10_000,
    });
    assert.equal((await page.getByTestId('run-exit-code').textContent())?.trim(), '3');
  });

  test('after a reload, a past run still opens with its output and its recorded chart', async () => {
    await page.reload();
    await page.waitForSelector('[data-testid="gvisor-status"][data-available="true"]', { timeout: 30_000 });
    const first = (await services.handlers['runs.list'](undefined)).find((r) => r.exitCode === 3)!;
    await page.locator(`[data-testid="history-row"][data-run-id="${first.id}"]`).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="output"]')?.textContent?.includes('e2e-done'), null, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="stats-chart"]')?.getAttribute('data-samples')) >= 2,
      null,
      { timeout: 10_000 },
    );
  });
});
