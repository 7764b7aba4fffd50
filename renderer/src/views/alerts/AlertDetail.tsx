// The selected alert: where and what (never the secret, only its masked preview), and what can be
// done about it: acknowledge, open its run, suppress its rule, or allow its destination.
import { useState, type ReactNode } from 'react';
import type { Alert } from '../../../../shared/egress';
import { alertPosition, severityTone } from '../../lib/alerts';
import { allowEntryForAlert } from '../../lib/egress';
import { runTargetLabel } from '../../lib/targets';

interface Props {
  alert: Alert;
  busy: boolean;
  suppressed: boolean;
  onAck: () => void;
  onOpenRun: () => void;
  onSuppress: (reason: string) => void;
  onAllow: (entry: string) => void;
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

export function AlertDetail({ alert: a, busy, suppressed, onAck, onOpenRun, onSuppress, onAllow }: Props) {
  const [reason, setReason] = useState('');
  const entry = a.kind === 'network' ? allowEntryForAlert(a) : null;
  return (
    <section className="panel alert-detail" aria-label="Alert details" data-testid="alert-detail" data-alert-id={a.id}>
      <div className="panel-header">
        <h2>Alert</h2>
        <div className="header-actions">
          <span className={`badge tone-${severityTone(a.severity)}`} data-testid="alert-severity">
            {a.severity}
          </span>
          <span className="alert-title">{a.title}</span>
        </div>
      </div>
      <dl className="alert-facts">
        <Fact label="Time">{new Date(a.t).toLocaleString()}</Fact>
        <Fact label="Run" testId="alert-run">
          <span className="mono">{a.runId.slice(0, 12)}</span> · {a.template} on{' '}
          {runTargetLabel(a.target === 'local' ? undefined : a.target)}
        </Fact>
        <Fact label="Sandbox">
          <span className="mono">{a.sandbox ?? '-'}</span>
        </Fact>
        <Fact label="Detector · rule" testId="alert-rule">
          {a.detector} · <span className="mono">{a.rule}</span>
        </Fact>
        {a.kind === 'secret' ? (
          <>
            <Fact label="Where" testId="alert-position">
              {alertPosition(a)}
            </Fact>
            <Fact label="Preview" testId="alert-preview">
              <code>{a.preview ?? '-'}</code>
              {a.binary && <span className="muted small"> (binary output: alerted, not redacted)</span>}
            </Fact>
          </>
        ) : (
          <>
            <Fact label="Destination" testId="alert-destination">
              <span className="mono">
                {a.destination ?? '-'}
                {a.port !== undefined ? `:${a.port}` : ''}
              </span>
            </Fact>
            <Fact label="Reason">{a.reason ?? '-'}</Fact>
          </>
        )}
        <Fact label="State" testId="alert-state">
          {a.acknowledged ? `acknowledged${a.acknowledgedAt ? ` ${new Date(a.acknowledgedAt).toLocaleString()}` : ''}` : 'not acknowledged'}
        </Fact>
      </dl>
      <div className="alert-actions">
        <button type="button" data-testid="alert-open-run" onClick={onOpenRun}>
          Open run
        </button>
        {!a.acknowledged && (
          <button type="button" className="primary" data-testid="alert-ack" onClick={onAck} disabled={busy}>
            Acknowledge
          </button>
        )}
        {entry && (
          <button type="button" data-testid="alert-allow" onClick={() => onAllow(entry)} disabled={busy}>
            Allow {entry} for template {a.template}
          </button>
        )}
      </div>
      {a.kind === 'secret' && (
        <div className="inline-form suppress-form">
          {suppressed ? (
            <span className="muted small" data-testid="alert-rule-suppressed">
              Rule <code>{a.rule}</code> is suppressed: new findings of it are neither alerted nor redacted.
            </span>
          ) : (
            <>
              <label className="field field-wide">
                <span>Reason for suppressing {a.rule}</span>
                <input
                  type="text"
                  data-testid="suppress-reason"
                  value={reason}
                  maxLength={500}
                  placeholder="e.g. test fixtures print fake keys"
                  onChange={(e) => setReason(e.target.value)}
                />
              </label>
              <button type="button" className="danger" data-testid="alert-suppress" onClick={() => onSuppress(reason)} disabled={busy}>
                Suppress rule
              </button>
              <p className="form-note muted small">
                Findings of a suppressed rule are neither alerted nor redacted in later runs. Recorded in the audit log.
              </p>
            </>
          )}
        </div>
      )}
    </section>
  );
}
