// The tray and notification decisions (app/electron/tray-model.ts), driven by the services'
// events as they arrive and a fake clock: counts, texts, which view a click opens, each
// notification once, and the rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventOf } from '../shared/api';
import { TrayModel, type PlannedNotification } from '../app/electron/tray-model';

function run(id: string, status: 'queued' | 'starting' | 'running' | 'finished'): EventOf<'run.updated'> {
  return { id, status } as EventOf<'run.updated'>;
}

function alert(over: Partial<EventOf<'alerts.appended'>> = {}): EventOf<'alerts.appended'> {
  return {
    id: 'a1',
    t: 1,
    kind: 'secret',
    runId: 'run-1',
    template: 'python',
    target: 'local',
    severity: 'critical',
    detector: 'format',
    rule: 'aws-secret-access-key',
    title: 'AWS secret access key',
    stream: 'stdout',
    preview: 'wJal********************************BtE2',
    acknowledged: false,
    ...over,
  };
}

function counts(unacknowledged: number, critical = 0): EventOf<'alerts.counts'> {
  return { unacknowledged, bySeverity: { critical, high: 0, medium: unacknowledged - critical, low: 0 }, total: unacknowledged };
}

function posture(id: string, level: 'exposed' | 'locked', finding = 'SSH (22) open to the whole internet') {
  return {
    instance: { provider: 'linode', account: 'work', id, name: `gpu-${id}` },
    posture: { level, findings: level === 'exposed' ? [{ id: 'ssh-open', severity: 'high', message: finding, fix: 'lock it' }] : [] },
    ruleSets: [],
    drifted: [],
  };
}

function overview(...instances: ReturnType<typeof posture>[]): EventOf<'firewall.updated'> {
  const exposed = instances.filter((i) => i.posture.level === 'exposed').length;
  return {
    at: 1,
    instances,
    accounts: [],
    counts: { locked: instances.length - exposed, exposed, unknown: 0 },
  } as unknown as EventOf<'firewall.updated'>;
}

function idleAudit(target: string, step: 'warn' | 'terminate', extra: Record<string, string | number> = {}): EventOf<'audit.appended'> {
  return {
    t: 1000,
    action: 'host.idle',
    by: 'me',
    details: { label: target, target, outcome: 'ok', step, minutes: 30, at: 999, ...extra },
  };
}

test('counts: live runs follow run.updated, alerts follow alerts.counts, exposed follows the firewall overview', () => {
  const m = new TrayModel();
  assert.deepEqual(m.counts(), { liveRuns: 0, unacknowledgedAlerts: 0, criticalAlerts: 0, exposedInstances: 0 });
  assert.equal(m.view().tooltip, 'Moat: nothing running, no alerts');
  assert.equal(m.view().title, '');
  assert.equal(m.view().attention, false);

  assert.equal(m.onEvent('run.updated', run('r1', 'queued')).changed, true);
  assert.equal(m.onEvent('run.updated', run('r1', 'running')).changed, false, 'still one live run');
  m.onEvent('run.updated', run('r2', 'starting'));
  assert.equal(m.counts().liveRuns, 2);
  assert.equal(m.onEvent('run.updated', run('r1', 'finished')).changed, true);
  assert.equal(m.onEvent('run.updated', run('r9', 'finished')).changed, false, 'a finished run never seen live');
  assert.equal(m.counts().liveRuns, 1);

  assert.equal(m.onEvent('alerts.counts', counts(3, 1)).changed, true);
  assert.equal(m.onEvent('alerts.counts', counts(3, 1)).changed, false);
  m.onEvent('firewall.updated', overview(posture('1', 'exposed'), posture('2', 'locked')));

  const v = m.view();
  assert.equal(v.tooltip, 'Moat: 1 live run, 3 unacknowledged alerts (1 critical), 1 exposed instance');
  assert.equal(v.title, '1 running · 3 alerts · 1 exposed');
  assert.equal(v.attention, true);
  assert.deepEqual(
    v.items.map((i) => (i.kind === 'open' ? `${i.label} -> ${i.view}` : i.kind === 'quit' ? i.label : '---')),
    [
      'Open Moat -> sandboxes',
      '---',
      'Live runs: 1 -> sandboxes',
      'Unacknowledged alerts: 3 (1 critical) -> alerts',
      'Exposed instances: 1 -> firewall',
      '---',
      'Quit Moat',
    ],
  );

  // Events the tray does not follow change nothing.
  assert.deepEqual(m.onEvent('run.output', { runId: 'r2', stream: 'stdout', data: 'x' } as EventOf<'run.output'>), {
    changed: false,
    notify: [],
  });
});

