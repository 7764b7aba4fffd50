// Preparation plans: the steps for each recorded host, the refusals (each with a positive control
// beside it), the daemon.json merge run for real with python3 on sample files in a temp dir,
// check-only mode never writing, runPreparation's progress and stop-at-first-failure, and
// shellcheck over every script Moat generates (skipped with the reason where shellcheck is
// missing; under CI that fails).
//   node --import tsx --test test/prepare-plan.test.ts
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { GPU_UNVERIFIED, NVPROXY_RUNTIME, nvproxyRuntimeEntry } from '../main/remote/nvproxy';
import { checkScript, checklistFromFacts, parseCheckOutput, type Exec, type HostChecklist } from '../main/remote/prepare-check';
import {
  PrepareRefusedError,
  daemonJsonMergeScript,
  egressRuntimeEntry,
  planPreparation,
  type PlanOptions,
  type PrepPlan,
} from '../main/remote/prepare-plan';
import { runPreparation, stepOutcome, type PrepEvent } from '../main/remote/prepare-run';
import { skipUnlessReady } from './helpers/engine';

const DIR = path.join(import.meta.dirname, 'fixtures/prepare');
const checklistOf = (name: string): HostChecklist =>
  checklistFromFacts(parseCheckOutput(readFileSync(path.join(DIR, name), 'utf8'), 'fixture'));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'moat-prepare-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** This machine's sh, as a host would run a command. */
const localExec: Exec = (command, opts = {}) =>
  new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: opts.timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | undefined) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });

function sh(script: string): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

const ids = (p: PrepPlan) => p.steps.map((s) => s.id);
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PrepareRefusedError, String(e));
    return e.reason;
  }
  assert.fail('not refused');
};

describe('plans', () => {
  test('a fresh Ubuntu 22.04 (sudo): every step, run through sudo -n, docker-access with a reconnect', () => {
    const p = planPreparation(checklistOf('ubuntu-22.04-fresh.txt'), { images: 'pull' });
    assert.deepEqual(ids(p), [
      'base-packages',
      'docker',
      'docker-running',
      'docker-access',
      'runsc',
      'daemon-json',
      'dockerd-reload',
      'image-python',
      'image-shell',
    ]);
    assert.equal(p.runAs, 'sudo');
    assert.ok(p.steps.every((s) => s.command.startsWith("sudo -n sh -c '")));
    assert.ok(p.steps.every((s) => s.script.startsWith('set -eu\n')));
    assert.ok(p.steps.find((s) => s.id === 'docker-access')!.reconnectAfter);
    assert.ok(p.steps.filter((s) => s.id !== 'base-packages').every((s) => s.needed));
    const runsc = p.steps.find((s) => s.id === 'runsc')!.script;
    assert.match(runsc, /https:\/\/gvisor\.dev\/archive\.key/);
    assert.match(runsc, /deb \[arch=\$ARCH signed-by=\$KEYRING\] https:\/\/storage\.googleapis\.com\/gvisor\/releases release main/);
    assert.match(p.steps.find((s) => s.id === 'docker')!.script, /apt_install docker\.io/);
    assert.match(p.steps.find((s) => s.id === 'image-python')!.script, /docker pull 'python:3\.12-slim'/);
  });

  test("Docker's repository instead of docker.io, and images built on the host with the local recipe", () => {
    const p = planPreparation(checklistOf('ubuntu-24.04-no-runsc.txt'), { images: 'build', docker: 'docker-repo' });
    assert.equal(p.runAs, 'root');
    assert.ok(p.steps.every((s) => s.command.startsWith("sh -c '")));
    assert.ok(!ids(p).includes('docker-access'));
    const docker = p.steps.find((s) => s.id === 'docker')!;
    assert.match(docker.script, /https:\/\/download\.docker\.com\/linux\/ubuntu noble stable/);
    assert.equal(docker.needed, false);
    assert.equal(p.steps.find((s) => s.id === 'runsc')!.needed, true);
    const build = p.steps.find((s) => s.id === 'image-python')!.script;
    assert.match(build, /debootstrap --variant=minbase --include=python3 .* bookworm "\$R" 'https:\/\/deb\.debian\.org\/debian'/);
    assert.match(build, /--change 'LABEL moat\.image\.recipe=[0-9a-f]{64}'/);
    assert.match(build, /--change 'USER 65534:65534'/);
    assert.match(p.steps.find((s) => s.id === 'base-packages')!.script, /debootstrap/);
  });

  test('Debian 12 with runsc unregistered: the registration and the reload are needed', () => {
    const p = planPreparation(checklistOf('debian-12-runsc-unregistered.txt'), { images: 'none' });
    const needed = p.steps.filter((s) => s.needed).map((s) => s.id);
    assert.ok(needed.includes('daemon-json') && needed.includes('dockerd-reload') && needed.includes('docker-access'));
    assert.ok(!needed.includes('runsc') && !needed.includes('docker'));
    assert.ok(!ids(p).some((i) => i.startsWith('image-')));
  });

  test('GPU sandboxes on a supported driver: a current runsc, the driver check, the nvproxy runtime; a warning-free plan', () => {
    const p = planPreparation(checklistOf('ubuntu-22.04-gpu-supported.txt'), { images: 'pull', nvproxy: true });
    assert.deepEqual(ids(p).slice(0, 7), [
      'base-packages',
      'docker',
      'docker-running',
      'docker-access',
      'runsc',
      'nvproxy-driver',
      'daemon-json',
    ]);
    assert.match(p.steps.find((s) => s.id === 'runsc')!.script, /runsc nvproxy list-supported-drivers/);
    assert.match(p.steps.find((s) => s.id === 'nvproxy-driver')!.script, /grep -qx '535\.129\.03'/);
    assert.match(
      p.steps.find((s) => s.id === 'daemon-json')!.script,
      new RegExp(`"${NVPROXY_RUNTIME}":\\{"path":"@RUNSC@","runtimeArgs":\\["--network=none","--nvproxy"\\]\\}`),
    );
    assert.deepEqual(p.warnings, []);
  });

  test('the nvproxy runtime entry is what gVisor documents (--nvproxy; --nvproxy-docker only on request), and is marked unverified', () => {
    assert.deepEqual(nvproxyRuntimeEntry('/usr/bin/runsc'), { path: '/usr/bin/runsc', runtimeArgs: ['--network=none', '--nvproxy'] });
    assert.deepEqual(nvproxyRuntimeEntry('/usr/bin/runsc', { dockerHook: true }).runtimeArgs, [
      '--network=none',
      '--nvproxy',
      '--nvproxy-docker',
    ]);
    assert.match(GPU_UNVERIFIED, /not been verified on GPU hardware/);
  });
});

