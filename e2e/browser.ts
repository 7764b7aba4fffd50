// What every end-to-end test needs of the browser: Debian's Chromium, headless, and a watch for
// page errors and console errors that the tests assert on.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.MOAT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Page errors and console errors, collected for a page's whole life. Each test ends by asserting
 * there were none since the previous test ended (so errors during set-up fail the first test).
 */
export function watchForErrors(page: Page): { assertNone(): void } {
  const seen: string[] = [];
  page.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.push(`console error: ${msg.text()} (${msg.location().url || 'no location'})`);
  });
  return {
    assertNone() {
      const errors = seen.splice(0);
      assert.deepEqual(errors, [], `the page logged errors:\n${errors.join('\n')}`);
    },
  };
}

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

/** Fills the Accounts view's add form and submits it (the view must be open). */
export async function addAccount(page: Page, provider: 'lambda' | 'linode', label: string, key: string): Promise<void> {
  await page.getByTestId('account-provider').selectOption(provider);
  await page.getByTestId('account-label').fill(label);
  await page.getByTestId('account-key').fill(key);
  await page.getByTestId('account-add').click();
}

/** Replaces the editor's code (one input event: no auto-indent or bracket closing gets in the way). */
export async function setCode(page: Page, code: string): Promise<void> {
  await page.locator('[data-testid="editor"] .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(code);
}

/** Runs `code` from the Sandboxes view and waits until the new run is in the history and shown finished; returns its id. */
export async function runInView(page: Page, code: string): Promise<string> {
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
  return (await page.locator('[data-testid="history-row"]').first().getAttribute('data-run-id'))!;
}
