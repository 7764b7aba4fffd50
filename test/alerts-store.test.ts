// The alert store: alerts and acknowledgements shared by several processes (two stores on one
// directory stand in for them), filters, counts, the bound on what is kept and the file's
// compaction (acknowledgements folded in, nothing another store appended lost), suppressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertStore, type NewAlert } from '../main/store/alerts';
import { tempDir } from './helpers/engine';

function alert(i: number, over: Partial<NewAlert> = {}): NewAlert {
  return {
    kind: 'secret',
    runId: `r${i % 3}`,
    template: 'python',
    target: 'local',
    severity: i % 2 ? 'critical' : 'medium',
    detector: 'format',
    rule: i % 2 ? 'aws-access-key-id' : 'generic-token',
    title: 'x',
    stream: 'stdout',
    offset: i,
    length: 20,
    preview: 'AKIA************X4LM',
    ...over,
  };
}

const lines = (dir: string): number => readFileSync(join(dir, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).length;

test('two stores on one directory see each other; filters, counts and acknowledgement', () => {
  const dir = tempDir('moat-alerts-');
  const a = new AlertStore(dir.path);
  const b = new AlertStore(dir.path);
  try {
    const first = a.append(alert(1));
    b.append(alert(2));
    a.append(alert(3, { kind: 'network', rule: 'net-refused', destination: 'x.test', port: 443 }));
    assert.deepEqual(
      b.list().map((x) => x.offset),
      [3, 2, 1],
      'newest first, from both',
    );
    assert.equal(b.list({ severity: 'critical' }).length, 2);
    assert.equal(b.list({ rule: 'generic-token' }).length, 1);
    assert.equal(b.list({ runId: 'r1' }).length, 1);
    assert.equal(b.list({ kind: 'network' }).length, 1);
    assert.deepEqual(a.counts(), { unacknowledged: 3, bySeverity: { critical: 2, high: 0, medium: 1, low: 0 }, total: 3 });
    assert.equal(b.acknowledge([first.id, 'nope']), 1);
    assert.equal(a.acknowledge([first.id]), 0, 'already acknowledged, seen from the other store');
    assert.equal(a.list({ acknowledged: true })[0]?.id, first.id);
    assert.equal(a.counts().unacknowledged, 2);
  } finally {
    a.close();
    b.close();
    dir.cleanup();
  }
});

test('past twice the bound the file is compacted: the newest kept, acknowledgements folded in, nothing another store wrote lost', () => {
  const dir = tempDir('moat-alerts-');
  const a = new AlertStore(dir.path, { maxAlerts: 10 });
  const b = new AlertStore(dir.path, { maxAlerts: 10 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push((i % 2 ? a : b).append(alert(i)).id);
    a.acknowledge(ids.slice(12));
    for (let i = 15; i < 30; i++) (i % 2 ? a : b).append(alert(i));
    assert.ok(lines(dir.path) <= 20, `compacted: ${lines(dir.path)} lines`);
    const kept = b.list({ limit: 100 });
    assert.equal(kept.length, 10);
    assert.deepEqual(
      kept.map((x) => x.offset),
      [29, 28, 27, 26, 25, 24, 23, 22, 21, 20],
    );
    // A store opened now reads the compacted file the same way.
    const c = new AlertStore(dir.path, { maxAlerts: 10 });
    assert.deepEqual(
      c.list({ limit: 100 }).map((x) => x.offset),
      kept.map((x) => x.offset),
    );
    c.close();
  } finally {
    a.close();
    b.close();
    dir.cleanup();
  }
});

test('acknowledged alerts survive a compaction acknowledged', () => {
  const dir = tempDir('moat-alerts-');
  const a = new AlertStore(dir.path, { maxAlerts: 4 });
  try {
    const ids = [0, 1, 2, 3].map((i) => a.append(alert(i)).id);
    a.acknowledge(ids.slice(2));
    for (let i = 4; i < 6; i++) a.append(alert(i));
    // 4 alerts + 1 ack + 2 alerts = 7 lines, then the compaction at 9
    a.append(alert(6));
    a.append(alert(7));
    assert.ok(lines(dir.path) <= 8, `${lines(dir.path)} lines`);
    const reopened = new AlertStore(dir.path, { maxAlerts: 4 });
    assert.deepEqual(
      reopened.list({ limit: 10 }).map((x) => x.offset),
      [7, 6, 5, 4],
      'the oldest, acknowledged ones first, went',
    );
    reopened.close();
  } finally {
    a.close();
    dir.cleanup();
  }
});

test('suppressions: kept in a file, listed, removed; an unknown rule is reported', () => {
  const dir = tempDir('moat-alerts-');
  const a = new AlertStore(dir.path);
  try {
    a.suppress({ rule: 'generic-token', reason: 'noise', t: 1, by: 'me' });
    assert.deepEqual(
      new AlertStore(dir.path).suppressed().map((s) => s.rule),
      ['generic-token'],
    );
    assert.ok(a.suppressedRules().has('generic-token'));
    assert.equal(a.unsuppress('generic-token'), true);
    assert.equal(a.unsuppress('generic-token'), false);
    assert.equal(a.suppressed().length, 0);
  } finally {
    a.close();
    dir.cleanup();
  }
});