test('seed: the state at start-up, before any event', () => {
  const m = new TrayModel();
  m.seed({ live: [run('a', 'running'), run('b', 'queued'), run('c', 'finished')], alerts: counts(2) });
  assert.deepEqual(m.counts(), { liveRuns: 2, unacknowledgedAlerts: 2, criticalAlerts: 0, exposedInstances: 0 });
});

test('a critical egress alert notifies once per run, opening Alerts; lower severities and acknowledged ones do not', () => {
  const m = new TrayModel();
  const first = m.onEvent('alerts.appended', alert());
  assert.equal(first.notify.length, 1);
  const n = first.notify[0]!;
  assert.equal(n.kind, 'critical-alert');
  assert.equal(n.view, 'alerts');
  assert.match(n.body, /Run run-1 printed a secret: AWS secret access key/);
  assert.ok(!n.body.includes('wJal') && !n.title.includes('wJal'), 'not even the masked preview goes to the OS');

  assert.deepEqual(m.onEvent('alerts.appended', alert({ id: 'a2' })).notify, [], 'the same run again: once is enough');
  assert.deepEqual(m.onEvent('alerts.appended', alert({ id: 'a3', runId: 'run-2', severity: 'high' })).notify, []);
  assert.deepEqual(m.onEvent('alerts.appended', alert({ id: 'a4', runId: 'run-3', acknowledged: true })).notify, []);
  const net = m.onEvent('alerts.appended', alert({ id: 'a5', runId: 'run-4', kind: 'network', destination: 'evil.example' }));
  assert.match(net.notify[0]?.body ?? '', /Run run-4 blocked a network attempt/);
});

test('an instance found exposed notifies once, opening Firewall; again only after it was locked in between', () => {
  const m = new TrayModel();
  const a = m.onEvent('firewall.updated', overview(posture('1', 'exposed'), posture('2', 'locked')));
  assert.equal(a.changed, true);
  assert.deepEqual(
    a.notify.map((n) => [n.kind, n.view, n.body]),
    [['instance-exposed', 'firewall', 'work/gpu-1 (linode) is exposed: SSH (22) open to the whole internet. Lock it down from Firewall.']],
  );
  // The renderer re-reads the overview every few minutes: no news, no notification.
  const again = m.onEvent('firewall.updated', overview(posture('1', 'exposed'), posture('2', 'locked')));
  assert.deepEqual(again, { changed: false, notify: [] });

  const second = m.onEvent('firewall.updated', overview(posture('1', 'exposed'), posture('2', 'exposed')));
  assert.deepEqual(
    second.notify.map((n) => n.key),
    ['exposed:linode:work:2'],
  );
  assert.equal(m.counts().exposedInstances, 2);

  m.onEvent('firewall.updated', overview(posture('1', 'locked'), posture('2', 'exposed')));
  assert.equal(m.counts().exposedInstances, 1);
  const reopened = m.onEvent('firewall.updated', overview(posture('1', 'exposed'), posture('2', 'exposed')));
  assert.deepEqual(
    reopened.notify.map((n) => n.key),
    ['exposed:linode:work:1'],
    'exposed again after being locked is news',
  );
});

test('an instance idle past its rule notifies once per idle stretch, opening Remote hosts; a termination says so', () => {
  const m = new TrayModel({ maxPerWindow: 100 });
  const warn = m.onEvent('audit.appended', idleAudit('lambda/gpu-1', 'warn'));
  assert.deepEqual(
    warn.notify.map((n) => [n.kind, n.view, n.title, n.body]),
    [['instance-idle', 'hosts', 'Instance idle', 'lambda/gpu-1 has been idle for 30 min, past its idle rule, and is still billing.']],
  );
  assert.deepEqual(m.onEvent('audit.appended', idleAudit('lambda/gpu-1', 'warn')).notify, [], 'the same stretch');
  assert.equal(m.onEvent('audit.appended', idleAudit('lambda/gpu-1', 'warn', { at: 5000 })).notify.length, 1, 'a new stretch');

  const term = m.onEvent('audit.appended', { ...idleAudit('lambda/gpu-1', 'terminate'), t: 2000 });
  assert.equal(term.notify[0]?.title, 'Idle instance terminated');
  const failed = m.onEvent('audit.appended', {
    ...idleAudit('lambda/gpu-2', 'terminate', { outcome: 'failed', reason: 'provider said 503' }),
    t: 3000,
  });
  assert.equal(failed.notify[0]?.title, 'Idle instance NOT terminated');
  assert.match(failed.notify[0]?.body ?? '', /provider said 503/);

  // Other audit entries (and the idle-rule change itself) are not notifications.
  assert.deepEqual(m.onEvent('audit.appended', { t: 1, action: 'host.idle-rule', by: 'me', details: { target: 'x' } }).notify, []);
  assert.deepEqual(m.onEvent('audit.appended', { t: 1, action: 'account.add', by: 'me', details: {} }).notify, []);
});

