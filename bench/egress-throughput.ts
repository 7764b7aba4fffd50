// Egress scanner throughput, side by side in one run, on one core (single-threaded, but (h)):
//   (a) Moat's output path without scanning: Docker's 8-byte-header attach stream, read in 64 KiB
//       pieces -> DockerDemuxer -> OutputSink (capBytes 64 MiB, output-limit 'truncate': it keeps
//       reading and counting past the cap), as main/sandbox/runner.ts uses them
//   (b) the same path with a StreamScanner (format + entropy + context with two secrets) between
//       the demuxer and the sink, its timer path (nextDueAt/flushDue) polled after every piece
//   (c) the scanner alone on the demuxed chunks (three passes, the median)
//   (d) overhead of (b) over (a)       (e) findings, and whether every planted secret was found
//   (f) first-output latency: "hello\n" pushed alone, released by the timer path
//   (g) peak RSS and heap growth of each path
//   (h) (b) with the scanner in the scan worker, as runs use it (main/egress/filter-worker.ts): two
//       threads, so its wall time can beat (b); its main thread's CPU is what the owner pays
// The stream (~200 MB, BENCH_EGRESS_MB to change) is built in memory from a seeded generator:
// log lines, JSON, stack traces, hashes, UUIDs, git SHAs, base64 blobs, lockfile integrity
// strings, a little UTF-8, and a sprinkle of fake (well-formed, never real) secrets.
// Prints one JSON object and writes it to bench/results/egress-throughput.json.
//   node --import tsx bench/egress-throughput.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as detect from '../main/egress/detect';
import { contextDetector } from '../main/egress/context';
import { WorkerRunFilter } from '../main/egress/filter-worker';
import { StreamScanner, type Finding } from '../main/egress/stream';
import type { Detector } from '../main/egress/types';
import { DockerDemuxer, OutputSink } from '../main/sandbox/output';
import { buildStream, CONTEXT_SECRETS, frame, type Planted, type StreamName } from './egress-stream';

const MB = 1024 * 1024;
const TOTAL = Math.round(Number(process.env.BENCH_EGRESS_MB ?? 200) * MB);
const READ = 64 * 1024;
const CAP = 64 * MB;
const GOAL_MBPS = 100;
const GOAL_OVERHEAD = 0.2;
/** The small-push run covers this much of the stream, in pushes of SMALL_PUSH bytes. */
const SMALL_MB = Number(process.env.BENCH_EGRESS_SMALL_MB ?? 32);
const SMALL_PUSH = 512;

// ---- The measurements

interface Mem {
  rss0: number;
  heap0: number;
  peakRss: number;
  peakHeap: number;
}
function memStart(): Mem {
  global.gc?.();
  const m = process.memoryUsage();
  return { rss0: m.rss, heap0: m.heapUsed, peakRss: m.rss, peakHeap: m.heapUsed };
}
function memSample(m: Mem): void {
  const u = process.memoryUsage();
  m.peakRss = Math.max(m.peakRss, u.rss);
  m.peakHeap = Math.max(m.peakHeap, u.heapUsed);
}
const memReport = (m: Mem) => ({
  rss_start_mb: round(m.rss0 / MB),
  rss_peak_mb: round(m.peakRss / MB),
  rss_growth_mb: round((m.peakRss - m.rss0) / MB),
  heap_growth_mb: round((m.peakHeap - m.heap0) / MB),
});
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
/** CPU time of this process (user + system, all its threads), in ms: less sensitive than wall time to other load. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function detectors(): Detector[] {
  const d = detect as unknown as { defaultDetectors?: (secrets: string[]) => Detector[] };
  return d.defaultDetectors
    ? d.defaultDetectors(CONTEXT_SECRETS)
    : [detect.formatDetector(), detect.entropyDetector(), contextDetector(CONTEXT_SECRETS)];
}

function newSink(): { sink: OutputSink; emitted: () => number } {
  let n = 0;
  const sink = new OutputSink({
    capBytes: CAP,
    emit: (_s, d) => {
      n += d.length;
    },
    // onOutputLimit 'truncate': the run goes on, the sink keeps counting.
    onCap: () => {},
  });
  return { sink, emitted: () => n };
}

/** (a) demux -> sink. */
function unscanned(pieces: Buffer[]): { ms: number; bytes: number; mem: Mem } {
  const mem = memStart();
  const { sink } = newSink();
  const demux = new DockerDemuxer((s, chunk) => sink.write(s, chunk));
  const t0 = performance.now();
  for (let i = 0; i < pieces.length; i++) {
    demux.push(pieces[i]!);
    if ((i & 255) === 0) memSample(mem);
  }
  const out = sink.close();
  const ms = performance.now() - t0;
  memSample(mem);
  return { ms, bytes: out.stdoutBytes + out.stderrBytes, mem };
}

