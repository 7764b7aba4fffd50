// Linode's shapes mapped onto the Provider interface's normalized ones.
import type { Instance, InstanceStatus, InstanceType, Region } from '../provider';
import type { LinodeInstance, LinodeRegion, LinodeType, RegionAvailability } from './schemas';

// Linode's documented status words; anything else is kept as rawStatus and shown as 'unknown'.
const STATUS: Record<string, InstanceStatus> = {
  provisioning: 'starting',
  booting: 'starting',
  rebooting: 'starting',
  migrating: 'starting',
  rebuilding: 'starting',
  cloning: 'starting',
  restoring: 'starting',
  resizing: 'starting',
  busy: 'starting',
  running: 'running',
  shutting_down: 'stopping',
  deleting: 'stopping',
  offline: 'stopped',
  stopped: 'stopped',
};

export function mapStatus(raw: string): InstanceStatus {
  return Object.hasOwn(STATUS, raw) ? STATUS[raw]! : 'unknown';
}

/** Dollars per hour → cents, keeping sub-cent prices (0.018 $/h is 1.8 cents, not 2). */
export function hourlyCents(hourly: number | null | undefined): number | null {
  return hourly == null ? null : Math.round(hourly * 10_000) / 100;
}

/** "1x RTX6000" from a type's gpu count and label ("Dedicated 32GB + RTX6000 GPU x1", "RTX4000 Ada x1 Small"). */
export function gpuDescription(t: Pick<LinodeType, 'gpus' | 'label'> | undefined, gpus = t?.gpus ?? 0): string {
  if (!gpus) return '';
  const model = t?.label.match(/\+\s*(.+?)\s+GPU/i)?.[1] ?? t?.label.match(/^(RTX\s?\w+(?:\s+Ada)?)/i)?.[1];
  return model ? `${gpus}x ${model}` : `${gpus}x GPU`;
}

export function mapRegion(r: LinodeRegion): Region {
  return { id: r.id, label: r.label };
}

// Which region capability a plan class needs, for regions /regions/availability says nothing about.
function capabilityFor(cls: string): string {
  if (cls === 'gpu') return 'GPU Linodes';
  if (cls === 'premium') return 'Premium Plans';
  return 'Linodes';
}

// /regions/availability names plans differently from /linode/types ("gpu-rtx6000-1.1" for
// "g1-gpu-rtx6000-1"), so both are reduced to a common key before matching.
function planKey(id: string): string {
  return id.replace(/^g\d+-/, '').replace(/\.\d+$/, '');
}

export function mapType(t: LinodeType, regions: LinodeRegion[], availability: RegionAvailability[]): InstanceType {
  const listed = availability.filter((a) => a.plan === t.id || planKey(a.plan) === planKey(t.id));
  const usable = regions.filter((r) => r.status === undefined || r.status === 'ok');
  const regionsWithCapacity =
    listed.length > 0
      ? listed.filter((a) => a.available && usable.some((r) => r.id === a.region)).map((a) => a.region)
      : usable.filter((r) => r.capabilities.includes(capabilityFor(t.class))).map((r) => r.id);
  return {
    id: t.id,
    label: t.label,
    gpuDescription: gpuDescription(t),
    priceCentsPerHour: hourlyCents(t.price?.hourly) ?? 0,
    regionsWithCapacity: [...new Set(regionsWithCapacity)],
  };
}

const PRIVATE_V4 = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/;

export function mapInstance(i: LinodeInstance, type: LinodeType | undefined): Instance {
  // Linode timestamps are UTC without a zone designator.
  const created = i.created ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(i.created) ? i.created : `${i.created}Z`) : NaN;
  return {
    provider: 'linode',
    id: String(i.id),
    name: i.label,
    region: i.region,
    type: i.type ?? '',
    gpuDescription: gpuDescription(type, i.specs?.gpus ?? type?.gpus ?? 0),
    status: mapStatus(i.status),
    rawStatus: i.status,
    ipv4: i.ipv4.find((a) => !PRIVATE_V4.test(a)) ?? i.ipv4[0] ?? null,
    ipv6: i.ipv6 ? i.ipv6.replace(/\/\d+$/, '') : null,
    priceCentsPerHour: hourlyCents(type?.price?.hourly),
    createdAt: Number.isNaN(created) ? null : created,
  };
}
