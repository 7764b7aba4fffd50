// The detectors against a labelled corpus of program output (test/fixtures/egress/corpus.jsonl,
// built by make-corpus.ts): recall on planted secrets, and how often near-misses and ordinary
// output are flagged. Prints the three figures as one JSON line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { detectAll, entropyDetector, formatDetector } from '../main/egress/detect';
import type { Match } from '../main/egress/types';

interface Row {
  kind: 'planted' | 'near-miss' | 'benign';
  label: string;
  text: string;
  secret?: [number, number];
}

const rows = readFileSync(new URL('./fixtures/egress/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Row);
const detectors = [formatDetector(), entropyDetector()];

function covers(matches: Match[], [start, end]: [number, number]): boolean {
  return matches.some((m) => m.start < end && m.end > start);
}

test('corpus: recall >= 0.95, near-miss flag rate <= 0.10, benign flag rate <= 0.01', () => {
  const planted = rows.filter((r) => r.kind === 'planted');
  const near = rows.filter((r) => r.kind === 'near-miss');
  const benign = rows.filter((r) => r.kind === 'benign');
  assert.ok(planted.length >= 300 && near.length >= 100 && benign.length >= 500, 'corpus too small');

  const missed = planted.filter((r) => !covers(detectAll(r.text, detectors), r.secret!));
  const nearFlagged = near.filter((r) => detectAll(r.text, detectors).length > 0);
  const benignFlagged = benign.filter((r) => detectAll(r.text, detectors).length > 0);
  const figures = {
    recall: +(1 - missed.length / planted.length).toFixed(4),
    nearMissRate: +(nearFlagged.length / near.length).toFixed(4),
    benignRate: +(benignFlagged.length / benign.length).toFixed(4),
    planted: planted.length,
    nearMiss: near.length,
    benign: benign.length,
  };
  console.log(JSON.stringify(figures));
  const show = (rs: Row[]) =>
    rs
      .slice(0, 10)
      .map((r) => `${r.label}: ${r.text.slice(0, 120)} -> ${JSON.stringify(detectAll(r.text, detectors).map((m) => m.rule))}`)
      .join('\n');
  assert.ok(figures.recall >= 0.95, `missed:\n${show(missed)}`);
  assert.ok(figures.nearMissRate <= 0.1, `near-misses flagged:\n${show(nearFlagged)}`);
  assert.ok(figures.benignRate <= 0.01, `benign flagged:\n${show(benignFlagged)}`);
});

test('corpus: every planted family is found in at least one line (a family cannot silently vanish)', () => {
  const families = new Map<string, boolean>();
  for (const r of rows.filter((x) => x.kind === 'planted')) {
    families.set(r.label, (families.get(r.label) ?? false) || covers(detectAll(r.text, detectors), r.secret!));
  }
  const lost = [...families].filter(([, found]) => !found).map(([label]) => label);
  assert.deepEqual(lost, []);
});
