// A host's CPU, memory, disk, network and GPUs, sampled with ONE command per sample over any
// `Exec` (an SSH connection, or `sh -c` locally in tests). The command is a POSIX sh script that
// prints marked sections; each section is optional, so a host without nvidia-smi, or a busybox
// `df` without -B1, still yields whatever the other sections say.
//
// What it costs: one exec (about one SSH channel round trip) per sample, a few KB of text; no
// agent is installed on the host. CPU% and network rates need two samples: `UsageSampler` keeps
// the previous raw sample, so its first sample has no CPU% or rates (null), not a made-up number.
// Rates are timed by the host's own /proc/uptime, so SSH latency does not skew them.

/** How a sample is taken: SshConnection.exec fits this shape (no import of ssh.ts on purpose). */
export type Exec = (command: string, opts?: { timeoutMs?: number }) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export interface GpuUsage {
  index: number;
  name: string;
  uuid: string | null;
  utilPercent: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  tempC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
}

export interface DiskUsage {
  usedBytes: number;
  totalBytes: number;
}

export interface HostUsage {
  /** Local epoch ms when the sample arrived. */
  at: number;
  /** 100 = one core busy (as Linode counts), so the range is 0..100·cpuCount. null on the first sample. */
  cpuPercent: number | null;
  cpuCount: number;
  load1: number | null;
  /** used = MemTotal − MemAvailable (page cache the kernel can drop is not counted as used). */
  mem: { usedBytes: number; totalBytes: number } | null;
  /** The filesystem holding `/`. */
  disk: DiskUsage | null;
  /** Docker's data root (/var/lib/docker) when it is a different filesystem from `/`; else null. */
  dockerDisk: DiskUsage | null;
  /** Physical interfaces only (not lo, docker0, veth…: container traffic would count twice). null on the first sample. */
  net: { rxBytesPerSec: number; txBytesPerSec: number } | null;
  gpus: GpuUsage[];
  /** nvidia-smi exists but said something Moat could not read (e.g. "couldn't communicate with the NVIDIA driver"). */
  gpuError: string | null;
}

/** What nvidia-smi is asked for; the header line names the columns, so any order parses. */
export const GPU_QUERY = [
  'index',
  'name',
  'uuid',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
];

// LC_ALL=C: decimal points and English headers whatever the host's locale. `head -c` caps what a
// broken nvidia-smi can print. Every section is guarded, so the script exits 0 on any Linux.
export const USAGE_SCRIPT = [
  'export LC_ALL=C',
  'echo @@stat; head -n 1 /proc/stat 2>/dev/null',
  "echo @@cpus; grep -c '^cpu[0-9]' /proc/stat 2>/dev/null",
  'echo @@uptime; cat /proc/uptime 2>/dev/null',
  'echo @@meminfo; cat /proc/meminfo 2>/dev/null',
  'echo @@df; df -B1 -P / 2>/dev/null',
  'if [ -d /var/lib/docker ]; then echo @@dfdocker; df -B1 -P /var/lib/docker 2>/dev/null; fi',
  'echo @@netdev; cat /proc/net/dev 2>/dev/null',
  'echo @@loadavg; cat /proc/loadavg 2>/dev/null',
  `if command -v nvidia-smi >/dev/null 2>&1; then echo @@gpu; nvidia-smi --query-gpu=${GPU_QUERY.join(',')} --format=csv,nounits 2>&1 | head -c 65536; fi`,
  'exit 0',
].join('\n');

/** Counters as read from the host, before any difference is taken. */
export interface RawUsage {
  at: number;
  cpu: { total: number; idle: number } | null;
  cpuCount: number | null;
  uptimeSec: number | null;
  mem: { usedBytes: number; totalBytes: number } | null;
  disk: (DiskUsage & { device: string }) | null;
  dockerDisk: (DiskUsage & { device: string }) | null;
  /** Interface → cumulative bytes. */
  net: Map<string, { rx: number; tx: number }> | null;
  load1: number | null;
  gpus: GpuUsage[];
  gpuError: string | null;
}

