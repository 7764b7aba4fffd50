// The one typed client the stores talk through, whichever transport carries it.
import type { MoatClient } from '../../../shared/client';

let current: MoatClient | null = null;

export function setClient(client: MoatClient): void {
  current = client;
}

export function api(): MoatClient {
  if (!current) throw new Error('Moat client used before the transport was set up');
  return current;
}
