// A call error as the user reads it: what happened, and what to do about it when Moat knows.
import type { ErrorPayload } from '../../../shared/errors';

const TITLES: Partial<Record<ErrorPayload['code'], string>> = {
  INVALID_REQUEST: 'Invalid request',
  NOT_FOUND: 'Not found',
  ENGINE_UNAVAILABLE: 'Container engine unavailable',
  GVISOR_UNAVAILABLE: 'gVisor unavailable',
  IMAGE_UNAVAILABLE: 'Image unavailable',
  RUN_FAILED: 'Run failed',
  UNAUTHORIZED: 'Not authorized',
  PROVIDER_AUTH: 'The provider refused',
  PROVIDER_UNAVAILABLE: 'Provider unavailable',
  KEYCHAIN_UNAVAILABLE: 'Keychain unavailable',
  INTERNAL: 'Error',
};

interface Props {
  error: ErrorPayload;
  testId?: string;
  onDismiss?: () => void;
}

export function ErrorNotice({ error, testId, onDismiss }: Props) {
  return (
    <div className="error-notice" role="alert" data-testid={testId} data-code={error.code}>
      <div className="error-notice-head">
        <span className="error-notice-title">{TITLES[error.code] ?? 'Error'}</span>
        <span className="error-code">{error.code}</span>
        {onDismiss && (
          <button type="button" className="icon-button" onClick={onDismiss} aria-label="Dismiss error">
            ×
          </button>
        )}
      </div>
      <div className="error-notice-message">{error.message}</div>
      {error.fix && (
        <div className="error-notice-fix">
          <span className="fix-label">Fix: </span>
          {error.fix}
        </div>
      )}
    </div>
  );
}
