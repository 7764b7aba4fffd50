// `moat` from the bundle `npm run build` makes (dist/cli/moat.mjs): bin/moat.js runs it without
// loading tsx, with the same output as the TypeScript sources, and runs the sources instead where
// the bundle is missing or older than them, or MOAT_CLI_SOURCE=1. Checked in a checkout of its own
// (a temp dir: bin/moat.js copied, the sources linked, the bundle built into its dist/cli), so the
// real dist/cli is never rebuilt under other processes. Which path ran is seen by Node itself: a
// module resolve hook logs every module loaded. Needs no engine.
//   node --import tsx --test test/cli-bundle.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const ROOT = path.join(import.meta.dirname, '..');
const { buildCli } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'build.mjs')).href)) as {
  buildCli: (o: { outDir: string; quiet: boolean }) => Promise<{ entry: string }>;
};

// Not AWS's documented example key, which the rules may treat as a placeholder.
const KEY = 'AKIAZ7VQ3KX2M6PLT4RB';

const dir = mkdtempSync(path.join(tmpdir(), 'moat-cli-bundle-'));
const checkout = path.join(dir, 'checkout');
const cliDir = path.join(checkout, 'dist', 'cli');
const bundle = path.join(cliDir, 'moat.mjs');
const resolveLog = path.join(dir, 'resolved.log');
after(() => rmSync(dir, { recursive: true, force: true }));

// Dated a day ahead: sources that others edit during the run must not make it stale here.
const AHEAD = new Date(Date.now() + 86_400_000);

before(async () => {
  await buildCli({ outDir: cliDir, quiet: true });
  utimesSync(bundle, AHEAD, AHEAD);
  // Copied: Node runs a symlinked main script from its real path, which would be the real checkout's.
  mkdirSync(path.join(checkout, 'bin'));
  copyFileSync(path.join(ROOT, 'bin', 'moat.js'), path.join(checkout, 'bin', 'moat.js'));
  const inputs = JSON.parse(readFileSync(path.join(cliDir, 'inputs.json'), 'utf8')) as string[];
  const tops = new Set(inputs.map((f) => f.split('/')[0]!));
  for (const e of [...tops, 'node_modules', 'package.json']) symlinkSync(path.join(ROOT, e), path.join(checkout, e));
});

