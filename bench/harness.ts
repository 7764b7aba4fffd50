// The batch benchmark: a corpus of small Python programs (bench/harness/programs, each checking
// itself with asserts, exit 0 when correct) run side by side, every program required to pass in
// every column:
//   (a) docker run --rm -i --runtime=<gVisor> --network none IMAGE python3 -   one at a time, 4 at a time
//   (b) moat run -f P with a running Moat (moat daemon)                          one at a time, 4 at a time
//   (c) moat batch --concurrency 4 (through the same daemon)
// and the same for the Rust subset (bench/harness/rust, std only): (a) compiles with the Rust
// template's own command (rustc -O) and then runs, inside one docker run; (b) and (c) use the rust
// template. Goals (2-core machines, Python): b1 <= 0.5 a1, b4 <= 0.8 a4, c <= 0.7 a4; the Rust ratios
// are reported beside them without a goal. Also CPU time per run split by where it goes, the CLI's
// start time, and the daemon's memory with a warm pool of 8.
// The Python corpus's 4-at-a-time columns run twice, the second time in the reverse order (a4 b4
// c4, then c4 b4 a4), and their goals use both passes' sums, so that a drift of the machine's speed
// over the run cancels out (--one-pass: once, as before).
// Writes bench/results/harness.json (harness-limited.json with --limit). Usage: node --import tsx bench/harness.ts [--limit N] [--one-pass] (N of each corpus)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectOwner } from '../app/daemon/client';
import { PERF_GROUPS, perfUnavailable, startPerf } from './perf-comm';
import { TEMPLATES } from '../main/sandbox/templates';

