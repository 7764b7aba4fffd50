// Audit rows: columns from the details, the filter, and merging a page with pushed entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '../shared/providers';
import { mergeEntries } from '../renderer/src/stores/audit';
import { auditRow, matchesFilter } from '../renderer/src/views/audit/auditRows';

const e = (t: number, action: string, details: AuditEntry['details'] = {}): AuditEntry => ({ t, action, by: 'user:1000', details });

test('row: known details in their columns, outcome ok when absent, the rest compact', () => {
  const r = auditRow(
    e(1, 'instance.terminate', {
      label: 'work',
      target: 'work/gpu-1',
      outcome: 'failed',
      reason: 'not found',
      costCents: 12.5,
      tags: ['a', 'b'],
    }),
  );
  assert.deepEqual(r, { outcome: 'failed', label: 'work', target: 'work/gpu-1', reason: 'not found', rest: 'costCents=12.5 tags=a, b' });
  assert.equal(auditRow(e(1, 'account.add', { label: 'work' })).outcome, 'ok');
  assert.equal(auditRow(e(1, 'account.add')).rest, '');
});

test('filter: case-insensitive over action, details and who; empty matches all', () => {
  const entry = e(1, 'account.rotate', { label: 'Work-GPU', provider: 'linode' });
  assert.ok(matchesFilter(entry, ''));
  assert.ok(matchesFilter(entry, '  '));
  assert.ok(matchesFilter(entry, 'ROTATE'));
  assert.ok(matchesFilter(entry, 'work-gpu'));
  assert.ok(matchesFilter(entry, 'linode'));
  assert.ok(matchesFilter(entry, 'user:1000'));
  assert.ok(!matchesFilter(entry, 'lambda'));
});

test('merge: newest first, an entry pushed during the page load appears once, bounded', () => {
  const pushed = e(30, 'instance.launch', { target: 'work/x' });
  const page = [e(30, 'instance.launch', { target: 'work/x' }), e(20, 'account.add'), e(10, 'account.add', { label: 'a' })];
  const merged = mergeEntries([pushed], page);
  assert.deepEqual(
    merged.map((x) => x.t),
    [30, 20, 10],
  );
  // Same time, different content: both kept.
  assert.equal(mergeEntries([e(5, 'a')], [e(5, 'b')]).length, 2);
  assert.deepEqual(
    mergeEntries([e(1, 'a'), e(3, 'b'), e(2, 'c')], [], 2).map((x) => x.action),
    ['b', 'c'],
  );
});
