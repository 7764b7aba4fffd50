// What the tray (the menu bar on macOS) shows and which OS notifications to raise, decided from
// the services' events alone. Plain TypeScript with no 'electron' import: tray.ts only renders
// what this says, and test/tray-model.test.ts drives it with events and a fake clock.
//
// Notifications are for what needs the user while the window is closed: a critical egress alert,
// an instance found open to the internet, an instance idle past its rule. Each is raised once (per
// run, per exposure, per idle stretch), never again on the events that follow, and at most
// `maxPerWindow` per `windowMs`: a burst beyond that is held back and counted, and the next one
// shown says how many were held back (the tray's counts always have the whole picture).
import type { EventName, EventOf } from '../../shared/api';
import type { ViewId } from '../../shared/views';

export interface TrayCounts {
  /** Runs queued, starting or running. */
  liveRuns: number;
  unacknowledgedAlerts: number;
  /** Of those, critical. */
  criticalAlerts: number;
  exposedInstances: number;
}

export type TrayMenuItem = { kind: 'open'; label: string; view: ViewId } | { kind: 'separator' } | { kind: 'quit'; label: string };

export interface TrayView {
  /** Hover text, every platform. */
  tooltip: string;
  /** Text beside the icon in the macOS menu bar; empty when there is nothing to count. */
  title: string;
  /** Whether the icon should say "needs you" (unacknowledged alerts or exposed instances). */
  attention: boolean;
  items: TrayMenuItem[];
}

export type NotificationKind = 'critical-alert' | 'instance-exposed' | 'instance-idle';

export interface PlannedNotification {
  /** What makes it "the same" notification; raised once per key. */
  key: string;
  kind: NotificationKind;
  title: string;
  body: string;
  /** The view a click opens. */
  view: ViewId;
}

export interface TrayModelOptions {
  now?: () => number;
  /** At most this many notifications per window (default 3 per minute). */
  maxPerWindow?: number;
  windowMs?: number;
  /** Keys remembered for "once" (oldest forgotten first). */
  rememberKeys?: number;
}

/** The result of one event: whether the tray must be redrawn, and what to notify. */
export interface TrayUpdate {
  changed: boolean;
  notify: PlannedNotification[];
}

const LIVE_STATUSES: ReadonlySet<string> = new Set(['queued', 'starting', 'running']);

export class TrayModel {
  private readonly now: () => number;
  private readonly maxPerWindow: number;
  private readonly windowMs: number;
  private readonly rememberKeys: number;
  private readonly live = new Set<string>();
  private alerts = { unacknowledged: 0, critical: 0 };
  /** Instances exposed in the last overview, by key; null before the first overview. */
  private exposed: Set<string> | null = null;
  private readonly raised = new Set<string>();
  private readonly shownAt: number[] = [];
  private heldBack = 0;

  constructor(opts: TrayModelOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxPerWindow = opts.maxPerWindow ?? 3;
    this.windowMs = opts.windowMs ?? 60_000;
    this.rememberKeys = opts.rememberKeys ?? 1000;
  }

  counts(): TrayCounts {
    return {
      liveRuns: this.live.size,
      unacknowledgedAlerts: this.alerts.unacknowledged,
      criticalAlerts: this.alerts.critical,
      exposedInstances: this.exposed?.size ?? 0,
    };
  }

  /** Notifications suppressed by the rate limit and not yet mentioned in a shown one. */
  held(): number {
    return this.heldBack;
  }

  /** The state at start-up, read from the services before their events are followed. */
  seed(state: { live?: EventOf<'run.updated'>[]; alerts?: EventOf<'alerts.counts'> }): TrayUpdate {
    for (const r of state.live ?? []) this.applyRun(r);
    if (state.alerts) this.applyCounts(state.alerts);
    return { changed: true, notify: [] };
  }

  /** One event of the services (any name; the ones the tray does not follow change nothing). */
  onEvent<E extends EventName>(name: E, payload: EventOf<E>): TrayUpdate;
  onEvent(name: string, payload: unknown): TrayUpdate;
  onEvent(name: string, payload: unknown): TrayUpdate {
    switch (name) {
      case 'run.updated':
        return { changed: this.applyRun(payload as EventOf<'run.updated'>), notify: [] };
      case 'alerts.counts':
        return { changed: this.applyCounts(payload as EventOf<'alerts.counts'>), notify: [] };
      case 'alerts.appended':
        return { changed: false, notify: this.limit(this.fromAlert(payload as EventOf<'alerts.appended'>)) };
      case 'firewall.updated':
        return this.applyFirewall(payload as EventOf<'firewall.updated'>);
      case 'audit.appended':
        return { changed: false, notify: this.limit(this.fromAudit(payload as EventOf<'audit.appended'>)) };
      default:
        return { changed: false, notify: [] };
    }
  }