const ROOT = join(import.meta.dirname, '..');
const PROGRAMS = join(import.meta.dirname, 'harness', 'programs');
const RUST_PROGRAMS = join(import.meta.dirname, 'harness', 'rust');
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
const corpus = (dir: string, ext: string): Prog[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .slice(0, limit)
    .map((f) => ({ name: f.slice(0, -ext.length), code: readFileSync(join(dir, f), 'utf8') }));
const progs = corpus(PROGRAMS, '.py');
const rustProgs = corpus(RUST_PROGRAMS, '.rs');

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
/** What a run that fails midway must undo. */
const cleanup: { stopDaemon?: () => Promise<void> } = {};
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
  progs: Prog[],
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
  // `moat run` as bin/moat starts it: the native client (native/moat-run.c) where it was built,
  // which hands anything it does not take back to a launcher of the Node CLI (here: of the bundle
  // just built); the Node CLI where there is no compiler.
  const { buildNative } = (await import(BUILD_SCRIPT)) as {
    buildNative: (o: { outDir: string; quiet: boolean }) => { out: string } | void;
  };
  const nativeRun = buildNative({ outDir: join(cliDir, 'native'), quiet: true })?.out ?? null;
  const launcher = join(cliDir, 'moat');
  writeFileSync(launcher, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MOAT)} "$@"\n`, { mode: 0o755 });
  const moatRunCmd = (args: string[]) =>
    nativeRun ? run(nativeRun, [launcher, 'run', ...args], { env }) : run(process.execPath, [MOAT, 'run', ...args], { env });

  // `moat batch` over a list: its request file, and a run of it that reports each program's result.
  const writeBatchFile = (path: string, list: Prog[], template: string): string => {
    writeFileSync(path, list.map((p) => JSON.stringify({ id: p.name, template, code: p.code })).join('\n') + '\n');
    return path;
  };
  const runBatch = async (jsonl: string, out: string, list: Prog[], done: (name: string, ok: boolean, detail?: string) => void) => {
    const r = await moat(['batch', jsonl, '--concurrency', '4', '--output', out]);
    const results = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; endReason: string; exitCode: number | null; stderr: string });
    for (const x of results) done(x.id, x.endReason === 'exited' && x.exitCode === 0, `${x.endReason} ${x.exitCode} ${x.stderr}`);
    if (results.length !== list.length)
      done('(batch)', false, `${results.length} results for ${list.length} programs; exit ${r.code}: ${r.stderr}`);
  };

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
  // A run that fails midway stops its daemon (and so its warm sandboxes) on the way out.
  cleanup.stopDaemon = async () => {
    await moat(['daemon', 'stop']);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const owner = await connectOwner(dataDir);
  if (!owner) throw new Error('the daemon does not answer');
  const status = await owner.call('system.status', {});
  const runtime = status.gvisor.runtime;
  if (!runtime) throw new Error('no gVisor runtime');
  const templates = await owner.call('templates.list', {});
  const image = templates.find((t) => t.id === 'python')?.image;
  if (!image) throw new Error('no python image');
  const rustImage = templates.find((t) => t.id === 'rust')?.image ?? null;
  if (!rustImage && rustProgs.length) throw new Error('no rust image: moat images build');
  const settings = await owner.call('settings.get', {});
  process.stderr.write(
    `image ${image}, rust image ${rustImage}, runtime ${runtime}, warm pool ${settings.warmPoolSize} (grows to ${settings.maxWarmPool}), daemon pid ${daemonPid}\n`,
  );

  // The program's own CPU: the corpus under python3 on the host (if there is one).
  let nativeCpuPerRunMs: number | null = null;
  if ((await run('python3', ['-c', 'pass'])).code === 0) {
    const c0 = childTicks();
    for (const p of progs) await run('python3', ['-'], { input: p.code });
    nativeCpuPerRunMs = Math.round((((childTicks() - c0) * 1000) / CLK / progs.length) * 10) / 10;
  }

  const files = mkdtempSync(join(tmpdir(), 'moat-harness-progs-'));
  // One corpus in every column: (a) docker run with `dockerArgv` (the program on stdin), (b) moat
  // run per program file, (c) moat batch.
  const columns = async (
    prefix: string,
    list: Prog[],
    o: { template: string; ext: string; dockerArgv: string[]; secondPass?: boolean },
  ): Promise<Record<string, Column>> => {
    const docker = (p: Prog) => run('docker', o.dockerArgv, { input: p.code });
    for (const p of list) writeFileSync(join(files, `${p.name}${o.ext}`), p.code);
    const moatRun = (p: Prog) => moatRunCmd(['-t', o.template, '-f', join(files, `${p.name}${o.ext}`)]);
    const dockerCol = (n: number, label = '') =>
      column(`${prefix}(a) docker run, ${n} at a time${label}`, list, (done) =>
        pool(list, n, async (p) => {
          const r = await docker(p);
          done(p.name, r.code === 0, r.stderr);
        }),
      );
    const moatCol = (n: number, label = '') =>
      column(`${prefix}(b) moat run (daemon), ${n} at a time${label}`, list, (done) =>
        pool(list, n, async (p) => {
          const r = await moatRun(p);
          done(p.name, r.code === 0, r.stderr);
        }),
      );
    // Warm-up: one of each, so image caches are equally warm.
    await docker(list[0]!);
    await moatRun(list[0]!);
    const cols: Record<string, Column> = {};
    cols.a1 = await dockerCol(1);
    cols.a4 = await dockerCol(4);
    cols.b1 = await moatCol(1);
    cols.b4 = await moatCol(4);
    const jsonl = writeBatchFile(join(files, `${o.template}.jsonl`), list, o.template);
    const batchCol = (label: string) =>
      column(`${prefix}(c) moat batch --concurrency 4 (daemon)${label}`, list, (done) =>
        runBatch(jsonl, join(files, `${o.template}.out`), list, done),
      );
    cols.c4 = await batchCol('');
    // The 4-at-a-time columns again, in the reverse order (a4 b4 c4 | c4 b4 a4): the machine's
    // speed drifts over a run of this length (other load on a shared host, its caches), and a
    // drift that favours the columns run later cancels out of the ratios of the two passes' sums.
    if (o.secondPass) {
      cols.c4_2 = await batchCol(', second pass');
      cols.b4_2 = await moatCol(4, ', second pass');
      cols.a4_2 = await dockerCol(4, ', second pass');
    }
    return cols;
  };
  const dockerBase = ['run', '--rm', '-i', `--runtime=${runtime}`, '--network', 'none'];
  const cols = await columns('', progs, {
    template: 'python',
    ext: '.py',
    dockerArgv: [...dockerBase, image, 'python3', '-'],
    secondPass: !process.argv.includes('--one-pass'),
  });

  // Where a run's CPU goes (the issue's split: Moat, dockerd/containerd, gVisor's start, the
  // program). The sandbox cgroup holds gVisor's sentry and gofer with the program inside, so the
  // split needs runs with nothing to run, four at a time like (a4) and (c), in the order
  // g p m m p g (a drift of the machine's speed cancels out of the sums):
  //   g: docker run IMAGE /bin/true: one gVisor sandbox's start and end through `docker run`
  //   p: docker run IMAGE python3 - with `pass` on stdin: (a) with an empty program
  //   m: moat batch --concurrency 4 of `pass` programs: (c) with empty programs
  const K = Math.min(48, progs.length);
  const empties: Prog[] = Array.from({ length: K }, (_, i) => ({ name: `empty${i}`, code: 'pass\n' }));
  const emptiesJsonl = writeBatchFile(join(files, 'empties.jsonl'), empties, 'python');
  const floorCol = (kind: 'g' | 'p' | 'm'): Promise<Column> =>
    column(
      `(floor ${kind}) ${kind === 'g' ? 'docker run /bin/true' : kind === 'p' ? 'docker run python3 - (pass)' : 'moat batch (pass)'}, 4 at a time`,
      empties,
      async (done) => {
        if (kind === 'm') return runBatch(emptiesJsonl, join(files, 'empties.out'), empties, done);
        const argv = kind === 'g' ? [...dockerBase, image, '/bin/true'] : [...dockerBase, image, 'python3', '-'];
        await pool(empties, 4, async (p) => {
          const r = await run('docker', argv, { input: kind === 'g' ? '' : p.code });
          done(p.name, r.code === 0, r.stderr);
        });
      },
    );
  const floors: Record<string, Column[]> = { g: [], p: [], m: [] };
  for (const k of ['g', 'p', 'm', 'm', 'p', 'g'] as const) floors[k]!.push(await floorCol(k));

  // The same by process name where `perf` can sample the whole machine: one more pass of (a4) and
  // (c) over the first K programs, sampled (not timed: the goals use the columns above).
  let perfWhyNot = perfUnavailable();
  const byProcess: Record<string, Record<string, number>> = {};
  if (perfWhyNot) process.stderr.write(`CPU by process name: skipped: ${perfWhyNot}\n`);
  else
    try {
      const first = progs.slice(0, K);
      const firstJsonl = writeBatchFile(join(files, 'first.jsonl'), first, 'python');
      const sampled: [string, () => Promise<void>][] = [
        ['a4', () => pool(first, 4, async (p) => void (await run('docker', [...dockerBase, image, 'python3', '-'], { input: p.code })))],
        ['c4', async () => void (await moat(['batch', firstJsonl, '--concurrency', '4', '--output', join(files, 'first.out')]))],
      ];
      for (const [name, body] of sampled) {
        process.stderr.write(`CPU by process name: ${name} over ${K} programs, sampled with perf... `);
        const m0 = cpuSnapshot().machine!;
        const perf = startPerf(join(files, `${name}.perf`));
        try {
          await body();
        } catch (err) {
          await perf.stop().catch(() => undefined); // the recording ends with the column
          throw err;
        }
        const m1 = cpuSnapshot().machine!;
        const samples = await perf.stop();
        const total = Object.values(samples).reduce((a, b) => a + b, 0);
        const perRun = (m1 - m0) / K;
        byProcess[name] = Object.fromEntries(PERF_GROUPS.map(([g]) => [g, Math.round((samples[g] / total) * perRun * 10) / 10]));
        process.stderr.write(`${Math.round(perRun)} ms of the machine a run\n`);
      }
    } catch (err) {
      // The sampling is an extra: a perf that fails midway costs it, not the run's other figures.
      perfWhyNot = `perf failed: ${(err as Error).message}`;
      process.stderr.write(`CPU by process name: ${perfWhyNot}\n`);
    }

  // Rust: the docker column does what the template does in its sandbox (its prepare lines, its
  // compile command, then the binary), in one `sh -c`.
  let rustCols: Record<string, Column> = {};
  const rustDef = TEMPLATES.find((t) => t.id === 'rust');
  if (rustProgs.length && rustImage && rustDef?.compile) {
    const word = (w: string): string => {
      if (!/^[\w./=-]+$/.test(w)) throw new Error(`the rust template's command has a word this harness does not quote: ${w}`);
      return w;
    };
    const script = [
      ...(rustDef.prepare ?? []),
      `mkdir -p /work && cat > /work/${word(rustDef.codeFile)} && ${rustDef.compile.argv.map(word).join(' ')} && ${rustDef.interpreter.map(word).join(' ')}`,
    ].join('\n');
    rustCols = await columns('rust ', rustProgs, {
      template: 'rust',
      ext: '.rs',
      dockerArgv: [...dockerBase, rustImage, 'sh', '-c', script],
    });
  }

  // The daemon's memory with a warm pool of 8: warmPoolSize is per template, so 8 over the
  // templates that keep warm sandboxes (python and shell: 4 each), and maxWarmPool no higher, so
  // that the demand the columns left does not add more. Measured once that many are warm.
  const pooled = TEMPLATES.filter((t) => t.warmPool !== false).length;
  const perTemplate = Math.ceil(8 / pooled);
  await owner.call('settings.update', { warmPoolSize: perTemplate, maxWarmPool: perTemplate });
  const poolDeadline = Date.now() + 180_000;
  let poolNow = (await owner.call('system.status', {})).pool;
  while ((poolNow.warm < poolNow.target || poolNow.target !== pooled * perTemplate) && Date.now() < poolDeadline) {
    await new Promise((r) => setTimeout(r, 500));
    poolNow = (await owner.call('system.status', {})).pool;
  }
  await new Promise((r) => setTimeout(r, 3000)); // the last one's warm-up settles
  poolNow = (await owner.call('system.status', {})).pool;
  const rssMb = (): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemonPid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  };
  const warmIds = (
    await run('docker', ['ps', '--no-trunc', '--filter', 'label=moat.pool', '--format', '{{.ID}}\t{{.Label "moat.owner"}}'])
  ).stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([id, own]) => id && own?.startsWith(`${hostname()}:${daemonPid}:`))
    .map(([id]) => id!);
  const cgroupBytes = (id: string): number => {
    for (const p of [
      `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
      `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
    ]) {
      try {
        return Number(readFileSync(p, 'utf8'));
      } catch {
        // the other cgroup layout
      }
    }
    return NaN;
  };
  const sandboxBytes = warmIds.map(cgroupBytes);
  const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;
  const memory: Record<string, number | string> = {
    daemonRssMb: rssMb(),
    warmSandboxes: poolNow.warm,
    poolTarget: poolNow.target,
    warmPoolSizePerTemplate: perTemplate,
    warmSandboxesMeasured: warmIds.length,
    warmSandboxesCgroupMb: mb(sandboxBytes.reduce((a, b) => a + b, 0)),
    perWarmSandboxCgroupMb: warmIds.length ? mb(sandboxBytes.reduce((a, b) => a + b, 0) / warmIds.length) : NaN,
  };
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
  // The 4-at-a-time goals over both passes (their sums) where the second pass ran; each pass's own
  // ratios are reported beside them.
  const wall = (k: 'a4' | 'b4' | 'c4'): number => cols[k]!.wallMs + (cols[`${k}_2`]?.wallMs ?? 0);
  const goals = {
    b1_over_a1: { ratio: ratio(cols.b1!.wallMs, cols.a1!.wallMs), goal: 0.5 },
    b4_over_a4: { ratio: ratio(wall('b4'), wall('a4')), goal: 0.8 },
    c4_over_a4: { ratio: ratio(wall('c4'), wall('a4')), goal: 0.7 },
  };
  const perPass = cols.a4_2
    ? {
        first: { b4_over_a4: ratio(cols.b4!.wallMs, cols.a4!.wallMs), c4_over_a4: ratio(cols.c4!.wallMs, cols.a4!.wallMs) },
        second: { b4_over_a4: ratio(cols.b4_2!.wallMs, cols.a4_2!.wallMs), c4_over_a4: ratio(cols.c4_2!.wallMs, cols.a4_2!.wallMs) },
      }
    : null;
  // The issue's split, ms of the machine's CPU per run, four at a time (the mean of both passes).
  // The sandbox cgroup's CPU is split with the empty runs: gVisor's own start and end (g), Python's
  // start (p - g), what Moat adds inside the sandbox (m - p: the bootstrap shell that reads the
  // script, writes the code file and reports the exit), and the program (the column - its empty run).
  const meanCpu = (cs: (Column | undefined)[]): Record<string, number> => {
    const xs = cs.filter((c): c is Column => c !== undefined);
    return Object.fromEntries(Object.keys(xs[0]!.cpuPerRunMs).map((k) => [k, xs.reduce((a, c) => a + c.cpuPerRunMs[k]!, 0) / xs.length]));
  };
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const [G, P, M] = [meanCpu(floors.g!), meanCpu(floors.p!), meanCpu(floors.m!)];
  const split = (x: Record<string, number>, viaMoat: boolean, empty: Record<string, number>) => ({
    moat: r1(viaMoat ? x.cli! + x.moatDaemon! : 0),
    dockerCli: r1(viaMoat ? 0 : x.cli!),
    dockerdContainerd: r1(x.dockerd! + x.containerd!),
    gvisorStartInSandbox: r1(G.sandboxes!),
    gvisorCommandsShimsKernel: r1(x.otherOnMachine!),
    pythonStart: r1(P.sandboxes! - G.sandboxes!),
    moatInSandbox: r1(viaMoat ? M.sandboxes! - P.sandboxes! : 0),
    program: r1(x.sandboxes! - empty.sandboxes!),
    total: r1(x.machine!),
  });
  const cpuSplitMs = { a4: split(meanCpu([cols.a4, cols.a4_2]), false, P), c4: split(meanCpu([cols.c4, cols.c4_2]), true, M) };
  const perRunWall = (cs: Column[], n: number): number => cs.reduce((a, c) => a + c.wallMs, 0) / cs.length / n;
  const a4PerRunMs = perRunWall([cols.a4!, ...(cols.a4_2 ? [cols.a4_2] : [])], progs.length);
  const floorRatios = {
    emptyBatchOverA4: ratio(perRunWall(floors.m!, K), a4PerRunMs),
    emptyDockerRunOverA4: ratio(perRunWall(floors.p!, K), a4PerRunMs),
    trueDockerRunOverA4: ratio(perRunWall(floors.g!, K), a4PerRunMs),
  };
  const passedAll = (c: Record<string, Column>, n: number): boolean =>
    Object.values(c).every((x) => x.failed.length === 0 && x.passed === n);
  const rustRan = Object.keys(rustCols).length > 0;
  const allPassed =
    passedAll(cols, progs.length) &&
    Object.values(floors).every((cs) => cs.every((c) => c.failed.length === 0 && c.passed === K)) &&
    (!rustProgs.length || (rustRan && passedAll(rustCols, rustProgs.length)));
  const result = {
    when: new Date().toISOString(),
    programs: progs.length,
    image,
    runtime,
    loadAverageAtEnd: readFileSync('/proc/loadavg', 'utf8').trim(),
    /** Which `moat run` column (b) measured: the native client, or the Node CLI (no C compiler). */
    runClient: nativeRun ? 'native (native/moat-run.c)' : 'node',
    allPassed,
    columns: cols,
    goals: Object.fromEntries(Object.entries(goals).map(([k, v]) => [k, { ...v, met: v.ratio <= v.goal }])),
    /** The 4-at-a-time ratios of each pass (a4 b4 c4, then c4 b4 a4); the goals use both passes' sums. */
    ratiosPerPass: perPass,
    /** Where a run's CPU goes, ms per run four at a time (see notes). */
    cpuSplitMs,
    /** Runs with nothing to run, four at a time (see notes): each kind twice, g p m m p g. */
    emptyRuns: { programs: K, ratios: floorRatios, columns: floors },
    /** ms of the machine per run by process name (perf), over the first K programs; or why not. */
    cpuByProcessMs: perfWhyNot ? { skipped: perfWhyNot } : byProcess,
    rust: rustRan
      ? {
          programs: rustProgs.length,
          image: rustImage,
          columns: rustCols,
          // No goal is set for Rust: each program is compiled in its run, which dominates.
          ratios: {
            b1_over_a1: ratio(rustCols.b1!.wallMs, rustCols.a1!.wallMs),
            b4_over_a4: ratio(rustCols.b4!.wallMs, rustCols.a4!.wallMs),
            c4_over_a4: ratio(rustCols.c4!.wallMs, rustCols.a4!.wallMs),
          },
        }
      : null,
    nativeProgramCpuPerRunMs: nativeCpuPerRunMs,
    cliStart: starts,
    memory,
    notes: [
      'cpuPerRunMs: cli = the CLI processes (docker or moat) this harness ran; moatDaemon, dockerd, containerd = those processes; sandboxes = the docker cgroup (gVisor sentry and gofer, with the program inside); otherOnMachine = the rest of the machine (containerd shims, runsc create/start/delete, kernel, and any other load meanwhile)',
      'cpuSplitMs: moat = the Moat CLI and daemon; dockerCli = the docker CLI; dockerdContainerd = those two daemons; gvisorStartInSandbox = the sandbox cgroup of `docker run IMAGE /bin/true` (gVisor’s sentry and gofer starting and ending); gvisorCommandsShimsKernel = the rest of the machine: the runsc create/start/delete commands, the containerd shims, the kernel; pythonStart = the sandbox cgroup of an empty Python run minus /bin/true; moatInSandbox = an empty `moat batch` run’s sandbox minus an empty docker run’s (the bootstrap shell); program = the column’s sandbox minus its empty run’s. They add up to total, the machine’s CPU per run',
      `emptyRuns: ${K} runs each of docker run /bin/true (g), docker run python3 - with \`pass\` (p) and moat batch --concurrency 4 of \`pass\` (m); ratios: their time per run over (a4)’s: emptyBatchOverA4 is what (c)/(a4) would be if every program cost nothing`,
      'cpuByProcessMs: perf sampling every CPU during one more pass of (a4) and (c) over the first programs, by process name (groups: ' +
        PERF_GROUPS.map(([g, what]) => `${g} = ${what}`).join('; ') +
        '), scaled to the machine’s CPU per run in that pass',
      'nativeProgramCpuPerRunMs: the same programs under python3 on the host: about what the program itself costs; sandboxes minus it is about the gVisor start and run',
      'rust: (a) runs the rust template’s prepare lines, its compile command (rustc -O) and the binary in one docker run; (b) and (c) use the rust template (cold sandboxes: compiled templates keep no warm pool). Ratios are reported without a goal',
      `memory: a pool of 8 = warmPoolSize ${perTemplate} for each of the ${pooled} templates that keep warm sandboxes; warmSandboxesCgroupMb sums the memory cgroups of the daemon's warm sandboxes (gVisor sentry and gofer included); dockerCgroupMb is every container on the machine (other users' too)`,
    ],
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  // A quick run (--limit) does not replace the full run's figures.
  const outName = Number.isFinite(limit) ? 'harness-limited.json' : 'harness.json';
  writeFileSync(join(ROOT, 'bench', 'results', outName), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (!allPassed) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  await cleanup.stopDaemon?.();
  throw err;
}