describe('refusals, each beside a positive control', () => {
  test('unsupported distributions', () => {
    assert.equal(
      refusal(() => planPreparation(checklistOf('fedora-40.txt'), { images: 'pull' })),
      'UNSUPPORTED_OS',
    );
    assert.equal(
      refusal(() => planPreparation(checklistOf('alpine-3.20-no-sudo.txt'), { images: 'pull' })),
      'UNSUPPORTED_OS',
    );
    assert.ok(planPreparation(checklistOf('ubuntu-24.04-no-runsc.txt'), { images: 'pull' }).steps.length > 0);
  });

  test('no root and no passwordless sudo', () => {
    const c = checklistOf('ubuntu-22.04-fresh.txt');
    assert.ok(planPreparation(c, { images: 'none' }));
    const noSudo = checklistFromFacts({ ...c.facts, privilege: 'none' });
    assert.equal(
      refusal(() => planPreparation(noSudo, { images: 'none' })),
      'NO_PRIVILEGES',
    );
    assert.equal(
      refusal(() => planPreparation(noSudo, { images: 'none', checkOnly: true })),
      'NO_PRIVILEGES',
    );
  });

  test('a daemon.json Moat cannot parse', () => {
    assert.equal(
      refusal(() => planPreparation(checklistOf('debian-12-docker-down.txt'), { images: 'none' })),
      'DAEMON_JSON',
    );
    const c = checklistOf('debian-12-docker-down.txt');
    const fixed = checklistFromFacts({ ...c.facts, daemonJson: { state: 'ok', runtimes: {} } });
    assert.ok(planPreparation(fixed, { images: 'none' }).steps.some((s) => s.id === 'docker-running' && s.needed));
  });

  test('GPU sandboxes without a GPU, and on a driver nvproxy does not support', () => {
    assert.equal(
      refusal(() => planPreparation(checklistOf('debian-12.txt'), { images: 'none', nvproxy: true })),
      'NO_GPU',
    );
    assert.equal(
      refusal(() => planPreparation(checklistOf('ubuntu-22.04-gpu-unsupported.txt'), { images: 'none', nvproxy: true })),
      'NVPROXY_UNSUPPORTED',
    );
    // Without GPU sandboxes the same host is prepared; with a runsc too old to tell, the plan
    // installs a current one and checks the driver after.
    assert.ok(planPreparation(checklistOf('ubuntu-22.04-gpu-unsupported.txt'), { images: 'none' }));
    const old = planPreparation(checklistOf('debian-12-gpu-old-runsc.txt'), { images: 'none', nvproxy: true });
    assert.equal(old.steps.find((s) => s.id === 'runsc')!.needed, true);
    assert.ok(ids(old).includes('nvproxy-driver'));
    assert.equal(old.warnings.length, 1);
    assert.match(old.warnings[0]!, /NVIDIA Container Toolkit/);
  });
});

