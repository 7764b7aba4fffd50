// How remote-host failures reach users: a MoatError (its code one of shared/errors.ts) with a
// finer `reason` the CLI prints and the UI can branch on (trust prompt, re-trust, fix the key).
import { MoatError, type ErrorCode } from '../../shared/errors';
import type { HostKeyInfo, HostKeyPin, SshEndpoint } from './ssh';

export type RemoteReason =
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'SSH_AUTH_FAILED'
  | 'SSH_KEY_LOCKED'
  | 'SSH_UNREACHABLE'
  | 'NO_IDENTITY'
  | 'HOST_NOT_FOUND'
  | 'HOST_EXISTS';

const CODES: Record<RemoteReason, ErrorCode> = {
  HOST_KEY_UNKNOWN: 'UNAUTHORIZED',
  HOST_KEY_CHANGED: 'UNAUTHORIZED',
  SSH_AUTH_FAILED: 'UNAUTHORIZED',
  SSH_KEY_LOCKED: 'INVALID_REQUEST',
  SSH_UNREACHABLE: 'ENGINE_UNAVAILABLE',
  NO_IDENTITY: 'INVALID_REQUEST',
  HOST_NOT_FOUND: 'NOT_FOUND',
  HOST_EXISTS: 'INVALID_REQUEST',
};

export class RemoteError extends MoatError {
  /** The host key seen, for HOST_KEY_UNKNOWN and HOST_KEY_CHANGED (the caller shows and pins it). */
  readonly seen?: HostKeyInfo;
  readonly pinned?: HostKeyPin;

  constructor(
    readonly reason: RemoteReason,
    message: string,
    fix?: string,
    keys: { seen?: HostKeyInfo; pinned?: HostKeyPin } = {},
  ) {
    super(CODES[reason], message, fix);
    if (keys.seen) this.seen = keys.seen;
    if (keys.pinned) this.pinned = keys.pinned;
  }

  static hostKeyUnknown(e: SshEndpoint, seen: HostKeyInfo): RemoteError {
    return new RemoteError(
      'HOST_KEY_UNKNOWN',
      `${e.name} has no trusted host key yet; it showed ${seen.keyType} ${seen.fingerprint}.`,
      `Compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${seen.keyType.replace(/^ssh-|-.*$/g, '')}_key.pub\` on the host, then \`moat hosts trust ${e.name}\`.`,
      { seen },
    );
  }

  static hostKeyChanged(e: SshEndpoint, pinned: HostKeyPin, seen: HostKeyInfo): RemoteError {
    return new RemoteError(
      'HOST_KEY_CHANGED',
      `The host key of ${e.name} (${e.host}:${e.port}) has CHANGED, so Moat refused to connect: ` +
        `trusted ${pinned.keyType ?? 'key'} ${pinned.fingerprint}, now ${seen.keyType} ${seen.fingerprint}. ` +
        'Someone may be intercepting the connection, or the host was reinstalled or its keys rotated.',
      `If the change is expected (check the new fingerprint on the host with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\`), re-trust it with \`moat hosts trust ${e.name}\`.`,
      { seen, pinned },
    );
  }
}
