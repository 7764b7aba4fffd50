// The host check and a check-only preparation run for real against THIS machine, through a local
// Exec (`sh -c` via child_process) in place of an SSH connection: Debian 12 with Docker and runsc
// registered (scripts/setup.sh). The check must find Docker and runsc registered; the check-only
// plan must find every step already done, without reloading dockerd or touching daemon.json.
// Skipped locally, with the reason, without a Docker engine with gVisor; under CI that fails.
//   node --import tsx --test test/prepare-local.test.ts
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { DAEMON_JSON, checkHost, type Exec, type HostChecklist } from '../main/remote/prepare-check';
import { planPreparation } from '../main/remote/prepare-plan';
import { runPreparation, type PrepEvent } from '../main/remote/prepare-run';
import { engineUnavailableReason, skipUnlessReady } from './helpers/engine';

const localExec: Exec = (command, opts = {}) =>
  new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: opts.timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | undefined) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });

function dockerdPid(): string {
  try {
    return execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

const skip = skipUnlessReady(await engineUnavailableReason(), 'the local preparation check');

describe('prepare against this machine', { skip }, () => {
  let c: HostChecklist;
  before(async () => {
    c = await checkHost(localExec);
  });

  test('checkHost: Debian 12, Docker answers, runsc registered', () => {
    const item = (id: string) => c.items.find((i) => i.id === id)!;
    assert.equal(c.facts.os.id, 'debian');
    assert.equal(item('os').status, 'ok');
    assert.equal(item('docker').status, 'ok', item('docker').detail);
    assert.equal(item('runsc').status, 'ok', item('runsc').detail);
    assert.equal(c.facts.runsc.registeredAs, 'runsc');
    assert.equal(item('daemon-json').status, 'ok');
    assert.equal(item('privileges').status, 'ok');
  });

  for (const images of ['pull', 'build'] as const) {
    test(`check-only plan (images: ${images}): every step already done; dockerd and daemon.json untouched`, async () => {
      const json = readFileSync(DAEMON_JSON, 'utf8');
      const mtime = statSync(DAEMON_JSON).mtimeMs;
      const pid = dockerdPid();
      const plan = planPreparation(c, { images, checkOnly: true });
      assert.ok(plan.steps.length >= 8);
      const events: PrepEvent[] = [];
      const r = await runPreparation(localExec, plan, (e) => events.push(e));
      assert.equal(r.ok, true, r.failed?.message);
      assert.deepEqual(
        r.steps.filter((s) => s.outcome !== 'already-done').map((s) => `${s.id}: ${s.outcome}`),
        [],
      );
      assert.equal(events.filter((e) => e.type === 'step-done').length, plan.steps.length);
      assert.equal(readFileSync(DAEMON_JSON, 'utf8'), json);
      assert.equal(statSync(DAEMON_JSON).mtimeMs, mtime);
      assert.equal(dockerdPid(), pid);
    });
  }
});
