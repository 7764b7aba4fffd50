// Lambda's shapes onto the normalized Provider shapes.
import type { Instance, InstanceStatus, InstanceType, SshKeyRef } from '../provider';
import type { LambdaInstance, LambdaInstanceType, LambdaInstanceTypes, LambdaSshKey } from './schemas';

const STATUS: Record<string, InstanceStatus> = {
  booting: 'starting',
  active: 'running',
  unhealthy: 'unhealthy',
  terminating: 'stopping',
  terminated: 'terminated',
  // Lambda reclaimed the machine; it is not running and will not come back by itself.
  preempted: 'stopped',
};

export function mapStatus(raw: string): InstanceStatus {
  return Object.hasOwn(STATUS, raw) ? (STATUS[raw] as InstanceStatus) : 'unknown';
}

/** "8x H100 (80 GB SXM5)" from the type's description; empty for CPU-only types (0 GPUs). */
export function gpuDescription(t: LambdaInstanceType): string {
  if (t.specs?.gpus === 0) return '';
  if (t.description) return t.description;
  return t.gpu_description ? `${t.specs?.gpus ?? 1}x ${t.gpu_description}` : '';
}

export function mapInstanceTypes(types: LambdaInstanceTypes): InstanceType[] {
  return Object.values(types).map(({ instance_type: t, regions_with_capacity_available: r }) => ({
    id: t.name,
    label: t.description || t.name,
    gpuDescription: gpuDescription(t),
    priceCentsPerHour: t.price_cents_per_hour,
    regionsWithCapacity: r.map((x) => x.name),
  }));
}

export function mapSshKey(k: LambdaSshKey): SshKeyRef {
  return { id: k.id, name: k.name, publicKey: k.public_key };
}

export function mapInstance(i: LambdaInstance): Instance {
  return {
    provider: 'lambda',
    id: i.id,
    name: i.name ?? '',
    region: i.region.name,
    type: i.instance_type.name,
    gpuDescription: gpuDescription(i.instance_type),
    status: mapStatus(i.status),
    rawStatus: i.status,
    ipv4: i.ip || null,
    ipv6: null,
    priceCentsPerHour: i.instance_type.price_cents_per_hour,
    createdAt: null,
  };
}
