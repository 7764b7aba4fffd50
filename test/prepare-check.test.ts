// The host check: its output parsed into facts and a checklist, against recorded outputs in
// test/fixtures/prepare/ (debian-12.txt recorded on the CI machine; the others are synthetic and
// say so on their first line), and the nvproxy parsing against recorded command outputs.
// No GPU exists here: GPU sandboxes are not verified on hardware by these tests.
//   node --import tsx --test test/prepare-check.test.ts
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { nvproxySupported, parseDriverVersion, parseGpuList, parseSupportedDrivers, describeNvproxySupport } from '../main/remote/nvproxy';
import {
  checkHost,
  checklistFromFacts,
  parseCheckOutput,
  parseSections,
  type CheckId,
  type Exec,
  type HostChecklist,
} from '../main/remote/prepare-check';

const DIR = path.join(import.meta.dirname, 'fixtures/prepare');
function fixture(name: string): string {
  return readFileSync(path.join(DIR, name), 'utf8');
}
function checklistOf(name: string): HostChecklist {
  return checklistFromFacts(parseCheckOutput(fixture(name), 'fixture'));
}
function status(c: HostChecklist): Record<CheckId, string> {
  return Object.fromEntries(c.items.map((i) => [i.id, i.status])) as Record<CheckId, string>;
}

