// The egress filter in the renderer: redaction markers split out of output, the environment and
// allowlist editors' checks, what the run form sends, alert filters and merging, the run's facts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOW_PRESETS, type Alert, type EgressRecord } from '../shared/egress';
import { RunRequest } from '../shared/types';
import {
  allowEntryForAlert,
  allowEntryProblem,
  allowNetFor,
  egressFacts,
  envFromRows,
  envLabel,
  envProblems,
  splitRedactions,
  type EnvRow,
} from '../renderer/src/lib/egress';
import {
  alertPosition,
  alertSubject,
  counterText,
  DEFAULT_FILTER,
  filterParams,
  markAcknowledged,
  matchesFilter,
  mergeAlerts,
  rulesIn,
} from '../renderer/src/lib/alerts';
import { egressRequestPart, type EgressFormState } from '../renderer/src/stores/egressForm';

test('redactions: markers split out in place, the text put back together is the input', () => {
  const text = 'key=[REDACTED:aws-access-key-id] and [REDACTED:github-pat]\n';
  const parts = splitRedactions(text);
  assert.deepEqual(parts, [
    { kind: 'text', text: 'key=' },
    { kind: 'redacted', rule: 'aws-access-key-id', text: '[REDACTED:aws-access-key-id]' },
    { kind: 'text', text: ' and ' },
    { kind: 'redacted', rule: 'github-pat', text: '[REDACTED:github-pat]' },
    { kind: 'text', text: '\n' },
  ]);
  assert.equal(parts.map((p) => p.text).join(''), text);
  assert.deepEqual(splitRedactions('[REDACTED:x1]'), [{ kind: 'redacted', rule: 'x1', text: '[REDACTED:x1]' }]);
  // Not markers: upper case or spaces in the rule, unclosed, empty.
  for (const t of ['plain', '[REDACTED:AWS]', '[REDACTED:a b]', '[REDACTED:abc', '[REDACTED:]', ''])
    assert.deepEqual(splitRedactions(t), [{ kind: 'text', text: t }], t);
});

const row = (key: number, name: string, value = 'v', secret = false): EnvRow => ({ key, name, value, secret });

test('environment: names checked with EnvName, duplicates and nameless values refused, blank rows ignored', () => {
  const rows = [row(1, 'GOOD_1'), row(2, '1BAD'), row(3, 'GOOD_1'), row(4, '', 'orphan'), row(5, '', ''), row(6, 'with space')];
  const p = envProblems(rows);
  assert.deepEqual(Object.keys(p).map(Number), [2, 3, 4, 6]);
  assert.match(p[2]!, /not a variable name/);
  assert.match(p[3]!, /set twice/);
  assert.match(p[4]!, /needs a name/);
  const bad = envFromRows(rows);
  assert.ok(!bad.ok);
  assert.match(bad.message, /^Environment: /);

  const ok = envFromRows([row(1, ' TOKEN ', 's3cr3t', true), row(2, 'MODE', 'fast'), row(3, '', '')]);
  assert.ok(ok.ok);
  assert.deepEqual(ok.env, [
    { name: 'TOKEN', value: 's3cr3t', secret: true },
    { name: 'MODE', value: 'fast' },
  ]);
  // What is built is what the request schema takes.
  assert.ok(RunRequest.safeParse({ template: 'python', code: 'x', env: ok.env }).success);
});

test('environment: a secret is shown as NAME=•••• in the run summary, never its value', () => {
  assert.equal(envLabel({ name: 'TOKEN', secret: true, value: 'leak' }), 'TOKEN=••••');
  assert.equal(envLabel({ name: 'MODE', secret: false, value: 'fast' }), 'MODE=fast');
  assert.equal(envLabel({ name: 'EMPTY', secret: false }), 'EMPTY');
});

test('allowlist: typed entries checked with parseAllowEntry, with a reason for bad ones', () => {
  for (const good of ['api.example.com:443', '*.example.org', '10.0.0.0/8', '10.0.0.1:5432', '[2001:db8::1]:443', 'localhost'])
    assert.equal(allowEntryProblem(good), null, good);
  assert.match(allowEntryProblem('')!, /type a destination/);
  assert.match(allowEntryProblem('https://api.example.com')!, /not a URL/);
  assert.match(allowEntryProblem('example.com/path')!, /not a URL/);
  assert.match(allowEntryProblem('example.com:70000')!, /port 70000/);
  assert.match(allowEntryProblem('a b')!, /without spaces/);
  assert.match(allowEntryProblem('300.1.1.1')!, /is not DOMAIN\[:PORT\]/);
  assert.match(allowEntryProblem('pypi.org:443', ['PyPI.org:443'])!, /already in the list/);
});

