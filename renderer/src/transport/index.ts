// Picks the transport at start-up: the preload's bridge inside Electron, otherwise the headless
// host's WebSocket (which needs the access token from the URL it printed).
import { createClient, type MoatClient } from '../../../shared/client';
import { electronTransport } from './electron';
import { takeAccessToken } from './token';
import { apiSocketUrl, WebSocketTransport } from './websocket';

export type TransportChoice =
  { kind: 'electron'; client: MoatClient } | { kind: 'websocket'; client: MoatClient; socket: WebSocketTransport } | { kind: 'no-token' };

export function chooseTransport(): TransportChoice {
  const bridge = electronTransport();
  if (bridge) return { kind: 'electron', client: createClient(bridge) };
  const token = takeAccessToken();
  if (!token) return { kind: 'no-token' };
  const socket = new WebSocketTransport(apiSocketUrl(token));
  return { kind: 'websocket', client: createClient(socket), socket };
}
