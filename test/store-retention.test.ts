import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pruneCommand } from '../app/cli/history';
import { RunStore } from '../main/store/runs';
import { SettingsStore } from '../main/store/settings';
import { DEFAULT_RETENTION, DEFAULT_SETTINGS, type Retention } from '../shared/types';
import { runRecord, storeDir } from './helpers/records';

const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2030, 0, 31);
const KiB = 1024;

/** A finished run created `ago` ms before NOW, with `outputBytes` of stored output and some code. */
function addRun(s: RunStore, id: string, ago: number, outputBytes = 100, patch = {}): void {
  const rec = runRecord(id, NOW - ago, { code: `print("${id}")`, endedAt: NOW - ago + 1000, ...patch });
  s.put({ ...rec, status: 'running', endReason: undefined, exitCode: null });
  s.saveOutput(id, [{ stream: 'stdout', data: 'x'.repeat(outputBytes) }]);
  s.put(rec);
}

const ids = (s: RunStore): string[] => s.list({ limit: 1000 }).map((r) => r.id);
const files = (dir: string, id: string): boolean[] => ['inputs', 'output'].map((sub) => existsSync(join(dir, sub, `${id}.json`)));

test('retention removes finished runs by age, count and size, newest first, never unfinished ones, and their files', () => {
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    addRun(s, 'ancient', 40 * DAY);
    s.put(runRecord('stuck', NOW - 41 * DAY, { status: 'running', endReason: undefined, exitCode: null }));
    for (let i = 1; i <= 5; i++) addRun(s, `recent${i}`, i * 60_000);
    const limits: Retention = { maxAgeDays: 30, maxRuns: 4, maxBytes: 1024 * 1024 * 1024 };

    const dry = s.prune(limits, { now: NOW, dryRun: true });
    assert.deepEqual(
      dry.removed.map((v) => `${v.id}:${v.reason}`),
      ['recent5:count', 'ancient:age'],
    );
    assert.equal(ids(s).length, 7, 'a dry run removes nothing');
    assert.deepEqual(files(dir.path, 'recent5'), [true, true]);

    const report = s.prune(limits, { now: NOW });
    assert.deepEqual(report.removed, dry.removed);
    assert.equal(report.keptRuns, 5);
    assert.ok(
      report.removed.every((v) => v.bytes > 100),
      'sizes count code and output',
    );
    for (const store of [s, new RunStore(dir.path)]) {
      assert.deepEqual(ids(store), ['recent1', 'recent2', 'recent3', 'recent4', 'stuck'], 'the unfinished run stays, past every limit');
      store.close();
    }
    for (const id of ['recent5', 'ancient']) assert.deepEqual(files(dir.path, id), [false, false], `files of ${id} removed`);
    assert.deepEqual(files(dir.path, 'recent4'), [true, true]);
    assert.equal(readFileSync(join(dir.path, 'runs.jsonl'), 'utf8').split('"recent5"').length, 1, 'gone from the log');

    // By size: newest first, each run kept while it fits; a big one does not take small older ones along.
    const t = new RunStore(dir.path);
    addRun(t, 'big-new', 1000, 600 * KiB);
    addRun(t, 'big-old', 2000, 600 * KiB);
    // Output saved after the run was recorded finished still counts.
    t.put(runRecord('late', NOW - 1500));
    t.saveOutput('late', [{ stream: 'stdout', data: 'x'.repeat(600 * KiB) }]);
    const bySize = t.prune({ maxAgeDays: 30, maxRuns: 100, maxBytes: 1024 * KiB }, { now: NOW });
    assert.deepEqual(
      bySize.removed.map((v) => `${v.id}:${v.reason}`),
      ['late:size', 'big-old:size'],
    );
    assert.deepEqual(ids(t), ['big-new', 'recent1', 'recent2', 'recent3', 'recent4', 'stuck']);
    assert.deepEqual(files(dir.path, 'big-old'), [false, false]);
    t.close();
  } finally {
    dir.cleanup();
  }
});

test('retention settings: defaults, kept across restarts, a bad field falls back alone', () => {
  const dir = storeDir();
  try {
    assert.deepEqual(new SettingsStore(dir.path).get().retention, DEFAULT_RETENTION);
    new SettingsStore(dir.path).update({ retention: { maxAgeDays: 7, maxRuns: 50, maxBytes: 100 * 1024 * 1024 } });
    assert.equal(new SettingsStore(dir.path).get().retention.maxRuns, 50);
    writeFileSync(
      join(dir.path, 'settings.json'),
      JSON.stringify({ ...DEFAULT_SETTINGS, retention: { maxAgeDays: -1, maxRuns: 50, maxBytes: 'lots' } }),
    );
    assert.deepEqual(new SettingsStore(dir.path).get().retention, { ...DEFAULT_RETENTION, maxRuns: 50 });
    // Settings files from before retention existed get the defaults.
    const { retention: _r, ...before } = DEFAULT_SETTINGS;
    writeFileSync(join(dir.path, 'settings.json'), JSON.stringify({ ...before, warmPoolSize: 3 }));
    const s = new SettingsStore(dir.path).get();
    assert.equal(s.warmPoolSize, 3);
    assert.deepEqual(s.retention, DEFAULT_RETENTION);
  } finally {
    dir.cleanup();
  }
});

