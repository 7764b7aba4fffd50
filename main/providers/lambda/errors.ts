// How a Lambda Cloud response is read: success, or a ProviderError carrying Lambda's own message
// and suggestion. Lambda sends no Retry-After on 429, so the shared client's back-off decides.
import type { Classified, HttpResponse } from '../http';
import { ProviderError, type ProviderErrorKind } from '../provider';
import { errorBodySchema } from './schemas';

export function classifyLambda(res: HttpResponse): Classified {
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const parsed = errorBodySchema.safeParse(res.json);
  const code = parsed.success ? parsed.data.error.code : undefined;
  const text = parsed.success ? reason(parsed.data.error.message, parsed.data.error.suggestion) : undefined;
  const kind = kindOf(res.status, code);
  const message = text ?? fallback(kind, res.status);
  return { ok: false, error: new ProviderError('lambda', kind, message, { status: res.status, ...(code ? { providerCode: code } : {}) }) };
}

function kindOf(status: number, code: string | undefined): ProviderErrorKind {
  if (status === 401 || status === 403 || code === 'global/invalid-api-key') return 'auth';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'unavailable';
  if (status === 404) return 'not-found';
  return 'invalid';
}

function reason(message: string, suggestion: string | null | undefined): string {
  const m = message.trim();
  return suggestion?.trim() ? `${m.replace(/\.?$/, '.')} ${suggestion.trim()}` : m;
}

function fallback(kind: ProviderErrorKind, status: number): string {
  switch (kind) {
    case 'auth':
      return `Lambda Cloud refused the API key (HTTP ${status}).`;
    case 'rate-limited':
      return 'Lambda Cloud is rate-limiting requests (HTTP 429).';
    case 'unavailable':
      return `Lambda Cloud had a server error (HTTP ${status}).`;
    case 'not-found':
      return 'Lambda Cloud says it does not exist (HTTP 404).';
    default:
      return `Lambda Cloud refused the request (HTTP ${status}).`;
  }
}
