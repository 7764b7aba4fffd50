// The Hosts view's and target picker's pure pieces: how targets and a run's target read, which
// instances can become targets, verifying a host key, folding preparation progress, the idle form's
// checks, and host usage turned into chart columns and text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Instance } from '../shared/providers';
import type { HostUsage, PrepareProgress, PrepareResult, Target } from '../shared/remote';
import {
  addHostProblem,
  applyPrepareProgress,
  EMPTY_PREPARE,
  engineState,
  hostKeyFile,
  idleFormProblem,
  instancesToAdd,
  nvidiaReady,
  outcomeText,
  PREPARE_LOG_LINES,
  runTargetLabel,
  stepsFromResult,
  targetForInstance,
  targetOptionLabel,
} from '../renderer/src/lib/targets';
import { cpuOfAllCores, gpuIndexes, toUsageSeries, usageNow } from '../renderer/src/lib/usage';
import { pushBounded } from '../renderer/src/stores/stats';

const host = (over: Partial<Target> = {}): Target => ({ id: 'gpu-box', kind: 'host', detail: 'me@10.0.0.5:22', ...over });

function instance(over: Partial<Instance> = {}): Instance {
  return {
    provider: 'linode',
    account: 'work',
    id: '101',
    name: 'trainer',
    region: 'us-east',
    type: 'g6',
    gpuDescription: '',
    status: 'running',
    rawStatus: 'running',
    ipv4: '192.0.2.10',
    ipv6: null,
    priceCentsPerHour: 100,
    createdAt: 0,
    launchedByMoat: true,
    cost: { since: 0, basis: 'launched', uptimeMs: 0, costCents: 0 },
    ...over,
  };
}

test('run target: absent and local read "this machine"; ssh:NAME reads NAME; anything else as it is', () => {
  assert.equal(runTargetLabel(undefined), 'this machine');
  assert.equal(runTargetLabel('local'), 'this machine');
  assert.equal(runTargetLabel('ssh:gpu-box'), 'gpu-box');
  assert.equal(runTargetLabel('other'), 'other');
});

test('target option: name and address, a dot only when the engine state is known, and the state when down', () => {
  assert.equal(targetOptionLabel(host()), 'gpu-box · me@10.0.0.5:22');
  assert.equal(targetOptionLabel(host({ engine: { connected: true } })), '● gpu-box · me@10.0.0.5:22');
  assert.equal(targetOptionLabel(host({ engine: { connected: false, error: 'x' } })), '○ gpu-box · me@10.0.0.5:22 (engine unavailable)');
  assert.equal(targetOptionLabel({ id: 'local', kind: 'local', detail: 'this machine' }), 'This machine');
  assert.equal(engineState(host()), 'unknown');
});

test('instances to add: only running ones with an address that are not targets yet (matched by provider and id)', () => {
  const added = host({
    id: 'work-trainer',
    kind: 'instance',
    instance: { provider: 'linode', account: 'work', id: '101', name: 'trainer' },
  });
  const list = [
    instance(),
    instance({ id: '102', name: 'b' }),
    instance({ id: '103', name: 'c', status: 'starting' }),
    instance({ id: '104', name: 'd', ipv4: null }),
    // Same id on another provider is another instance.
    instance({ id: '101', provider: 'lambda', name: 'e' }),
  ];
  assert.deepEqual(
    instancesToAdd(list, [added]).map((i) => `${i.provider}/${i.id}`),
    ['linode/102', 'lambda/101'],
  );
  // Positive control: with no targets the first one is offered too.
  assert.equal(instancesToAdd(list, []).length, 3);
  assert.equal(targetForInstance([added], instance())?.id, 'work-trainer');
  assert.equal(targetForInstance([added], instance({ provider: 'lambda' })), undefined);
});

test('host key file: the public key matching the key type', () => {
  assert.equal(hostKeyFile('ssh-ed25519'), '/etc/ssh/ssh_host_ed25519_key.pub');
  assert.equal(hostKeyFile('ecdsa-sha2-nistp256'), '/etc/ssh/ssh_host_ecdsa_key.pub');
  assert.equal(hostKeyFile('ssh-rsa'), '/etc/ssh/ssh_host_rsa_key.pub');
  assert.equal(hostKeyFile('rsa-sha2-512'), '/etc/ssh/ssh_host_rsa_key.pub');
});