test('autoPrune applies the retention at start, after a run finishes, and when asked', async () => {
  const dir = storeDir();
  try {
    let retention: Retention = { maxAgeDays: 30, maxRuns: 3, maxBytes: 1024 * 1024 * 1024 };
    const s = new RunStore(dir.path, { retention: () => retention, minPruneIntervalMs: 50 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) s.put(runRecord(`r${i}`, now - 10_000 + i));
    s.autoPrune();
    assert.deepEqual(ids(s), ['r4', 'r3', 'r2'], 'pruned at start');
    s.put(runRecord('r5', now, { status: 'running', endReason: undefined, exitCode: null }));
    s.put(runRecord('r5', now));
    assert.equal(ids(s).length, 4, 'not inside the put: a run is recorded at once');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(ids(s), ['r5', 'r4', 'r3'], 'pruned after the run finished');
    retention = { ...retention, maxRuns: 1 };
    s.schedulePrune(true);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(ids(s), ['r5'], 'pruned at once when the settings change');
    s.close();
  } finally {
    dir.cleanup();
  }
});

test('leftover files (of runs no longer in the history, of interrupted writes) are swept once an hour old', () => {
  const dir = storeDir();
  try {
    const s = new RunStore(dir.path);
    addRun(s, 'live', 0);
    mkdirSync(join(dir.path, 'output'), { recursive: true });
    const leftovers = [
      join(dir.path, 'output', 'gone.json'),
      join(dir.path, 'inputs', '.gone.json.123.456.tmp'),
      join(dir.path, '.settings.json.1.2.tmp'),
    ];
    const fresh = join(dir.path, 'inputs', 'starting.json');
    for (const p of [...leftovers, fresh]) writeFileSync(p, 'x');
    const hourAgo = (Date.now() - 2 * 3600 * 1000) / 1000;
    for (const p of leftovers) utimesSync(p, hourAgo, hourAgo);
    utimesSync(join(dir.path, 'output', 'live.json'), hourAgo, hourAgo);
    const report = s.prune(DEFAULT_RETENTION, { sweep: true });
    assert.deepEqual(report.orphans.map((o) => o.path).sort(), [...leftovers].sort());
    for (const p of leftovers) assert.ok(!existsSync(p), `${p} removed`);
    assert.ok(existsSync(fresh), 'a file of a run just starting in another process stays');
    assert.deepEqual(files(dir.path, 'live'), [true, true], "a recorded run's files stay");
    s.close();
  } finally {
    dir.cleanup();
  }
});

test('moat history prune: the Settings retention by default, flags in its place, --dry-run only reports', () => {
  const dir = storeDir();
  const out: string[] = [];
  const write = process.stdout.write;
  const run = (flags: Parameters<typeof pruneCommand>[0]): string => {
    out.length = 0;
    process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
    try {
      pruneCommand(flags, dir.path);
    } finally {
      process.stdout.write = write;
    }
    return out.join('');
  };
  try {
    const s = new RunStore(dir.path);
    const now = Date.now();
    for (let i = 0; i < 6; i++) s.put(runRecord(`r${i}`, now - i * DAY - 1000));
    s.close();
    new SettingsStore(dir.path).update({ retention: { ...DEFAULT_RETENTION, maxRuns: 5 } });

    assert.match(run({ dryRun: true, keep: '2' }), /would remove r2 .*\(count\)[^]*would remove 4 run\(s\)/);
    assert.equal(new RunStore(dir.path).list().length, 6, 'dry run: nothing removed');
    const text = run({});
    assert.match(text, /^removed r5 .*\(count\)$/m);
    assert.match(text, /removed 1 run\(s\)/);
    assert.match(run({ olderThan: '2d' }), /removed r3 .*\(age\)[^]*removed r4 .*\(age\)/);
    assert.match(run({ keep: '1', maxSize: '1MiB', json: true }), /"removed":\[\{"id":"r1"/);
    assert.deepEqual(
      new RunStore(dir.path).list().map((r) => r.id),
      ['r0'],
    );
    assert.throws(() => run({ olderThan: 'soon' }), /invalid age "soon"/);
  } finally {
    dir.cleanup();
  }
});

test('provider API URLs: defaults, https or loopback http only, a bad one falls back alone', async () => {
  const { SettingsStore } = await import('../main/store/settings');
  const { DEFAULT_PROVIDER_API_URLS, ProviderApiUrl } = await import('../shared/types');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'moat-urls-'));
  try {
    assert.deepEqual(new SettingsStore(dir).get().providerApiUrls, DEFAULT_PROVIDER_API_URLS);
    for (const ok of ['https://proxy.example/api/v1', 'http://127.0.0.1:8080/v4', 'http://localhost/x'])
      assert.equal(ProviderApiUrl.safeParse(ok).success, true, ok);
    for (const bad of ['http://proxy.example/v4', 'https://user:pw@x.example/', 'ftp://x/', 'not a url'])
      assert.equal(ProviderApiUrl.safeParse(bad).success, false, bad);
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ providerApiUrls: { lambda: 'http://evil.example/', linode: 'http://127.0.0.1:9/v4' } }),
    );
    const urls = new SettingsStore(dir).get().providerApiUrls;
    assert.equal(urls.lambda, DEFAULT_PROVIDER_API_URLS.lambda, 'plain http to another host is refused');
    assert.equal(urls.linode, 'http://127.0.0.1:9/v4');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
