// How Linode's answers are read: `{errors:[{reason, field?}]}` (often several at once), 401 for a
// bad token or a token without the endpoint's scope, 400 `Linode busy.` while another job runs on
// the instance (temporary), 429 with Retry-After / X-RateLimit-Reset, 5xx.
import type { Classified, HttpResponse } from '../http';
import { ProviderError, type ProviderErrorKind } from '../provider';
import { errorBody } from './schemas';

/** What Moat needs: it writes instances, firewalls and SSH keys (account), and reads events. */
export const REQUIRED_SCOPES = ['linodes:read_write', 'firewall:read_write', 'events:read_only', 'account:read_write'];

/** `*`, or a space/comma separated list of `area:level`; empty when absent. */
export function parseScopes(header: string | null): string[] {
  return (header ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** The required scopes a token's scope list does not cover (read_write covers read_only). */
export function missingScopes(have: string[], need: string[] = REQUIRED_SCOPES): string[] {
  if (have.includes('*')) return [];
  return need.filter((n) => {
    const [area, level] = n.split(':');
    return !have.some((h) => {
      const [ha, hl] = h.split(':');
      return ha === area && (hl === level || hl === 'read_write');
    });
  });
}

export function scopesError(missing: string[], status?: number): ProviderError {
  const list = missing.join(', ');
  return new ProviderError(
    'linode',
    'scopes',
    `The Linode token lacks scopes Moat needs: ${list}. Create a token with these scopes (Cloud Manager → API Tokens).`,
    { missingScopes: missing, ...(status !== undefined ? { status } : {}) },
  );
}

/** The provider's reasons, joined: "label: Label must be unique; Linode busy." */
export function reasons(json: unknown): string | null {
  const parsed = errorBody.safeParse(json);
  if (!parsed.success) return null;
  const parts = parsed.data.errors.map((e) => (e.field ? `${e.field}: ${e.reason ?? 'invalid'}` : (e.reason ?? 'error')));
  return parts.join('; ');
}

/** Milliseconds to wait from Retry-After (seconds or date) or X-RateLimit-Reset (epoch seconds). */
export function waitMs(headers: Headers, now = Date.now()): number | undefined {
  const ra = headers.get('retry-after');
  if (ra && /^\d+$/.test(ra.trim())) return Number(ra.trim()) * 1000;
  if (ra && !Number.isNaN(Date.parse(ra))) return Math.max(0, Date.parse(ra) - now);
  const reset = headers.get('x-ratelimit-reset');
  if (reset && /^\d+$/.test(reset.trim())) return Math.max(0, Number(reset.trim()) * 1000 - now);
  return undefined;
}

function fail(kind: ProviderErrorKind, message: string, status: number, retryAfterMs?: number): Classified {
  return {
    ok: false,
    error: new ProviderError('linode', kind, message, { status }),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

export function classify(res: HttpResponse): Classified {
  const s = res.status;
  if (s >= 200 && s < 300) return { ok: true };
  const why = reasons(res.json);
  if (s === 401 || s === 403) {
    // A valid token without the endpoint's scope is also a 401: the headers say which scope it lacks.
    const accepted = parseScopes(res.headers.get('x-accepted-oauth-scopes'));
    const have = parseScopes(res.headers.get('x-oauth-scopes'));
    const notAuthorized = /not authorized/i.test(why ?? '');
    if (notAuthorized && accepted.length > 0) {
      const missing = missingScopes(have, accepted);
      if (missing.length > 0) return { ok: false, error: scopesError(missing, s) };
    }
    return fail('auth', `Linode refused the token: ${why ?? `HTTP ${s}`}`, s);
  }
  if (s === 429) return fail('rate-limited', `Linode is rate-limiting requests: ${why ?? 'too many requests'}`, s, waitMs(res.headers));
  if (s === 400 && /linode busy/i.test(why ?? '')) {
    return fail('rate-limited', `Linode is busy with another job on this instance: ${why}`, s, waitMs(res.headers));
  }
  if (s === 404) return fail('not-found', `Linode: ${why ?? 'Not found'}`, s);
  if (s >= 500) return fail('unavailable', `Linode is unavailable (HTTP ${s})${why ? `: ${why}` : ''}`, s);
  return fail('invalid', `Linode refused the request: ${why ?? `HTTP ${s}`}`, s);
}
