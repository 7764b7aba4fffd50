// Settings: the egress filter's default policy, and the destinations each template's runs may reach.
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { EgressPolicy } from '../../../../shared/egress';
import { ErrorNotice } from '../../components/ErrorNotice';
import { POLICY_LABELS } from '../../lib/alerts';
import { useEditorStore } from '../../stores/editor';
import { useSettingsStore } from '../../stores/settings';
import { TemplateAllowList } from './TemplateAllowList';

export function SettingsView() {
  const { settings, error, saving, load, setEgressPolicy, setTemplateAllowNet } = useSettingsStore(
    useShallow((s) => ({
      settings: s.settings,
      error: s.error,
      saving: s.saving,
      load: s.load,
      setEgressPolicy: s.setEgressPolicy,
      setTemplateAllowNet: s.setTemplateAllowNet,
    })),
  );
  const templates = useEditorStore((s) => s.templates);
  useEffect(() => void load(), [load]);

  const allow = settings?.templateAllowNet ?? {};
  // Known templates first, then any the settings name that this host no longer offers.
  const rows = [
    ...templates.map((t) => ({ id: t.id, label: t.label })),
    ...Object.keys(allow)
      .filter((id) => !templates.some((t) => t.id === id))
      .map((id) => ({ id, label: `${id} (not offered)` })),
  ];

  return (
    <div className="page settings" data-testid="settings-view">
      <section className="panel" aria-label="Egress filter">
        <div className="panel-header">
          <h2>Egress filter</h2>
          {saving && <span className="busy">Saving…</span>}
        </div>
        {error && <ErrorNotice error={error} testId="settings-error" />}
        {!settings ? (
          !error && <div className="empty-state">Reading settings…</div>
        ) : (
          <label className="inline-field">
            <span>On a finding, by default</span>
            <select
              data-testid="settings-egress-policy"
              value={settings.egressPolicy}
              disabled={saving}
              onChange={(e) => void setEgressPolicy(e.target.value as EgressPolicy)}
            >
              {(Object.keys(POLICY_LABELS) as EgressPolicy[]).map((p) => (
                <option key={p} value={p}>
                  {POLICY_LABELS[p]}
                </option>
              ))}
            </select>
          </label>
        )}
        <p className="muted small form-note">A run can choose another policy in the run form; the one it ran with is recorded with it.</p>
      </section>
      {settings && (
        <section className="panel" aria-label="Template allowlists">
          <div className="panel-header">
            <h2>Network allowed per template</h2>
          </div>
          <p className="muted small form-note">
            Destinations every run of the template may reach through the egress proxy, besides those the run asks for.
          </p>
          <div className="template-allow-grid">
            {rows.map((r) => (
              <TemplateAllowList
                key={r.id}
                template={r.id}
                label={r.label}
                entries={allow[r.id] ?? []}
                saving={saving}
                onChange={(entries) => void setTemplateAllowNet(r.id, entries)}
              />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
