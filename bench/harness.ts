// The batch benchmark: a corpus of small Python programs (bench/harness/programs, each checking
// itself with asserts, exit 0 when correct) run side by side, every program required to pass in
// every column:
//   (a) docker run --rm -i --runtime=<gVisor> --network none IMAGE python3 -   one at a time, 4 at a time
//   (b) moat run -f P with a running Moat (moat daemon)                          one at a time, 4 at a time
//   (c) moat batch --concurrency 4 (through the same daemon)
// Goals (2-core machines): b1 <= 0.5 a1, b4 <= 0.8 a4, c <= 0.7 a4. Also CPU time per run split by
// where it goes, the CLI's start time, and the daemon's memory with a warm pool of 8.
// Writes bench/results/harness.json. Usage: node --import tsx bench/harness.ts [--limit N]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectOwner } from '../app/daemon/client';

const ROOT = join(import.meta.dirname, '..');
const PROGRAMS = join(import.meta.dirname, 'harness', 'programs');
const BUILD_SCRIPT: string = '../scripts/build.mjs';
const CLK = 100; // USER_HZ
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const limit = Number(arg('--limit') ?? Infinity);

interface Prog {
  name: string;
  code: string;
}
const progs: Prog[] = readdirSync(PROGRAMS)
  .filter((f) => f.endsWith('.py'))
  .sort()
  .slice(0, limit)
  .map((f) => ({ name: f.replace(/\.py$/, ''), code: readFileSync(join(PROGRAMS, f), 'utf8') }));

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// CPU accounting (clock ticks → ms): our reaped children (the CLI processes), named daemons, the
// docker cgroup (the sandboxes: gVisor's sentry and gofer plus the program), and the whole machine.
function pidTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function childTicks(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]);
}
function machineTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0); // minus idle, iowait
}
function dockerCgroupMs(): number {
  for (const p of ['/sys/fs/cgroup/cpuacct/docker/cpuacct.usage']) {
    try {
      return Number(readFileSync(p, 'utf8')) / 1e6;
    } catch {
      // not cgroup v1
    }
  }
  try {
    const m = /usage_usec (\d+)/.exec(readFileSync('/sys/fs/cgroup/system.slice/cpu.stat', 'utf8'));
    return m ? Number(m[1]) / 1000 : NaN;
  } catch {
    return NaN;
  }
}
function pidsOf(name: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

let daemonPid = 0;
function cpuSnapshot(): Record<string, number> {
  const ms = (t: number): number => (t * 1000) / CLK;
  return {
    cli: ms(childTicks()),
    moatDaemon: ms(pidTicks(daemonPid)),
    dockerd: ms(pidsOf('dockerd').reduce((a, p) => a + pidTicks(p), 0)),
    containerd: ms(pidsOf('containerd').reduce((a, p) => a + pidTicks(p), 0)),
    sandboxes: dockerCgroupMs(),
    machine: ms(machineTicks()),
  };
}

interface Column {
  wallMs: number;
  passed: number;
  failed: string[];
  perRunMs: number;
  cpuPerRunMs: Record<string, number>;
}

async function column(
  label: string,
  body: (onResult: (name: string, ok: boolean, detail?: string) => void) => Promise<void>,
): Promise<Column> {
  process.stderr.write(`${label}: ${progs.length} programs... `);
  const failed: string[] = [];
  let passed = 0;
  const before = cpuSnapshot();
  const t0 = performance.now();
  await body((name, ok, detail) => {
    if (ok) passed++;
    else failed.push(`${name}${detail ? `: ${detail.slice(0, 300)}` : ''}`);
  });
  const wallMs = performance.now() - t0;
  const after = cpuSnapshot();
  const cpu: Record<string, number> = {};
  for (const k of Object.keys(after)) cpu[k] = Math.round(((after[k]! - before[k]!) / progs.length) * 10) / 10;
  // What the named parts do not explain: containerd shims, runsc create/start/delete, the kernel,
  // and anything else on the machine meanwhile.
  cpu.otherOnMachine = Math.round((cpu.machine! - cpu.cli! - cpu.moatDaemon! - cpu.dockerd! - cpu.containerd! - cpu.sandboxes!) * 10) / 10;
  process.stderr.write(
    `${(wallMs / 1000).toFixed(1)} s, ${passed} passed${failed.length ? `, FAILED ${failed.length}: ${failed.slice(0, 3).join(' | ')}` : ''}\n`,
  );
  return { wallMs: Math.round(wallMs), passed, failed, perRunMs: Math.round(wallMs / progs.length), cpuPerRunMs: cpu };
}

async function main(): Promise<void> {
  const cliDir = join(ROOT, '.scratch', 'harness-cli');
  const { buildCli } = (await import(BUILD_SCRIPT)) as { buildCli: (o: { outDir: string; quiet: boolean }) => Promise<void> };
  await buildCli({ outDir: cliDir, quiet: true });
  const MOAT = join(cliDir, 'moat.mjs');
  const dataDir = mkdtempSync(join(tmpdir(), 'moat-harness-'));
  const env = { ...process.env, MOAT_DATA_DIR: dataDir };
  const moat = (args: string[], input?: string) =>
    run(process.execPath, [MOAT, ...args], { env, ...(input !== undefined ? { input } : {}) });

  // The CLI's start time (the bundle), best and median of 7.
  const starts: Record<string, { bestMs: number; medianMs: number }> = {};
  for (const args of [['--version'], ['history', '-n', '1']]) {
    const t: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await moat(args);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    starts[args.join(' ')] = { bestMs: Math.round(t[0]!), medianMs: Math.round(t[3]!) };
  }

  const started = await moat(['daemon', 'start']);
  if (started.code !== 0) throw new Error(`moat daemon start: ${started.stderr}`);
  daemonPid = (JSON.parse(readFileSync(join(dataDir, 'owner.lock'), 'utf8')) as { pid: number }).pid;
  const owner = await connectOwner(dataDir);
  if (!owner) throw new Error('the daemon does not answer');
  const status = await owner.call('system.status', {});
  const runtime = status.gvisor.runtime;
  if (!runtime) throw new Error('no gVisor runtime');
  const image = (await owner.call('templates.list', {})).find((t) => t.id === 'python')?.image;
  if (!image) throw new Error('no python image');
  const settings = await owner.call('settings.get', {});
  process.stderr.write(
    `image ${image}, runtime ${runtime}, warm pool ${settings.warmPoolSize} (grows to ${settings.maxWarmPool}), daemon pid ${daemonPid}\n`,
  );

  // The program's own CPU: the corpus under python3 on the host (if there is one).
  let nativeCpuPerRunMs: number | null = null;
  if ((await run('python3', ['-c', 'pass'])).code === 0) {
    const c0 = childTicks();
    for (const p of progs) await run('python3', ['-'], { input: p.code });
    nativeCpuPerRunMs = Math.round((((childTicks() - c0) * 1000) / CLK / progs.length) * 10) / 10;
  }

  const cols: Record<string, Column> = {};
  const docker = (p: Prog) =>
    run('docker', ['run', '--rm', '-i', `--runtime=${runtime}`, '--network', 'none', image, 'python3', '-'], { input: p.code });
  const dockerCol = (n: number) =>
    column(`(a) docker run, ${n} at a time`, (done) =>
      pool(progs, n, async (p) => {
        const r = await docker(p);
        done(p.name, r.code === 0, r.stderr);
      }),
    );
  const files = mkdtempSync(join(tmpdir(), 'moat-harness-progs-'));
  for (const p of progs) writeFileSync(join(files, `${p.name}.py`), p.code);
  const moatCol = (n: number) =>
    column(`(b) moat run (daemon), ${n} at a time`, (done) =>
      pool(progs, n, async (p) => {
        const r = await moat(['run', '-f', join(files, `${p.name}.py`)]);
        done(p.name, r.code === 0, r.stderr);
      }),
    );
  // Warm-up: one of each, so image caches are equally warm.
  await docker(progs[0]!);
  await moat(['run', '-f', join(files, `${progs[0]!.name}.py`)]);

  cols.a1 = await dockerCol(1);
  cols.a4 = await dockerCol(4);
  cols.b1 = await moatCol(1);
  cols.b4 = await moatCol(4);
  const jsonl = join(files, 'batch.jsonl');
  writeFileSync(jsonl, progs.map((p) => JSON.stringify({ id: p.name, template: 'python', code: p.code })).join('\n') + '\n');
  cols.c4 = await column('(c) moat batch --concurrency 4 (daemon)', async (done) => {
    const out = join(files, 'batch.out');
    const r = await moat(['batch', jsonl, '--concurrency', '4', '--output', out]);
    const results = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; endReason: string; exitCode: number | null; stderr: string });
    for (const x of results) done(x.id, x.endReason === 'exited' && x.exitCode === 0, `${x.endReason} ${x.exitCode} ${x.stderr}`);
    if (results.length !== progs.length)
      done('(batch)', false, `${results.length} results for ${progs.length} programs; exit ${r.code}: ${r.stderr}`);
  });

  // The daemon's memory: now, and with a warm pool of 8.
  const rssMb = (): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemonPid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  };
  // Not a pool of exactly 8: warmPoolSize is per template (8 would keep 8 of each of the 7 templates),
  // so the figure is taken with the pool as the runs left it (python grown to maxWarmPool, 1 of each other).
  const poolNow = (await owner.call('system.status', {})).pool;
  const memory: Record<string, number> = { daemonRssMb: rssMb(), warmSandboxes: poolNow.warm, poolTarget: poolNow.target };
  try {
    memory.dockerCgroupMb = Math.round(Number(readFileSync('/sys/fs/cgroup/memory/docker/memory.usage_in_bytes', 'utf8')) / 1024 / 1024);
  } catch {
    // not cgroup v1
  }
  owner.close();
  await moat(['daemon', 'stop']);
  rmSync(files, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });

  const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
  const goals = {
    b1_over_a1: { ratio: ratio(cols.b1.wallMs, cols.a1.wallMs), goal: 0.5 },
    b4_over_a4: { ratio: ratio(cols.b4.wallMs, cols.a4.wallMs), goal: 0.8 },
    c4_over_a4: { ratio: ratio(cols.c4.wallMs, cols.a4.wallMs), goal: 0.7 },
  };
  const allPassed = Object.values(cols).every((c) => c.failed.length === 0 && c.passed === progs.length);
  const result = {
    when: new Date().toISOString(),
    programs: progs.length,
    image,
    runtime,
    loadAverageAtEnd: readFileSync('/proc/loadavg', 'utf8').trim(),
    allPassed,
    columns: cols,
    goals: Object.fromEntries(Object.entries(goals).map(([k, v]) => [k, { ...v, met: v.ratio <= v.goal }])),
    nativeProgramCpuPerRunMs: nativeCpuPerRunMs,
    cliStart: starts,
    memory,
    notes: [
      'cpuPerRunMs: cli = the CLI processes (docker or moat) this harness ran; moatDaemon, dockerd, containerd = those processes; sandboxes = the docker cgroup (gVisor sentry and gofer, with the program inside); otherOnMachine = the rest of the machine (containerd shims, runsc create/start/delete, kernel, and any other load meanwhile)',
      'nativeProgramCpuPerRunMs: the same programs under python3 on the host: about what the program itself costs; sandboxes minus it is about the gVisor start and run',
      'the rust subset is not part of this harness',
    ],
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'harness.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (!allPassed) process.exitCode = 1;
}

await main();
