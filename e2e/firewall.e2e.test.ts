// End to end, as a user: Chromium against `moat serve` (in its own D-Bus session with gnome-keyring
// unlocked, the provider APIs pointed at the fakes, the public-address endpoint at a stand-in).
// Two instances the user already had: a Lambda one on the account's default rules (SSH and ICMP
// from anywhere) and a Linode without a firewall. The Firewall view shows both exposed, in red,
// with their findings and rules; the app frame counts them. The wizard, driven by clicks, locks
// each: the Linode gets one attached firewall (DROP inbound, SSH and 8000 from the user's /32),
// Lambda's global rules become SSH from the /32 only; both end locked and the count drops to 0.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './browser';
import type { LambdaFake } from './fakes/lambda';
import type { LinodeFake } from './fakes/linode';
import { addAccounts, ME, SHOTS, startProviderSession, type ProviderSession } from './provider-session';
import { skipUnlessReady } from '../test/helpers/engine';
import { keyringToolsMissing } from '../test/helpers/keyring-session';

const STATIC = join(process.cwd(), 'dist', 'renderer');

function missing(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}; run \`bash scripts/setup.sh --test\``;
  if (!existsSync(join(STATIC, 'index.html'))) return 'the UI is not built; run `npm run build`';
  return keyringToolsMissing();
}
const skip = skipUnlessReady(missing(), 'the firewall end-to-end tests');

const K = { lambda: `secret_moat-fwe2e_${randomBytes(24).toString('hex')}`, linode: randomBytes(32).toString('hex') };
const LAMBDA_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const LINODE_ID = 90001;

const row = (account: string, name: string) => `[data-testid="posture-row"][data-account="${account}"][data-name="${name}"]`;

/** Wizard for the selected instance: SSH (and the given presets) from "my address", then preview and apply. */
async function lockWithWizard(page: Page, extra: string[]): Promise<void> {
  await page.getByTestId('lock-open').click();
  await page.getByTestId('lock-wizard').waitFor();
  // 1. The instance is preselected.
  await page.getByTestId('wizard-next').click();
  // 2. The detected address, editable.
  const v4 = page.getByTestId('wizard-my-ipv4');
  await page.waitForFunction(
    (me) => (document.querySelector('[data-testid="wizard-my-ipv4"]') as HTMLInputElement | null)?.value === me,
    ME,
    {
      timeout: 15_000,
    },
  );
  assert.equal(await v4.inputValue(), ME);
  await page.getByTestId('wizard-next').click();
  // 3. What to allow: SSH is checked by default.
  assert.equal(await page.getByTestId('wizard-allow-ssh').isChecked(), true);
  for (const item of extra) await page.getByTestId(`wizard-allow-${item}`).check();
  await page.getByTestId('wizard-preview').click();
  // 4. Preview.
  await page.getByTestId('plan-view').first().waitFor({ timeout: 20_000 });
  assert.equal(await page.getByTestId('plan-posture-before').first().getAttribute('data-level'), 'exposed');
  assert.equal(await page.getByTestId('plan-posture-after').first().getAttribute('data-level'), 'locked');
  assert.ok((await page.locator('[data-testid="diff-row"][data-mark="added"]').count()) > 0, 'the diff shows added rules');
  const confirm = page.getByTestId('wizard-confirm');
  if (await confirm.count()) await confirm.check();
  // 5. Apply.
  await page.getByTestId('wizard-apply').click();
  await page.waitForSelector('[data-testid="apply-result"][data-ok="true"]', { timeout: 30_000 });
}

