// Errors cross every boundary (IPC, WebSocket, CLI) as a typed code plus a human message,
// never as a stack trace. Both ends rebuild a real Error from the envelope.

export const ERROR_CODES = [
  'INVALID_REQUEST',
  'UNKNOWN_METHOD',
  'NOT_FOUND',
  'ENGINE_UNAVAILABLE',
  'GVISOR_UNAVAILABLE',
  'IMAGE_UNAVAILABLE',
  'RUN_FAILED',
  'UNAUTHORIZED',
  'INTERNAL',
  // Provider accounts: the provider refused the key (its reason, or the missing scopes, in the
  // message); the provider could not be reached; the OS keychain could not be used.
  'PROVIDER_AUTH',
  'PROVIDER_UNAVAILABLE',
  'KEYCHAIN_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  /** What the user can do about it, when Moat knows. */
  fix?: string;
}

export class MoatError extends Error {
  readonly code: ErrorCode;
  readonly fix?: string;

  constructor(code: ErrorCode, message: string, fix?: string) {
    super(message);
    this.name = 'MoatError';
    this.code = code;
    if (fix !== undefined) this.fix = fix;
  }

  toPayload(): ErrorPayload {
    return this.fix === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, fix: this.fix };
  }

  static fromPayload(p: ErrorPayload): MoatError {
    return new MoatError(p.code, p.message, p.fix);
  }
}

/** Turns anything thrown into a payload that is safe to send: unknown errors lose their details. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof MoatError) return err.toPayload();
  return { code: 'INTERNAL', message: 'Internal error in Moat; see the log for details.' };
}
