// The alerts and settings stores against a scripted transport: the counter follows its event,
// pushed alerts join the list only when the filters take them, acknowledging marks them and
// re-reads the counter, suppressions come back from main, "allow for template" updates settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventName, MethodName } from '../shared/api';
import { createClient } from '../shared/client';
import { DEFAULT_SETTINGS, type Settings } from '../shared/types';
import type { Alert, AlertCounts, Suppression } from '../shared/egress';
import { setClient } from '../renderer/src/transport/client';
import { useAlertsStore } from '../renderer/src/stores/alerts';
import { useSettingsStore } from '../renderer/src/stores/settings';

const alert = (id: string, t: number, patch: Partial<Alert> = {}): Alert => ({
  id,
  t,
  kind: 'secret',
  runId: 'run1',
  template: 'python',
  target: 'local',
  severity: 'critical',
  detector: 'format',
  rule: 'aws-access-key-id',
  title: 'AWS access key ID',
  preview: 'AKIA************WXZB',
  acknowledged: false,
  ...patch,
});

const counts = (n: number): AlertCounts => ({ unacknowledged: n, bySeverity: { critical: n, high: 0, medium: 0, low: 0 }, total: n });

function fakeMain() {
  const calls: { method: MethodName; params: unknown }[] = [];
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const state = { unacked: 2, suppressions: [] as Suppression[], settings: { ...DEFAULT_SETTINGS } as Settings };
  const results: Partial<Record<MethodName, (params: unknown) => unknown>> = {
    'alerts.counts': () => counts(state.unacked),
    'alerts.list': () => [alert('b', 2), alert('a', 1)],
    'alerts.ack': (p) => {
      const n = (p as { ids: string[] }).ids.length;
      state.unacked -= n;
      return { acknowledged: n };
    },
    'alerts.suppressions': () => state.suppressions,
    'alerts.suppress': (p) => (state.suppressions = [{ ...(p as { rule: string; reason?: string }), t: 1, by: 'user:1000' }]),
    'alerts.unsuppress': () => (state.suppressions = []),
    'egress.allowForTemplate': (p) => {
      const { template, entry } = p as { template: string; entry: string };
      state.settings = { ...state.settings, templateAllowNet: { [template]: [entry] } };
      return state.settings;
    },
  };
  setClient(
    createClient({
      async call(method, params) {
        calls.push({ method, params });
        const fn = results[method];
        if (!fn) return { ok: false, error: { code: 'NOT_FOUND', message: `no ${method} here` } };
        return { ok: true, result: fn(params) };
      },
      on(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    }),
  );
  return {
    calls,
    state,
    results,
    emit: (event: EventName, payload: unknown) => listeners.forEach((l) => l(event, payload)),
    listeners,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test('alerts store: counter, list, pushed alerts, acknowledge, suppress, allow for template', async () => {
  const main = fakeMain();
  const offInit = useAlertsStore.getState().init();
  await settle();
  assert.equal(useAlertsStore.getState().counts?.unacknowledged, 2, 'read at start');
  main.emit('alerts.counts', counts(5));
  assert.equal(useAlertsStore.getState().counts?.unacknowledged, 5, 'then live from the event');

  const offView = useAlertsStore.getState().open();
  await settle();
  assert.deepEqual(
    useAlertsStore.getState().alerts.map((a) => a.id),
    ['b', 'a'],
  );
  const list = main.calls.find((c) => c.method === 'alerts.list');
  assert.deepEqual(list?.params, { limit: 500, acknowledged: false }, 'unacknowledged by default');

  main.emit('alerts.appended', alert('c', 3));
  main.emit('alerts.appended', alert('d', 4, { acknowledged: true }));
  assert.deepEqual(
    useAlertsStore.getState().alerts.map((a) => a.id),
    ['c', 'b', 'a'],
    'a pushed alert the filters do not take stays out',
  );

  await useAlertsStore.getState().ack(['c', 'b']);
  const s = useAlertsStore.getState();
  assert.deepEqual(
    s.alerts.map((a) => [a.id, a.acknowledged]),
    [
      ['c', true],
      ['b', true],
      ['a', false],
    ],
  );
  assert.match(s.notice ?? '', /Acknowledged 2 alerts/);
  await settle();
  assert.equal(useAlertsStore.getState().counts?.unacknowledged, 0, 'the counter is re-read');

  await useAlertsStore.getState().suppress('aws-access-key-id', '  fixtures  ');
  assert.deepEqual(main.calls.at(-1), { method: 'alerts.suppress', params: { rule: 'aws-access-key-id', reason: 'fixtures' } });
  assert.equal(useAlertsStore.getState().suppressions[0]?.rule, 'aws-access-key-id');
  await useAlertsStore.getState().suppress('github-pat', ' ');
  assert.deepEqual(main.calls.at(-1)?.params, { rule: 'github-pat' }, 'no empty reason is sent');
  main.emit('alerts.suppressions', []);
  assert.deepEqual(useAlertsStore.getState().suppressions, [], 'suppressions follow their event');

  await useAlertsStore.getState().allowForTemplate('python', 'blocked.example:443');
  assert.deepEqual(useSettingsStore.getState().settings?.templateAllowNet, { python: ['blocked.example:443'] });
  assert.match(useAlertsStore.getState().notice ?? '', /Allowed blocked.example:443 for template python/);

  await useAlertsStore.getState().unsuppress('github-pat');
  assert.deepEqual(useAlertsStore.getState().suppressions, []);
  // A failing call is shown, not thrown.
  delete main.results['alerts.unsuppress'];
  await useAlertsStore.getState().unsuppress('nothing');
  assert.match(useAlertsStore.getState().error?.message ?? '', /no alerts.unsuppress here/);
  assert.equal(useAlertsStore.getState().busy, false);
  useAlertsStore.getState().dismiss();
  main.state.unacked = 1;
  useAlertsStore.getState().setFilter({ severity: 'low' });
  await settle();
  assert.deepEqual(main.calls.filter((c) => c.method === 'alerts.list').at(-1)?.params, {
    limit: 500,
    acknowledged: false,
    severity: 'low',
  });

  offView();
  offInit();
  assert.equal(main.listeners.size, 0, 'every subscription is released');
});

test('settings store: a template allowlist replaced, an empty one removed', async () => {
  const main = fakeMain();
  await useSettingsStore.getState().load();
  const updates: unknown[] = [];
  setClient(
    createClient({
      async call(method, params) {
        if (method === 'settings.update') {
          updates.push(params);
          return { ok: true, result: { ...main.state.settings, ...(params as object) } };
        }
        return { ok: false, error: { code: 'NOT_FOUND', message: 'no' } };
      },
      on: () => () => {},
    }),
  );
  await useSettingsStore.getState().setTemplateAllowNet('python', ['a.com:443']);
  await useSettingsStore.getState().setTemplateAllowNet('shell', ['b.com']);
  await useSettingsStore.getState().setTemplateAllowNet('python', []);
  assert.deepEqual(updates.at(-1), { templateAllowNet: { shell: ['b.com'] } });
  assert.deepEqual(useSettingsStore.getState().settings?.templateAllowNet, { shell: ['b.com'] });
  await useSettingsStore.getState().setEgressPolicy('stop');
  assert.deepEqual(updates.at(-1), { egressPolicy: 'stop' });
  assert.equal(useSettingsStore.getState().settings?.egressPolicy, 'stop');
});
