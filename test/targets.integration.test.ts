// Targets through the services API (what the window and the headless host call), against a real
// sshd on 127.0.0.1 in front of this machine's Docker + gVisor: adding a host asks to trust its key
// first; a run on it is the same hardened gVisor sandbox and records where it ran; the
// preparation checklist and a check-only preparation run over the one SSH connection (never
// touching dockerd or daemon.json); host usage is sampled over it; the idle rule is kept and says
// what stops billing; removing the host forgets it and leaves no container behind.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileVault } from '../main/credentials/file-vault';
import type { EventName } from '../shared/api';
import type { PrepareProgress, UsageSample } from '../shared/remote';
import type { RunRecord, RunRequest } from '../shared/types';
import { engineUnavailableReason, myContainers, skipUnlessReady, startServices, tempDir } from './helpers/engine';
import { sshdUnavailableReason, startSshd, type TestSshd } from './helpers/sshd';

const skip = skipUnlessReady((await engineUnavailableReason()) ?? sshdUnavailableReason(), 'the targets tests');

/** Through the API, as the UI runs it: sandbox.run, then the run's end from its 'run.updated' events. */
async function runViaApi(
  services: Awaited<ReturnType<typeof startServices>>,
  req: RunRequest,
): Promise<{ run: RunRecord; stdout: string }> {
  const ended = new Promise<RunRecord>((resolve) => {
    const off = services.onEvent((name, payload) => {
      const r = payload as RunRecord;
      if (name === 'run.updated' && r.id === runId && r.status === 'finished') {
        off();
        resolve(r);
      }
    });
  });
  let runId = '';
  runId = (await services.handlers['sandbox.run'](req)).runId;
  const run = await ended;
  const detail = await services.handlers['runs.get']({ id: runId });
  return {
    run,
    stdout: detail.output
      .filter((c) => c.stream === 'stdout')
      .map((c) => c.data)
      .join(''),
  };
}

