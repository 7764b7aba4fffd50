// The network the next run may reach through the egress proxy: a preset or typed entries (checked
// as they are added), and, read-only, what the template's own allowlist adds.
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ALLOW_PRESET_CHOICES, allowNetFor, type AllowPreset } from '../../lib/egress';
import { useEditorStore } from '../../stores/editor';
import { useEgressFormStore } from '../../stores/egressForm';
import { templateAllowNet, useSettingsStore } from '../../stores/settings';

export function AllowNetEditor() {
  const { preset, custom, setPreset, addEntry, removeEntry } = useEgressFormStore(
    useShallow((s) => ({ preset: s.preset, custom: s.custom, setPreset: s.setPreset, addEntry: s.addEntry, removeEntry: s.removeEntry })),
  );
  const template = useEditorStore((s) => s.selectedId);
  const remote = useEditorStore((s) => s.target !== 'local');
  const fromTemplate = useSettingsStore((s) => templateAllowNet(s.settings, template));
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const entries = allowNetFor(preset, custom);

  const add = () => {
    const p = addEntry(text);
    setProblem(p);
    if (!p) setText('');
  };

  return (
    <div className="allow-net" data-testid="allow-net">
      <div className="egress-subhead">
        <span>Network</span>
        <select
          data-testid="allow-preset"
          aria-label="Network allowlist preset"
          value={preset}
          onChange={(e) => setPreset(e.target.value as AllowPreset)}
        >
          {ALLOW_PRESET_CHOICES.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </div>
      {entries.length === 0 ? (
        <div className="muted small">No network: every connection is refused.</div>
      ) : (
        <ul className="allow-list" data-testid="allow-list">
          {entries.map((e) => (
            <li key={e} data-testid="allow-entry" data-entry={e}>
              <code>{e}</code>
              <button type="button" className="icon-button" aria-label={`Remove ${e}`} onClick={() => removeEntry(e)}>
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
          data-testid="allow-input"
          aria-label="Allowed destination"
          placeholder="api.example.com:443, *.example.org, 10.0.0.0/8:5432"
          spellCheck={false}
          value={text}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? 'allow-error' : undefined}
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
        <button type="button" data-testid="allow-add" onClick={add}>
          Add
        </button>
      </div>
      {remote && entries.length > 0 && (
        <div className="muted small" data-testid="allow-remote">
          On another host the allowlist is enforced here: the sandbox's connections come back to Moat over SSH and leave from this machine.
        </div>
      )}
      {problem && (
        <div id="allow-error" className="field-error" data-testid="allow-error" role="alert">
          {problem}
        </div>
      )}
      {template && (
        <div className="template-allow muted small" data-testid="template-allow">
          Template {template} also allows:{' '}
          {fromTemplate.length === 0
            ? 'nothing'
            : fromTemplate.map((e) => (
                <code key={e} data-testid="template-allow-entry">
                  {e}
                </code>
              ))}
        </div>
      )}
    </div>
  );
}
