// Adding an SSH host. The private key and passphrase live in this form's state only until they
// are sent: the fields are emptied as the first call goes. Main does not keep them between the
// call that shows the host key and the call that trusts it, so until the user answers the trust
// question they wait in a ref of this component (never in a store), and are dropped on either answer.
import { useEffect, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AddHostRequest, HostKey } from '../../../../shared/remote';
import { ErrorNotice } from '../../components/ErrorNotice';
import { addHostProblem, PRIVATE_KEY_MAX_CHARS } from '../../lib/targets';
import { useTargetsStore } from '../../stores/targets';
import { TrustDialog } from './TrustDialog';

export function AddHostForm() {
  const { adding, addError, addHost, clearAddError } = useTargetsStore(
    useShallow((s) => ({ adding: s.adding, addError: s.addError, addHost: s.addHost, clearAddError: s.clearAddError })),
  );
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [key, setKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [fileNote, setFileNote] = useState<string | null>(null);
  const [trust, setTrust] = useState<{ name: string; hostKey: HostKey } | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const pending = useRef<AddHostRequest | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(
    () => () => {
      pending.current = null;
    },
    [],
  );

  const problem = name === '' && url === '' ? null : addHostProblem(name, url, key);
  const canSubmit = !adding && !trust && name !== '' && url !== '' && problem === null;

  const send = async (request: AddHostRequest) => {
    const result = await addHost(request);
    if (result?.status === 'needs-trust') {
      // Main keeps the key and passphrase under pendingId until the answer: hold only the names.
      pending.current = result.pendingId ? { name: request.name, url: request.url, pendingId: result.pendingId } : request;
      setTrust({ name: request.name, hostKey: result.hostKey });
      return;
    }
    pending.current = null;
    setTrust(null);
    if (result?.status === 'added') {
      setAdded(result.target.id);
      setName('');
      setUrl('');
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    const request: AddHostRequest = { name, url: url.trim() };
    if (key.trim() !== '') request.privateKey = key.trim() + '\n';
    if (passphrase !== '') request.passphrase = passphrase;
    setKey('');
    setPassphrase('');
    setFileNote(null);
    if (fileInput.current) fileInput.current.value = '';
    setAdded(null);
    void send(request);
  };

  const onTrust = () => {
    const request = pending.current;
    if (!request || !trust) return;
    void send({ ...request, trustFingerprint: trust.hostKey.fingerprint });
  };

  const onDecline = () => {
    pending.current = null;
    setTrust(null);
  };

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    if (file.size > PRIVATE_KEY_MAX_CHARS) {
      setFileNote(`${file.name} is larger than a private key (${PRIVATE_KEY_MAX_CHARS / 1024} KiB at most).`);
      e.target.value = '';
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      setKey(typeof reader.result === 'string' ? reader.result : '');
      setFileNote(`Read ${file.name}.`);
    };
    reader.onerror = () => setFileNote(`${file.name} could not be read.`);
    reader.readAsText(file);
  };

  return (
    <>
      <form className="host-form" onSubmit={onSubmit} aria-label="Add an SSH host">
        <fieldset disabled={adding || trust !== null}>
          <legend>Add a host</legend>
          <div className="form-row">
            <label className="field">
              <span>Name</span>
              <input
                data-testid="host-add-name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="gpu-box"
                maxLength={40}
                autoComplete="off"
                spellCheck={false}
              />
            </label>
            <label className="field field-wide">
              <span>Address</span>
              <input
                data-testid="host-add-url"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                placeholder="ssh://user@host:22"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
          </div>
          <div className="form-row">
            <label className="field field-wide">
              <span>Private key (OpenSSH; leave empty to use the ssh-agent)</span>
              <textarea
                data-testid="host-add-key"
                className="key-input"
                value={key}
                onChange={(e) => setKey(e.target.value)}
                rows={3}
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
          </div>
          <div className="form-row">
            <label className="field">
              <span>…or read it from a file</span>
              <input ref={fileInput} type="file" data-testid="host-add-key-file" onChange={onFile} />
            </label>
            <label className="field">
              <span>Key passphrase (if it has one)</span>
              <input
                data-testid="host-add-passphrase"
                type="password"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
                autoComplete="off"
              />
            </label>
            <button type="submit" className="primary" data-testid="host-add-submit" disabled={!canSubmit}>
              Add host
            </button>
          </div>
          {fileNote && <div className="muted small">{fileNote}</div>}
          {problem && (
            <div className="field-error" data-testid="host-add-problem">
              {problem}
            </div>
          )}
          <p className="muted small form-note">
            Moat shows the host&apos;s key for you to confirm, logs in once to check, then keeps the private key in the keychain. It is
            never shown again.
          </p>
        </fieldset>
        {adding && (
          <div className="busy" role="status" data-testid="host-add-busy">
            Connecting to the host…
          </div>
        )}
        {added && !adding && (
          <div className="notice" role="status" data-testid="host-added">
            Added {added}.
          </div>
        )}
        {addError && <ErrorNotice error={addError} testId="host-add-error" onDismiss={clearAddError} />}
      </form>
      {trust && <TrustDialog name={trust.name} hostKey={trust.hostKey} instance={false} busy={adding} onYes={onTrust} onNo={onDecline} />}
    </>
  );
}