/** `@@name` lines split the output; a section absent from the output is absent from the map. */
export function splitSections(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^@@([a-z]+)\s*$/.exec(line);
    if (m) {
      current = [];
      out.set(m[1]!, current);
    } else if (current && line.trim() !== '') current.push(line);
  }
  return out;
}

/** `cpu  user nice system idle iowait irq softirq steal guest guest_nice` (jiffies since boot). */
export function parseProcStat(line: string | undefined): { total: number; idle: number } | null {
  if (!line || !/^cpu\s/.test(line)) return null;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  if (n.length < 4 || n.some((x) => !Number.isFinite(x))) return null;
  // guest and guest_nice are already inside user and nice: summing them would count them twice.
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: n[3]! + (n[4] ?? 0) };
}

/** MemTotal − MemAvailable; kernels before 3.14 lack MemAvailable: MemFree + Buffers + Cached then. */
export function parseMeminfo(lines: string[]): { usedBytes: number; totalBytes: number } | null {
  const kb = new Map<string, number>();
  for (const l of lines) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(l);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined || total <= 0) return null;
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total * 1024, usedBytes: Math.max(0, total - available) * 1024 };
}

/** `df -B1 -P`: a header, then `device blocks used available capacity mountpoint` in bytes. */
export function parseDf(lines: string[]): (DiskUsage & { device: string }) | null {
  for (const l of lines) {
    const f = l.trim().split(/\s+/);
    if (f.length < 6 || !/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) continue;
    return { device: f[0]!, totalBytes: Number(f[1]), usedBytes: Number(f[2]) };
  }
  return null;
}

// Virtual interfaces carry traffic that also crosses a physical one (a container's packets pass
// veth → docker0 → eth0): counting them would double it.
const VIRTUAL_IF = /^(lo|docker\d*|veth.*|br-.*|virbr.*|cni.*|flannel.*|cali.*|vxlan.*|tunl.*|kube-.*|ifb\d*|dummy.*)$/;

/** /proc/net/dev: `iface: rx_bytes … (8 fields) tx_bytes …`; physical interfaces only. */
export function parseNetDev(lines: string[]): Map<string, { rx: number; tx: number }> | null {
  const out = new Map<string, { rx: number; tx: number }>();
  let seen = false;
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon < 0) continue;
    const name = l.slice(0, colon).trim();
    const f = l
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 9 || !Number.isFinite(f[0]) || !Number.isFinite(f[8])) continue;
    seen = true;
    if (!VIRTUAL_IF.test(name)) out.set(name, { rx: f[0]!, tx: f[8]! });
  }
  return seen ? out : null;
}

export function parseLoadavg(line: string | undefined): number | null {
  const v = Number(line?.trim().split(/\s+/)[0]);
  return line !== undefined && Number.isFinite(v) ? v : null;
}

export function parseUptime(line: string | undefined): number | null {
  const v = Number(line?.trim().split(/\s+/)[0]);
  return line !== undefined && Number.isFinite(v) && v > 0 ? v : null;
}

/** '[N/A]', '[Not Supported]', 'N/A', '' → null; '66 %', '932 MiB', '68.21 W' → the number. */
function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const s = v.trim();
  if (s === '' || /^\[.*\]$/.test(s) || /^n\/?a$/i.test(s)) return null;
  const m = /^(-?\d+(?:\.\d+)?)\s*(%|MiB|W|C)?$/i.exec(s);
  return m ? Number(m[1]) : null;
}

const KNOWN_COLUMNS = new Set([...GPU_QUERY, 'gpu_name', 'gpu_uuid', 'enforced.power.limit', 'power.draw.instant', 'power.draw.average']);

/**
 * nvidia-smi `--query-gpu=… --format=csv[,noheader][,nounits]`. With a header line the columns
 * are found by name (units in brackets dropped), so output with any field order or extra fields
 * parses; without one, the columns are taken to be `fields` (default GPU_QUERY's order). Lines
 * that are not GPU rows (an error message) come back as `error`.
 */
