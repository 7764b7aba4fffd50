// The one place where a raw (method, params) pair from a transport becomes a validated call into
// main. Both the Electron IPC handler and the headless host's WebSocket use it, so validation and
// error shaping cannot differ between them.
import { MoatError, toErrorPayload } from './errors';
import { methods, type ApiHandlers, type Envelope } from './api';
import { isMethodName } from './names';

export type ErrorLogger = (method: string, err: unknown) => void;

export async function dispatch(
  handlers: ApiHandlers,
  method: unknown,
  params: unknown,
  logError: ErrorLogger = () => {},
): Promise<Envelope<unknown>> {
  if (!isMethodName(method)) {
    return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `Unknown method: ${String(method).slice(0, 64)}` } };
  }
  const parsed = methods[method].params.safeParse(params);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: { code: 'INVALID_REQUEST', message: `Invalid ${method} request: ${detail}` } };
  }
  try {
    const handler = handlers[method] as (p: unknown) => Promise<unknown>;
    return { ok: true, result: await handler(parsed.data) };
  } catch (err) {
    if (!(err instanceof MoatError)) logError(method, err);
    return { ok: false, error: toErrorPayload(err) };
  }
}