describe('Firewall view and lock wizard in Chromium', { skip }, () => {
  let session: ProviderSession;
  let lambda: LambdaFake;
  let linode: LinodeFake;
  let page: Page;

  before(async () => {
    session = await startProviderSession({
      lambda: { keys: [K.lambda] },
      linode: { tokens: { [K.linode]: '*' } },
      // Instances the user already had, launched outside Moat.
      seed: ({ lambda, linode }) => {
        lambda.state.instances.set(LAMBDA_ID, {
          id: LAMBDA_ID,
          name: 'legacy-1',
          region: 'us-west-1',
          type: 'gpu_1x_a10',
          sshKey: 'theirs',
          ip: '198.51.100.20',
          launchedAt: Date.now() - 3_600_000,
          terminatedAt: null,
        });
        linode.state.instances.push({
          id: LINODE_ID,
          label: 'open-1',
          region: 'us-east',
          type: 'g1-gpu-rtx6000-1',
          image: 'linode/ubuntu22.04',
          createdAt: Date.now() - 3_600_000,
          deletedAt: null,
          ipv4: '192.0.2.50',
        });
      },
    });
    ({ lambda, linode, page } = session);
    await page.goto(session.host.url);
    await addAccounts(page, [
      ['lambda', 'lam', K.lambda],
      ['linode', 'lin', K.linode],
    ]);
  });
  afterEach(() => session?.errors.assertNone());
  after(async () => {
    await session?.close();
  });

  test('the Firewall view shows both instances exposed, in red, with findings and rule tables; the frame counts them', async () => {
    await page.getByTestId('nav-firewall').click();
    await page.getByTestId('firewall-view').waitFor();
    await page.waitForSelector(`${row('lam', 'legacy-1')}[data-level="exposed"]`, { timeout: 30_000 });
    await page.waitForSelector(`${row('lin', 'open-1')}[data-level="exposed"]`, { timeout: 30_000 });
    await page.waitForSelector('[data-testid="status-exposed"][data-count="2"]', { timeout: 15_000 });
    // Red: the badge's colour is mostly red.
    const color = await page
      .locator(`${row('lam', 'legacy-1')} [data-testid="posture-level"]`)
      .evaluate((el) => getComputedStyle(el).color);
    const [r, g, b] = (color.match(/\d+/g) ?? []).map(Number);
    assert.ok(r! > 150 && r! > g! * 1.5 && r! > b! * 1.5, `the exposed badge is red: ${color}`);

    await page.locator(row('lam', 'legacy-1')).click();
    const detail = page.getByTestId('posture-detail');
    await detail.waitFor();
    for (const id of ['ssh-world', 'icmp-world']) await detail.locator(`[data-testid="finding"][data-id="${id}"]`).waitFor();
    const rules = (await detail.locator('[data-testid="ruleset-table"][data-kind="lambda-global"]').textContent()) ?? '';
    assert.match(rules, /0\.0\.0\.0\/0/);
    assert.match(rules, /denied/i, 'the default policy is stated');
    await page.screenshot({ path: join(SHOTS, 'firewall-exposed.png') });

    await page.locator(row('lin', 'open-1')).click();
    await detail.locator('[data-testid="finding"][data-id="no-firewall"]').waitFor();
  });

  test('the wizard locks the Linode: one attached firewall, DROP inbound, SSH and 8000 from the user /32', async () => {
    await lockWithWizard(page, ['api']);
    await page.screenshot({ path: join(SHOTS, 'firewall-wizard-applied.png') });
    assert.equal(linode.state.firewalls.length, 1);
    const fw = linode.state.firewalls[0]!;
    assert.equal(fw.status, 'enabled');
    assert.deepEqual(
      fw.devices.map((d) => d.linodeId),
      [LINODE_ID],
    );
    assert.equal(fw.rules.inbound_policy, 'DROP');
    assert.deepEqual(fw.rules.inbound.map((r) => `${r.protocol} ${r.ports} ${r.addresses.ipv4?.join(',')}`).sort(), [
      `TCP 22 ${ME}/32`,
      `TCP 8000 ${ME}/32`,
    ]);
    await page.getByTestId('nav-firewall').click();
    await page.waitForSelector(`${row('lin', 'open-1')}[data-level="locked"]`, { timeout: 30_000 });
  });

  test('the wizard locks the Lambda account rules to SSH from the /32; nothing is exposed any more', async () => {
    await page.locator(row('lam', 'legacy-1')).click();
    await lockWithWizard(page, []);
    assert.deepEqual(
      lambda.state.firewallRules.map((r) => `${r.protocol} ${r.port_range?.join('-')} ${r.source_network}`),
      [`tcp 22-22 ${ME}/32`],
    );
    await page.getByTestId('nav-firewall').click();
    await page.waitForSelector(`${row('lam', 'legacy-1')}[data-level="locked"]`, { timeout: 30_000 });
    await page.waitForSelector('[data-testid="status-exposed"][data-count="0"]', { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'firewall-locked.png') });
  });
});
