import { useShallow } from 'zustand/react/shallow';
import { useEditorStore } from '../../stores/editor';

const SOURCE_LABEL = { official: 'official image', 'local-build': 'local build', missing: 'image missing' } as const;

export function TemplatePicker() {
  const { templates, selectedId, selectTemplate } = useEditorStore(
    useShallow((s) => ({ templates: s.templates, selectedId: s.selectedId, selectTemplate: s.selectTemplate })),
  );
  const selected = templates.find((t) => t.id === selectedId);
  return (
    <div className="template-picker">
      <label className="inline-field">
        <span>Template</span>
        <select
          data-testid="template-select"
          value={selectedId ?? ''}
          onChange={(e) => selectTemplate(e.target.value)}
          disabled={templates.length === 0}
        >
          {templates.length === 0 && <option value="">Loading…</option>}
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.user ? `${t.label} (yours)` : t.label}
            </option>
          ))}
        </select>
      </label>
      {selected && (
        <span
          className={selected.imageSource === 'missing' ? 'image-tag image-missing' : 'image-tag'}
          title={selected.image ?? 'No image available for this template'}
          data-testid="template-image"
        >
          {selected.image ?? 'no image'} · {SOURCE_LABEL[selected.imageSource]}
        </span>
      )}
    </div>
  );
}
