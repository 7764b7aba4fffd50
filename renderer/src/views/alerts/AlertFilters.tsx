// The Alerts view's filters: severity, rule, run, kind and acknowledged. Each change re-reads the list.
import { useEffect, useState } from 'react';
import type { Alert, Severity } from '../../../../shared/egress';
import { SEVERITIES, type AlertFilterForm } from '../../lib/alerts';

interface Props {
  filter: AlertFilterForm;
  rules: string[];
  onChange: (patch: Partial<AlertFilterForm>) => void;
}

/** A text filter applied when typing pauses, so the list is not re-read for every key. */
function useSettled(value: string, apply: (v: string) => void): [string, (v: string) => void] {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => apply(text), 300);
    return () => clearTimeout(timer);
  }, [text, value, apply]);
  return [text, setText];
}

export function AlertFilters({ filter, rules, onChange }: Props) {
  const [rule, setRule] = useSettled(filter.rule, (v) => onChange({ rule: v }));
  const [runId, setRunId] = useSettled(filter.runId, (v) => onChange({ runId: v }));
  return (
    <div className="alert-filters" data-testid="alert-filters">
      <label className="inline-field">
        <span>Severity</span>
        <select
          data-testid="alert-filter-severity"
          value={filter.severity}
          onChange={(e) => onChange({ severity: e.target.value as Severity | '' })}
        >
          <option value="">any</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="inline-field">
        <span>Rule</span>
        <input
          type="search"
          className="mono"
          list="alert-rules"
          data-testid="alert-filter-rule"
          value={rule}
          placeholder="any"
          spellCheck={false}
          onChange={(e) => setRule(e.target.value)}
        />
        <datalist id="alert-rules">
          {rules.map((r) => (
            <option key={r} value={r} />
          ))}
        </datalist>
      </label>
      <label className="inline-field">
        <span>Run</span>
        <input
          type="search"
          className="mono"
          data-testid="alert-filter-run"
          value={runId}
          placeholder="any"
          spellCheck={false}
          size={14}
          onChange={(e) => setRunId(e.target.value)}
        />
      </label>
      <label className="inline-field">
        <span>Kind</span>
        <select
          data-testid="alert-filter-kind"
          value={filter.kind}
          onChange={(e) => onChange({ kind: e.target.value as Alert['kind'] | '' })}
        >
          <option value="">any</option>
          <option value="secret">secret in output</option>
          <option value="network">network refused</option>
        </select>
      </label>
      <label className="inline-field">
        <span>Show</span>
        <select
          data-testid="alert-filter-ack"
          value={filter.acknowledged}
          onChange={(e) => onChange({ acknowledged: e.target.value as AlertFilterForm['acknowledged'] })}
        >
          <option value="no">unacknowledged</option>
          <option value="yes">acknowledged</option>
          <option value="all">all</option>
        </select>
      </label>
    </div>
  );
}
