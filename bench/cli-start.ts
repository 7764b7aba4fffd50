// Start-up time of the `moat` command: wall time of `node bin/moat.js --version` and `--help`, RUNS
// times each (BENCH_CLI_RUNS, default 20), p50 and p95 in ms,
//   before  the TypeScript sources compiled at start through tsx (MOAT_CLI_SOURCE=1)
//   after   the bundle `npm run build` makes (dist/cli/moat.mjs)
// with `node -e 0` as the floor (Node's own start on this machine, under its current load). Runs
// alternate between the variants, so a change in the machine's load weighs on all of them alike.
// The bundle is rebuilt first where it is missing or older than its sources (bin/moat.js would
// run the sources then), and one traced run checks that the "after" runs load no tsx.
// Prints one JSON object and writes it to bench/results/cli-start.json. Goal: --version p50 < 150 ms.
//   node --import tsx bench/cli-start.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 20);
const GOAL_VERSION_P50_MS = 150;
const BIN = join(ROOT, 'bin', 'moat.js');

/** Whether bin/moat.js would run the bundle: it exists and no source is newer (its own test). */
function bundleCurrent(): boolean {
  try {
    const built = statSync(join(ROOT, 'dist', 'cli', 'moat.mjs')).mtimeMs;
    const inputs = JSON.parse(readFileSync(join(ROOT, 'dist', 'cli', 'inputs.json'), 'utf8')) as string[];
    return inputs.every((f) => statSync(join(ROOT, f)).mtimeMs <= built);
  } catch {
    return false;
  }
}

let rebuilt = 0;
async function ensureBundle(): Promise<void> {
  if (bundleCurrent()) return;
  process.stderr.write('cli-start: dist/cli is missing or older than its sources: building it\n');
  const { buildCli } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build.mjs')).href)) as {
    buildCli: (o?: { quiet?: boolean }) => Promise<unknown>;
  };
  await buildCli({ quiet: true });
  rebuilt++;
}

// Env for each variant: nothing else of this process's (a NODE_OPTIONS with --import tsx would
// load tsx in the "after" runs too).
const baseEnv: NodeJS.ProcessEnv = { ...process.env };
delete baseEnv.NODE_OPTIONS;
delete baseEnv.MOAT_CLI_SOURCE;

interface Variant {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

const variants: Variant[] = [
  { name: 'node', argv: ['-e', '0'], env: baseEnv },
  { name: 'versionBefore', argv: [BIN, '--version'], env: { ...baseEnv, MOAT_CLI_SOURCE: '1' } },
  { name: 'versionAfter', argv: [BIN, '--version'], env: baseEnv },
  { name: 'helpBefore', argv: [BIN, '--help'], env: { ...baseEnv, MOAT_CLI_SOURCE: '1' } },
  { name: 'helpAfter', argv: [BIN, '--help'], env: baseEnv },
];

function once(v: Variant): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, v.argv, { cwd: ROOT, env: v.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${v.name}: exit ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

// The "after" runs must be the bundle's: one run traced by a resolve hook that logs every module.
function afterLoadsTsx(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'moat-cli-start-'));
  try {
    const log = join(dir, 'resolved.log');
    const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`;
    const preload = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, BIN, '--version'], {
      cwd: ROOT,
      env: baseEnv,
      stdio: 'ignore',
    });
    return readFileSync(log, 'utf8').includes('/node_modules/tsx/');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Nearest-rank percentile. */
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * All runs, alternating variants, after one warm-up each (disk cache) whose outputs are compared:
 * both ways must print the same. A source edited meanwhile (this checkout is shared) would have
 * sent later "after" runs to the sources: then they are all measured again on a new bundle.
 */
async function measure(): Promise<Map<string, number[]>> {
  for (let attempt = 1; ; attempt++) {
    await ensureBundle();
    const firsts = variants.map((v) => once(v).stdout);
    if (firsts[1] !== firsts[2] || firsts[3] !== firsts[4]) throw new Error('the bundle and the sources print different output');
    if (afterLoadsTsx()) throw new Error('the "after" runs load tsx: the bundle is not being used');
    const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let i = 0; i < RUNS; i++) for (const v of variants) times.get(v.name)!.push(once(v).ms);
    if (bundleCurrent()) return times;
    if (attempt === 3) throw new Error('sources kept changing during the runs: the "after" figures would mix in the sources');
    process.stderr.write('cli-start: a source changed during the runs: measuring again\n');
  }
}

const times = await measure();

const stats = (name: string): { p50: number; p95: number } => {
  const s = [...times.get(name)!].sort((a, b) => a - b);
  return { p50: round(pct(s, 50)), p95: round(pct(s, 95)) };
};
const compare = (before: string, after: string) => {
  const b = stats(before);
  const a = stats(after);
  return { before: b, after: a, speedupP50: round(b.p50 / a.p50) };
};

const version = compare('versionBefore', 'versionAfter');
const out = {
  unit: 'ms',
  runs: RUNS,
  command: 'node bin/moat.js --version | --help; before: MOAT_CLI_SOURCE=1 (tsx), after: dist/cli/moat.mjs',
  machine: { cpus: cpus().length, loadavg: loadavg().map(round), node: process.version },
  bundleBuildsByBench: rebuilt,
  nodeFloor: stats('node'),
  version,
  help: compare('helpBefore', 'helpAfter'),
  goal: { versionP50BelowMs: GOAL_VERSION_P50_MS, met: version.after.p50 < GOAL_VERSION_P50_MS },
};
const json = JSON.stringify(out, null, 2);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'cli-start.json'), json + '\n');
process.stdout.write(json + '\n');
