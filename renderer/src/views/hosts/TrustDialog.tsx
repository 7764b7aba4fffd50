// "Trust this host key?": the key's type and SHA256 fingerprint, how to check it on the host, and
// yes or no. Adding goes on only with the fingerprint the user saw.
import type { HostKey } from '../../../../shared/remote';
import { verifyCommand } from '../../lib/targets';

interface Props {
  /** The host's name, or account/name for an instance. */
  name: string;
  hostKey: HostKey;
  /** An instance: neither provider reports host keys, so this is trust on first use. */
  instance: boolean;
  busy: boolean;
  onYes: () => void;
  onNo: () => void;
}

export function TrustDialog({ name, hostKey, instance, busy, onYes, onNo }: Props) {
  const command = verifyCommand(hostKey.keyType);
  return (
    <section className="panel trust-dialog" role="alertdialog" aria-labelledby="host-trust-title" data-testid="host-trust">
      <h3 id="host-trust-title">Trust the host key of {name}?</h3>
      <p>
        The host presented a <strong data-testid="host-trust-type">{hostKey.keyType}</strong> key with the fingerprint
      </p>
      <pre className="fingerprint" data-testid="host-trust-fingerprint">
        {hostKey.fingerprint}
      </pre>
      {instance ? (
        <p className="small">
          Neither Lambda Cloud nor Linode reports an instance&apos;s host key, so this is <strong>trust on first use</strong>: Moat pins
          this key and refuses the host if it ever changes. To be sure it is the instance&apos;s own key, open the provider&apos;s web
          console (Linode: LISH; Lambda Cloud: the Jupyter terminal) and run <code>{command}</code>: the fingerprint must match.
        </p>
      ) : (
        <p className="small">
          Check it on the host itself (its console, or a session you already trust) with <code>{command}</code>: the SHA256 fingerprint must
          match exactly. Moat pins this key and refuses the host if it ever changes.
        </p>
      )}
      <div className="buttons">
        <button type="button" className="primary" data-testid="host-trust-yes" disabled={busy} onClick={onYes}>
          {busy ? 'Connecting…' : 'It matches: trust and add'}
        </button>
        <button type="button" data-testid="host-trust-no" disabled={busy} onClick={onNo}>
          Don&apos;t trust
        </button>
      </div>
    </section>
  );
}