/** (b) demux -> scanner -> sink, the timer path polled after every read. */
function scanned(
  pieces: Buffer[],
  keep = false,
): { ms: number; cpu: number; bytes: number; findings: Finding[]; mem: Mem; out: Record<StreamName, Buffer[]> } {
  const mem = memStart();
  const { sink } = newSink();
  const findings: Finding[] = [];
  const scanner = new StreamScanner({ detectors: detectors(), onFinding: (f) => findings.push(f) });
  const out: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const write = (rs: { stream: StreamName; data: Buffer }[]): void => {
    for (const r of rs) {
      sink.write(r.stream, r.data);
      if (keep) out[r.stream].push(r.data);
    }
  };
  const demux = new DockerDemuxer((s, chunk) => write(scanner.push(s, chunk)));
  const t0 = performance.now();
  const c0 = cpuMs();
  for (let i = 0; i < pieces.length; i++) {
    demux.push(pieces[i]!);
    const due = scanner.nextDueAt();
    if (due !== null && due <= Date.now()) write(scanner.flushDue());
    if ((i & 255) === 0) memSample(mem);
  }
  write(scanner.flush());
  const captured = sink.close();
  const ms = performance.now() - t0;
  const cpu = cpuMs() - c0;
  memSample(mem);
  return { ms, cpu, bytes: captured.stdoutBytes + captured.stderrBytes, findings, mem, out };
}

/** This thread's CPU time in ms (Linux: /proc), or null where it cannot be read. */
function threadCpuMs(): number | null {
  try {
    const st = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in clock ticks of 10 ms
  } catch {
    return null;
  }
}

/**
 * (h) demux -> the scan worker (main/egress/filter-worker.ts, as runs use it) -> sink: reads stop
 * while the worker asks for a pause, as the runner pauses the attach stream. Reports the wall
 * time, the process's CPU and the main thread's alone (what the output path costs the owner).
 */
async function scannedInWorker(
  pieces: Buffer[],
): Promise<{ ms: number; cpu: number; mainCpu: number | null; bytes: number; findings: number }> {
  const { sink } = newSink();
  let findings = 0;
  const filter = new WorkerRunFilter({
    policy: 'redact',
    secrets: CONTEXT_SECRETS,
    suppressed: new Set(),
    capBytes: CAP,
    onFinding: () => findings++,
  });
  filter.onRelease((s, d) => sink.write(s, d));
  let paused = false;
  let wake: (() => void) | null = null;
  filter.onPressure((p) => {
    paused = p;
    if (!p) wake?.();
  });
  const demux = new DockerDemuxer((s, chunk) => filter.push(s, chunk));
  const t0 = performance.now();
  const c0 = cpuMs();
  const m0 = threadCpuMs();
  for (let i = 0; i < pieces.length; i++) {
    if (paused) await new Promise<void>((r) => (wake = r));
    demux.push(pieces[i]!);
    // A socket delivers a few reads per turn of the event loop; the worker's answers come between.
    if ((i & 3) === 3) await new Promise((r) => setImmediate(r));
  }
  await filter.end();
  const captured = sink.close();
  const ms = performance.now() - t0;
  const m1 = threadCpuMs();
  return {
    ms,
    cpu: cpuMs() - c0,
    mainCpu: m0 === null || m1 === null ? null : m1 - m0,
    bytes: captured.stdoutBytes + captured.stderrBytes,
    findings,
  };
}

/** (c) the scanner alone on the demuxed chunks. */
function scannerAlone(chunks: [StreamName, Buffer][]): { ms: number; cpu: number; findings: number; mem: Mem } {
  const mem = memStart();
  let findings = 0;
  const scanner = new StreamScanner({ detectors: detectors(), onFinding: () => findings++ });
  const t0 = performance.now();
  const c0 = cpuMs();
  for (let i = 0; i < chunks.length; i++) {
    const [s, c] = chunks[i]!;
    scanner.push(s, c);
    if ((i & 255) === 0) memSample(mem);
  }
  scanner.flush();
  const ms = performance.now() - t0;
  const cpu = cpuMs() - c0;
  memSample(mem);
  return { ms, cpu, findings, mem };
}

