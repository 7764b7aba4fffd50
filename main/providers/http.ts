// The one way providers' REST APIs are called: Bearer auth, a deadline per request, and bounded
// retries with back-off on what the provider says is temporary. Each client supplies how to read
// its errors (`classify`); this file knows nothing of either provider's JSON. The key is read per
// request and never put into an error, a log line or a retry notice.
import { ProviderError, type ProviderKind, type RetryNotice } from './provider';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path after the base URL, with its query string. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Set false for calls that must not be repeated blindly (a launch): the first failure is thrown. */
  retry?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. Throws ProviderError('malformed') otherwise. */
  json: unknown;
}

/** What a response means: success, or a ProviderError, with a wait before retrying when temporary. */
export type Classified = { ok: true } | { ok: false; error: ProviderError; retryAfterMs?: number };

export interface HttpClientOptions {
  provider: ProviderKind;
  baseUrl: string;
  key: () => Promise<string>;
  classify: (res: HttpResponse) => Classified;
  onRetry?: (n: RetryNotice) => void;
  maxAttempts?: number;
  timeoutMs?: number;
  /** Back-off when the provider gives no hint: base × 2^attempt, capped, with jitter. */
  backoff?: { baseMs: number; maxMs: number };
  /** For tests of the policy: how to wait (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

export class HttpClient {
  constructor(private readonly o: HttpClientOptions) {}

  async request(call: HttpCall): Promise<HttpResponse> {
    const max = call.retry === false ? 1 : (this.o.maxAttempts ?? 5);
    const backoff = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    for (let attempt = 1; ; attempt++) {
      let outcome: Classified;
      let res: HttpResponse | null = null;
      // The key comes from the vault: a keychain that is locked or not answering is said as such,
      // never retried or reported as the provider being unreachable.
      const key = await this.o.key();
      try {
        res = await this.once(call, key);
        outcome = this.o.classify(res);
        if (outcome.ok) return res;
      } catch (err) {
        if (err instanceof ProviderError) throw err; // malformed body: retrying will not help
        outcome = { ok: false, error: new ProviderError(this.o.provider, 'unavailable', networkReason(err)) };
      }
      const temporary = outcome.error.kind === 'rate-limited' || outcome.error.kind === 'unavailable';
      if (!temporary || attempt >= max) throw outcome.error;
      const guess = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
      const delayMs = outcome.retryAfterMs ?? Math.round(guess * (0.75 + Math.random() * 0.5));
      this.o.onRetry?.({ attempt, maxAttempts: max, delayMs, reason: outcome.error.message });
      await (this.o.sleep ?? defaultSleep)(delayMs);
    }
  }

  private async once(call: HttpCall, key: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${key}`, ...call.headers };
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.o.baseUrl.replace(/\/+$/, '') + call.path, {
      method: call.method,
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
      redirect: 'error',
    });
    const text = await r.text();
    let json: unknown;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        // A proxy's HTML error page on a 5xx or 429 is still a temporary fault: let it be retried.
        if (r.status >= 500 || r.status === 429) return { status: r.status, headers: r.headers, json: undefined };
        throw new ProviderError(
          this.o.provider,
          'malformed',
          `The ${providerName(this.o.provider)} API answered ${r.status} with a body that is not JSON.`,
          {
            status: r.status,
          },
        );
      }
    }
    return { status: r.status, headers: r.headers, json };
  }
}

export function providerName(p: ProviderKind): string {
  return p === 'lambda' ? 'Lambda Cloud' : 'Linode';
}

/** Seconds or an HTTP date in Retry-After, as milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function networkReason(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'The provider did not answer in time.';
  const code = e?.cause?.code;
  return code ? `Could not reach the provider (${code}).` : 'Could not reach the provider.';
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
