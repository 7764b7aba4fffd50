// The typed client over any transport (Electron IPC or the headless host's WebSocket). Free of
// zod at run time, so the renderer and the sandboxed preload do not ship the schemas.
import { MoatError } from './errors';
import type { Envelope, EventName, EventOf, MethodName, ParamsOf, ResultOf } from './api';
import { METHOD_NAMES } from './names';

/** The minimal thing a transport must do; the typed client is built on top. */
export interface Transport {
  call(method: MethodName, params: unknown): Promise<Envelope<unknown>>;
  on(listener: (event: EventName, payload: unknown) => void): () => void;
}

export type MoatClient = {
  [M in MethodName]: (...args: undefined extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>]) => Promise<ResultOf<M>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
};

export function createClient(transport: Transport): MoatClient {
  const client = {} as Record<string, unknown>;
  for (const name of METHOD_NAMES) {
    client[name] = async (params?: unknown) => {
      const env = await transport.call(name, params);
      if (!env.ok) throw MoatError.fromPayload(env.error);
      return env.result;
    };
  }
  client.on = (event: EventName, listener: (payload: unknown) => void) =>
    transport.on((name, payload) => {
      if (name === event) listener(payload);
    });
  return client as MoatClient;
}
