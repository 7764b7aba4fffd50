// Host usage: the /proc, df and nvidia-smi parsers against recorded outputs (this machine's /proc,
// real GPUs' nvidia-smi from public repositories, see test/fixtures/usage/README.md), and the
// exact sampling script run for real through a local `sh -c` Exec.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  RingBuffer,
  USAGE_SCRIPT,
  UsageError,
  UsageSampler,
  backoffMs,
  parseDf,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseNvidiaSmi,
  parseProcStat,
  parseUsage,
  splitSections,
  startSampling,
  usageBetween,
  type Exec,
  type HostUsage,
} from '../main/remote/usage';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/usage/${name}`, import.meta.url), 'utf8');
const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

/** The Exec an SSH connection provides, but local: the same script through `sh -c`. */
const localExec: Exec = (command, opts) =>
  new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: opts?.timeoutMs ?? 15_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });

test('/proc/stat first line: total and idle jiffies (guest not counted twice); anything else is null', () => {
  const recorded = parseProcStat(fixture('proc-stat.txt').trim());
  assert.ok(recorded && recorded.total > recorded.idle && recorded.idle > 0);
  assert.deepEqual(parseProcStat('cpu  10 1 5 80 4 0 0 0 3 0'), { total: 100, idle: 84 });
  // Old kernels print only four fields.
  assert.deepEqual(parseProcStat('cpu 10 0 10 80'), { total: 100, idle: 80 });
  assert.equal(parseProcStat('cpu0 1 2 3 4'), null);
  assert.equal(parseProcStat('intr 1 2 3'), null);
  assert.equal(parseProcStat(undefined), null);
});

test('/proc/meminfo: used = MemTotal − MemAvailable, in bytes; MemFree+Buffers+Cached without MemAvailable', () => {
  const recorded = fixture('proc-meminfo.txt');
  const total = Number(/^MemTotal:\s+(\d+)/m.exec(recorded)![1]) * 1024;
  const available = Number(/^MemAvailable:\s+(\d+)/m.exec(recorded)![1]) * 1024;
  assert.deepEqual(parseMeminfo(lines(recorded)), { totalBytes: total, usedBytes: total - available });
  assert.deepEqual(parseMeminfo(['MemTotal: 1000 kB', 'MemFree: 100 kB', 'Buffers: 50 kB', 'Cached: 250 kB']), {
    totalBytes: 1000 * 1024,
    usedBytes: 600 * 1024,
  });
  assert.equal(parseMeminfo([]), null);
  assert.equal(parseMeminfo(['garbage']), null);
});

test('df -B1 -P: total and used bytes of the filesystem; a header alone is null', () => {
  const recorded = parseDf(lines(fixture('df-root.txt')));
  assert.ok(recorded && recorded.totalBytes > 0 && recorded.usedBytes > 0 && recorded.usedBytes <= recorded.totalBytes);
  assert.deepEqual(parseDf(['Filesystem 1-blocks Used Available Capacity Mounted on', '/dev/sda1 1000 400 600 40% /']), {
    device: '/dev/sda1',
    totalBytes: 1000,
    usedBytes: 400,
  });
  assert.equal(parseDf(['Filesystem 1-blocks Used Available Capacity Mounted on']), null);
});

test('/proc/net/dev: physical interfaces only (lo, docker0, veth, ifb left out); names glued to numbers read', () => {
  const recorded = parseNetDev(lines(fixture('proc-net-dev.txt')));
  assert.ok(recorded);
  assert.ok(recorded.has('eth0'));
  for (const virtual of ['lo', 'docker0', 'ifb0']) assert.ok(!recorded.has(virtual), virtual);
  const glued = parseNetDev([
    'Inter-|   Receive',
    ' face |bytes',
    '  eth0:4565949891  137425 0 0 0 0 0 0 19778900 115899 0 0 0 0 0 0',
    'vethab12: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0',
  ]);
  assert.deepEqual([...glued!], [['eth0', { rx: 4565949891, tx: 19778900 }]]);
  assert.equal(parseNetDev(['nothing here']), null);
});

test('/proc/loadavg: the one-minute load', () => {
  const recorded = parseLoadavg(fixture('proc-loadavg.txt'));
  assert.ok(recorded !== null && recorded >= 0);
  assert.equal(parseLoadavg('3.25 2.10 1.05 4/812 12345'), 3.25);
  assert.equal(parseLoadavg(undefined), null);
});

test('the recorded script output parses section by section, GPU-less', () => {
  const raw = parseUsage(fixture('script-output-local.txt'), 1000);
  assert.ok(raw.cpu && raw.cpuCount && raw.cpuCount >= 1 && raw.uptimeSec && raw.mem && raw.disk && raw.net && raw.load1 !== null);
  assert.deepEqual(raw.gpus, []);
  assert.equal(raw.gpuError, null);
  const first = usageBetween(null, raw);
  assert.equal(first.cpuPercent, null, 'no CPU% from one sample');
  assert.equal(first.net, null, 'no rates from one sample');
  assert.equal(first.dockerDisk, null, 'same filesystem as / (or no Docker): not shown twice');
});

test('missing sections: what is there is read, the rest is null; no /proc at all is an error', async () => {
  const partial = parseUsage('@@stat\ncpu 1 2 3 4\n@@meminfo\nMemTotal: 2048 kB\nMemAvailable: 1024 kB\n', 0);
  assert.equal(partial.disk, null);
  assert.equal(partial.net, null);
  assert.equal(partial.load1, null);
  assert.equal(partial.cpuCount, null);
  assert.deepEqual(partial.mem, { totalBytes: 2048 * 1024, usedBytes: 1024 * 1024 });
  assert.equal(usageBetween(null, partial).cpuCount, 1);
  const broken: Exec = async () => ({ code: 127, stdout: '', stderr: 'sh: not found' });
  await assert.rejects(new UsageSampler(broken).sample(), (e: unknown) => e instanceof UsageError && /sh: not found/.test(e.message));
  // Positive control: the same sampler class reads a real host.
  assert.ok((await new UsageSampler(localExec).sample()).mem);
});

test('CPU% and rates from two samples: 100 = one core, timed by the host uptime, counter resets give no negative rate', () => {
  const at = (uptime: number, stat: string, eth: [number, number], wlan: [number, number]) =>
    parseUsage(
      `@@stat\n${stat}\n@@cpus\n4\n@@uptime\n${uptime} 0\n@@meminfo\nMemTotal: 1 kB\n@@netdev\n` +
        `  eth0: ${eth[0]} 0 0 0 0 0 0 0 ${eth[1]} 0 0 0 0 0 0 0\n  wlan0: ${wlan[0]} 0 0 0 0 0 0 0 ${wlan[1]} 0 0 0 0 0 0 0\n`,
      uptime * 1000 + 777, // a local clock that disagrees: the host's uptime wins
    );
  const a = at(100, 'cpu 100 0 100 800 0 0 0 0 0 0', [1000, 5000], [0, 0]);
  // 2 s later: 400 jiffies passed, 100 of them idle → 75% of the machine → 300 with 4 CPUs.
  const b = at(102, 'cpu 250 0 250 900 0 0 0 0 0 0', [3000, 9000], [100, 10]);
  const u = usageBetween(a, b);
  assert.equal(u.cpuPercent, 300);
  assert.equal(u.cpuCount, 4);
  assert.deepEqual(u.net, { rxBytesPerSec: 1050, txBytesPerSec: 2005 });
  // eth0 was reset (counter went down): it contributes nothing, wlan0 still counts.
  const c = at(104, 'cpu 250 0 250 1300 0 0 0 0 0 0', [10, 10], [300, 30]);
  const v = usageBetween(b, c);
  assert.deepEqual(v.net, { rxBytesPerSec: 100, txBytesPerSec: 10 });
  assert.equal(v.cpuPercent, 0);
});

test('a REAL sample on this machine through a local Exec of the exact script: two samples a second apart', async () => {
  const sampler = new UsageSampler(localExec);
  const first = await sampler.sample();
  assert.equal(first.cpuPercent, null);
  // Some work between the samples, so the CPU is not trivially idle.
  const until = Date.now() + 1000;
  while (Date.now() < until) Math.sqrt(Math.random());
  const second = await sampler.sample();
  const cpus = Number(readFileSync('/proc/stat', 'utf8').match(/^cpu\d+/gm)!.length);
  assert.equal(second.cpuCount, cpus);
  assert.ok(second.cpuPercent !== null && second.cpuPercent >= 0 && second.cpuPercent <= 100 * cpus, String(second.cpuPercent));
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  assert.equal(second.mem?.totalBytes, memTotal);
  assert.ok(second.mem!.usedBytes > 0 && second.mem!.usedBytes <= memTotal);
  assert.ok(second.disk && second.disk.totalBytes > 0);
  assert.ok(second.net && second.net.rxBytesPerSec >= 0 && second.net.txBytesPerSec >= 0);
  assert.ok(second.load1 !== null && second.load1 >= 0);
  assert.ok(second.at > first.at);
  // The script is one POSIX sh program (no bashisms): dash, if present, runs it too.
  const r = await localExec(USAGE_SCRIPT);
  assert.equal(r.code, 0);
  assert.ok(splitSections(r.stdout).has('stat'));
});

test('startSampling: samples at the interval, backs off on errors (doubling, capped), recovers, stops on abort', async () => {
  const waits: number[] = [];
  const samples: HostUsage[] = [];
  const errors: number[] = [];
  let call = 0;
  const script = ['ok', 'fail', 'fail', 'fail', 'ok', 'ok'];
  const ac = new AbortController();
  const good = fixture('script-output-local.txt');
  const exec: Exec = async () => {
    const what = script[call++];
    if (what === 'fail') throw new Error('SSH down');
    return { code: 0, stdout: good, stderr: '' };
  };
  await startSampling(exec, {
    intervalMs: 1000,
    maxBackoffMs: 5000,
    signal: ac.signal,
    onSample: (u) => {
      samples.push(u);
      if (samples.length === 3) ac.abort();
    },
    onError: (_e, n) => errors.push(n),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  assert.equal(samples.length, 3);
  assert.deepEqual(errors, [1, 2, 3]);
  assert.deepEqual(waits, [1000, 2000, 4000, 5000, 1000]);
  // After failures the difference restarts: the sample after recovery has no CPU% yet.
  assert.equal(samples[1]!.cpuPercent, null);
  assert.deepEqual([backoffMs(500, 0, 10_000), backoffMs(500, 1, 10_000), backoffMs(500, 50, 10_000)], [500, 1000, 10_000]);
});

test('startSampling with real timers stops promptly when aborted mid-wait', async () => {
  const ac = new AbortController();
  let n = 0;
  const started = Date.now();
  const done = startSampling(localExec, { intervalMs: 60_000, signal: ac.signal, onSample: () => n++ });
  setTimeout(() => ac.abort(), 300);
  await done;
  assert.equal(n, 1);
  assert.ok(Date.now() - started < 10_000);
});

test('RingBuffer keeps the last N, oldest first', () => {
  const r = new RingBuffer<number>(3);
  assert.deepEqual(r.toArray(), []);
  assert.equal(r.last(), undefined);
  for (const x of [1, 2]) r.push(x);
  assert.deepEqual(r.toArray(), [1, 2]);
  for (const x of [3, 4, 5]) r.push(x);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.size, 3);
  assert.equal(r.last(), 5);
  r.clear();
  assert.equal(r.size, 0);
  assert.throws(() => new RingBuffer(0), RangeError);
});

test('nvidia-smi: header or not, units or not, [N/A] / [Not Supported] as null, an error message as gpuError', () => {
  const noHeader = parseNvidiaSmi(['0, NVIDIA A10, GPU-1, 37, 512, 23028, 41, 58.12, 150.00']);
  assert.deepEqual(noHeader.gpus, [
    {
      index: 0,
      name: 'NVIDIA A10',
      uuid: 'GPU-1',
      utilPercent: 37,
      memUsedMiB: 512,
      memTotalMiB: 23028,
      tempC: 41,
      powerW: 58.12,
      powerLimitW: 150,
    },
  ]);
  const reordered = parseNvidiaSmi([
    'name, power.draw [W], index, utilization.gpu [%], temperature.gpu',
    'X, [Not Supported], 1, [N/A], 30',
  ]);
  assert.deepEqual(reordered.gpus[0], {
    index: 1,
    name: 'X',
    uuid: null,
    utilPercent: null,
    memUsedMiB: null,
    memTotalMiB: null,
    tempC: 30,
    powerW: null,
    powerLimitW: null,
  });
  const failed = parseNvidiaSmi(["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."]);
  assert.deepEqual(failed.gpus, []);
  assert.match(failed.error!, /couldn't communicate/);
  const viaScript = parseUsage(
    "@@stat\ncpu 1 2 3 4\n@@gpu\nNVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
  );
  assert.match(viaScript.gpuError!, /NVIDIA driver/);
});

const smi = (name: string) => lines(fixture(`nvidia-smi/${name}`));

test('nvidia-smi fixture: 8x H100 (transcribed from a recorded table), header in another field order, units kept', () => {
  const { gpus, error } = parseNvidiaSmi(smi('h100-8x-idle.csv'));
  assert.equal(error, null);
  assert.equal(gpus.length, 8);
  assert.deepEqual(
    gpus.map((g) => g.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(gpus[0], {
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    uuid: null,
    utilPercent: 0,
    memUsedMiB: 1,
    memTotalMiB: 81559,
    tempC: 25,
    powerW: 92,
    powerLimitW: 700,
  });
  assert.equal(gpus[2]!.powerW, 96);
  assert.equal(gpus[7]!.tempC, 24);
});

test('nvidia-smi fixture: A100-SXM4-80GB (recorded), no header: read with its own field list', () => {
  const { gpus } = parseNvidiaSmi(smi('a100-sxm4-80gb-idle.csv'), ['name', 'utilization.gpu', 'memory.used', 'memory.total']);
  assert.deepEqual(gpus, [
    {
      index: 0,
      name: 'NVIDIA A100-SXM4-80GB',
      uuid: null,
      utilPercent: 0,
      memUsedMiB: 0,
      memTotalMiB: 81920,
      tempC: null,
      powerW: null,
      powerLimitW: null,
    },
  ]);
  // Read with Moat's own field list instead, the line does not fit: it is not a GPU row.
  assert.deepEqual(parseNvidiaSmi(smi('a100-sxm4-80gb-idle.csv')).gpus, []);
});

test('nvidia-smi fixture: A10 (SYNTHETIC), Moat’s own query and format', () => {
  const { gpus } = parseNvidiaSmi(smi('a10-SYNTHETIC.csv'));
  assert.deepEqual(gpus, [
    {
      index: 0,
      name: 'NVIDIA A10',
      uuid: 'GPU-00000000-0000-4000-8000-00000000a010',
      utilPercent: 37,
      memUsedMiB: 6144,
      memTotalMiB: 23028,
      tempC: 48,
      powerW: 88.31,
      powerLimitW: 150,
    },
  ]);
});

test('nvidia-smi fixture: 2x Quadro RTX 6000 (SYNTHETIC), [N/A] and [Not Supported] cells are null', () => {
  const { gpus } = parseNvidiaSmi(smi('rtx6000-2x-SYNTHETIC.csv'));
  assert.equal(gpus.length, 2);
  assert.equal(gpus[0]!.utilPercent, 98);
  assert.equal(gpus[1]!.utilPercent, null);
  assert.equal(gpus[1]!.powerW, null);
  assert.equal(gpus[1]!.powerLimitW, 260);
  assert.equal(gpus[1]!.memTotalMiB, 24576);
});

test('a GPU host through the whole path: the script output with an nvidia-smi section gives GPUs on the sample', () => {
  const out = fixture('script-output-local.txt') + '@@gpu\n' + fixture('nvidia-smi/rtx6000-2x-SYNTHETIC.csv');
  const u = usageBetween(null, parseUsage(out, 1));
  assert.equal(u.gpus.length, 2);
  assert.equal(u.gpus[0]!.name, 'Quadro RTX 6000');
  assert.equal(u.gpuError, null);
});