// Logs the URL of every module Node resolves (the hooks run on their own thread, hence a file).
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MOAT_TEST_RESOLVE_LOG, r.url + '\\n');
  return r;
}`;
const PRELOAD = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** URLs of the modules the process loaded. */
  loaded: string[];
}

/** The checkout's bin/moat.js; `source` sets MOAT_CLI_SOURCE=1. */
function moat(args: string[], opts: { source?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  rmSync(resolveLog, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, MOAT_TEST_RESOLVE_LOG: resolveLog };
  delete env.MOAT_CLI_SOURCE;
  delete env.NODE_OPTIONS;
  if (opts.source) env.MOAT_CLI_SOURCE = '1';
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, path.join(checkout, 'bin', 'moat.js'), ...args],
    { cwd: dir, env, encoding: 'utf8', input: opts.input ?? '', timeout: 60_000 },
  );
  const loaded = existsSync(resolveLog) ? readFileSync(resolveLog, 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const BUNDLE_URL = pathToFileURL(bundle).href;
const usedTsx = (r: Run): boolean => r.loaded.some((u) => u.includes('/node_modules/tsx/'));
const usedBundle = (r: Run): boolean => r.loaded.includes(BUNDLE_URL);
/** npm packages a run loaded, by name. */
const packages = (r: Run): string[] =>
  [...new Set(r.loaded.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort();

function assertFromBundle(r: Run): void {
  assert.ok(usedBundle(r), `the bundle was not loaded; loaded: ${r.loaded.join(' ')}`);
  assert.ok(!usedTsx(r), `tsx was loaded: ${r.loaded.filter((u) => u.includes('tsx')).join(' ')}`);
}

function assertFromSource(r: Run): void {
  assert.ok(usedTsx(r) && !usedBundle(r), `expected the sources through tsx; loaded: ${r.loaded.join(' ')}`);
  assert.ok(r.loaded.some((u) => u.endsWith('/app/cli/main.ts')));
}

test('the build writes the bundle, its source map, its chunks and the list of its sources', () => {
  assert.ok(existsSync(bundle) && existsSync(`${bundle}.map`));
  assert.ok(readdirSync(path.join(cliDir, 'chunks')).some((f) => f.endsWith('.mjs')));
  const inputs = JSON.parse(readFileSync(path.join(cliDir, 'inputs.json'), 'utf8')) as string[];
  assert.ok(inputs.includes('app/cli/main.ts') && inputs.includes('app/cli/scan.ts'), inputs.join(' '));
});

test('--version from the bundle: no tsx, nothing from node_modules (commander is bundled), the same output as the sources', () => {
  const b = moat(['--version']);
  assert.equal(b.status, 0, b.stderr);
  assertFromBundle(b);
  assert.deepEqual(packages(b), []);
  const s = moat(['--version'], { source: true });
  assert.equal(s.status, 0, s.stderr);
  assertFromSource(s); // the positive control: the log does see tsx when it is loaded
  assert.deepEqual([b.stdout, b.stderr], [s.stdout, s.stderr]);
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(b.stdout, `${version}\n`);
});

test('help, usage errors and exit codes: the same from the bundle as from the sources', () => {
  for (const args of [['--help'], [], ['status', '--help'], ['history', 'prune', '--help'], ['help', 'scan'], ['nope'], ['accounts']]) {
    const b = moat(args);
    assertFromBundle(b);
    const s = moat(args, { source: true });
    assert.deepEqual(
      { status: b.status, stdout: b.stdout, stderr: b.stderr },
      { status: s.status, stdout: s.stdout, stderr: s.stderr },
      `moat ${args.join(' ')}`,
    );
  }
});

test("usage errors exit 2 (the README's contract), help and --version 0; a command's own answer keeps its status", () => {
  const cases: [string[], number][] = [
    [['--help'], 0],
    [['help', 'run'], 0],
    [['--version'], 0],
    [['nope'], 2],
    [['run', '--no-such-flag'], 2],
    [['run', '--egress-policy', 'bogus', '-c', 'x'], 2],
    [['accounts', 'nope'], 2],
    [[], 2],
  ];
  for (const [args, status] of cases) {
    const r = moat(args);
    assert.equal(r.status, status, `moat ${args.join(' ')}: ${r.stderr}`);
    if (status === 2) assert.match(r.stderr, /error:|^Usage:/m, `moat ${args.join(' ')} says what is wrong, or how to use it`);
  }
});

test('a subcommand from the bundle: moat scan finds a key in a file (exit 1) and loads only its own module', () => {
  const file = path.join(dir, 'leak.log');
  writeFileSync(file, `first line\nsecond ${KEY} here\n`);
  const r = moat(['scan', '--json', file]);
  assert.equal(r.status, 1, r.stderr);
  assertFromBundle(r);
  const [finding] = r.stdout.split('\n').filter(Boolean);
  assert.deepEqual((({ file, line, rule }) => ({ file, line, rule }))(JSON.parse(finding!) as Record<string, unknown>), {
    file,
    line: 2,
    rule: 'aws-access-key-id',
  });
  assert.ok(!r.stdout.includes(KEY));
  // Scanning needs neither Docker, SSH nor the other commands' modules.
  for (const p of ['dockerode', 'ssh2']) assert.ok(!packages(r).includes(p), `scan loaded ${p}`);
  assert.ok(!r.loaded.some((u) => /\/chunks\/(accounts|hosts|instances|firewall)-/.test(u)), r.loaded.join(' '));
});

test('a subcommand that opens the stores: moat history --json on an empty data dir, both ways', () => {
  const env = { MOAT_DATA_DIR: path.join(dir, 'data') };
  const b = moat(['history', '--json'], { env });
  assert.equal(b.status, 0, b.stderr);
  assertFromBundle(b);
  const s = moat(['history', '--json'], { env, source: true });
  assert.deepEqual([b.stdout, b.stderr], [s.stdout, s.stderr]);
});

test('a bundle older than its sources, or none: bin/moat.js runs the sources', () => {
  utimesSync(bundle, new Date('2001-01-01'), new Date('2001-01-01'));
  try {
    const r = moat(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assertFromSource(r);
  } finally {
    utimesSync(bundle, AHEAD, AHEAD);
  }
  assertFromBundle(moat(['--version'])); // current again
  renameSync(bundle, `${bundle}.away`);
  try {
    const r = moat(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assertFromSource(r);
  } finally {
    renameSync(`${bundle}.away`, bundle);
  }
});