describe('daemon.json merge, run for real with python3', () => {
  let n = 0;
  const fresh = (content: string | null, mode = 0o644): string => {
    const d = path.join(tmp, `merge-${n++}`);
    execFileSync('mkdir', ['-p', d]);
    const f = path.join(d, 'daemon.json');
    if (content !== null) {
      writeFileSync(f, content);
      chmodSync(f, mode);
    }
    return f;
  };
  const merge = (file: string, mode: 'check' | 'apply', extra: { nvproxy?: boolean } = {}) =>
    sh(daemonJsonMergeScript(mode, { file, runscPath: '/usr/bin/runsc', ...extra }));
  const others = (file: string) => readdirSync(path.dirname(file)).filter((x) => x !== 'daemon.json');

  test('no file: check-only creates nothing; apply writes the runtime', () => {
    const f = fresh(null);
    assert.deepEqual(merge(f, 'check'), { code: 0, stdout: 'would-change\n', stderr: '' });
    assert.equal(existsSync(f), false);
    const r = merge(f, 'apply');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /changed/);
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), {
      runtimes: {
        runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--network=none'] },
        'runsc-egress': { path: '/usr/bin/runsc', runtimeArgs: ['--network=none', '--host-uds=open'] },
      },
    });
    assert.deepEqual(others(f), []);
  });

  test('the egress runtime is registered beside runsc; runsc itself never keeps a --host-uds', () => {
    const f = fresh('{"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--host-uds=all","--network=none"]}}}');
    assert.equal(merge(f, 'apply').code, 0);
    const rt = JSON.parse(readFileSync(f, 'utf8')).runtimes;
    assert.deepEqual(rt.runsc, { path: '/usr/bin/runsc', runtimeArgs: ['--network=none'] });
    assert.deepEqual(rt['runsc-egress'], egressRuntimeEntry('/usr/bin/runsc'));
    assert.deepEqual(egressRuntimeEntry('/usr/bin/runsc').runtimeArgs, ['--network=none', '--host-uds=open']);
    assert.equal(merge(f, 'check').stdout, 'unchanged\n');
  });

  test('other settings survive; the backup holds the original bytes; a second run changes nothing', () => {
    const original = JSON.stringify(
      {
        'log-driver': 'json-file',
        'log-opts': { 'max-size': '10m', 'max-file': '3' },
        'live-restore': true,
        'default-address-pools': [{ base: '10.200.0.0/16', size: 24 }],
        runtimes: {
          nvidia: { path: 'nvidia-container-runtime', args: [] },
          runsc: { path: '/usr/local/bin/runsc', runtimeArgs: ['--platform=systrap', '--network=host'] },
        },
      },
      null,
      4,
    );
    const f = fresh(original, 0o600);
    const r = merge(f, 'apply');
    assert.equal(r.code, 0, r.stderr);
    const after1 = JSON.parse(readFileSync(f, 'utf8'));
    const before = JSON.parse(original);
    assert.deepEqual({ ...after1, runtimes: undefined }, { ...before, runtimes: undefined });
    assert.deepEqual(after1.runtimes.nvidia, before.runtimes.nvidia);
    assert.deepEqual(after1.runtimes.runsc, { path: '/usr/bin/runsc', runtimeArgs: ['--platform=systrap', '--network=none'] });
    assert.equal(statSync(f).mode & 0o777, 0o600);
    const backups = others(f);
    assert.equal(backups.length, 1);
    assert.match(backups[0]!, /^daemon\.json\.moat-backup-\d{14}$/);
    assert.equal(readFileSync(path.join(path.dirname(f), backups[0]!), 'utf8'), original);
    const text = readFileSync(f, 'utf8');
    const mtime = statSync(f).mtimeMs;
    assert.deepEqual(merge(f, 'apply'), { code: 0, stdout: 'unchanged\n', stderr: '' });
    assert.equal(readFileSync(f, 'utf8'), text);
    assert.equal(statSync(f).mtimeMs, mtime);
    assert.equal(others(f).length, 1);
  });

  test('the nvproxy runtime is added beside runsc', () => {
    const f = fresh('{"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=none"]}}}');
    assert.equal(merge(f, 'apply', { nvproxy: true }).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')).runtimes[NVPROXY_RUNTIME], {
      path: '/usr/bin/runsc',
      runtimeArgs: ['--network=none', '--nvproxy'],
    });
  });

  test('check-only never writes, even when the file needs the change', () => {
    const content = '{"log-level":"warn"}\n';
    const f = fresh(content);
    const mtime = statSync(f).mtimeMs;
    assert.deepEqual(merge(f, 'check'), { code: 0, stdout: 'would-change\n', stderr: '' });
    assert.equal(readFileSync(f, 'utf8'), content);
    assert.equal(statSync(f).mtimeMs, mtime);
    assert.deepEqual(others(f), []);
  });

  for (const [what, content] of [
    ['not JSON (a trailing comma)', '{\n  "log-driver": "json-file",\n}\n'],
    ['JSON with comments', '// managed by hand\n{"debug": true}\n'],
    ['an array', '[1, 2]\n'],
    ['runtimes that are not an object', '{"runtimes": ["runsc"]}\n'],
    ['a runtime that is not an object', '{"runtimes": {"runsc": "/usr/bin/runsc"}}\n'],
  ] as const) {
    test(`refused, untouched: ${what}`, () => {
      for (const mode of ['check', 'apply'] as const) {
        const f = fresh(content);
        const r = merge(f, mode);
        assert.equal(r.code, 3, `${mode}: ${r.stdout}`);
        assert.match(r.stderr, /Moat will not rewrite it/);
        assert.equal(readFileSync(f, 'utf8'), content);
        assert.deepEqual(others(f), []);
      }
    });
  }

  test('the plan step around the merge: check-only reports, apply changes, a rerun is already done, unparsable fails', async () => {
    const c = checklistOf('debian-12-runsc-unregistered.txt');
    const content = '{"log-driver":"journald"}\n';
    const f = fresh(content);
    const step = (o: Partial<PlanOptions>) =>
      planPreparation(c, { images: 'none', daemonJsonPath: f, ...o }).steps.find((s) => s.id === 'daemon-json')!;
    // The plan runs as the host's root or through sudo; here the script itself is run directly.
    const run = async (o: Partial<PlanOptions>) => localExec(`sh -c '${step(o).script.replace(/'/g, `'\\''`)}'`);
    let r = await run({ checkOnly: true });
    assert.equal(stepOutcome(r.stdout), 'would-change', r.stderr);
    assert.equal(readFileSync(f, 'utf8'), content);
    r = await run({});
    assert.equal(stepOutcome(r.stdout), 'changed', r.stderr);
    assert.equal(JSON.parse(readFileSync(f, 'utf8'))['log-driver'], 'journald');
    r = await run({});
    assert.equal(stepOutcome(r.stdout), 'already-done', r.stderr);
    writeFileSync(f, '{"oops": }');
    for (const checkOnly of [true, false]) {
      r = await run({ checkOnly });
      assert.equal(r.code, 3);
      assert.equal(stepOutcome(r.stdout), null);
      assert.equal(readFileSync(f, 'utf8'), '{"oops": }');
    }
  });
});

describe('runPreparation', () => {
  const plan = (scripts: string[]): PrepPlan => ({
    checkOnly: false,
    runAs: 'root',
    warnings: [],
    steps: scripts.map((script, i) => ({
      id: `image-s${i}`,
      label: `step ${i}`,
      script,
      command: `sh -c '${script.replace(/'/g, `'\\''`)}'`,
      timeoutMs: 10_000,
      needed: true,
      reconnectAfter: i === 1,
    })),
  });

  test('steps in order with progress and log lines; stops at the first failure with its output', async () => {
    const events: PrepEvent[] = [];
    const marker = path.join(tmp, 'ran-step-3');
    const r = await runPreparation(
      localExec,
      plan([
        "echo checking; printf '@@moat-step already-done\\n'",
        "echo installing; echo warn >&2; printf '@@moat-step changed\\n'",
        'echo half way; echo "E: Unable to locate package runsc" >&2; exit 100',
        `touch '${marker}'; printf '@@moat-step changed\\n'`,
      ]),
      (e) => events.push(e),
    );
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.steps.map((s) => s.outcome),
      ['already-done', 'changed', 'failed', 'not-run'],
    );
    assert.equal(existsSync(marker), false);
    assert.equal(r.failed!.step, 'image-s2');
    assert.equal(r.failed!.code, 100);
    assert.match(r.failed!.message, /step 2 failed \(exit 100\): E: Unable to locate package runsc/);
    assert.match(r.failed!.stdout, /half way/);
    assert.equal(r.reconnectNeeded, true);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.step}`),
      [
        'step-started:image-s0',
        'log:image-s0',
        'step-done:image-s0',
        'step-started:image-s1',
        'log:image-s1',
        'log:image-s1',
        'step-done:image-s1',
        'step-started:image-s2',
        'log:image-s2',
        'log:image-s2',
        'step-failed:image-s2',
      ],
    );
    assert.ok(r.log.includes('[image-s2] ! E: Unable to locate package runsc'));
  });

  test('a step that exits 0 without saying what it did is a failure, not a success', async () => {
    const r = await runPreparation(localExec, plan(['echo something']));
    assert.equal(r.ok, false);
    assert.equal(r.steps[0]!.outcome, 'failed');
  });

  test('an exec that throws (connection lost, timeout) fails the step', async () => {
    const r = await runPreparation(
      async () => {
        throw new Error('the SSH connection to gpu1 was lost');
      },
      plan(["printf '@@moat-step changed\\n'"]),
    );
    assert.equal(r.ok, false);
    assert.match(r.failed!.message, /connection to gpu1 was lost/);
  });
});

describe('shellcheck over every generated script', () => {
  let reason: string | null = null;
  try {
    execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
  } catch {
    reason = 'shellcheck is not installed (`apt-get install shellcheck`, or `bash scripts/setup.sh --test`)';
  }
  const skip = skipUnlessReady(reason, 'the shellcheck test');

  test('check script, every step of every plan in both modes, the merge scripts', { skip }, () => {
    const scripts = new Map<string, string>();
    scripts.set('check', checkScript('abc123'));
    for (const m of ['check', 'apply'] as const) {
      scripts.set(`merge-${m}`, daemonJsonMergeScript(m, { file: '/etc/docker/daemon.json', nvproxy: true }));
      scripts.set(`merge-${m}-path`, daemonJsonMergeScript(m, { file: '/tmp/x y/daemon.json', runscPath: '/usr/bin/runsc' }));
    }
    const cases: Array<[string, Partial<PlanOptions>]> = [
      ['ubuntu-22.04-fresh.txt', { images: 'pull' }],
      ['ubuntu-22.04-fresh.txt', { images: 'build', docker: 'docker-repo' }],
      ['ubuntu-24.04-no-runsc.txt', { images: 'build' }],
      ['debian-12-runsc-unregistered.txt', { images: 'pull' }],
      ['ubuntu-22.04-gpu-supported.txt', { images: 'pull', nvproxy: true, nvproxyDockerHook: true }],
    ];
    for (const [fx, o] of cases) {
      for (const checkOnly of [false, true]) {
        const p = planPreparation(checklistOf(fx), { images: 'none', ...o, checkOnly });
        for (const s of p.steps) scripts.set(`${fx} ${JSON.stringify(o)} ${checkOnly ? 'check' : 'apply'} ${s.id}`, s.script);
      }
    }
    const d = mkdtempSync(path.join(tmp, 'sc-'));
    const findings: string[] = [];
    let i = 0;
    for (const [name, script] of scripts) {
      const f = path.join(d, `${i++}.sh`);
      writeFileSync(f, script);
      try {
        execFileSync('shellcheck', ['-s', 'sh', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        findings.push(`${name}:\n${(e as { stdout: string }).stdout}`);
      }
    }
    assert.ok(scripts.size > 40, `${scripts.size} scripts`);
    assert.deepEqual(findings, []);
  });

  test('positive control: shellcheck does find a finding in a bad script', { skip }, () => {
    const f = path.join(tmp, 'bad.sh');
    writeFileSync(f, 'set -eu\nfor f in $(ls *.json); do echo $f; done\n');
    assert.throws(() => execFileSync('shellcheck', ['-s', 'sh', f], { stdio: 'ignore' }));
  });
});