export function parseNvidiaSmi(lines: string[], fields: string[] = GPU_QUERY): { gpus: GpuUsage[]; error: string | null } {
  let cols = fields;
  const gpus: GpuUsage[] = [];
  const junk: string[] = [];
  for (const line of lines) {
    const cells = line.split(',').map((c) => c.trim());
    const names = cells.map((c) => c.replace(/\s*\[[^\]]*\]$/, '').toLowerCase());
    if (names.some((c) => KNOWN_COLUMNS.has(c)) && names.every((c) => /^[a-z_.]+$/.test(c))) {
      cols = names;
      continue;
    }
    const get = (...keys: string[]) => {
      for (const k of keys) {
        const i = cols.indexOf(k);
        if (i >= 0) return cells[i];
      }
      return undefined;
    };
    const name = get('name', 'gpu_name');
    const index = num(get('index')) ?? (cols.includes('index') ? null : gpus.length);
    if (cells.length !== cols.length || !name || index === null) {
      if (line.trim() !== '') junk.push(line.trim());
      continue;
    }
    gpus.push({
      index,
      name,
      uuid: get('uuid', 'gpu_uuid') || null,
      utilPercent: num(get('utilization.gpu')),
      memUsedMiB: num(get('memory.used')),
      memTotalMiB: num(get('memory.total')),
      tempC: num(get('temperature.gpu')),
      powerW: num(get('power.draw', 'power.draw.instant', 'power.draw.average')),
      powerLimitW: num(get('power.limit', 'enforced.power.limit')),
    });
  }
  return { gpus, error: junk.length > 0 && gpus.length === 0 ? junk.join(' ').slice(0, 300) : null };
}

/** One run of USAGE_SCRIPT's output, read; nothing is differenced yet. */
export function parseUsage(stdout: string, at = Date.now()): RawUsage {
  const s = splitSections(stdout);
  const gpu = s.has('gpu') ? parseNvidiaSmi(s.get('gpu')!) : { gpus: [], error: null };
  const cpus = Number(s.get('cpus')?.[0]);
  return {
    at,
    cpu: parseProcStat(s.get('stat')?.[0]),
    cpuCount: Number.isInteger(cpus) && cpus > 0 ? cpus : null,
    uptimeSec: parseUptime(s.get('uptime')?.[0]),
    mem: parseMeminfo(s.get('meminfo') ?? []),
    disk: parseDf(s.get('df') ?? []),
    dockerDisk: parseDf(s.get('dfdocker') ?? []),
    net: parseNetDev(s.get('netdev') ?? []),
    load1: parseLoadavg(s.get('loadavg')?.[0]),
    gpus: gpu.gpus,
    gpuError: gpu.error,
  };
}