test('add form: name and address checked before sending; a valid form passes', () => {
  assert.equal(addHostProblem('gpu-box', 'ssh://me@10.0.0.5:2222', ''), null);
  assert.equal(addHostProblem('gpu', 'ssh://me@[2001:db8::1]:22', ''), null);
  assert.match(addHostProblem('GPU', 'ssh://me@h', '') ?? '', /lower-case/);
  assert.match(addHostProblem('gpu', 'me@h', '') ?? '', /ssh:\/\//);
  assert.match(addHostProblem('gpu', 'ssh://h', '') ?? '', /ssh:\/\//);
  assert.match(addHostProblem('gpu', 'ssh://me@h', 'x'.repeat(16 * 1024 + 1)) ?? '', /KiB/);
});

test('idle form: percent 0-100 and whole minutes 1-1440', () => {
  assert.equal(idleFormProblem('5', '30'), null);
  assert.equal(idleFormProblem('0', '1'), null);
  assert.equal(idleFormProblem('100', '1440'), null);
  assert.notEqual(idleFormProblem('101', '30'), null);
  assert.notEqual(idleFormProblem('', '30'), null);
  assert.notEqual(idleFormProblem('5', '0'), null);
  assert.notEqual(idleFormProblem('5', '1.5'), null);
  assert.notEqual(idleFormProblem('5', '1441'), null);
});

test('nvproxy is offered only when the nvidia item is ok', () => {
  const list = (status: 'ok' | 'missing' | 'n/a') => ({
    target: 'h',
    at: 0,
    ready: true,
    items: [{ id: 'nvidia', label: 'NVIDIA', status, detail: '' }],
  });
  assert.equal(nvidiaReady(list('ok')), true);
  assert.equal(nvidiaReady(list('n/a')), false);
  assert.equal(nvidiaReady(list('missing')), false);
  assert.equal(nvidiaReady(null), false);
});

test('prepare progress: steps start, log, end with their outcome or fail; the answer lists every step', () => {
  const ev = (e: Omit<PrepareProgress, 'target'>): PrepareProgress => ({ target: 'h', ...e });
  let live = EMPTY_PREPARE;
  live = applyPrepareProgress(live, ev({ type: 'step-started', step: 'docker', label: 'Docker', index: 0, total: 3 }));
  assert.deepEqual(
    live.steps.map((s) => [s.id, s.state]),
    [['docker', 'running']],
  );
  live = applyPrepareProgress(live, ev({ type: 'log', step: 'docker', line: 'installed', stream: 'stdout' }));
  live = applyPrepareProgress(live, ev({ type: 'log', step: 'docker', line: 'warning', stream: 'stderr' }));
  live = applyPrepareProgress(live, ev({ type: 'step-done', step: 'docker', outcome: 'changed' }));
  live = applyPrepareProgress(live, ev({ type: 'step-started', step: 'runsc', label: 'gVisor' }));
  live = applyPrepareProgress(live, ev({ type: 'step-failed', step: 'runsc', message: 'no network' }));
  assert.equal(live.total, 3);
  assert.deepEqual(live.log, ['installed', '! warning']);
  assert.deepEqual(
    live.steps.map((s) => [s.id, s.state, s.outcome]),
    [
      ['docker', 'done', 'changed'],
      ['runsc', 'failed', 'failed'],
    ],
  );
  assert.equal(outcomeText('already-done'), 'already done');
  assert.equal(outcomeText('would-change'), 'would change');
  assert.equal(outcomeText('changed'), 'changed');

  const result: PrepareResult = {
    ok: false,
    checkOnly: false,
    steps: [
      { id: 'docker', label: 'Docker', outcome: 'changed', durationMs: 10 },
      { id: 'runsc', label: 'gVisor', outcome: 'failed', durationMs: 5 },
      { id: 'images', label: 'Images', outcome: 'not-run', durationMs: 0 },
    ],
    failed: { step: 'runsc', label: 'gVisor', message: 'no network' },
    warnings: [],
    log: [],
  };
  assert.deepEqual(
    stepsFromResult(result, live).map((s) => [s.id, s.state, s.message ?? '']),
    [
      ['docker', 'done', ''],
      ['runsc', 'failed', 'no network'],
      ['images', 'not-run', ''],
    ],
  );
});

test('prepare log is bounded', () => {
  let live = EMPTY_PREPARE;
  for (let n = 0; n < PREPARE_LOG_LINES + 5; n++)
    live = applyPrepareProgress(live, { target: 'h', type: 'log', step: 's', line: String(n) });
  assert.equal(live.log.length, PREPARE_LOG_LINES);
  assert.equal(live.log.at(-1), String(PREPARE_LOG_LINES + 4));
});

function usage(over: Partial<HostUsage> = {}): HostUsage {
  return {
    at: 1_000_000,
    cpuPercent: 200,
    cpuCount: 4,
    load1: 1.5,
    mem: { usedBytes: 2 * 1024 ** 3, totalBytes: 8 * 1024 ** 3 },
    disk: { usedBytes: 10 * 1024 ** 3, totalBytes: 100 * 1024 ** 3 },
    dockerDisk: null,
    net: { rxBytesPerSec: 2048, txBytesPerSec: 1024 },
    gpus: [],
    gpuError: null,
    ...over,
  };
}

const gpu = (index: number, utilPercent: number | null) => ({
  index,
  name: 'H100',
  uuid: null,
  utilPercent,
  memUsedMiB: 1024,
  memTotalMiB: 81_920,
  tempC: 40,
  powerW: 100,
  powerLimitW: 700,
});

test('usage: CPU as a share of all cores; null on the first sample', () => {
  assert.equal(cpuOfAllCores(usage()), 50);
  assert.equal(cpuOfAllCores(usage({ cpuPercent: null })), null);
  assert.equal(cpuOfAllCores(usage({ cpuCount: 0, cpuPercent: 50 })), 50);
});

test('usage series: x in seconds; GiB and KiB/s; one GPU series per index, gaps where a GPU is missing', () => {
  const samples = [usage({ gpus: [gpu(0, 10)] }), usage({ at: 1_002_000, gpus: [gpu(0, 20), gpu(1, 30)], mem: null, net: null })];
  assert.deepEqual(gpuIndexes(samples), [0, 1]);
  const s = toUsageSeries(samples);
  assert.deepEqual(s.cpu, [
    [1000, 1002],
    [50, 50],
  ]);
  assert.deepEqual(s.memory[1], [2, null]);
  assert.deepEqual(s.net[1], [2, null]);
  assert.deepEqual(s.gpuUtil, [
    [1000, 1002],
    [10, 20],
    [null, 30],
  ]);
  assert.equal(s.gpuMemory.length, 3);
  // No GPUs: only the x column, so no GPU chart is drawn.
  assert.equal(toUsageSeries([usage()]).gpuUtil.length, 1);
});

test('usage text: current values, "measuring" before the first CPU figure, one line per GPU', () => {
  const now = usageNow(usage({ gpus: [gpu(0, 55)] }));
  assert.match(now.cpu, /CPU 50\.0% of 4 cores · load 1\.50/);
  assert.match(now.mem, /2\.0 GB \/ 8\.0 GB \(25%\)/);
  assert.match(now.net, /↓ 2\.0 KB\/s ↑ 1\.0 KB\/s/);
  assert.equal(now.gpus.length, 1);
  assert.match(now.gpus[0]!.text, /GPU 0 H100: 55% busy/);
  assert.match(usageNow(usage({ cpuPercent: null })).cpu, /measuring/);
});

test('the usage buffer keeps the last samples only', () => {
  let buf: readonly number[] = [];
  for (let n = 0; n < 310; n++) buf = pushBounded(buf, n, 300);
  assert.equal(buf.length, 300);
  assert.equal(buf[0], 10);
});

test('run request: the chosen target is sent, this machine is not; the runc opt-in only ever goes to this machine', async () => {
  const { useEditorStore } = await import('../renderer/src/stores/editor');
  useEditorStore.setState({ selectedId: 'python', code: { python: 'print(1)' }, allowRunc: true, target: 'local' });
  const local = useEditorStore.getState().buildRequest(false);
  assert.ok(local.ok);
  assert.equal(local.request.target, undefined);
  // Positive control: the opt-in is sent to this machine when its gVisor is missing.
  assert.equal(local.request.allowRunc, true);
  useEditorStore.getState().setTarget('gpu-box');
  const remote = useEditorStore.getState().buildRequest(false);
  assert.ok(remote.ok);
  assert.equal(remote.request.target, 'gpu-box');
  assert.equal(remote.request.allowRunc, undefined);
});
