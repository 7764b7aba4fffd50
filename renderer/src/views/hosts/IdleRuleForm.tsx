// The idle rule: when the host counts as idle (GPU below a share, CPU on hosts without GPUs, and no
// sandbox running) for some minutes, warn or, for an instance, terminate it. The sentence main
// returns says what the rule does and what stops billing on the provider.
import { useEffect, useState, type FormEvent } from 'react';
import type { IdleRule, Target } from '../../../../shared/remote';
import { ErrorNotice } from '../../components/ErrorNotice';
import { idleFormProblem } from '../../lib/targets';
import { useIdleStore } from '../../stores/idle';

export function IdleRuleForm({ target }: { target: Target }) {
  const name = target.id;
  const status = useIdleStore((s) => s.status[name] ?? null);
  const error = useIdleStore((s) => s.errors[name] ?? null);
  const saving = useIdleStore((s) => s.saving === name);
  const load = useIdleStore((s) => s.load);
  const save = useIdleStore((s) => s.save);
  const clearError = useIdleStore((s) => s.clearError);
  const instance = target.kind === 'instance';

  const [enabled, setEnabled] = useState(false);
  const [threshold, setThreshold] = useState('5');
  const [minutes, setMinutes] = useState('30');
  const [action, setAction] = useState<IdleRule['action']>('warn');

  useEffect(() => {
    void load(name);
  }, [name, load]);

  const rule = status?.rule;
  useEffect(() => {
    if (!rule) return;
    setEnabled(rule.enabled);
    setThreshold(String(rule.gpuBelowPercent));
    setMinutes(String(rule.minutes));
    setAction(rule.action);
  }, [rule]);

  const problem = idleFormProblem(threshold, minutes);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    void save(name, {
      enabled,
      gpuBelowPercent: Number(threshold),
      minutes: Number(minutes),
      action: instance ? action : 'warn',
    });
  };

  return (
    <form className="host-section idle-rule" data-testid="idle-rule" onSubmit={onSubmit} aria-label="Idle rule">
      <div className="section-head">
        <h3 className="subhead">Idle rule</h3>
        {status && status.idleMinutes > 0 && (
          <span className="muted small" data-testid="idle-since">
            idle for {status.idleMinutes} min
          </span>
        )}
      </div>
      <fieldset disabled={saving}>
        <legend className="visually-hidden">Idle rule</legend>
        <div className="form-row">
          <label className="checkbox">
            <input type="checkbox" data-testid="idle-enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
            <span>Watch for idleness</span>
          </label>
          <label className="field">
            <span>Idle below (% GPU busy; CPU without GPUs)</span>
            <input
              data-testid="idle-threshold"
              type="number"
              min={0}
              max={100}
              step="any"
              value={threshold}
              onChange={(e) => setThreshold(e.target.value)}
            />
          </label>
          <label className="field">
            <span>For (minutes)</span>
            <input
              data-testid="idle-minutes"
              type="number"
              min={1}
              max={1440}
              step={1}
              value={minutes}
              onChange={(e) => setMinutes(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Then</span>
            <select
              data-testid="idle-action"
              value={instance ? action : 'warn'}
              onChange={(e) => setAction(e.target.value as IdleRule['action'])}
            >
              <option value="warn">Warn</option>
              <option value="terminate" disabled={!instance}>
                Terminate the instance{instance ? '' : ' (instances only)'}
              </option>
            </select>
          </label>
          <button type="submit" className="primary" data-testid="idle-save" disabled={problem !== null}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
        {problem && <div className="field-error">{problem}</div>}
        {!instance && <p className="muted small">Moat can only warn about a plain host: it cannot stop or terminate it.</p>}
      </fieldset>
      {status && (
        <p className="idle-text" data-testid="idle-text">
          {status.text}
        </p>
      )}
      {error && <ErrorNotice error={error} testId="idle-error" onDismiss={() => clearError(name)} />}
    </form>
  );
}
