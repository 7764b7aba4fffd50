// End to end, as a user, with an instance that is really reachable: Chromium against `moat serve`
// (its own D-Bus session with gnome-keyring, the provider APIs at the fakes), a Linode fake whose
// instances get the address 127.0.0.2, and a real sshd listening on 127.0.0.2:22 in front of this
// machine's Docker + gVisor. Launch an instance, let it take the account's key (as Linode puts it
// in authorized_keys), make it a target after confirming its host key, check and prepare it (check
// only: this machine's dockerd is never touched), run code on it, watch its usage chart, then
// terminate it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './browser';
import type { LinodeFake } from './fakes/linode';
import { addAccounts, SHOTS, startProviderSession, type ProviderSession } from './provider-session';
import { engineUnavailableReason, skipUnlessReady } from '../test/helpers/engine';
import { keyringToolsMissing } from '../test/helpers/keyring-session';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../test/helpers/sshd';

const STATIC = join(process.cwd(), 'dist', 'renderer');
const INSTANCE_IP = '127.0.0.2';

async function missing(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}; run \`bash scripts/setup.sh --test\``;
  if (!existsSync(join(STATIC, 'index.html'))) return 'the UI is not built; run `npm run build`';
  return (await engineUnavailableReason()) ?? sshdUnavailableReason() ?? keyringToolsMissing();
}
const skip = skipUnlessReady(await missing(), 'the remote-sandbox end-to-end tests');

const K = { lambda: `secret_moat-rme2e_${randomBytes(24).toString('hex')}`, linode: randomBytes(32).toString('hex') };

describe('An instance as a sandbox target, in Chromium', { skip }, () => {
  let session: ProviderSession;
  let linode: LinodeFake;
  let sshd: TestSshd;
  let page: Page;
  let hostName = '';

  before(async () => {
    sshd = await startSshd({ address: INSTANCE_IP, port: 22 });
    session = await startProviderSession({
      lambda: { keys: [K.lambda] },
      linode: { tokens: { [K.linode]: '*' }, ipv4: INSTANCE_IP, provisioningMs: 1000, bootingMs: 1000 },
    });
    ({ linode, page } = session);
    await page.goto(session.host.url);
    await addAccounts(page, [['linode', 'lin', K.linode]]);
  });
  afterEach(() => session?.errors.assertNone());
  after(async () => {
    await session?.close();
    await sshd?.close();
  });

  test('launch an instance and make it a target after confirming its host key', async () => {
    await page.getByTestId('nav-instances').click();
    await page.getByTestId('launch-open').click();
    await page.getByTestId('launch-account').selectOption('lin');
    await page.locator('[data-testid="launch-type"] option[value="g1-gpu-rtx6000-1"]').waitFor({ state: 'attached', timeout: 20_000 });
    await page.getByTestId('launch-type').selectOption('g1-gpu-rtx6000-1');
    await page.getByTestId('launch-region').selectOption('us-east');
    await page.getByTestId('launch-name').fill('gpu-1');
    await page.getByTestId('launch-submit').click();
    await page.waitForSelector('[data-testid="launch-progress"][data-step="ready"]', { timeout: 60_000 });
    await page.getByTestId('launch-progress-close').click();
    // Linode puts the account's public key in root's authorized_keys at creation.
    const keys = linode.state.launches[0]!.authorized_keys as string[];
    assert.equal(keys.length, 1);
    sshd.authorize(keys[0]!);

    const row = page.locator('[data-testid="instance-row"][data-account="lin"][data-name="gpu-1"]');
    await row.locator('[data-testid="instance-use-target"]').click();
    const trust = page.getByTestId('host-trust');
    await trust.waitFor({ timeout: 30_000 });
    assert.equal(
      (await page.getByTestId('host-trust-fingerprint').textContent())?.trim(),
      sshd.fingerprint(),
      'the key shown is the host key',
    );
    await page.getByTestId('host-trust-yes').click();
    await page.getByTestId('nav-hosts').click();
    const hostRow = page.locator('[data-testid="host-row"][data-kind="instance"]');
    await hostRow.waitFor({ timeout: 30_000 });
    hostName = (await hostRow.getAttribute('data-name')) ?? '';
    assert.match(hostName, /^lin-gpu-1/);
  });

  test('its checklist, and a check-only preparation that changes nothing', async () => {
    await page.locator(`[data-testid="host-row"][data-name="${hostName}"]`).click();
    await page.getByTestId('host-detail').waitFor();
    await page.getByTestId('host-check').click();
    await page.waitForSelector('[data-testid="check-item"][data-id="docker"][data-status="ok"]', { timeout: 60_000 });
    await page.waitForSelector('[data-testid="check-item"][data-id="runsc"][data-status="ok"]');
    await page.getByTestId('prepare-check-only').check();
    await page.getByTestId('prepare-images').selectOption('none');
    await page.getByTestId('host-prepare').click();
    await page.getByTestId('prepare-progress').waitFor({ timeout: 30_000 });
    await page.waitForSelector('[data-testid="prepare-step"][data-state="done"]', { timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid="prepare-step"][data-state="running"]'), undefined, {
      timeout: 180_000,
    });
    assert.equal(await page.locator('[data-testid="prepare-step"][data-state="failed"]').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'host-prepare.png') });
  });

  test('code runs on the instance, and its usage chart moves', async () => {
    await page.getByTestId('nav-sandboxes').click();
    await page.getByTestId('target-select').selectOption(hostName);
    await page.locator('[data-testid="editor"] .cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('import platform\nprint("remote", platform.release())\n');
    await page.getByTestId('run-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished', undefined, {
      timeout: 90_000,
    });
    assert.equal((await page.getByTestId('run-end-reason').textContent())?.trim(), 'exited');
    assert.match((await page.getByTestId('run-target').first().textContent()) ?? '', new RegExp(hostName));

    await page.getByTestId('nav-hosts').click();
    await page.locator(`[data-testid="host-row"][data-name="${hostName}"]`).click();
    await page.getByTestId('host-usage').waitFor();
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="usage-cpu"]')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="usage-mem"]')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });
    // Linode's own figures beside Moat's: none yet for a Linode this new, and the panel says so.
    await page.waitForSelector('[data-testid="provider-stats"][data-available="false"]', { timeout: 15_000 });
    assert.match((await page.getByTestId('provider-stats').textContent()) ?? '', /no statistics for this instance yet/);
    await page.screenshot({ path: join(SHOTS, 'host-usage.png') });
  });

  test('terminate the instance', async () => {
    await page.getByTestId('nav-instances').click();
    const row = page.locator('[data-testid="instance-row"][data-account="lin"][data-name="gpu-1"]');
    await row.locator('[data-testid="instance-terminate"]').click();
    await page.getByTestId('terminate-confirm-yes').click();
    await page.waitForSelector('[data-testid="instance-row"][data-account="lin"][data-name="gpu-1"]', {
      state: 'detached',
      timeout: 60_000,
    });
    assert.equal(linode.state.instances.filter((i) => i.deletedAt === null).length, 0);
  });
});