test('allowlist: presets stand for their entries; custom for the typed ones', () => {
  assert.deepEqual(allowNetFor('none', ['x.com']), []);
  assert.deepEqual(allowNetFor('package-indexes', []), ALLOW_PRESETS['package-indexes']!.entries);
  assert.deepEqual(allowNetFor('custom', [' x.com:443 ']), ['x.com:443']);
});

test('a network alert allows its destination and port; IPv6 in brackets; nothing for a bad destination', () => {
  assert.equal(allowEntryForAlert({ destination: 'api.example.com', port: 443 }), 'api.example.com:443');
  assert.equal(allowEntryForAlert({ destination: '203.0.113.9' }), '203.0.113.9');
  assert.equal(allowEntryForAlert({ destination: '2001:db8::1', port: 80 }), '[2001:db8::1]:80');
  assert.equal(allowEntryForAlert({ destination: 'not a host', port: 80 }), null);
  assert.equal(allowEntryForAlert({}), null);
});

const form = (patch: Partial<EgressFormState> = {}): EgressFormState => ({
  env: [],
  policy: '',
  scan: true,
  preset: 'none',
  custom: [],
  ...patch,
});

test('run form: only what differs from the defaults is sent, and it parses as a RunRequest', () => {
  const plain = egressRequestPart(form());
  assert.ok(plain.ok);
  assert.deepEqual(plain.part, {});
  const full = egressRequestPart(
    form({ env: [row(1, 'K', 'v', true)], policy: 'block', scan: false, preset: 'custom', custom: ['api.example.com:443'] }),
  );
  assert.ok(full.ok);
  assert.deepEqual(full.part, {
    env: [{ name: 'K', value: 'v', secret: true }],
    egressFilter: false,
    egressPolicy: 'block',
    allowNet: ['api.example.com:443'],
  });
  assert.ok(RunRequest.safeParse({ template: 'python', code: 'x', ...full.part }).success);
  const bad = egressRequestPart(form({ env: [row(1, '9X')] }));
  assert.ok(!bad.ok);
});

test('run form: the editor refuses a run with a bad variable and sends the egress part otherwise', async () => {
  const { useEditorStore } = await import('../renderer/src/stores/editor');
  const { useEgressFormStore } = await import('../renderer/src/stores/egressForm');
  useEditorStore.setState({ selectedId: 'python', code: { python: 'print(1)' }, target: 'local' });
  const s = useEgressFormStore.getState();
  s.addEnv();
  const key = useEgressFormStore.getState().env[0]!.key;
  s.setEnv(key, { name: 'bad name', value: 'x' });
  const refused = useEditorStore.getState().buildRequest(true);
  assert.ok(!refused.ok);
  assert.match(refused.message, /not a variable name/);
  s.setEnv(key, { name: 'API_TOKEN', secret: true });
  assert.equal(s.addEntry('nope:99999') !== null, true, 'a bad entry is refused');
  assert.equal(s.addEntry('api.example.com:443'), null);
  assert.equal(useEgressFormStore.getState().preset, 'custom');
  const ok = useEditorStore.getState().buildRequest(true);
  assert.ok(ok.ok);
  assert.deepEqual(ok.request.env, [{ name: 'API_TOKEN', value: 'x', secret: true }]);
  assert.deepEqual(ok.request.allowNet, ['api.example.com:443']);
  // A preset switched to custom starts from the preset's entries.
  useEgressFormStore.setState({ preset: 'package-indexes', custom: [] });
  s.removeEntry('pypi.org:443');
  const after = useEgressFormStore.getState();
  assert.equal(after.preset, 'custom');
  assert.deepEqual(after.custom, ALLOW_PRESETS['package-indexes']!.entries.slice(1));
});