  view(): TrayView {
    const c = this.counts();
    const parts: string[] = [];
    if (c.liveRuns > 0) parts.push(plural(c.liveRuns, 'live run'));
    if (c.unacknowledgedAlerts > 0) {
      parts.push(
        `${plural(c.unacknowledgedAlerts, 'unacknowledged alert')}${c.criticalAlerts > 0 ? ` (${c.criticalAlerts} critical)` : ''}`,
      );
    }
    if (c.exposedInstances > 0) parts.push(plural(c.exposedInstances, 'exposed instance'));
    const titleParts: string[] = [];
    if (c.liveRuns > 0) titleParts.push(`${c.liveRuns} running`);
    if (c.unacknowledgedAlerts > 0) titleParts.push(`${c.unacknowledgedAlerts} alert${c.unacknowledgedAlerts === 1 ? '' : 's'}`);
    if (c.exposedInstances > 0) titleParts.push(`${c.exposedInstances} exposed`);
    return {
      tooltip: parts.length > 0 ? `Moat: ${parts.join(', ')}` : 'Moat: nothing running, no alerts',
      title: titleParts.join(' · '),
      attention: c.unacknowledgedAlerts > 0 || c.exposedInstances > 0,
      items: [
        { kind: 'open', label: 'Open Moat', view: 'sandboxes' },
        { kind: 'separator' },
        { kind: 'open', label: `Live runs: ${c.liveRuns}`, view: 'sandboxes' },
        {
          kind: 'open',
          label: `Unacknowledged alerts: ${c.unacknowledgedAlerts}${c.criticalAlerts > 0 ? ` (${c.criticalAlerts} critical)` : ''}`,
          view: 'alerts',
        },
        { kind: 'open', label: `Exposed instances: ${c.exposedInstances}`, view: 'firewall' },
        { kind: 'separator' },
        { kind: 'quit', label: 'Quit Moat' },
      ],
    };
  }

  private applyRun(r: { id: string; status: string }): boolean {
    const had = this.live.has(r.id);
    if (LIVE_STATUSES.has(r.status)) this.live.add(r.id);
    else this.live.delete(r.id);
    return had !== this.live.has(r.id);
  }

  private applyCounts(c: EventOf<'alerts.counts'>): boolean {
    const next = { unacknowledged: c.unacknowledged, critical: c.bySeverity.critical ?? 0 };
    const changed = next.unacknowledged !== this.alerts.unacknowledged || next.critical !== this.alerts.critical;
    this.alerts = next;
    return changed;
  }

  /** One notification per run with a critical finding: a run that prints a key a hundred times is one event. */
  private fromAlert(a: EventOf<'alerts.appended'>): PlannedNotification[] {
    if (a.severity !== 'critical' || a.acknowledged) return [];
    const what = a.kind === 'network' ? 'blocked a network attempt' : 'printed a secret';
    // The title names the rule ("AWS secret access key"); the masked preview stays out of the
    // notification, which the OS may show on a locked screen and keep in its history.
    return this.once(`alert:${a.runId}`, {
      kind: 'critical-alert',
      title: 'Critical egress alert',
      body: `Run ${a.runId} ${what}: ${a.title}. Its output was filtered; review it in Alerts.`,
      view: 'alerts',
    });
  }

  private applyFirewall(o: EventOf<'firewall.updated'>): TrayUpdate {
    const before = this.exposed;
    const now = new Set<string>();
    const planned: PlannedNotification[] = [];
    for (const ip of o.instances) {
      if (ip.posture.level !== 'exposed') continue;
      const i = ip.instance;
      const key = `${i.provider}:${i.account}:${i.id}`;
      now.add(key);
      if (before?.has(key)) continue;
      // Exposed again after having been locked is news again.
      this.raised.delete(`exposed:${key}`);
      const finding = ip.posture.findings[0]?.message;
      planned.push(
        ...this.once(`exposed:${key}`, {
          kind: 'instance-exposed',
          title: 'Instance open to the internet',
          body: `${i.account}/${i.name} (${i.provider}) is exposed${finding ? `: ${finding}` : ''}. Lock it down from Firewall.`,
          view: 'firewall',
        }),
      );
    }
    this.exposed = now;
    const changed = before === null || before.size !== now.size || [...now].some((k) => !before.has(k));
    return { changed, notify: this.limit(planned) };
  }

  private fromAudit(e: EventOf<'audit.appended'>): PlannedNotification[] {
    if (e.action !== 'host.idle') return [];
    const target = String(e.details.target ?? e.details.label ?? 'an instance');
    const step = e.details.step;
    if (step === 'warn') {
      const minutes = typeof e.details.minutes === 'number' ? ` for ${e.details.minutes} min` : '';
      // The idle rule warns once per idle stretch; the warning's time identifies the stretch.
      return this.once(`idle:${target}:${String(e.details.at ?? e.t)}`, {
        kind: 'instance-idle',
        title: 'Instance idle',
        body: `${target} has been idle${minutes}, past its idle rule, and is still billing.`,
        view: 'hosts',
      });
    }
    if (step === 'terminate') {
      const ok = e.details.outcome === 'ok';
      return this.once(`idle-terminate:${target}:${e.t}`, {
        kind: 'instance-idle',
        title: ok ? 'Idle instance terminated' : 'Idle instance NOT terminated',
        body: ok
          ? `${target} was terminated by its idle rule.`
          : `${target} is idle past its rule but terminating it failed: ${String(e.details.reason ?? 'unknown reason')}.`,
        view: 'hosts',
      });
    }
    return [];
  }

  private once(key: string, n: Omit<PlannedNotification, 'key'>): PlannedNotification[] {
    if (this.raised.has(key)) return [];
    this.raised.add(key);
    if (this.raised.size > this.rememberKeys) {
      const oldest = this.raised.values().next().value;
      if (oldest !== undefined) this.raised.delete(oldest);
    }
    return [{ key, ...n }];
  }

  /** The rate limit: a sliding window over the times notifications were shown. */
  private limit(planned: PlannedNotification[]): PlannedNotification[] {
    const out: PlannedNotification[] = [];
    for (const n of planned) {
      const t = this.now();
      while (this.shownAt.length > 0 && t - this.shownAt[0]! >= this.windowMs) this.shownAt.shift();
      if (this.shownAt.length >= this.maxPerWindow) {
        this.heldBack++;
        continue;
      }
      this.shownAt.push(t);
      if (this.heldBack > 0) {
        out.push({ ...n, body: `${n.body} (${plural(this.heldBack, 'more notification')} held back; see the window.)` });
        this.heldBack = 0;
      } else {
        out.push(n);
      }
    }
    return out;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
