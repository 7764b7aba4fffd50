// Keeps the UI's instance list current without hammering the providers: it polls every account
// while someone is looking (a list call in the last few minutes), every 2 s after a change, backing
// off while nothing changes (to 5 s while an instance is starting or stopping, 30 s otherwise) and
// after failures, and pushes a new list only when something a user would see has changed (status,
// addresses, instances appearing or going, an account failing or recovering). Cost so far is
// computed by the UI between pushes from each instance's start time and price.
import type { RetryNotice } from '../providers/provider';
import type { InstancesList, InstancesService, InstanceView } from './instances';

export interface Retrying extends RetryNotice {
  at: number;
}

export type MonitoredList = Omit<InstancesList, 'accounts'> & {
  accounts: (InstancesList['accounts'][number] & { retrying?: Retrying })[];
};

export interface MonitorOptions {
  instances: Pick<InstancesService, 'list'>;
  emit(list: MonitoredList): void;
  log?(msg: string): void;
  /** Interval after a change (default 2 s). */
  minMs?: number;
  /** Longest interval while an instance is starting or stopping (default 5 s). */
  busyMaxMs?: number;
  /** Longest interval otherwise, and after failures (default 30 s). */
  maxMs?: number;
  /** Polling stops this long after the last list call (default 5 min). */
  interestMs?: number;
  now?: () => number;
}

/** What a user sees change; cost and the poll time are left out (they change every time). */
function signature(l: InstancesList): string {
  const inst = (i: InstanceView) =>
    [i.provider, i.id, i.account, i.name, i.status, i.rawStatus, i.ipv4, i.ipv6, i.priceCentsPerHour].join('|');
  const acc = (a: InstancesList['accounts'][number]) =>
    [a.account, a.provider, a.burnRateCentsPerHour, a.error?.code, a.error?.message].join('|');
  return JSON.stringify([l.accounts.map(acc), l.instances.map(inst).sort()]);
}

export class InstancesMonitor {
  private latest: MonitoredList | null = null;
  private latestSig = '';
  private inFlight: Promise<MonitoredList> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private lastInterest = 0;
  private closed = false;
  private readonly retrying = new Map<string, Retrying>();
  private readonly now: () => number;

  constructor(private readonly o: MonitorOptions) {
    this.delay = o.minMs ?? 2000;
    this.now = o.now ?? Date.now;
  }

  /** The latest list (asking the providers when there is none, it is stale, or refresh is set); keeps polling going. */
  async list(refresh = false): Promise<MonitoredList> {
    this.lastInterest = this.now();
    const stale = !this.latest || this.now() - this.latest.at > (this.o.maxMs ?? 30_000);
    const out = refresh || stale ? await this.poll() : this.latest!;
    this.schedule();
    return out;
  }

  /** Something changed here (a launch, a terminate, an account added): look again soon. */
  kick(): void {
    this.delay = this.o.minMs ?? 2000;
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.poll()
      .catch(() => undefined)
      .finally(() => this.schedule());
  }

  /** A request for this account is being retried (or no longer is: null). Pushed at once. */
  setRetrying(account: string, n: RetryNotice | null): void {
    if (n) this.retrying.set(account, { ...n, at: this.now() });
    else if (!this.retrying.delete(account)) return;
    if (this.latest) {
      this.latest = this.decorate(this.latest);
      this.o.emit(this.latest);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private decorate(l: InstancesList): MonitoredList {
    return {
      ...l,
      accounts: l.accounts.map((a) => {
        const { retrying: _old, ...rest } = a as MonitoredList['accounts'][number];
        const r = this.retrying.get(a.account);
        return r ? { ...rest, retrying: r } : rest;
      }),
    };
  }

  private poll(): Promise<MonitoredList> {
    if (this.inFlight) return this.inFlight;
    const p = (async () => {
      const fresh = await this.o.instances.list();
      // A completed listing means no request is still being retried for these accounts.
      for (const a of fresh.accounts) this.retrying.delete(a.account);
      const sig = signature(fresh);
      const changed = sig !== this.latestSig;
      this.latestSig = sig;
      this.latest = this.decorate(fresh);
      const busy = fresh.instances.some((i) => i.status === 'starting' || i.status === 'stopping');
      const failing = fresh.accounts.some((a) => a.error);
      const cap = busy ? (this.o.busyMaxMs ?? 5000) : (this.o.maxMs ?? 30_000);
      this.delay = changed && !failing ? (this.o.minMs ?? 2000) : Math.min(this.delay * 2, failing ? (this.o.maxMs ?? 30_000) : cap);
      if (changed) this.o.emit(this.latest);
      return this.latest;
    })();
    this.inFlight = p;
    void p
      .finally(() => {
        if (this.inFlight === p) this.inFlight = null;
      })
      .catch(() => undefined);
    return p;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    if (this.now() - this.lastInterest > (this.o.interestMs ?? 5 * 60_000)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poll()
        .catch((err: unknown) => {
          this.o.log?.(`instance poll failed: ${(err as Error).message}`);
          this.delay = Math.min(this.delay * 2, this.o.maxMs ?? 30_000);
        })
        .finally(() => this.schedule());
    }, this.delay);
    this.timer.unref?.();
  }
}
