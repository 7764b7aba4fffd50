// One template's allowlist: its entries with remove, and a checked "add".
import { useState } from 'react';
import { allowEntryProblem } from '../../lib/egress';

interface Props {
  template: string;
  label: string;
  entries: string[];
  saving: boolean;
  onChange: (entries: string[]) => void;
}

export function TemplateAllowList({ template, label, entries, saving, onChange }: Props) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const add = () => {
    const p = allowEntryProblem(text, entries);
    setProblem(p);
    if (p) return;
    onChange([...entries, text.trim()]);
    setText('');
  };
  return (
    <div className="template-allow-edit" data-testid="settings-template-allow" data-template={template}>
      <div className="template-allow-head">
        <strong>{label}</strong> <span className="muted small mono">{template}</span>
      </div>
      {entries.length === 0 ? (
        <div className="muted small">No destinations: runs of this template reach only what they ask for.</div>
      ) : (
        <ul className="allow-list">
          {entries.map((e) => (
            <li key={e} data-testid="settings-allow-entry" data-entry={e}>
              <code>{e}</code>
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove ${e} from ${template}`}
                data-testid="settings-allow-remove"
                disabled={saving}
                onClick={() => onChange(entries.filter((x) => x !== e))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className={problem ? 'allow-add invalid' : 'allow-add'}>
        <input
          type="text"
          className="mono"
          aria-label={`Add a destination for ${template}`}
          data-testid="settings-allow-input"
          placeholder="api.example.com:443"
          spellCheck={false}
          value={text}
          aria-invalid={problem ? true : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setProblem(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" data-testid="settings-allow-add" onClick={add} disabled={saving}>
          Add
        </button>
      </div>
      {problem && (
        <div className="field-error" role="alert" data-testid="settings-allow-error">
          {problem}
        </div>
      )}
    </div>
  );
}
