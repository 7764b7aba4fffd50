// The network the next run may reach through the egress proxy: a preset or typed entries (checked
// as they are added), and, read-only, what the template's own allowlist adds.
import { useShallow } from 'zustand/react/shallow';
import { AllowEntries } from '../../components/AllowEntries';
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
  const entries = allowNetFor(preset, custom);

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
      <AllowEntries
        entries={entries}
        empty="No network: every connection is refused."
        add={addEntry}
        remove={removeEntry}
        inputLabel="Allowed destination"
        placeholder="api.example.com:443, *.example.org, 10.0.0.0/8:5432"
        testId="allow"
      >
        {remote && entries.length > 0 && (
          <div className="muted small" data-testid="allow-remote">
            On another host the allowlist is enforced here: the sandbox's connections come back to Moat over SSH and leave from this
            machine.
          </div>
        )}
      </AllowEntries>
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
