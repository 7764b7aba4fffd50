// Resource limits for the next run. Untouched fields are not sent, so main's defaults apply.
import { useShallow } from 'zustand/react/shallow';
import { LIMIT_FIELDS, validateLimit, type LimitFieldSpec } from '../../lib/limits';
import { useEditorStore } from '../../stores/editor';

function LimitInput({
  spec,
  value,
  edited,
  onChange,
}: {
  spec: LimitFieldSpec;
  value: string;
  edited: boolean;
  onChange: (v: string) => void;
}) {
  const problem = edited ? validateLimit(spec, value) : null;
  const id = `limit-${spec.field}`;
  return (
    <div className={problem ? 'limit-field invalid' : 'limit-field'}>
      <label htmlFor={id} title={spec.hint}>
        {spec.label} <span className="unit">({spec.unit})</span>
      </label>
      <input
        id={id}
        data-testid={id}
        type="number"
        inputMode="decimal"
        min={spec.min}
        max={spec.max}
        step={spec.integer ? Math.max(1, spec.step) : 'any'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={[problem ? `${id}-error` : '', spec.note ? `${id}-note` : ''].join(' ').trim() || undefined}
        className={edited ? 'edited' : undefined}
      />
      {problem && (
        <div id={`${id}-error`} className="field-error">
          {problem}
        </div>
      )}
    </div>
  );
}

export function LimitsForm() {
  const { limits, edited, setLimit, resetLimits } = useEditorStore(
    useShallow((s) => ({ limits: s.limits, edited: s.edited, setLimit: s.setLimit, resetLimits: s.resetLimits })),
  );
  const anyEdited = Object.values(edited).some(Boolean);
  return (
    <fieldset className="limits">
      <legend>
        Limits
        {anyEdited ? (
          <button type="button" className="link-button" onClick={resetLimits} data-testid="limits-reset">
            reset to defaults
          </button>
        ) : (
          <span className="muted"> defaults</span>
        )}
      </legend>
      <div className="limits-grid">
        {LIMIT_FIELDS.map((spec) => (
          <LimitInput
            key={spec.field}
            spec={spec}
            value={limits[spec.field]}
            edited={Boolean(edited[spec.field])}
            onChange={(v) => setLimit(spec.field, v)}
          />
        ))}
      </div>
      {LIMIT_FIELDS.filter((spec) => spec.note).map((spec) => (
        <p key={spec.field} id={`limit-${spec.field}-note`} className="limits-note" data-testid={`limit-${spec.field}-note`}>
          <span className="limits-note-field">{spec.label}:</span> {spec.note}
        </p>
      ))}
    </fieldset>
  );
}