/** The usage between two raw samples (`prev` null: the first sample, without CPU% or rates). */
export function usageBetween(prev: RawUsage | null, cur: RawUsage): HostUsage {
  const cpuCount = cur.cpuCount ?? 1;
  let cpuPercent: number | null = null;
  if (prev?.cpu && cur.cpu) {
    const dt = cur.cpu.total - prev.cpu.total;
    const di = cur.cpu.idle - prev.cpu.idle;
    if (dt > 0) cpuPercent = round1(Math.min(1, Math.max(0, 1 - di / dt)) * 100 * cpuCount);
  }
  let net: HostUsage['net'] = null;
  if (prev?.net && cur.net) {
    // The host's uptime is the better clock: it ignores how long the answer took to arrive.
    const seconds =
      prev.uptimeSec !== null && cur.uptimeSec !== null && cur.uptimeSec > prev.uptimeSec
        ? cur.uptimeSec - prev.uptimeSec
        : (cur.at - prev.at) / 1000;
    if (seconds > 0) {
      let rx = 0;
      let tx = 0;
      for (const [name, c] of cur.net) {
        const p = prev.net.get(name);
        // A counter that went down was reset (interface re-created, host rebooted): no rate from it.
        if (p && c.rx >= p.rx) rx += c.rx - p.rx;
        if (p && c.tx >= p.tx) tx += c.tx - p.tx;
      }
      net = { rxBytesPerSec: Math.round(rx / seconds), txBytesPerSec: Math.round(tx / seconds) };
    }
  }
  const disk = cur.disk ? { usedBytes: cur.disk.usedBytes, totalBytes: cur.disk.totalBytes } : null;
  const dockerDisk =
    cur.dockerDisk && cur.dockerDisk.device !== cur.disk?.device
      ? { usedBytes: cur.dockerDisk.usedBytes, totalBytes: cur.dockerDisk.totalBytes }
      : null;
  return {
    at: cur.at,
    cpuPercent,
    cpuCount,
    load1: cur.load1,
    mem: cur.mem,
    disk,
    dockerDisk,
    net,
    gpus: cur.gpus,
    gpuError: cur.gpuError,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Keeps the previous raw sample, so each `sample()` after the first has CPU% and rates. */
export class UsageSampler {
  private prev: RawUsage | null = null;

  constructor(
    private readonly exec: Exec,
    private readonly opts: { timeoutMs?: number; now?: () => number } = {},
  ) {}

  async sample(): Promise<HostUsage> {
    const r = await this.exec(USAGE_SCRIPT, { timeoutMs: this.opts.timeoutMs ?? 15_000 });
    const raw = parseUsage(r.stdout, (this.opts.now ?? Date.now)());
    // Not a Linux /proc at all (or the shell failed): an error, not a sample of zeros.
    if (!raw.cpu && !raw.mem) {
      const why = r.stderr.trim().slice(0, 200) || r.stdout.trim().slice(0, 200) || `exit code ${r.code}`;
      throw new UsageError(`The host's usage could not be read: ${why}`);
    }
    const usage = usageBetween(this.prev, raw);
    this.prev = raw;
    return usage;
  }

  /** Forget the previous sample (after a reconnect to a possibly different boot). */
  reset(): void {
    this.prev = null;
  }
}

export interface SamplingOptions {
  intervalMs: number;
  onSample: (u: HostUsage) => void;
  onError?: (err: unknown, failuresInARow: number) => void;
  signal: AbortSignal;
  /** Longest wait after failures (the wait doubles from intervalMs per failure in a row). Default 5 min. */
  maxBackoffMs?: number;
  timeoutMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/**
 * Samples every intervalMs until `signal` aborts; resolves then. A failed sample waits longer
 * each time in a row (doubling, capped), so an unreachable host is not hammered; the first
 * success returns to the interval. After a failure the next sample starts a fresh difference.
 */
export async function startSampling(exec: Exec, o: SamplingOptions): Promise<void> {
  const sampler = new UsageSampler(exec, {
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const sleep = o.sleep ?? abortableSleep;
  const maxBackoff = o.maxBackoffMs ?? 300_000;
  let failures = 0;
  while (!o.signal.aborted) {
    try {
      const u = await sampler.sample();
      failures = 0;
      if (!o.signal.aborted) o.onSample(u);
    } catch (err) {
      failures++;
      sampler.reset();
      if (!o.signal.aborted) o.onError?.(err, failures);
    }
    if (o.signal.aborted) break;
    await sleep(backoffMs(o.intervalMs, failures, maxBackoff), o.signal);
  }
}

/** The wait before the next sample: the interval, doubled per failure in a row, capped. */
export function backoffMs(intervalMs: number, failures: number, maxMs: number): number {
  if (failures === 0) return intervalMs;
  return Math.min(maxMs, intervalMs * 2 ** Math.min(failures, 20));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The last `capacity` items, oldest first: what a chart draws. */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[(this.start + this.count) % this.capacity] = item;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  get size(): number {
    return this.count;
  }

  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }

  toArray(): T[] {
    return Array.from({ length: this.count }, (_, i) => this.items[(this.start + i) % this.capacity] as T);
  }

  clear(): void {
    this.items = new Array<T | undefined>(this.capacity);
    this.start = 0;
    this.count = 0;
  }
}
