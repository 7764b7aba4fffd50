// In the desktop app the preload exposes the API as `window.moat` (contextBridge). We only check
// its shape here: the preload builds it from the same Transport interface.
import type { Transport } from '../../../shared/client';

export function electronTransport(): Transport | null {
  const candidate = (window as unknown as { moat?: unknown }).moat;
  if (typeof candidate !== 'object' || candidate === null) return null;
  const { call, on } = candidate as Partial<Transport>;
  if (typeof call !== 'function' || typeof on !== 'function') return null;
  return candidate as Transport;
}