describe('fixtures', () => {
  test('every fixture but the recorded one says it is synthetic, and every one ran to its end', () => {
    const names = readdirSync(DIR).filter((n) => n.endsWith('.txt'));
    assert.ok(names.length >= 9);
    for (const n of names) {
      const first = fixture(n).split('\n')[0]!;
      if (n === 'debian-12.txt') assert.match(first, /^# Recorded/);
      else assert.match(first, /^# SYNTHETIC/, n);
      assert.equal(parseCheckOutput(fixture(n), 'fixture').complete, true, n);
    }
  });
});

describe('checklist from recorded outputs', () => {
  test('Debian 12 (recorded here): everything ok, runsc registered, local images', () => {
    const c = checklistOf('debian-12.txt');
    assert.deepEqual(status(c), {
      os: 'ok',
      privileges: 'ok',
      docker: 'ok',
      'docker-access': 'n/a',
      'daemon-json': 'ok',
      runsc: 'ok',
      // recorded before Moat registered runsc-egress: missing, which does not stop CPU sandboxes
      'egress-runtime': 'missing',
      images: 'ok',
      nvidia: 'n/a',
      nvproxy: 'n/a',
    });
    assert.equal(c.ready, true);
    // once Prepare registered it (runsc with --network=none --host-uds=open), the item is ok
    const egress = (args: string[]) =>
      checklistFromFacts({
        ...c.facts,
        docker: {
          ...c.facts.docker,
          runtimes: { ...c.facts.docker.runtimes, 'runsc-egress': { path: '/usr/bin/runsc', runtimeArgs: args } },
        },
      }).items.find((i) => i.id === 'egress-runtime')!.status;
    assert.equal(egress(['--network=none', '--host-uds=open']), 'ok');
    assert.equal(egress(['--network=none']), 'missing');
    assert.equal(c.facts.os.id, 'debian');
    assert.equal(c.facts.os.versionId, '12');
    assert.equal(c.facts.runsc.registeredAs, 'runsc');
    assert.equal(c.facts.runsc.version, '0.0~20221219.0');
    assert.equal(c.facts.docker.serverVersion, '20.10.24+dfsg1');
    assert.ok(c.facts.images.every((i) => i.local.present && i.local.recipeCurrent && !i.official.present));
  });

  test('Ubuntu 22.04 fresh: docker and runsc missing, sudo ok, images unknown until Docker answers', () => {
    const c = checklistOf('ubuntu-22.04-fresh.txt');
    const s = status(c);
    assert.equal(s.os, 'ok');
    assert.equal(s.privileges, 'ok');
    assert.equal(c.facts.privilege, 'sudo');
    assert.equal(s.docker, 'missing');
    assert.equal(s['docker-access'], 'missing');
    assert.equal(s.runsc, 'missing');
    assert.equal(s['daemon-json'], 'ok');
    assert.equal(c.facts.daemonJson.state, 'absent');
    assert.equal(s.images, 'n/a');
    assert.equal(c.ready, false);
    assert.ok(c.items.find((i) => i.id === 'docker')!.fix);
  });

  test('Ubuntu 24.04: docker ok, runsc missing, official images present', () => {
    const c = checklistOf('ubuntu-24.04-no-runsc.txt');
    const s = status(c);
    assert.equal(s.os, 'ok');
    assert.equal(s.docker, 'ok');
    assert.equal(s.runsc, 'missing');
    assert.equal(s.images, 'ok');
    assert.equal(c.facts.docker.serverVersion, '24.0.7');
    assert.equal(c.facts.os.codename, 'noble');
  });

  test('Debian 12: runsc installed but not registered; the login reaches Docker only through sudo', () => {
    const c = checklistOf('debian-12-runsc-unregistered.txt');
    const s = status(c);
    assert.equal(s.runsc, 'problem');
    assert.match(c.items.find((i) => i.id === 'runsc')!.detail, /not registered/);
    assert.equal(s['docker-access'], 'problem');
    assert.equal(c.facts.docker.via, 'sudo');
    assert.equal(s.docker, 'ok');
    assert.equal(s.images, 'missing');
    assert.equal(s['daemon-json'], 'ok');
  });

  test('Docker installed but not answering; a daemon.json that is not JSON is a problem', () => {
    const c = checklistOf('debian-12-docker-down.txt');
    const s = status(c);
    assert.equal(s.docker, 'problem');
    assert.match(c.items.find((i) => i.id === 'docker')!.detail, /Is the docker daemon running/);
    assert.equal(s['daemon-json'], 'problem');
    assert.equal(c.facts.daemonJson.state, 'unparsable');
    assert.equal(s.runsc, 'missing');
  });

  test('Fedora and Alpine: not supported; Alpine without sudo: no privileges', () => {
    const f = checklistOf('fedora-40.txt');
    assert.equal(status(f).os, 'problem');
    assert.match(f.items[0]!.detail, /Fedora Linux 40/);
    assert.match(f.items[0]!.fix!, /Ubuntu 22\.04, Ubuntu 24\.04, Debian 12/);
    const a = checklistOf('alpine-3.20-no-sudo.txt');
    assert.equal(status(a).os, 'problem');
    assert.equal(status(a).privileges, 'problem');
    assert.equal(a.facts.privilege, 'none');
    // Positive control: the supported distributions are ok.
    for (const n of ['ubuntu-22.04-fresh.txt', 'ubuntu-24.04-no-runsc.txt', 'debian-12.txt'])
      assert.equal(status(checklistOf(n)).os, 'ok', n);
  });

  test('GPU with a supported driver: nvidia ok, nvproxy offered (runtime not registered yet), marked unverified', () => {
    const c = checklistOf('ubuntu-22.04-gpu-supported.txt');
    assert.equal(status(c).nvidia, 'ok');
    assert.equal(c.facts.nvidia.driver, '535.129.03');
    assert.deepEqual(
      c.facts.nvidia.gpus.map((g) => g.name),
      ['NVIDIA A10'],
    );
    assert.equal(c.facts.nvproxy.supported, true);
    const n = c.items.find((i) => i.id === 'nvproxy')!;
    assert.equal(n.status, 'missing');
    assert.match(n.detail, /535\.129\.03 is supported/);
    assert.match(n.detail, /not been verified on GPU hardware/);
    assert.equal(status(c).runsc, 'ok');
    assert.equal(c.facts.docker.via, 'user');
  });

  test('GPU with an unsupported driver: said plainly, with the supported ones of its branch', () => {
    const c = checklistOf('ubuntu-22.04-gpu-unsupported.txt');
    assert.equal(c.facts.nvidia.driver, '550.163.01');
    assert.equal(c.facts.nvidia.gpus.length, 2);
    assert.equal(c.facts.nvproxy.supported, false);
    const n = c.items.find((i) => i.id === 'nvproxy')!;
    assert.equal(n.status, 'problem');
    assert.match(n.detail, /550\.163\.01 is not supported.*EOF.*550\.54\.14, 550\.54\.15, 550\.90\.07, 550\.127\.05/);
  });

  test('GPU with a runsc too old for nvproxy', () => {
    const c = checklistOf('debian-12-gpu-old-runsc.txt');
    const n = c.items.find((i) => i.id === 'nvproxy')!;
    assert.equal(n.status, 'problem');
    assert.match(n.detail, /too old/);
    assert.equal(c.facts.nvproxy.listed, false);
  });
});

describe('parsing is robust', () => {
  test('markers of another nonce are output, not sections; a cut-off section has rc null', () => {
    const text = [
      '@@moat-check-abc begin os',
      'ID=debian',
      '@@moat-check-other end os 0',
      '@@moat-check-abc stderr os',
      '@@moat-check-abc end os 0',
      '@@moat-check-abc begin tools',
      'docker /usr/bin/docker',
    ].join('\n');
    const s = parseSections(text, 'abc');
    assert.equal(s.get('os')!.rc, 0);
    assert.match(s.get('os')!.out, /@@moat-check-other end os 0/);
    assert.equal(s.get('tools')!.rc, null);
  });

  test('output without a final newline before the marker is kept', () => {
    const s = parseSections('@@moat-check-n begin arch\nx86_64@@moat-check-n stderr arch\n@@moat-check-n end arch 0\n', 'n');
    assert.equal(s.get('arch')!.out, 'x86_64');
  });

  test('checkHost runs one exec, with its own nonce, and refuses output cut short', async () => {
    const calls: string[] = [];
    const recorded = fixture('debian-12.txt');
    const fake =
      (cut: boolean): Exec =>
      async (command) => {
        calls.push(command);
        const nonce = /@@moat-check-([0-9a-f]+)/.exec(command)![1]!;
        const out = recorded.replaceAll('@@moat-check-fixture', `@@moat-check-${nonce}`);
        return { code: 0, stdout: cut ? out.slice(0, out.length / 2) : out, stderr: '' };
      };
    const c = await checkHost(fake(false));
    assert.equal(calls.length, 1);
    assert.match(calls[0]!, /^sh -c '/);
    assert.equal(c.ready, true);
    await assert.rejects(checkHost(fake(true)), /did not run to its end/);
    // The fixture's own nonce is not accepted for another call's.
    const forged: Exec = async () => ({ code: 0, stdout: recorded, stderr: '' });
    await assert.rejects(checkHost(forged), /did not run to its end/);
  });
});

describe('nvproxy', () => {
  // Recorded shapes: nvidia-smi prints one driver_version line per GPU; `-L` one line per GPU.
  test('driver version, GPU list, supported list', () => {
    assert.equal(parseDriverVersion('535.129.03\n'), '535.129.03');
    assert.equal(parseDriverVersion('550.163.01\n550.163.01\n'), '550.163.01');
    assert.equal(parseDriverVersion('NVIDIA-SMI has failed because it couldn\u2019t communicate with the NVIDIA driver.\n'), null);
    assert.throws(() => parseDriverVersion('535.129.03\n550.54.15\n'), /different driver versions/);
    assert.deepEqual(parseGpuList('GPU 0: NVIDIA A10 (UUID: GPU-3b5c)\nGPU 1: Tesla T4 (UUID: GPU-aaaa)\n'), [
      { index: 0, name: 'NVIDIA A10', uuid: 'GPU-3b5c' },
      { index: 1, name: 'Tesla T4', uuid: 'GPU-aaaa' },
    ]);
    const list = parseSupportedDrivers('535.104.05\n535.129.03\n\n550.54.15\nsome banner\n');
    assert.deepEqual(list, ['535.104.05', '535.129.03', '550.54.15']);
    assert.equal(nvproxySupported('535.129.03', list), true);
    assert.equal(nvproxySupported('535.129.0', list), false);
    assert.equal(nvproxySupported('535.161.07', list), false);
    assert.match(describeNvproxySupport('535.161.07', list), /not supported.*Supported 535 drivers: 535\.104\.05, 535\.129\.03/);
    assert.match(describeNvproxySupport('470.82.01', list), /Supported: 535\.104\.05, 535\.129\.03, 550\.54\.15\./);
  });
});
