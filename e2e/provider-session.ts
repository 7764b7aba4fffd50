// What the provider end-to-end tests share: the Lambda, Linode and public-address fakes, `moat
// serve` in its own keyring session pointed at them (e2e/provider-host.ts), Chromium on its page
// with the error watch, and the teardown that undoes all of it in order.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, addAccount, watchForErrors } from './browser';
import { startAddressFake, type AddressFake } from './fakes/address';
import { startLambdaFake, type LambdaFake, type LambdaFakeOptions } from './fakes/lambda';
import { startLinodeFake, type LinodeFake, type LinodeFakeOptions } from './fakes/linode';
import { startProviderHost, type ProviderHost } from './provider-host';

export const SHOTS = join(process.cwd(), 'test-results');
/** The user's public address, as the address-endpoint stand-in reports it. */
export const ME = '203.0.113.7';

export interface ProviderSession {
  lambda: LambdaFake;
  linode: LinodeFake;
  address: AddressFake;
  host: ProviderHost;
  browser: Browser;
  page: Page;
  errors: { assertNone(): void };
  close(): Promise<void>;
}

export async function startProviderSession(o: {
  lambda: LambdaFakeOptions;
  linode: LinodeFakeOptions;
  /** Called with the fakes before the host starts (state the user already had). */
  seed?: (fakes: { lambda: LambdaFake; linode: LinodeFake }) => void;
  viewport?: { width: number; height: number };
}): Promise<ProviderSession> {
  mkdirSync(SHOTS, { recursive: true });
  const lambda = await startLambdaFake(o.lambda);
  const linode = await startLinodeFake(o.linode);
  o.seed?.({ lambda, linode });
  const address = await startAddressFake({ ipv4: ME, ipv6: null });
  const host = await startProviderHost({
    lambdaUrl: lambda.url,
    linodeUrl: linode.url,
    addressUrls: { ipv4: address.url4, ipv6: address.url6 },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: o.viewport ?? { width: 1400, height: 1000 } });
  const errors = watchForErrors(page);
  return {
    lambda,
    linode,
    address,
    host,
    browser,
    page,
    errors,
    async close() {
      await browser.close();
      await host.stop();
      await lambda.close();
      await linode.close();
      await address.close();
      if (!process.env.MOAT_KEEP_TEST_HOME) rmSync(host.home, { recursive: true, force: true });
    },
  };
}

/** Opens the Accounts view, waits for the keychain, and adds each account, waiting for its row. */
export async function addAccounts(page: Page, accounts: [provider: 'lambda' | 'linode', label: string, key: string][]): Promise<void> {
  await page.getByTestId('nav-accounts').click();
  await page.waitForSelector('[data-testid="keychain-status"][data-available="true"]', { timeout: 15_000 });
  for (const [provider, label, key] of accounts) {
    await addAccount(page, provider, label, key);
    await page.waitForSelector(`[data-testid="account-row"][data-label="${label}"]`, { timeout: 20_000 });
  }
}