describe('targets over SSH through the services API', { skip }, () => {
  let sshd: TestSshd;
  let services: Awaited<ReturnType<typeof startServices>>;
  let vaultDir: ReturnType<typeof tempDir>;
  const events: { name: EventName; payload: unknown }[] = [];

  before(async () => {
    sshd = await startSshd();
    vaultDir = tempDir('moat-vault-');
    const vault = await FileVault.open(join(vaultDir.path, 'keys.enc'), 'correct horse battery staple', { N: 1024, r: 8, p: 1 });
    services = await startServices({ vault });
    services.onEvent((name, payload) => events.push({ name, payload }));
  });
  after(async () => {
    await services?.dispose();
    await sshd?.close();
    vaultDir?.cleanup();
  });

  test('adding a host first shows its key to trust; with the fingerprint it is added, keyed in the vault', async () => {
    const first = await services.handlers['hosts.add']({ name: 'loop', url: sshd.url, privateKey: sshd.privateKey });
    assert.equal(first.status, 'needs-trust');
    assert.equal(first.status === 'needs-trust' && first.hostKey.fingerprint, sshd.fingerprint());
    const targetsBefore = await services.handlers['targets.list'](undefined);
    assert.deepEqual(
      targetsBefore.map((t) => t.id),
      ['local'],
      'nothing is added before the key is trusted',
    );
    // The answer names the first request: the key is not sent again.
    assert.ok(first.status === 'needs-trust' && first.pendingId);
    const pendingId = first.status === 'needs-trust' ? first.pendingId! : '';
    const second = await services.handlers['hosts.add']({ name: 'loop', url: sshd.url, pendingId, trustFingerprint: sshd.fingerprint() });
    assert.equal(second.status, 'added');
    await assert.rejects(
      services.handlers['hosts.add']({ name: 'loop', url: sshd.url, pendingId, trustFingerprint: sshd.fingerprint() }),
      /expired/,
      'a pending request is used once',
    );
    const t = (await services.handlers['targets.list'](undefined)).find((x) => x.id === 'loop');
    assert.equal(t?.kind, 'host');
    assert.equal(t?.hostKey?.fingerprint, sshd.fingerprint());
    const wrong = await services.handlers['hosts.add']({
      name: 'loop2',
      url: sshd.url,
      privateKey: sshd.privateKey,
      trustFingerprint: 'SHA256:not-it',
    });
    assert.equal(wrong.status, 'needs-trust', 'a fingerprint that is not the host key trusts nothing');
  });

  test('a run on the host is a hardened gVisor sandbox and records its target', async () => {
    const { run, stdout } = await runViaApi(services, {
      template: 'shell',
      code: 'uname -a; dmesg 2>/dev/null | head -1; id -u; (echo x > /probe) 2>&1 || echo read-only; echo done',
      target: 'loop',
    });
    assert.equal(run.endReason, 'exited', JSON.stringify(run));
    assert.equal(run.exitCode, 0);
    assert.equal(run.target, 'ssh:loop');
    assert.match(stdout, /gVisor|Starting gVisor/i, stdout);
    assert.match(stdout, /^65534$/m);
    assert.match(stdout, /Read-only file system|read-only/);
    assert.match(stdout, /done/);
    const listed = await services.handlers['runs.get']({ id: run.id });
    assert.equal(listed.run.target, 'ssh:loop');
  });

  test('an unknown target is refused with the reason', async () => {
    await assert.rejects(
      services.handlers['sandbox.run']({ template: 'shell', code: 'true', target: 'nowhere' }),
      (e: Error & { code?: string }) => /nowhere/.test(e.message),
    );
  });

  test('the checklist over SSH: Docker, runsc registered, and the images this machine has', async () => {
    const c = await services.handlers['hosts.check']({ target: 'loop' });
    const status = Object.fromEntries(c.items.map((i) => [i.id, i.status]));
    assert.equal(status.docker, 'ok', JSON.stringify(c.items));
    assert.equal(status.runsc, 'ok', JSON.stringify(c.items));
    assert.equal(status.privileges, 'ok');
  });

  test('a check-only preparation over SSH reports every step and changes nothing', async () => {
    const daemonJson = '/etc/docker/daemon.json';
    const before = statSync(daemonJson).mtimeMs;
    const n = events.length;
    const r = await services.handlers['hosts.prepare']({ target: 'loop', checkOnly: true, images: 'none' });
    assert.equal(r.ok, true, JSON.stringify(r.failed ?? r.log.slice(-20)));
    assert.equal(r.checkOnly, true);
    assert.ok(r.steps.length > 0);
    assert.ok(
      r.steps.every((s) => s.outcome === 'already-done' || s.outcome === 'would-change'),
      JSON.stringify(r.steps),
    );
    assert.equal(statSync(daemonJson).mtimeMs, before, 'daemon.json untouched');
    const progress = events
      .slice(n)
      .filter((e) => e.name === 'hosts.prepare')
      .map((e) => e.payload as PrepareProgress);
    assert.ok(progress.some((p) => p.type === 'step-started' && p.target === 'loop'));
    assert.ok(progress.some((p) => p.type === 'step-done'));
  });

  test('host usage is sampled over the SSH connection and pushed', async () => {
    const n = events.length;
    await services.handlers['usage.watch']({ target: 'loop', intervalMs: 1000 });
    const deadline = Date.now() + 20_000;
    let samples: UsageSample[] = [];
    while (Date.now() < deadline) {
      samples = events
        .slice(n)
        .filter((e) => e.name === 'usage.sample')
        .map((e) => e.payload as UsageSample);
      if (samples.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(samples.length >= 2, `two samples arrived (${samples.length})`);
    const s = samples[1]!.sample;
    assert.equal(samples[1]!.target, 'loop');
    assert.ok(s.cpuPercent !== null && s.cpuPercent >= 0 && s.cpuPercent <= 100 * s.cpuCount, JSON.stringify(s));
    assert.ok(s.mem && s.mem.totalBytes > 0 && s.mem.usedBytes > 0);
    assert.ok(s.disk && s.disk.totalBytes > 0);
    assert.ok(s.net && s.net.rxBytesPerSec >= 0);
  });

  test('the idle rule is kept; terminate is refused for a host that is not an instance', async () => {
    const st = await services.handlers['idle.set']({
      target: 'loop',
      rule: { enabled: true, gpuBelowPercent: 5, minutes: 30, action: 'warn' },
    });
    assert.equal(st.rule.enabled, true);
    assert.equal((await services.handlers['idle.get']({ target: 'loop' })).rule.minutes, 30);
    await assert.rejects(
      services.handlers['idle.set']({ target: 'loop', rule: { enabled: true, gpuBelowPercent: 5, minutes: 30, action: 'terminate' } }),
      /not a provider instance/,
    );
  });

  test('removing the host forgets it; nothing is left behind', async () => {
    assert.deepEqual(await services.handlers['hosts.remove']({ name: 'loop' }), { removed: true });
    assert.deepEqual(
      (await services.handlers['targets.list'](undefined)).map((t) => t.id),
      ['local'],
    );
    assert.deepEqual(await myContainers({ includePool: true }), []);
  });
});
