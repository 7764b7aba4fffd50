// Environment variables for the next run: name, value, and "secret" (the value is then typed in a
// password box, never recorded, and looked for in the output).
import { useShallow } from 'zustand/react/shallow';
import { envProblems } from '../../lib/egress';
import { useEgressFormStore } from '../../stores/egressForm';

export function EnvEditor() {
  const { env, addEnv, setEnv, removeEnv } = useEgressFormStore(
    useShallow((s) => ({ env: s.env, addEnv: s.addEnv, setEnv: s.setEnv, removeEnv: s.removeEnv })),
  );
  const problems = envProblems(env);
  return (
    <div className="env-editor" data-testid="env-editor">
      <div className="egress-subhead">
        <span>Environment</span>
        <button type="button" className="link-button" data-testid="env-add" onClick={addEnv}>
          + variable
        </button>
      </div>
      {env.length === 0 && <div className="muted small">No variables.</div>}
      {env.map((row, i) => {
        const problem = problems[row.key];
        return (
          <div key={row.key} className={problem ? 'env-row invalid' : 'env-row'} data-testid="env-row">
            <input
              type="text"
              className="mono"
              data-testid="env-name"
              aria-label={`Variable ${i + 1} name`}
              placeholder="NAME"
              spellCheck={false}
              autoComplete="off"
              value={row.name}
              aria-invalid={problem ? true : undefined}
              onChange={(e) => setEnv(row.key, { name: e.target.value })}
            />
            <input
              type={row.secret ? 'password' : 'text'}
              className="mono"
              data-testid="env-value"
              aria-label={`Variable ${i + 1} value`}
              placeholder="value"
              spellCheck={false}
              autoComplete={row.secret ? 'new-password' : 'off'}
              value={row.value}
              onChange={(e) => setEnv(row.key, { value: e.target.value })}
            />
            <label className="checkbox" title="Secret: never recorded or shown; the output filter looks for it">
              <input
                type="checkbox"
                data-testid="env-secret"
                checked={row.secret}
                onChange={(e) => setEnv(row.key, { secret: e.target.checked })}
              />
              <span>secret</span>
            </label>
            <button
              type="button"
              className="icon-button"
              data-testid="env-remove"
              aria-label={`Remove variable ${i + 1}`}
              onClick={() => removeEnv(row.key)}
            >
              ×
            </button>
            {problem && (
              <div className="field-error env-error" data-testid="env-error">
                {problem}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