test('rate limit: at most 3 a minute; the rest are held back, counted, and the next one shown says so', () => {
  let now = 0;
  const m = new TrayModel({ now: () => now });
  const shown: PlannedNotification[] = [];
  for (let i = 0; i < 10; i++) {
    shown.push(...m.onEvent('alerts.appended', alert({ id: `a${i}`, runId: `run-${i}` })).notify);
    now += 1000;
  }
  assert.equal(shown.length, 3, 'three in the first minute');
  assert.equal(m.held(), 7);

  now = 60_500; // the first one left the window
  const next = m.onEvent('alerts.appended', alert({ id: 'late', runId: 'run-late' })).notify;
  assert.equal(next.length, 1);
  assert.match(next[0]!.body, /\(7 more notifications held back; see the window\.\)$/);
  assert.equal(m.held(), 0);

  // A burst within one overview is limited too.
  const fw = new TrayModel({ now: () => 0 });
  const many = fw.onEvent('firewall.updated', overview(...['1', '2', '3', '4', '5'].map((id) => posture(id, 'exposed'))));
  assert.equal(many.notify.length, 3);
  assert.equal(fw.held(), 2);
  assert.equal(fw.counts().exposedInstances, 5, 'the counts are never rate-limited');
});

test('"once" remembers a bounded number of keys, forgetting the oldest', () => {
  const m = new TrayModel({ rememberKeys: 2, maxPerWindow: 100 });
  for (const r of ['r1', 'r2', 'r3']) assert.equal(m.onEvent('alerts.appended', alert({ runId: r })).notify.length, 1);
  assert.equal(m.onEvent('alerts.appended', alert({ runId: 'r3' })).notify.length, 0, 'recent: remembered');
  assert.equal(m.onEvent('alerts.appended', alert({ runId: 'r1' })).notify.length, 1, 'oldest: forgotten');
});

test("the renderer shows the view main asks for ('ui.open'), and ignores other events", async () => {
  const { setClient } = await import('../renderer/src/transport/client');
  const { createClient } = await import('../shared/client');
  const { useNavStore } = await import('../renderer/src/stores/nav');
  let listener: ((event: string, payload: unknown) => void) | null = null;
  setClient(
    createClient({
      call: () => Promise.resolve({ ok: false, error: { code: 'INTERNAL', message: 'not used' } }),
      on: (l) => {
        listener = l as (event: string, payload: unknown) => void;
        return () => (listener = null);
      },
    }),
  );
  const off = useNavStore.getState().init();
  assert.equal(useNavStore.getState().view, 'sandboxes');
  const note = new TrayModel().onEvent('alerts.appended', alert()).notify[0]!;
  listener!('ui.open', { view: note.view });
  assert.equal(useNavStore.getState().view, 'alerts');
  listener!('alerts.counts', { view: 'firewall' });
  assert.equal(useNavStore.getState().view, 'alerts', 'only ui.open switches the view');
  off();
  assert.equal(listener, null, 'unsubscribed');
});

test('the icon: drawn at any tray size, a red dot only with attention, handed to Electron as premultiplied BGRA', async () => {
  const { drawIcon, toBitmap } = await import('../app/electron/icon');
  const px = (img: Uint8Array, size: number, x: number, y: number) => [...img.slice((y * size + x) * 4, (y * size + x) * 4 + 4)];
  for (const size of [16, 32, 512]) assert.equal(drawIcon(size).length, size * size * 4);
  assert.throws(() => drawIcon(4), RangeError);
  assert.throws(() => drawIcon(16.5), RangeError);
  const plain = drawIcon(32);
  const alert = drawIcon(32, { attention: true });
  assert.deepEqual(px(plain, 32, 0, 0), [0, 0, 0, 0], 'corners are transparent');
  assert.deepEqual(px(plain, 32, 16, 17).slice(0, 3), [236, 240, 247], 'the keep in the middle');
  assert.deepEqual(px(alert, 32, 26, 6), [229, 57, 53, 255], 'the dot, top right');
  assert.notDeepEqual(px(plain, 32, 26, 6), [229, 57, 53, 255]);
  const bgra = toBitmap(new Uint8Array([200, 100, 50, 128]));
  assert.deepEqual([...bgra], [25, 50, 100, 128]);
});
