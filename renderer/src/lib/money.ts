// Dollars, uptime and the cost that keeps growing on screen between pushes from main. The
// formatting follows main/instances/cost.ts (the renderer cannot import main/), so the CLI and
// the UI print the same figures.
import type { Instance } from '../../../shared/providers';

const MS_PER_HOUR = 3_600_000;

/** "$1.29" for a dollar or more; small amounts keep up to four decimals ("$0.0075"), at least two. */
export function formatDollars(cents: number | null): string {
  if (cents === null || !Number.isFinite(cents)) return '-';
  const d = cents / 100;
  return `$${d >= 1 ? d.toFixed(2) : d.toFixed(4).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** An hourly rate, "$1.29/h". */
export function formatRate(centsPerHour: number | null): string {
  return centsPerHour === null ? '-' : `${formatDollars(centsPerHour)}/h`;
}

/** "4m05s", "2h07m", "3d04h": the two most significant units. */
export function formatUptime(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export interface LiveCost {
  uptimeMs: number;
  /** null when the price is unknown. */
  costCents: number | null;
}

/**
 * Uptime and cost as of `now`. A terminated instance has stopped billing, so its figures are the
 * ones main sent. Otherwise they run on from `cost.since`; never below what main last computed, so
 * a client clock behind the host's cannot make the cost shrink.
 */
export function liveCost(i: Pick<Instance, 'status' | 'priceCentsPerHour' | 'cost'>, now: number): LiveCost {
  if (i.status === 'terminated') return { uptimeMs: i.cost.uptimeMs, costCents: i.cost.costCents };
  const uptimeMs = Math.max(i.cost.uptimeMs, now - i.cost.since, 0);
  const costCents = i.priceCentsPerHour === null ? null : (i.priceCentsPerHour * uptimeMs) / MS_PER_HOUR;
  return { uptimeMs, costCents };
}

/** How sure the cost figure is, in words for the table. */
export function costBasisNote(basis: Instance['cost']['basis']): { prefix: string; note: string } {
  switch (basis) {
    case 'launched':
      return { prefix: '', note: 'exact: Moat launched it' };
    case 'created':
      return { prefix: '', note: 'since the provider created it' };
    case 'first-seen':
      return { prefix: 'at least ', note: 'since Moat first saw it' };
  }
}

/** The sum of the known burn rates, and whether some account's rate is unknown. */
export function totalBurnRate(accounts: readonly { burnRateCentsPerHour: number | null }[]): { cents: number; partial: boolean } {
  let cents = 0;
  let partial = false;
  for (const a of accounts) {
    if (a.burnRateCentsPerHour === null) partial = true;
    else cents += a.burnRateCentsPerHour;
  }
  return { cents, partial };
}
