// How an instance's normalized status is coloured. Anything unexpected is shown neutral, as its
// provider's own word.
import type { InstanceStatus } from '../../../../shared/providers';

const TONES: Record<InstanceStatus, string> = {
  starting: 'active',
  running: 'good',
  stopping: 'active',
  stopped: 'warn',
  terminated: 'neutral',
  unhealthy: 'bad',
  unknown: 'neutral',
};

export function statusTone(status: string): string {
  return (TONES as Record<string, string | undefined>)[status] ?? 'neutral';
}
