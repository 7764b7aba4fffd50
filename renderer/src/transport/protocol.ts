// The headless host's WebSocket wire format (JSON text frames). Incoming frames are checked for
// shape only: main validated every payload before sending it.
import type { Envelope, EventName, MethodName } from '../../../shared/api';
import { isEventName } from '../../../shared/names';

export interface CallFrame {
  type: 'call';
  id: number;
  method: MethodName;
  params: unknown;
}

export type ServerFrame =
  { type: 'result'; id: number; envelope: Envelope<unknown> } | { type: 'event'; event: EventName; payload: unknown };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isEnvelope(x: unknown): x is Envelope<unknown> {
  if (!isRecord(x)) return false;
  if (x.ok === true) return 'result' in x;
  return x.ok === false && isRecord(x.error) && typeof x.error.code === 'string' && typeof x.error.message === 'string';
}

/** Parses one text frame from the server; null for anything malformed. */
export function parseServerFrame(text: string): ServerFrame | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(msg)) return null;
  if (msg.type === 'result' && typeof msg.id === 'number' && isEnvelope(msg.envelope)) {
    return { type: 'result', id: msg.id, envelope: msg.envelope };
  }
  if (msg.type === 'event' && isEventName(msg.event)) {
    return { type: 'event', event: msg.event, payload: msg.payload };
  }
  return null;
}
