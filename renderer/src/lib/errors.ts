// Everything a call can throw, reduced to what the UI shows: code, message, and the fix if known.
import { MoatError, type ErrorPayload } from '../../../shared/errors';

export function toDisplayError(err: unknown): ErrorPayload {
  if (err instanceof MoatError) return err.toPayload();
  const message = err instanceof Error && err.message ? err.message : 'Unexpected error in the Moat UI';
  return { code: 'INTERNAL', message };
}
