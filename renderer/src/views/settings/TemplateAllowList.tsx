// One template's allowlist: its entries with remove, and a checked "add".
import { AllowEntries } from '../../components/AllowEntries';
import { allowEntryProblem } from '../../lib/egress';

interface Props {
  template: string;
  label: string;
  entries: string[];
  saving: boolean;
  onChange: (entries: string[]) => void;
}

export function TemplateAllowList({ template, label, entries, saving, onChange }: Props) {
  return (
    <div className="template-allow-edit" data-testid="settings-template-allow" data-template={template}>
      <div className="template-allow-head">
        <strong>{label}</strong> <span className="muted small mono">{template}</span>
      </div>
      <AllowEntries
        entries={entries}
        empty="No destinations: runs of this template reach only what they ask for."
        add={(text) => {
          const p = allowEntryProblem(text, entries);
          if (!p) onChange([...entries, text.trim()]);
          return p;
        }}
        remove={(e) => onChange(entries.filter((x) => x !== e))}
        inputLabel={`Add a destination for ${template}`}
        removeSuffix={` from ${template}`}
        placeholder="api.example.com:443"
        disabled={saving}
        testId="settings-allow"
      />
    </div>
  );
}