/** (c') the scanner alone, the same bytes in small pushes (a program writing line by line, slowly). */
function smallPushes(chunks: [StreamName, Buffer][], limit: number, size: number): { ms: number; cpu: number; bytes: number } {
  const scanner = new StreamScanner({ detectors: detectors() });
  let bytes = 0;
  const t0 = performance.now();
  const c0 = cpuMs();
  for (const [s, c] of chunks) {
    for (let i = 0; i < c.length; i += size) scanner.push(s, c.subarray(i, i + size));
    bytes += c.length;
    if (bytes >= limit) break;
  }
  scanner.flush();
  return { ms: performance.now() - t0, cpu: cpuMs() - c0, bytes };
}

/** (f) "hello\n" pushed alone: held, released by the caller's timer at nextDueAt. */
async function firstOutput(): Promise<{ runs: number; p50_ms: number; max_ms: number; released_on_push: boolean }> {
  const lat: number[] = [];
  let onPush = false;
  for (let i = 0; i < 20; i++) {
    const scanner = new StreamScanner({ detectors: detectors() });
    const t0 = performance.now();
    const now = scanner.push('stdout', Buffer.from('hello\n'));
    if (now.length > 0) {
      onPush = true;
      lat.push(performance.now() - t0);
      continue;
    }
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = scanner.nextDueAt();
        const rel = due === null ? [] : scanner.flushDue();
        if (rel.length > 0 || due === null) {
          lat.push(performance.now() - t0);
          resolve();
        } else setTimeout(tick, Math.max(0, due - Date.now()));
      };
      setTimeout(tick, Math.max(0, (scanner.nextDueAt() ?? Date.now()) - Date.now()));
    });
  }
  lat.sort((a, b) => a - b);
  return {
    runs: lat.length,
    p50_ms: round(lat[Math.floor(lat.length / 2)]!),
    max_ms: round(lat[lat.length - 1]!),
    released_on_push: onPush,
  };
}

/** Calibration: a trivial JavaScript loop over every byte (the speed of one pass on this machine). */
function byteLoop(chunks: [StreamName, Buffer][]): number {
  let x = 0;
  const t0 = performance.now();
  for (const [, c] of chunks) for (let i = 0; i < c.length; i++) x = (x + c[i]!) | 0;
  const ms = performance.now() - t0;
  return x === 0.5 ? 0 : ms;
}

function overlaps(fs: Finding[], p: Planted): boolean {
  return fs.some((x) => x.stream === p.stream && x.offset < p.offset + p.length && x.offset + x.length > p.offset);
}

