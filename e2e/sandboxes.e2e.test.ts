// End to end, as a user: Chromium (Playwright) against the headless host, with the real services
// (Docker + gVisor). Write code, run it, watch output stream and the chart move, find the run in
// the history; a timed-out run is marked as such; a running one can be cancelled. Any page error or
// console error during a test fails it. A second host stands in for main where the real engine
// cannot say what a test needs (gVisor missing, a run killed at the process backstop).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, runInView, setCode, watchForErrors } from './browser';
import type { ApiHandlers, EventName, ParamsOf } from '../shared/api';
import { STDIN_MAX_BYTES, type RunRecord } from '../shared/types';
import { startHost, type HostServices } from '../app/host/server';
import { PROCESSES_NOTE } from '../renderer/src/lib/limits';
import { engineUnavailableReason, skipUnlessReady, startServices } from '../test/helpers/engine';

const STATIC = join(process.cwd(), 'dist', 'renderer');
const SHOTS = join(process.cwd(), 'test-results');

// Locally a missing prerequisite skips the suite and prints why; with CI set it fails the suite,
// since a CI run that passes by running nothing proves nothing.
const skip = skipUnlessReady(
  (await engineUnavailableReason()) ??
    (existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM}; run \`bash scripts/setup.sh --test\``) ??
    (existsSync(join(STATIC, 'index.html')) ? null : 'the UI is not built; run `npm run build`'),
  'end-to-end tests',
);

/** The stdin box is folded away while empty. */
async function openStdin(page: Page): Promise<void> {
  await page.locator('details.stdin-input').evaluate((d: HTMLDetailsElement) => (d.open = true));
}

async function runAndWait(page: Page, code: string): Promise<string> {
  await runInView(page, code);
  return (await page.getByTestId('run-end-reason').textContent())!.trim();
}