const alert = (id: string, t: number, patch: Partial<Alert> = {}): Alert => ({
  id,
  t,
  kind: 'secret',
  runId: `run-${id}`,
  template: 'python',
  target: 'local',
  severity: 'critical',
  detector: 'format',
  rule: 'aws-access-key-id',
  title: 'AWS access key ID',
  stream: 'stdout',
  offset: 10,
  length: 20,
  preview: 'AKIA************WXZB',
  acknowledged: false,
  ...patch,
});

test('alert filters: the form as alerts.list params, and the same rules for pushed alerts', () => {
  assert.deepEqual(filterParams(DEFAULT_FILTER, 50), { limit: 50, acknowledged: false });
  assert.deepEqual(filterParams({ severity: 'high', rule: ' r ', runId: 'abc', kind: 'network', acknowledged: 'all' }, 10), {
    limit: 10,
    severity: 'high',
    rule: 'r',
    runId: 'abc',
    kind: 'network',
  });
  const a = alert('1', 1);
  assert.ok(matchesFilter(a, DEFAULT_FILTER));
  assert.ok(!matchesFilter({ ...a, acknowledged: true }, DEFAULT_FILTER));
  assert.ok(matchesFilter({ ...a, acknowledged: true }, { ...DEFAULT_FILTER, acknowledged: 'yes' }));
  assert.ok(!matchesFilter(a, { ...DEFAULT_FILTER, severity: 'low' }));
  assert.ok(!matchesFilter(a, { ...DEFAULT_FILTER, rule: 'github-pat' }));
  assert.ok(matchesFilter(a, { ...DEFAULT_FILTER, runId: 'run-' }), 'a run id prefix matches');
  assert.ok(!matchesFilter(a, { ...DEFAULT_FILTER, kind: 'network' }));
});

test('alerts: merged newest first once per id; acknowledging marks them in place', () => {
  const merged = mergeAlerts([alert('b', 2)], [alert('a', 1), alert('b', 2, { acknowledged: true }), alert('c', 3)]);
  assert.deepEqual(
    merged.map((x) => x.id),
    ['c', 'b', 'a'],
  );
  assert.equal(merged.find((x) => x.id === 'b')!.acknowledged, false, 'the first copy wins');
  assert.equal(mergeAlerts([alert('a', 1), alert('b', 2), alert('c', 3)], [], 2).length, 2);
  const acked = markAcknowledged(merged, ['a', 'c'], 99);
  assert.deepEqual(
    acked.map((x) => [x.id, x.acknowledged, x.acknowledgedAt]),
    [
      ['c', true, 99],
      ['b', false, undefined],
      ['a', true, 99],
    ],
  );
  assert.deepEqual(rulesIn([alert('a', 1), alert('b', 1, { rule: 'a-rule' }), alert('c', 1)]), ['a-rule', 'aws-access-key-id']);
});

test('alerts described without the secret: preview, position; network destination', () => {
  const a = alert('1', 1);
  assert.equal(alertSubject(a), 'AKIA************WXZB');
  assert.equal(alertPosition(a), 'stdout @ byte 10, 20 bytes');
  const n = alert('2', 1, {
    kind: 'network',
    rule: 'net-refused',
    destination: 'evil.example',
    port: 443,
    preview: undefined,
    stream: undefined,
  });
  assert.equal(alertSubject(n), 'evil.example:443');
  assert.equal(alertPosition(n), '-');
  assert.equal(counterText(1), '1 alert');
  assert.equal(counterText(3), '3 alerts');
});

test("a run's egress record as facts", () => {
  const rec: EgressRecord = { filter: true, policy: 'redact', findings: 2, critical: 1, blocked: false, allowNet: [], refused: 0 };
  const facts = egressFacts(rec);
  assert.deepEqual(
    facts.map((f) => [f.testId, f.value, f.tone]),
    [
      ['egress-filter', 'on · redact', 'good'],
      ['egress-findings', '2 (1 critical)', 'bad'],
      ['egress-allow-net', 'none', 'good'],
      ['egress-refused', '0', 'neutral'],
    ],
  );
  const off = egressFacts({ ...rec, filter: false, blocked: true, allowNet: ['a.com:443'], refused: 3, findings: 0, critical: 0 });
  assert.deepEqual(
    off.map((f) => f.value),
    ['off', '0', 'withheld (policy block)', 'a.com:443', '3'],
  );
});