async function main(): Promise<void> {
  const tBuild = performance.now();
  const { payload, planted } = buildStream(TOTAL);
  if (process.env.BENCH_EGRESS_DUMP) {
    // For differential tests of the detectors: the stdout payload, then stop.
    writeFileSync(process.env.BENCH_EGRESS_DUMP, payload.stdout);
    return;
  }
  const framed = frame(payload);
  const pieces: Buffer[] = [];
  for (let i = 0; i < framed.length; i += READ) pieces.push(framed.subarray(i, i + READ));
  const chunks: [StreamName, Buffer][] = [];
  new DockerDemuxer((s, c) => chunks.push([s, c])).push(framed);
  const bytes = payload.stdout.length + payload.stderr.length;
  const buildMs = performance.now() - tBuild;

  const load0 = loadavg()[0]!;
  // Warm up both paths (JIT) on the first ~16 MB.
  const warm = pieces.slice(0, Math.ceil((16 * MB) / READ));
  unscanned(warm);
  scanned(warm);

  await scannedInWorker(warm);

  const a = unscanned(pieces);
  const b = scanned(pieces);
  const g = await scannedInWorker(pieces);
  // Three passes, the median reported (and each): on a shared machine one pass moves by a third.
  const cPasses = [scannerAlone(chunks), scannerAlone(chunks), scannerAlone(chunks)];
  const c = [...cPasses].sort((x, y) => x.ms - y.ms)[1]!;
  const small = smallPushes(chunks, SMALL_MB * MB, SMALL_PUSH);
  byteLoop(chunks.slice(0, 64));
  const loopMs = byteLoop(chunks);
  const load1 = loadavg()[0]!;
  const mbps = (ms: number) => round(bytes / MB / (ms / 1000));

  // Untimed: the same path again, keeping what was released, to check the planted secrets left it redacted.
  const v = scanned(pieces, true);
  const missed = planted.filter((p) => !overlaps(v.findings, p));
  const released = { stdout: Buffer.concat(v.out.stdout), stderr: Buffer.concat(v.out.stderr) };
  const leaked = planted.filter((p) => released[p.stream].includes(payload[p.stream].subarray(p.offset, p.offset + p.length)));
  const other = b.findings.filter(
    (x) => !planted.some((p) => p.stream === x.stream && x.offset < p.offset + p.length && x.offset + x.length > p.offset),
  );
  const byRule: Record<string, number> = {};
  for (const x of other) byRule[x.rule] = (byRule[x.rule] ?? 0) + 1;

  const probe = new StreamScanner({ detectors: detectors() });
  const first = await firstOutput();
  const overhead = (b.ms - a.ms) / a.ms;
  const result = {
    bench: 'egress-throughput',
    node: process.version,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadavg_1m_before: round(load0, 2),
      loadavg_1m_after: round(load1, 2),
      js_byte_loop_mb_per_s: mbps(loopMs),
    },
    stream: {
      mb: round(bytes / MB),
      framed_mb: round(framed.length / MB),
      read_size: READ,
      reads: pieces.length,
      demuxed_chunks: chunks.length,
      stderr_mb: round(payload.stderr.length / MB),
      build_ms: Math.round(buildMs),
    },
    a_unscanned: { ms: Math.round(a.ms), mb_per_s: mbps(a.ms), bytes: a.bytes, memory: memReport(a.mem) },
    b_scanned: {
      ms: Math.round(b.ms),
      mb_per_s: mbps(b.ms),
      cpu_mb_per_s: mbps(b.cpu),
      bytes_released: b.bytes,
      memory: memReport(b.mem),
    },
    h_scanned_in_worker: {
      ms: Math.round(g.ms),
      mb_per_s: mbps(g.ms),
      cpu_mb_per_s: mbps(g.cpu),
      main_thread_cpu_ms: g.mainCpu,
      main_thread_cpu_mb_per_s: g.mainCpu ? mbps(g.mainCpu) : null,
      bytes_released: g.bytes,
      findings: g.findings,
    },
    c_scanner_alone: {
      ms: Math.round(c.ms),
      mb_per_s: mbps(c.ms),
      cpu_mb_per_s: mbps(c.cpu),
      passes_mb_per_s: cPasses.map((x) => mbps(x.ms)),
      memory: memReport(c.mem),
    },
    c_small_pushes: {
      push_bytes: SMALL_PUSH,
      mb: round(small.bytes / MB),
      ms: Math.round(small.ms),
      mb_per_s: round(small.bytes / MB / (small.ms / 1000)),
      cpu_mb_per_s: round(small.bytes / MB / (small.cpu / 1000)),
    },
    d_overhead_pct: round(overhead * 100),
    e_findings: {
      total: b.findings.length,
      planted: planted.length,
      planted_found: planted.length - missed.length,
      missed: missed.map((p) => `${p.kind}@${p.stream}:${p.offset}`),
      planted_released_unredacted: leaked.map((p) => `${p.kind}@${p.stream}:${p.offset}`),
      other_findings: other.length,
      other_by_rule: byRule,
    },
    f_first_output: {
      hold_bytes: probe.holdBytes,
      max_hold_ms: probe.maxHoldMs,
      hold_bound: `released output lags what was pushed by at most ${probe.holdBytes} bytes and ${probe.maxHoldMs} ms (the caller's timer on nextDueAt); an open PEM private key block excepted (held to its END line, at most 16 KiB)`,
      hello_latency: first,
      unscanned_latency_ms: 0,
    },
    notes: [
      'a_unscanned is Docker framing removed and the output kept (TextDecoder, string appends) up to a 64 MiB cap, then only counted: a few memory copies per byte, so any per-byte scan in JavaScript is many times its cost',
      'cpu_mb_per_s: the same bytes over the CPU time the process used meanwhile (user + system, GC threads included): on a shared machine, wall time also counts other processes',
      'machine.js_byte_loop_mb_per_s is the speed of the simplest possible JavaScript pass over the same bytes on this machine, for scale',
    ],
    goals: {
      scanner_mb_per_s: { goal: GOAL_MBPS, value: mbps(c.ms), met: mbps(c.ms) >= GOAL_MBPS },
      all_planted_found: { met: missed.length === 0 && leaked.length === 0 },
      // The streaming overhead's goal (at most 20%) is measured where output streams: out of a real
      // sandbox, the same bytes (bench/egress-e2e.ts, mixed.overhead_pct). Here the path has no
      // sandbox and no engine: in memory, Moat's demux and sink alone run at several hundred MB/s,
      // which no scanner written in JavaScript approaches (the plain byte loop above is its scale).
      streaming_overhead: { goal_pct: GOAL_OVERHEAD * 100, measured_by: 'bench/egress-e2e.ts mixed.overhead_pct' },
    },
    in_memory: {
      scanned_path_mb_per_s: mbps(b.ms),
      overhead_pct: round(overhead * 100),
    },
  };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(json + '\n');
  const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'egress-throughput.json'), json + '\n');
}

void main();
