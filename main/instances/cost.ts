// Uptime and cost so far, from the hourly price and the best start time Moat has:
// - 'launched': Moat launched it and recorded when (exact);
// - 'created': the provider reports a creation time (Linode);
// - 'first-seen': neither (Lambda reports no creation time): counted from when Moat first saw it,
//   so the real cost is at least this much, and it is shown as such.
import type { Instance, InstanceStatus } from '../providers/provider';
import type { KnownRecord } from './known';

export type CostBasis = 'launched' | 'created' | 'first-seen';

export interface Cost {
  since: number;
  basis: CostBasis;
  uptimeMs: number;
  /** null when the price is unknown. */
  costCents: number | null;
}

export function costOf(i: Pick<Instance, 'createdAt' | 'priceCentsPerHour'>, known: KnownRecord | undefined, now = Date.now()): Cost {
  let since: number;
  let basis: CostBasis;
  if (known?.launchedByMoat && known.launchedAt !== undefined) [since, basis] = [known.launchedAt, 'launched'];
  else if (i.createdAt !== null) [since, basis] = [i.createdAt, 'created'];
  else [since, basis] = [known?.firstSeenAt ?? now, 'first-seen'];
  const uptimeMs = Math.max(0, now - since);
  const costCents = i.priceCentsPerHour === null ? null : (i.priceCentsPerHour * uptimeMs) / 3_600_000;
  return { since, basis, uptimeMs, costCents };
}

// Providers bill an instance from launch until it is gone, booting or stopped included (Linode
// bills offline Linodes; Lambda bills booting ones), so the burn rate counts every instance that
// still exists, not only those in 'running'.
const BILLED: ReadonlySet<InstanceStatus> = new Set(['starting', 'running', 'stopping', 'stopped', 'unhealthy', 'unknown']);

/** Cents per hour the account is spending now. */
export function burnRateCents(instances: Pick<Instance, 'status' | 'priceCentsPerHour'>[]): number {
  return instances.reduce((sum, i) => sum + (BILLED.has(i.status) ? (i.priceCentsPerHour ?? 0) : 0), 0);
}

export function formatDollars(cents: number | null): string {
  if (cents === null) return '-';
  const d = cents / 100;
  return `$${d >= 1 ? d.toFixed(2) : d.toFixed(4).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(s % 60).padStart(2, '0')}s`;
}