describe('Sandboxes view in Chromium', { skip }, () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  let host: Awaited<ReturnType<typeof startHost>>;
  let browser: Browser;
  let page: Page;
  let errors: { assertNone(): void } | undefined;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    services = await startServices({ pool: true });
    host = await startHost({ services, staticDir: STATIC, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    errors = watchForErrors(page);
    await page.goto(host.url);
    await page.waitForSelector('[data-testid="gvisor-status"][data-available="true"]', { timeout: 30_000 });
  });
  afterEach(() => errors?.assertNone());
  after(async () => {
    await browser?.close();
    await host?.close();
    await services?.dispose();
  });

  test('page errors and console errors are caught (control for the check after every test)', async () => {
    const other = await browser.newPage();
    try {
      const watcher = watchForErrors(other);
      await other.evaluate(() => {
        console.error('control: console error');
        setTimeout(() => {
          throw new Error('control: page error');
        }, 0);
      });
      await other.waitForTimeout(300);
      assert.throws(() => watcher.assertNone(), /control: console error[\s\S]*control: page error/);
      watcher.assertNone();
    } finally {
      await other.close();
    }
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

  test('the largest standard input, 1 MiB of control bytes (six bytes each on the wire), runs', async () => {
    await openStdin(page);
    await page.getByTestId('stdin-input').fill('\u0001'.repeat(STDIN_MAX_BYTES));
    assert.equal(await page.getByTestId('stdin-size-error').count(), 0, 'exactly at the limit: no complaint');
    const reason = await runAndWait(page, 'import sys\nprint(len(sys.stdin.buffer.read()))\n');
    assert.equal(reason, 'exited');
    assert.equal((await page.locator('[data-testid="output"] .stdout').allTextContents()).join(''), `${STDIN_MAX_BYTES}\n`);
    assert.equal(await page.getByTestId('connection-banner').count(), 0, 'the connection stayed up');
    await page.getByTestId('stdin-input').fill('');
  });

  test('code or input over 1 MiB of UTF-8 is refused in the form, with the reason next to its box', async () => {
    const runsBefore = (await services.handlers['runs.list']({ limit: 1000 })).length;
    // Two-byte characters: fewer than 1 Mi characters, more than 1 MiB.
    await openStdin(page);
    await page.getByTestId('stdin-input').fill('é'.repeat(STDIN_MAX_BYTES / 2) + 'x');
    assert.match((await page.getByTestId('stdin-size-error').textContent()) ?? '', /Standard input is too large: 1,048,577 bytes/);
    await page.getByTestId('run-button').click();
    await page.getByTestId('run-error').waitFor({ timeout: 5_000 });
    assert.match((await page.getByTestId('run-error').textContent()) ?? '', /Standard input is too large/);
    await page.getByTestId('stdin-input').fill('');
    assert.equal(await page.getByTestId('stdin-size-error').count(), 0);

    const code = ('é'.repeat(1023) + '\n').repeat(513);
    await setCode(page, code);
    const bytes = Buffer.byteLength(code).toLocaleString('en-US');
    assert.match((await page.getByTestId('code-size-error').textContent()) ?? '', new RegExp(`Code is too large: ${bytes} bytes`));
    await page.getByTestId('run-button').click();
    assert.match((await page.getByTestId('run-error').textContent()) ?? '', /Code is too large/);
    assert.equal((await services.handlers['runs.list']({ limit: 1000 })).length, runsBefore, 'nothing was sent to run');
    assert.equal(await page.getByTestId('connection-banner').count(), 0);
    await setCode(page, 'print(1)\n');
    assert.equal(await page.getByTestId('code-size-error').count(), 0);
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

/**
 * Main as the UI sees it, with what the real engine here cannot show: no gVisor runtime, and runs
 * that end as the test says. Everything else is the real services. Run requests are recorded.
 */
function standIn(real: Awaited<ReturnType<typeof startServices>>) {
  const requests: ParamsOf<'sandbox.run'>[] = [];
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const emit = (event: EventName, payload: unknown) => {
    for (const l of listeners) l(event, payload);
  };
  // The real engine's own status events would say gVisor is there.
  real.onEvent((event, payload) => event !== 'system.status' && emit(event, payload));
  let end: Pick<RunRecord, 'endReason' | 'exitCode'> & Partial<RunRecord> = { endReason: 'exited', exitCode: 0 };
  const handlers: ApiHandlers = {
    ...real.handlers,
    'system.status': async () => ({
      ...(await real.handlers['system.status'](undefined)),
      gvisor: { available: false, fix: 'Install gVisor (this is a stand-in engine).' },
    }),
    'sandbox.run': async (req) => {
      requests.push(req);
      const limits = { ...(await real.handlers['settings.get'](undefined)).defaultLimits, ...req.limits };
      const now = Date.now();
      const run: RunRecord = {
        id: `standin-${requests.length}`,
        template: req.template,
        image: 'stand-in',
        runtime: req.allowRunc ? { name: 'runc', gvisor: false } : { name: 'runsc', gvisor: true },
        runcOptIn: Boolean(req.allowRunc),
        argv: ['python3', '/work/main.py'],
        limits,
        warm: false,
        status: 'finished',
        createdAt: now,
        startedAt: now,
        endedAt: now + 1500,
        durationMs: 1500,
        stdoutBytes: 0,
        stderrBytes: 0,
        truncated: false,
        ...end,
      };
      setTimeout(() => emit('run.updated', run), 20);
      return { runId: run.id };
    },
  };
  const services: HostServices = {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    services,
    requests,
    endNextRunsAs(e: typeof end) {
      end = e;
    },
  };
}

describe('Sandboxes view in Chromium, against a stand-in for main', { skip }, () => {
  let real: Awaited<ReturnType<typeof startServices>>;
  let stand: ReturnType<typeof standIn>;
  let host: Awaited<ReturnType<typeof startHost>>;
  let browser: Browser;
  let page: Page;
  let errors: { assertNone(): void } | undefined;

  before(async () => {
    real = await startServices();
    stand = standIn(real);
    host = await startHost({ services: stand.services, staticDir: STATIC, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    errors = watchForErrors(page);
    await page.goto(host.url);
    await page.waitForSelector('[data-testid="gvisor-status"][data-available="false"]', { timeout: 30_000 });
    await page.getByTestId('template-select').selectOption('python');
  });
  afterEach(() => errors?.assertNone());
  after(async () => {
    await browser?.close();
    await host?.close();
    await real?.dispose();
  });

  async function run(): Promise<ParamsOf<'sandbox.run'>> {
    const n = stand.requests.length;
    await page.getByTestId('run-button').click();
    // This run, not the previous one (also finished), is the one shown.
    await page.waitForFunction(
      (id) =>
        document.querySelector(`.run-summary .run-id[title="${id}"]`) !== null &&
        document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === 'finished',
      `standin-${n + 1}`,
      { timeout: 10_000 },
    );
    assert.equal(stand.requests.length, n + 1, 'one request per click');
    return stand.requests[n]!;
  }

  test('the runc opt-in applies to one run: the checkbox is cleared once the run is submitted', async () => {
    stand.endNextRunsAs({ endReason: 'exited', exitCode: 0 });
    const optIn = page.getByTestId('allow-runc');
    await optIn.check();
    assert.equal((await run()).allowRunc, true, 'the opted-in run carries the opt-in');
    assert.equal(await optIn.isChecked(), false, 'and the box is cleared for the next run');
    assert.equal((await page.getByTestId('run-runtime').textContent())?.trim(), 'runc (opt-in)');
    assert.equal((await run()).allowRunc, undefined, 'the next run is not opted in');
  });

  test('"Don\'t keep" beside the run controls sends keep: false, and says what it means', async () => {
    stand.endNextRunsAs({ endReason: 'exited', exitCode: 0 });
    const box = page.locator('.run-controls [data-testid="dont-keep"]');
    assert.equal(await box.isChecked(), false);
    assert.equal((await run()).keep, undefined, 'kept by default');
    await box.check();
    assert.match((await page.getByTestId('dont-keep-hint').textContent()) ?? '', /code, input and output .*only its summary is recorded/);
    assert.equal((await run()).keep, false);
    await box.uncheck();
  });

  test('next to the Processes limit, the note about the backstop; a run killed there shows process-limit', async () => {
    assert.equal((await page.getByTestId('limit-processes-note').textContent())?.replace(/^Processes:\s*/, ''), PROCESSES_NOTE);
    assert.equal(
      await page.getByTestId('limit-processes').getAttribute('aria-describedby'),
      'limit-processes-note',
      'the field is described by the note',
    );
    stand.endNextRunsAs({ endReason: 'process-limit', exitCode: null });
    await run();
    assert.equal((await page.getByTestId('run-end-reason').textContent())?.trim(), 'process-limit');
    assert.equal(await page.getByTestId('run-end-reason').getAttribute('title'), 'process limit');
    assert.match(
      (await page.getByTestId('run-end-detail').textContent()) ?? '',
      /^Killed: too many processes and threads: the sandbox reached its backstop above the 128-process limit$/,
    );
    const row = page.locator('[data-testid="history-row"]').first();
    assert.equal(await row.getAttribute('data-end-reason'), 'process-limit');
    assert.match((await row.locator('.badge').first().getAttribute('class')) ?? '', /tone-warn/);
    await page.screenshot({ path: join(SHOTS, 'e2e-process-limit.png'), fullPage: true });
  });
});
